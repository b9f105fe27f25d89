// The wasm GEMM (packed micro-kernel and the m = 1 streaming path) against the ref matmul, for
// every operand layout, odd sizes, batch stride 0, accumulate, on 1, 2 and 3 threads.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { refKernels } from '../../src/backend/ref/kernels.js';
import type { MatrixView, Storage } from '../../src/backend/types.js';
import { makeRandom, randomStorage, storageOf } from './ref-helpers.js';
import { copyTo, disposeAll, matrixOn, wasmBackends } from './wasm-helpers.js';

const backends = wasmBackends();
after(() => disposeAll(backends));

interface Layout {
  transposed: boolean;
  shared: boolean;
  padded: boolean;
}

/** A [batch, rows, cols] float32 operand: transposed or not, with padding, offset, maybe batch stride 0. */
function matrix(rand: () => number, batch: number, rows: number, cols: number, layout: Layout): MatrixView {
  const lead = (layout.transposed ? rows : cols) + (layout.padded ? 3 : 0);
  const matrixSize = lead * (layout.transposed ? cols : rows);
  const batchStride = layout.shared ? 0 : matrixSize + (layout.padded ? 5 : 0);
  const offset = layout.padded ? 7 : 0;
  const storage = randomStorage(rand, 'float32', offset + batchStride * (batch - 1) + matrixSize, 1);
  return layout.transposed
    ? { storage, offset, batchStride, rowStride: 1, colStride: lead }
    : { storage, offset, batchStride, rowStride: lead, colStride: 1 };
}

function absolute(view: MatrixView): MatrixView {
  return { ...view, storage: storageOf('float32', Array.from(view.storage.data, Math.abs)) };
}

/**
 * Checks out against the ref product. Float32 summation of k terms is off by at most
 * k·2⁻²⁴·Σ|a||b| (the standard bound); rounding errors of random data add up like a random walk,
 * so the tolerance is (4√k + 4)·2⁻²⁴·Σ|a||b|, per element — tight enough to catch a wrong term.
 */
function checkProduct(actual: Storage, a: MatrixView, b: MatrixView, batch: number, m: number, k: number, n: number,
  initial: Storage | null, what: string): void {
  const expected = initial ? storageOf('float32', initial.data) : storageOf('float32', batch * m * n);
  refKernels.matmul(a, b, batch, m, k, n, expected, initial !== null);
  const bound = storageOf('float32', batch * m * n);
  refKernels.matmul(absolute(a), absolute(b), batch, m, k, n, bound, false);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = (4 * Math.sqrt(k) + 4) * 2 ** -24 * (bound.data[i] + Math.abs(initial?.data[i] ?? 0)) + 1e-30;
    const error = Math.abs(actual.data[i] - expected.data[i]);
    assert.ok(error <= tolerance, `${what}: out[${i}] = ${actual.data[i]}, expected ${expected.data[i]} ± ${tolerance}`);
  }
}

function runCase(rand: () => number, batch: number, m: number, k: number, n: number, layoutA: Layout,
  layoutB: Layout, accumulate: boolean): void {
  const a = matrix(rand, batch, m, k, layoutA);
  const b = matrix(rand, batch, k, n, layoutB);
  const initial = accumulate ? randomStorage(rand, 'float32', batch * m * n, 1) : null;
  for (const { label, backend } of backends) {
    const out = initial ? copyTo(backend, initial) : backend.alloc('float32', batch * m * n);
    const wa = matrixOn(backend, a);
    const wb = matrixOn(backend, b);
    backend.matmul(wa, wb, batch, m, k, n, out, accumulate);
    const what = `${label} ${batch}×(${m}×${k}×${n}) A${layoutA.transposed ? 'ᵀ' : ''} B${layoutB.transposed ? 'ᵀ' : ''}` +
      `${layoutA.shared ? ' A shared' : ''}${layoutB.shared ? ' B shared' : ''}${accumulate ? ' accumulate' : ''}`;
    checkProduct(out, a, b, batch, m, k, n, initial, what);
    for (const s of [out, wa.storage, wb.storage]) backend.free(s);
  }
}

const plain: Layout = { transposed: false, shared: false, padded: false };

test('matmul matches ref on odd sizes in every layout (1, 2, 3 threads)', () => {
  const rand = makeRandom(7);
  const sizes = [1, 3, 17, 65];
  let trial = 0;
  for (const m of sizes) {
    for (const k of sizes) {
      for (const n of sizes) {
        const layoutA = { transposed: trial % 2 === 1, shared: false, padded: trial % 3 === 0 };
        const layoutB = { transposed: trial % 4 >= 2, shared: false, padded: trial % 5 === 0 };
        runCase(rand, 1, m, k, n, layoutA, layoutB, trial % 7 === 0);
        trial++;
      }
    }
  }
});

test('matmul crosses the packing blocks: k > 256, m > 128, n > 1024, and 1023', () => {
  const rand = makeRandom(8);
  runCase(rand, 1, 130, 300, 33, plain, { ...plain, transposed: true }, false);
  runCase(rand, 1, 9, 1023, 65, { ...plain, transposed: true, padded: true }, plain, true);
  runCase(rand, 1, 5, 17, 1100, plain, { ...plain, padded: true }, false);
  runCase(rand, 1, 65, 33, 1023, plain, { ...plain, transposed: true }, false);
});

test('batched matmul, including batch stride 0 on either side', () => {
  const rand = makeRandom(9);
  runCase(rand, 3, 17, 9, 33, plain, plain, false);
  runCase(rand, 4, 5, 16, 20, { ...plain, shared: true }, { ...plain, transposed: true }, false);
  runCase(rand, 5, 12, 7, 9, { ...plain, transposed: true }, { ...plain, shared: true, padded: true }, true);
  runCase(rand, 2, 1, 33, 17, plain, { ...plain, shared: true, transposed: true }, false);
});

test('m = 1 and m < 4 (the streaming path) against both B layouts, with accumulate', () => {
  const rand = makeRandom(10);
  for (const m of [1, 2, 3]) {
    for (const transposed of [false, true]) {
      runCase(rand, 1, m, 1023, 257, plain, { ...plain, transposed }, false);
      runCase(rand, 2, m, 65, 1030, plain, { ...plain, transposed, padded: true }, true);
    }
  }
  // Wider than the streaming path's column block (32768).
  runCase(rand, 1, 1, 19, 33_000, plain, { ...plain, padded: true }, true);
  // A with column stride != 1 takes the packed path even for m = 1.
  runCase(rand, 1, 1, 40, 50, { ...plain, transposed: true, padded: true }, plain, false);
});

test('k = 0 gives zeros (or leaves out unchanged when accumulating)', () => {
  const rand = makeRandom(11);
  runCase(rand, 2, 5, 0, 7, plain, plain, false);
  runCase(rand, 1, 5, 0, 7, plain, plain, true);
});

test('float64 and int32 operands fall back to the reference kernel', () => {
  const [{ backend }] = backends;
  const a = backend.alloc('float64', 6);
  const b = backend.alloc('float64', 6);
  const out = backend.alloc('float64', 4);
  a.data.set([1, 2, 3, 4, 5, 6]);
  b.data.set([1, 0, 0, 1, 1, 1]);
  backend.matmul({ storage: a, offset: 0, batchStride: 0, rowStride: 3, colStride: 1 },
    { storage: b, offset: 0, batchStride: 0, rowStride: 2, colStride: 1 }, 1, 2, 3, 2, out, false);
  assert.deepEqual(Array.from(out.data), [4, 5, 10, 11]);
  for (const s of [a, b, out]) backend.free(s);
});
