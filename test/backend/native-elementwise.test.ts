// Native unary / binary / binaryScalar kernels against refKernels: every op, odd lengths (vector
// tails), edge values (±0, ±Infinity, NaN, exp's overflow and underflow limits), dense, row-,
// column- and scalar-broadcast operands, layouts that fall back to ref, and threads 1 and 2 on
// lengths above the parallel threshold. Skipped, not failed, when the addon is not built.

import { after, describe, test } from 'node:test';
import { NativeBackend } from '../../src/backend/native/backend.js';
import { refKernels } from '../../src/backend/ref/kernels.js';
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type Storage, type View } from '../../src/backend/types.js';
import { makeRandom, numel, randomStorage, storageOf } from './ref-helpers.js';
import { expectClose, nativeSkipReason } from './native-helpers.js';

const skip = nativeSkipReason();

// The vectorised special functions are accurate to ~2e-7 relative; 1e-6 is the promise.
const RTOL = 1e-6;
const ATOL = 1e-7;
const LENGTHS = [1, 3, 17, 65, 1023, 140001];
const EDGES = [0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 88.7, 89, -87.5, -104, 100, -100, 0.5, -0.5, 0.625, 1, -1];

/** Random values over [-8, 8] (the interesting range of every activation) with edge values mixed in. */
function values(rand: () => number, length: number): Storage {
  const storage = randomStorage(rand, 'float32', length, 8);
  for (let i = 0; i < length; i += 7) storage.data[i] = EDGES[(i / 7) % EDGES.length];
  return storage;
}

function view(storage: Storage, shape: number[], strides: number[], offset = 0): View {
  return { storage, offset, shape, strides };
}

function dense(storage: Storage, shape: number[], offset = 0): View {
  const strides: number[] = [];
  let step = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = step;
    step *= shape[axis];
  }
  return view(storage, shape, strides, offset);
}

describe('native elementwise kernels match refKernels', { skip }, () => {
  const backends = skip ? [] : [new NativeBackend({ threads: 1 }), new NativeBackend({ threads: 2 })];
  after(() => backends.forEach((backend) => backend.dispose()));

  test('unary: every op, odd and threaded lengths, edge values', () => {
    for (const backend of backends) {
      const rand = makeRandom(10 + backend.threads);
      for (const length of LENGTHS) {
        const x = values(rand, length + 2);
        const input = dense(x, [length], 2); // nonzero offset
        for (const op of UNARY_OPS) {
          const expected = storageOf('float32', length);
          refKernels.unary(op, input, expected);
          const out = backend.alloc('float32', length);
          backend.unary(op, input, out);
          expectClose(out.data, expected.data, RTOL, ATOL, `${op} length ${length} threads ${backend.threads}`);
          backend.free(out);
        }
      }
    }
  });

  test('unary on a transposed view falls back to ref', () => {
    const backend = backends[0];
    const x = values(makeRandom(12), 17 * 3);
    const transposed = view(x, [3, 17], [1, 3]);
    for (const op of ['exp', 'gelu_tanh', 'relu'] as const) {
      const expected = storageOf('float32', 51);
      refKernels.unary(op, transposed, expected);
      const out = backend.alloc('float32', 51);
      backend.unary(op, transposed, out);
      expectClose(out.data, expected.data, RTOL, ATOL, `${op} transposed`);
    }
  });

  /** Operand layouts over an output shape: [name, a view, b view]. */
  function layouts(rand: () => number, rows: number, n: number): Array<[string, View, View]> {
    const full = () => dense(values(rand, rows * n + 1), [rows, n], 1);
    const rowVector = () => view(values(rand, n), [rows, n], [0, 1]);
    const column = () => view(values(rand, rows), [rows, n], [1, 0]);
    const scalar = () => view(values(rand, 1), [rows, n], [0, 0]);
    const transposed = () => view(values(rand, rows * n), [rows, n], [1, rows]);
    // [2, rows, n] with b broadcast over the leading axis: a row of [rows, n] repeated.
    const batched = dense(values(rand, 2 * rows * n), [2, rows, n]);
    const batchedB = view(values(rand, rows * n), [2, rows, n], [0, n, 1]);
    return [
      ['full op full', full(), full()],
      ['full op row', full(), rowVector()],
      ['row op full', rowVector(), full()],
      ['full op column', full(), column()],
      ['column op row', column(), rowVector()],
      ['scalar op full', scalar(), full()],
      ['full op scalar', full(), scalar()],
      ['batched op shared', batched, batchedB],
      ['transposed op full (ref fallback)', transposed(), full()],
    ];
  }

  function checkBinary(backend: NativeBackend, op: BinaryOp, name: string, a: View, b: View): void {
    const length = numel(a.shape);
    const expected = storageOf('float32', length);
    refKernels.binary(op, a, b, expected);
    const out = backend.alloc('float32', length);
    backend.binary(op, a, b, out);
    expectClose(out.data, expected.data, RTOL, ATOL, `${op} ${name} [${a.shape}] threads ${backend.threads}`);
    backend.free(out);
  }

  test('binary: every op on dense and broadcast layouts', () => {
    for (const backend of backends) {
      const rand = makeRandom(20 + backend.threads);
      for (const [rows, n] of [[1, 1], [3, 17], [17, 3], [5, 65], [2, 1023]]) {
        for (const [name, a, b] of layouts(rand, rows, n)) {
          for (const op of BINARY_OPS) checkBinary(backend, op, name, a, b);
        }
      }
    }
  });

  test('binary: lengths above the threading threshold, split by rows and by columns', () => {
    const ops: BinaryOp[] = ['add', 'div', 'max', 'ge'];
    for (const backend of backends) {
      const rand = makeRandom(25 + backend.threads);
      for (const [rows, n] of [[2047, 69], [129, 1023], [1, 140001]]) {
        for (const [name, a, b] of layouts(rand, rows, n).slice(0, 5)) {
          for (const op of ops) checkBinary(backend, op, name, a, b);
        }
      }
    }
  });

  test('binary max/min propagate NaN and order signed zeros like Math.max/min', () => {
    const backend = backends[0];
    const a = storageOf('float32', [NaN, 1, 0, -0, 0, -0, Infinity, -Infinity, 3]);
    const b = storageOf('float32', [1, NaN, -0, 0, 0, -0, NaN, 2, 3]);
    for (const op of ['max', 'min'] as const) {
      const expected = storageOf('float32', 9);
      refKernels.binary(op, dense(a, [9]), dense(b, [9]), expected);
      const out = backend.alloc('float32', 9);
      backend.binary(op, dense(a, [9]), dense(b, [9]), out);
      for (let i = 0; i < 9; i++) {
        if (!Object.is(out.data[i], expected.data[i])) {
          throw new Error(`${op}(${a.data[i]}, ${b.data[i]}) = ${out.data[i]}, expected ${expected.data[i]}`);
        }
      }
    }
  });

  test('binary on int32 data falls back to ref', () => {
    const backend = backends[0];
    const a = storageOf('int32', [1, -2, 3, 7]);
    const b = storageOf('int32', [5, 5, -3, 2]);
    const out = backend.alloc('int32', 4);
    backend.binary('mul', dense(a, [4]), dense(b, [4]), out);
    expectClose(out.data, [5, -10, -9, 14], 0, 0, 'int32 mul');
  });

  test('binaryScalar: every op, scalar on either side, odd and threaded lengths', () => {
    const scalars = [0.1, -2.5, 0, 3, NaN, Infinity];
    for (const backend of backends) {
      const rand = makeRandom(30 + backend.threads);
      for (const length of LENGTHS) {
        const x = dense(values(rand, length + 1), [length], 1);
        for (const op of BINARY_OPS as readonly BinaryOp[]) {
          for (const scalarOnLeft of [false, true]) {
            const scalar = scalars[Math.floor(rand() * scalars.length)];
            const expected = storageOf('float32', length);
            refKernels.binaryScalar(op, x, scalar, scalarOnLeft, expected);
            const out = backend.alloc('float32', length);
            backend.binaryScalar(op, x, scalar, scalarOnLeft, out);
            const what = `${scalarOnLeft ? `${scalar} ${op} x` : `x ${op} ${scalar}`} length ${length} threads ${backend.threads}`;
            expectClose(out.data, expected.data, RTOL, ATOL, what);
            backend.free(out);
          }
        }
      }
      // A strided input goes to ref.
      const strided = view(values(rand, 40), [3, 5], [10, 2]);
      const expected = storageOf('float32', 15);
      refKernels.binaryScalar('sub', strided, 1.5, true, expected);
      const out = backend.alloc('float32', 15);
      backend.binaryScalar('sub', strided, 1.5, true, out);
      expectClose(out.data, expected.data, RTOL, ATOL, 'strided binaryScalar');
    }
  });
});
