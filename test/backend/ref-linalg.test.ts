// matmul, indexSelect/indexAdd, copy and fill against naive loops.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refKernels } from '../../src/backend/ref/kernels.js';
import type { DType, MatrixView, Storage } from '../../src/backend/types.js';
import {
  assertClose, denseView, forEachIndex, makeRandom, materialize, numel, randomShape, randomStorage, randomView,
  storageOf, tolerance, viewAt,
} from './ref-helpers.js';

/** A [batch, rows, cols] operand with random layout: transposed or not, padded, offset, maybe shared across batch. */
function randomMatrix(rand: () => number, dtype: DType, batch: number, rows: number, cols: number): MatrixView {
  const transposed = rand() < 0.5;
  const shared = rand() < 0.3;
  const lead = (transposed ? rows : cols) + (rand() < 0.5 ? 2 : 0);
  const matrixSize = lead * (transposed ? cols : rows);
  const batchStride = shared ? 0 : matrixSize + (rand() < 0.5 ? 3 : 0);
  const offset = Math.floor(rand() * 4);
  const storage = randomStorage(rand, dtype, offset + batchStride * (batch - 1) + matrixSize);
  return transposed
    ? { storage, offset, batchStride, rowStride: 1, colStride: lead }
    : { storage, offset, batchStride, rowStride: lead, colStride: 1 };
}

function at(view: MatrixView, b: number, i: number, j: number): number {
  return view.storage.data[view.offset + b * view.batchStride + i * view.rowStride + j * view.colStride];
}

test('matmul matches the triple loop for any operand layout, odd sizes, and accumulate', () => {
  const rand = makeRandom(31);
  const sizes = [1, 3, 17, 65];
  for (let trial = 0; trial < 48; trial++) {
    const dtype: DType = trial % 2 ? 'float32' : 'float64';
    const [batch, m, k, n] = [1 + (trial % 3), sizes[trial % 4], sizes[Math.floor(trial / 4) % 4], sizes[Math.floor(trial / 16) % 3 + 1]];
    const a = randomMatrix(rand, dtype, batch, m, k);
    const b = randomMatrix(rand, dtype, batch, k, n);
    const accumulate = trial % 5 === 0;
    const out = randomStorage(rand, dtype, batch * m * n);
    const before = Array.from(out.data);
    refKernels.matmul(a, b, batch, m, k, n, out, accumulate);
    const expected: number[] = [];
    for (let t = 0; t < batch; t++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let p = 0; p < k; p++) sum += at(a, t, i, p) * at(b, t, p, j);
          expected.push(accumulate ? before[expected.length] + sum : sum);
        }
      }
    }
    const { rtol, atol } = tolerance(dtype);
    assertClose(out.data, expected, rtol, atol * k, `matmul ${dtype} b=${batch} m=${m} k=${k} n=${n} acc=${accumulate}`);
  }
});

test('matmul of a transposed view equals matmul of its materialised transpose', () => {
  const rand = makeRandom(32);
  const [m, k, n] = [5, 17, 3];
  const a = randomStorage(rand, 'float64', m * k);
  const bT = randomStorage(rand, 'float64', n * k); // b stored as [n, k]
  const bDense = storageOf('float64', k * n);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) bDense.data[p * n + j] = bT.data[j * k + p];
  const aView: MatrixView = { storage: a, offset: 0, batchStride: 0, rowStride: k, colStride: 1 };
  const viaView = storageOf('float64', m * n);
  const viaCopy = storageOf('float64', m * n);
  refKernels.matmul(aView, { storage: bT, offset: 0, batchStride: 0, rowStride: 1, colStride: k }, 1, m, k, n, viaView, false);
  refKernels.matmul(aView, { storage: bDense, offset: 0, batchStride: 0, rowStride: n, colStride: 1 }, 1, m, k, n, viaCopy, false);
  assertClose(viaView.data, viaCopy.data, 1e-14, 1e-14);
});

function naiveSelect(x: ArrayLike<number>, outer: number, n: number, inner: number, ids: number[]): number[] {
  const result: number[] = [];
  for (let o = 0; o < outer; o++) for (const id of ids) for (let i = 0; i < inner; i++) result.push(x[(o * n + id) * inner + i]);
  return result;
}

test('indexSelect gathers rows along the middle axis, repeats included', () => {
  const rand = makeRandom(33);
  for (const dtype of ['float64', 'float32', 'int32'] as DType[]) {
    for (const [outer, n, inner] of [[1, 17, 1], [3, 5, 3], [2, 65, 17]]) {
      const ids = Array.from({ length: 7 }, () => Math.floor(rand() * n));
      ids.push(ids[0]);
      const x = storageOf(dtype, Array.from({ length: outer * n * inner }, () => Math.floor(rand() * 1000)));
      const out = storageOf(dtype, outer * ids.length * inner);
      refKernels.indexSelect(x, { outer, n, inner }, storageOf('int32', ids), out);
      assert.deepEqual(Array.from(out.data), naiveSelect(x.data, outer, n, inner, ids));
    }
  }
});

test('indexAdd scatters and accumulates repeated ids; it is the adjoint of indexSelect', () => {
  const rand = makeRandom(34);
  for (const [outer, n, inner] of [[1, 3, 1], [2, 17, 3], [3, 5, 17]]) {
    const ids = [0, n - 1, 0, Math.floor(n / 2), 0];
    const src = randomStorage(rand, 'float64', outer * ids.length * inner);
    const out = randomStorage(rand, 'float64', outer * n * inner);
    const expected = Array.from(out.data);
    for (let o = 0; o < outer; o++) {
      ids.forEach((id, t) => {
        for (let i = 0; i < inner; i++) expected[(o * n + id) * inner + i] += src.data[(o * ids.length + t) * inner + i];
      });
    }
    // <select(x), y> = <x, add(y)>: checks the two kernels agree on layout.
    const x = randomStorage(rand, 'float64', outer * n * inner);
    const selected = storageOf('float64', src.length);
    refKernels.indexSelect(x, { outer, n, inner }, storageOf('int32', ids), selected);
    const scattered = storageOf('float64', x.length);
    refKernels.indexAdd(src, { outer, n, inner }, storageOf('int32', ids), scattered);
    const dot = (p: ArrayLike<number>, q: ArrayLike<number>) => Array.from(p).reduce((s, v, i) => s + v * q[i], 0);
    assertClose([dot(selected.data, src.data)], [dot(x.data, scattered.data)], 1e-12, 1e-12, 'adjoint');

    refKernels.indexAdd(src, { outer, n, inner }, storageOf('float64', ids), out); // float ids work too
    assertClose(out.data, expected, 1e-14, 1e-14, `indexAdd [${outer}, ${n}, ${inner}]`);
  }
});

test('copy moves any strided view into any strided destination, casting dtypes', () => {
  const rand = makeRandom(35);
  for (let trial = 0; trial < 40; trial++) {
    const shape = randomShape(rand, 1 + (trial % 4));
    const srcType: DType = (['float64', 'float32', 'int32'] as const)[trial % 3];
    const dstType: DType = (['float32', 'float64', 'int32'] as const)[Math.floor(trial / 3) % 3];
    const src = randomView(rand, srcType, shape, { broadcast: true });
    const dst = randomView(rand, dstType, shape); // no broadcast: every element written once
    const untouched = Array.from(dst.storage.data);
    refKernels.copy(src, dst);
    const written = new Set<number>();
    forEachIndex(shape, (index) => {
      const position = dst.offset + index.reduce((s, v, axis) => s + v * dst.strides[axis], 0);
      written.add(position);
      const value = viewAt(src, index);
      const cast = dstType === 'int32' ? Math.trunc(value) | 0 : dstType === 'float32' ? Math.fround(value) : value;
      assert.equal(viewAt(dst, index), cast, `copy ${srcType}→${dstType} ${shape} at ${index}`);
    });
    untouched.forEach((value, position) => {
      if (!written.has(position)) assert.equal(dst.storage.data[position], value, 'copy wrote outside the view');
    });
  }
});

test('copy between dense views of the same dtype, and fill of a range', () => {
  const src = storageOf('float32', [1.5, -2.5, 3.75, 9]);
  const dst = storageOf('float32', 4);
  refKernels.copy(denseView(src, [2, 2]), denseView(dst, [2, 2]));
  assert.deepEqual(Array.from(dst.data), [1.5, -2.5, 3.75, 9]);
  const ints = storageOf('int32', 4);
  refKernels.copy(denseView(src, [4]), denseView(ints, [4]));
  assert.deepEqual(Array.from(ints.data), [1, -2, 3, 9], 'float→int32 truncates toward zero');
  const target: Storage = storageOf('float64', 6);
  refKernels.fill(target, 7, 2, 3);
  assert.deepEqual(Array.from(target.data), [0, 0, 7, 7, 7, 0]);
  const view = randomView(makeRandom(36), 'float64', [3, 1, 17]);
  assert.equal(materialize(view).length, numel([3, 1, 17]));
});
