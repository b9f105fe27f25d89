// Reductions, scans and topk: values against plain-JS references over every axis combination
// (adjacent and not, keepdim or not, transposed inputs) and gradients by finite differences.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensor, type Tensor } from '../../src/tensor/index.js';
import { ArgumentError, DTypeError } from '../../src/util/errors.js';
import { assertClose, checkGrad, f64, flatIndex, indices, ref, refReduce, rnd } from './helpers.js';

const AXES: (number[] | null)[] = [null, [0], [1], [2], [-1], [0, 2], [0, 1], [1, 2], [2, 0, 1]];

function norm(axes: number[] | null, ndim: number): number[] {
  return axes === null ? Array.from({ length: ndim }, (_, i) => i) : axes.map((a) => (a < 0 ? a + ndim : a));
}

function dropped(shape: number[], axes: number[]): number[] {
  return shape.filter((_, i) => !axes.includes(i));
}

test('sum, mean, max, min, logsumexp over any axes match the reference (float32 and float64)', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const base = rnd([3, 4, 5], 1, dtype);
    for (const x of [base, base.permute(1, 0, 2).contiguous().permute(1, 0, 2)]) {
      const data = x.toArray();
      for (const axes of AXES) {
        const ax = norm(axes, 3);
        const tol = dtype === 'float32' ? 1e-5 : 1e-12;
        const sums = refReduce(data, x.shape, ax, 0, (a, v) => a + v);
        const count = ax.reduce((p, a) => p * x.shape[a], 1);
        const maxes = refReduce(data, x.shape, ax, -Infinity, Math.max);
        const mins = refReduce(data, x.shape, ax, Infinity, Math.min);
        const lse = refReduce(data, x.shape, ax, 0, (a, v) => a + Math.exp(v)).values.map(Math.log);
        assertClose(x.sum(axes).toArray(), sums.values, tol, `sum ${axes}`);
        assert.deepEqual(x.sum(axes).shape, dropped(x.shape as number[], ax));
        assert.deepEqual(x.sum(axes, { keepdim: true }).shape, sums.shape);
        assertClose(x.mean(axes, { keepdim: true }).toArray(), sums.values.map((v) => v / count), tol, `mean ${axes}`);
        assertClose(x.max(axes).toArray(), maxes.values, 0, `max ${axes}`);
        assertClose(x.min(axes).toArray(), mins.values, 0, `min ${axes}`);
        assertClose(x.logsumexp(axes).toArray(), lse, tol, `logsumexp ${axes}`);
      }
    }
  }
});

test('argmax/argmin along an axis or flattened, first index on ties, int32', () => {
  const x = rnd([3, 4, 5], 2);
  const data = x.toArray();
  for (const axis of [0, 1, 2, -1]) {
    const a = axis < 0 ? axis + 3 : axis;
    const am = x.argmax(axis);
    assert.equal(am.dtype, 'int32');
    const outShape = x.shape.map((d, i) => (i === a ? 1 : d));
    const got = am.toArray();
    for (const idx of indices(outShape)) {
      let best = 0;
      for (let k = 1; k < x.shape[a]; k++) {
        const here = [...idx];
        here[a] = k;
        const bestIdx = [...idx];
        bestIdx[a] = best;
        if (data[flatIndex(x.shape, here)] > data[flatIndex(x.shape, bestIdx)]) best = k;
      }
      assert.equal(got[flatIndex(outShape, idx)], best);
    }
  }
  let flatBest = 0;
  for (let i = 1; i < data.length; i++) if (data[i] < data[flatBest]) flatBest = i;
  assert.equal(x.argmin().item(), flatBest);
  assert.deepEqual(x.argmin(null, { keepdim: true }).shape, [1, 1, 1]);
  assert.deepEqual(Array.from(f64([1, 3, 3, 0]).argmax().toArray()), [1]);
});

test('var and std with Bessel correction (default), population (0) and keepdim', () => {
  const x = rnd([4, 6], 3);
  const data = x.toArray();
  for (const axes of [null, [0], [1]] as (number[] | null)[]) {
    const ax = norm(axes, 2);
    const n = ax.reduce((p, a) => p * x.shape[a], 1);
    const mean = refReduce(data, x.shape, ax, 0, (a, v) => a + v).values.map((v) => v / n);
    const outShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
    const sq = new Array(mean.length).fill(0);
    for (const idx of indices(x.shape)) {
      const o = flatIndex(outShape, idx.map((v, i) => (ax.includes(i) ? 0 : v)));
      sq[o] += (data[flatIndex(x.shape, idx)] - mean[o]) ** 2;
    }
    assertClose(x.var(axes).toArray(), sq.map((s) => s / (n - 1)), 1e-12, `var ${axes}`);
    assertClose(x.var(axes, { correction: 0 }).toArray(), sq.map((s) => s / n), 1e-12);
    assertClose(x.std(axes, { keepdim: true }).toArray(), sq.map((s) => Math.sqrt(s / (n - 1))), 1e-12);
  }
});

test('cumsum forward and reverse along any axis', () => {
  const x = rnd([3, 4, 2], 4);
  const data = x.toArray();
  for (const axis of [0, 1, 2]) {
    for (const reverse of [false, true]) {
      const got = x.cumsum(axis, { reverse }).toArray();
      for (const idx of indices(x.shape)) {
        let expected = 0;
        for (let k = 0; k < x.shape[axis]; k++) {
          if (reverse ? k < idx[axis] : k > idx[axis]) continue;
          const j = [...idx];
          j[axis] = k;
          expected += data[flatIndex(x.shape, j)];
        }
        assertClose([got[flatIndex(x.shape, idx)]], [expected], 1e-12, `cumsum ${axis} ${reverse}`);
      }
    }
  }
  assert.deepEqual(Array.from(tensor([1, 2, 3], { dtype: 'int32', backend: ref }).cumsum(0).toArray()), [1, 3, 6]);
});

test('topk: sorted values and indices along any axis, largest or smallest', () => {
  const x = rnd([3, 7, 2], 5);
  const data = x.toArray();
  for (const axis of [1, 0, -1]) {
    const a = axis < 0 ? axis + 3 : axis;
    for (const largest of [true, false]) {
      const k = Math.min(3, x.shape[a]);
      const { values, indices: ids } = x.topk(k, axis, { largest });
      const outShape = x.shape.map((d, i) => (i === a ? k : d));
      assert.deepEqual(values.shape, outShape);
      const vals = values.toArray();
      const idArr = ids.toArray();
      for (const idx of indices(outShape.map((d, i) => (i === a ? 1 : d)))) {
        const line = Array.from({ length: x.shape[a] }, (_, j) => {
          const here = [...idx];
          here[a] = j;
          return { v: data[flatIndex(x.shape, here)], j };
        }).sort((p, q) => (largest ? q.v - p.v : p.v - q.v) || p.j - q.j);
        for (let r = 0; r < k; r++) {
          const here = [...idx];
          here[a] = r;
          assert.equal(vals[flatIndex(outShape, here)], line[r].v);
          assert.equal(idArr[flatIndex(outShape, here)], line[r].j);
        }
      }
    }
  }
  assert.throws(() => x.topk(8, 1), (e: Error) => e instanceof ArgumentError && /k = 8.*\[1, 7\]/.test(e.message));
  assert.throws(() => x.topk(0), ArgumentError);
});

test('reduction gradients', () => {
  const x = rnd([3, 4, 5], 6);
  for (const axes of AXES) {
    for (const keepdim of [false, true]) {
      checkGrad((t) => t.sum(axes, { keepdim }), [x]);
      checkGrad((t) => t.mean(axes, { keepdim }), [x]);
      checkGrad((t) => t.max(axes, { keepdim }), [x]);
      checkGrad((t) => t.min(axes, { keepdim }), [x]);
      checkGrad((t) => t.logsumexp(axes, { keepdim }), [x]);
    }
    checkGrad((t) => t.var(axes), [x]);
    checkGrad((t) => t.std(axes, { correction: 0 }), [x]);
  }
  checkGrad((t) => t.mT.sum(-1), [x]);
  for (const axis of [0, 1, 2]) {
    checkGrad((t) => t.cumsum(axis), [x]);
    checkGrad((t) => t.cumsum(axis, { reverse: true }), [x]);
    checkGrad((t) => t.topk(2, axis).values, [x]);
    checkGrad((t) => t.topk(2, axis, { largest: false }).values.exp(), [x]);
  }
});

test('max gradient is shared among ties', () => {
  const x = f64([1, 4, 4, 2]).requiresGrad_();
  x.max().backward();
  assert.deepEqual(Array.from(x.grad!.toArray()), [0, 0.5, 0.5, 0]);
});

test('float-only reductions refuse int32', () => {
  const ids: Tensor = tensor([1, 2], { dtype: 'int32', backend: ref });
  assert.equal(ids.sum().item(), 3);
  assert.equal(ids.max().item(), 2);
  assert.throws(() => ids.mean(), (e: Error) => e instanceof DTypeError && /mean.*int32/.test(e.message));
  assert.throws(() => ids.var(), DTypeError);
  assert.throws(() => ids.logsumexp(), DTypeError);
});
