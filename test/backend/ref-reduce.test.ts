// Reductions, cumsum and topk against nested-loop references over [outer, n, inner].

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refKernels } from '../../src/backend/ref/kernels.js';
import { REDUCE_OPS, type DType, type ReduceOp } from '../../src/backend/types.js';
import { assertClose, makeRandom, randomStorage, storageOf, tolerance } from './ref-helpers.js';

const SIZES = [1, 3, 17, 65];

function naiveReduce(op: ReduceOp, values: ArrayLike<number>, outer: number, n: number, inner: number): number[] {
  const result: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const line = Array.from({ length: n }, (_, j) => values[(o * n + j) * inner + i]);
      switch (op) {
        case 'sum': result.push(line.reduce((a, b) => a + b, 0)); break;
        case 'max': result.push(Math.max(...line)); break;
        case 'min': result.push(Math.min(...line)); break;
        case 'argmax': result.push(line.indexOf(Math.max(...line))); break;
        case 'argmin': result.push(line.indexOf(Math.min(...line))); break;
        case 'logsumexp': result.push(Math.log(line.reduce((a, b) => a + Math.exp(b), 0))); break;
      }
    }
  }
  return result;
}

test('reduce ops over every [outer, n, inner] split match nested loops', () => {
  const rand = makeRandom(11);
  for (const dtype of ['float64', 'float32'] as DType[]) {
    for (const outer of [1, 3]) {
      for (const n of SIZES) {
        for (const inner of [1, 3, 17]) {
          const x = randomStorage(rand, dtype, outer * n * inner);
          // Repeated values make ties for argmax/argmin: the first index must win.
          if (n > 2) x.data.copyWithin(inner, 0, inner);
          for (const op of REDUCE_OPS) {
            const isIndex = op === 'argmax' || op === 'argmin';
            const out = storageOf(isIndex ? 'int32' : dtype, outer * inner);
            refKernels.reduce(op, x, { outer, n, inner }, out);
            const expected = naiveReduce(op, x.data, outer, n, inner).map((v) => (dtype === 'float32' && !isIndex ? Math.fround(v) : v));
            const { rtol, atol } = tolerance(dtype);
            assertClose(out.data, expected, rtol, atol * n, `${op} ${dtype} [${outer}, ${n}, ${inner}]`);
          }
        }
      }
    }
  }
});

test('reduce: argmax ties keep the lower index; logsumexp is stable and handles -Infinity', () => {
  const ties = storageOf('float64', [1, 5, 5, 2, 5]);
  const index = storageOf('int32', 1);
  refKernels.reduce('argmax', ties, { outer: 1, n: 5, inner: 1 }, index);
  assert.equal(index.data[0], 1);
  refKernels.reduce('argmin', storageOf('float64', [3, 0, 0]), { outer: 1, n: 3, inner: 1 }, index);
  assert.equal(index.data[0], 1);

  const out = storageOf('float64', 1);
  refKernels.reduce('logsumexp', storageOf('float64', [1000, 1000]), { outer: 1, n: 2, inner: 1 }, out);
  assertClose(out.data, [1000 + Math.LN2], 1e-15, 0);
  refKernels.reduce('logsumexp', storageOf('float64', [-Infinity, -Infinity]), { outer: 1, n: 2, inner: 1 }, out);
  assert.equal(out.data[0], -Infinity);
  refKernels.reduce('logsumexp', storageOf('float64', [-Infinity, 0]), { outer: 1, n: 2, inner: 1 }, out);
  assert.equal(out.data[0], 0);
  refKernels.reduce('max', storageOf('float64', [1, NaN, 3]), { outer: 1, n: 3, inner: 1 }, out);
  assert.ok(Number.isNaN(out.data[0]), 'max propagates NaN');
});

test('cumsum forward and reverse match running sums; reverse equals flip-cumsum-flip', () => {
  const rand = makeRandom(12);
  for (const dtype of ['float64', 'float32'] as DType[]) {
    for (const n of SIZES) {
      for (const [outer, inner] of [[1, 1], [2, 3], [3, 17]]) {
        const x = randomStorage(rand, dtype, outer * n * inner);
        const forward = storageOf(dtype, x.length);
        const backward = storageOf(dtype, x.length);
        refKernels.cumsum(x, { outer, n, inner }, false, forward);
        refKernels.cumsum(x, { outer, n, inner }, true, backward);
        const expectedForward: number[] = new Array(x.length);
        const expectedBackward: number[] = new Array(x.length);
        for (let o = 0; o < outer; o++) {
          for (let i = 0; i < inner; i++) {
            const at = (j: number) => (o * n + j) * inner + i;
            let run = 0;
            for (let j = 0; j < n; j++) expectedForward[at(j)] = run += x.data[at(j)];
            run = 0;
            for (let j = n - 1; j >= 0; j--) expectedBackward[at(j)] = run += x.data[at(j)];
          }
        }
        const { rtol, atol } = tolerance(dtype);
        assertClose(forward.data, expectedForward, rtol, atol * n, `cumsum ${dtype} n=${n}`);
        assertClose(backward.data, expectedBackward, rtol, atol * n, `reverse cumsum ${dtype} n=${n}`);
      }
    }
  }
});

/** Reference topk: stable sort of (value, index) pairs. */
function naiveTopk(row: number[], k: number, largest: boolean): { values: number[]; indices: number[] } {
  const order = row.map((v, i) => ({ v, i }));
  order.sort((a, b) => (a.v === b.v ? a.i - b.i : largest ? b.v - a.v : a.v - b.v));
  const top = order.slice(0, k);
  return { values: top.map((e) => e.v), indices: top.map((e) => e.i) };
}

test('topk matches a stable sort for small and large k, with ties', () => {
  const rand = makeRandom(13);
  for (const dtype of ['float64', 'float32'] as DType[]) {
    for (const n of [1, 3, 17, 65, 300]) {
      for (const k of [1, 3, 17, 40, n].filter((value) => value <= n)) {
        for (const largest of [true, false]) {
          const rows = 3;
          // Values on a coarse grid so ties are common.
          const x = storageOf(dtype, Array.from({ length: rows * n }, () => Math.floor(rand() * 7) - 3));
          const values = storageOf(dtype, rows * k);
          const indices = storageOf('int32', rows * k);
          refKernels.topk(x, rows, n, k, largest, values, indices);
          for (let r = 0; r < rows; r++) {
            const expected = naiveTopk(Array.from(x.data.subarray(r * n, (r + 1) * n)), k, largest);
            assert.deepEqual(Array.from(indices.data.subarray(r * k, (r + 1) * k)), expected.indices, `n=${n} k=${k} largest=${largest}`);
            assert.deepEqual(Array.from(values.data.subarray(r * k, (r + 1) * k)), expected.values);
          }
        }
      }
    }
  }
});

test('topk ranks NaN above every number, as torch.topk does', () => {
  const x = storageOf('float64', [1, NaN, 3, 2]);
  const values = storageOf('float64', 2);
  const indices = storageOf('int32', 2);
  refKernels.topk(x, 1, 4, 2, true, values, indices);
  assert.deepEqual(Array.from(indices.data), [1, 2]);
  refKernels.topk(x, 1, 4, 2, false, values, indices);
  assert.deepEqual(Array.from(indices.data), [0, 3]);
});
