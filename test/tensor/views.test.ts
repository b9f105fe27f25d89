// Views: values against index arithmetic on the flat data, no copy (shared buffer), negative
// axes, errors, and gradients through every view by finite differences.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensor, type Tensor } from '../../src/tensor/index.js';
import { ArgumentError, IndexError, ShapeError } from '../../src/util/errors.js';
import { checkGrad, flatIndex, indices, ref, rnd } from './helpers.js';

/** Element at a multi-index of a tensor, read through its strides. */
function at(t: Tensor, idx: readonly number[]): number {
  return t.storage.data[t.offset + idx.reduce((acc, v, d) => acc + v * t.strides[d], 0)];
}

test('reshape/view share the buffer when strides allow and copy otherwise; -1 is inferred', () => {
  const x = rnd([2, 3, 4], 1);
  const r = x.reshape(6, -1);
  assert.deepEqual(r.shape, [6, 4]);
  assert.equal(r.storage, x.storage);
  assert.deepEqual(Array.from(r.toArray()), Array.from(x.toArray()));
  const t = x.transpose(0, 2); // [4, 3, 2], not viewable as [12, 2]
  const flat = t.reshape([12, 2]);
  assert.notEqual(flat.storage, x.storage);
  assert.deepEqual(Array.from(flat.toArray()), Array.from(t.toArray()));
  assert.notEqual(t.reshape(4, 6).storage, x.storage, 'merging non-adjacent strides copies');
  const split = x.transpose(0, 1).reshape(3, 2, 2, 2); // splitting an axis of a permuted view is free
  assert.equal(split.storage, x.storage);
  assert.deepEqual(Array.from(split.toArray()), Array.from(x.transpose(0, 1).toArray()));
  assert.deepEqual(x.view([4, 6]).shape, [4, 6]);
  assert.deepEqual(x.flatten().shape, [24]);
  assert.deepEqual(x.flatten(1).shape, [2, 12]);
  assert.deepEqual(x.flatten(0, -2).shape, [6, 4]);
  assert.throws(() => x.reshape(5, 5), (e: Error) => e instanceof ShapeError && /\[2, 3, 4\].*\[5, 5\]/.test(e.message));
  assert.throws(() => x.reshape(-1, -1), ShapeError);
});

test('a narrow slice stays a view through reshape of its contiguous part', () => {
  const x = rnd([4, 6], 2);
  const rows = x.narrow(0, 1, 2);
  const r = rows.reshape(12);
  assert.equal(r.storage, x.storage);
  assert.equal(r.offset, 6);
});

test('transpose, permute, mT and T reorder axes without copying', () => {
  const x = rnd([2, 3, 4], 3);
  const p = x.permute(2, 0, 1);
  assert.deepEqual(p.shape, [4, 2, 3]);
  assert.equal(p.storage, x.storage);
  assert.equal(p.isContiguous(), false);
  for (const idx of indices(p.shape)) assert.equal(at(p, idx), at(x, [idx[1], idx[2], idx[0]]));
  const m = x.mT;
  for (const idx of indices(m.shape)) assert.equal(at(m, idx), at(x, [idx[0], idx[2], idx[1]]));
  const tt = x.T;
  assert.deepEqual(tt.shape, [4, 3, 2]);
  for (const idx of indices(tt.shape)) assert.equal(at(tt, idx), at(x, [idx[2], idx[1], idx[0]]));
  assert.deepEqual(x.transpose(-1, 0).shape, [4, 3, 2]);
  assert.throws(() => x.permute(0, 0, 1), ArgumentError);
  assert.throws(() => x.transpose(0, 3), (e: Error) => e instanceof IndexError && /axis 3.*\[-3, 2\]/.test(e.message));
});

test('unsqueeze, squeeze, expand and broadcastTo', () => {
  const x = rnd([3, 1, 2], 4);
  assert.deepEqual(x.unsqueeze(0).shape, [1, 3, 1, 2]);
  assert.deepEqual(x.unsqueeze(-1).shape, [3, 1, 2, 1]);
  assert.deepEqual(x.squeeze().shape, [3, 2]);
  assert.deepEqual(x.squeeze(-2).shape, [3, 2]);
  assert.throws(() => x.squeeze(0), (e: Error) => e instanceof ShapeError && /size 3/.test(e.message));
  const e = x.expand(2, 3, 4, 2);
  assert.deepEqual(e.shape, [2, 3, 4, 2]);
  assert.equal(e.storage, x.storage);
  for (const idx of indices(e.shape)) assert.equal(at(e, idx), at(x, [idx[1], 0, idx[3]]));
  assert.deepEqual(x.expand(-1, 5, -1).shape, [3, 5, 2]);
  assert.deepEqual(x.broadcastTo([3, 3, 2]).shape, [3, 3, 2]);
  assert.throws(() => x.expand(4, 1, 2), (err: Error) => err instanceof ShapeError && /\[3, 1, 2\].*\[4, 1, 2\]/.test(err.message));
});

test('narrow, select and index pick the same elements as index arithmetic', () => {
  const x = rnd([4, 5, 6], 5);
  const n = x.narrow(1, 1, 3);
  for (const idx of indices(n.shape)) assert.equal(at(n, idx), at(x, [idx[0], idx[1] + 1, idx[2]]));
  const s = x.select(-1, -2);
  assert.deepEqual(s.shape, [4, 5]);
  for (const idx of indices(s.shape)) assert.equal(at(s, idx), at(x, [...idx, 4]));
  const v = x.index(-1, [1, null, 2], [-4, -1]);
  assert.deepEqual(v.shape, [2, 3]);
  assert.equal(v.storage, x.storage);
  for (const idx of indices(v.shape)) assert.equal(at(v, idx), at(x, [3, 1 + 2 * idx[0], 2 + idx[1]]));
  assert.deepEqual(x.index(null, 2).shape, [4, 6]);
  assert.deepEqual(x.index([0, 100]).shape, [4, 5, 6], 'slice ends clamp like Python');
  assert.deepEqual(x.index([3, 1]).shape, [0, 5, 6]);
  assert.throws(() => x.index(4), (e: Error) => e instanceof IndexError && /index 4.*size 4.*\[-4, 3\]/.test(e.message));
  assert.throws(() => x.index(null, [0, 2, 0]), ArgumentError);
  assert.throws(() => x.narrow(0, 3, 2), (e: Error) => e instanceof IndexError && /size 4/.test(e.message));
  assert.throws(() => x.index(0, 0, 0, 0), IndexError);
});

test('contiguous copies only non-contiguous input; clone always copies; detach drops history', () => {
  const x = rnd([3, 4], 6);
  const c = x.contiguous();
  assert.equal(c.storage, x.storage);
  const t = x.mT.contiguous();
  assert.notEqual(t.storage, x.storage);
  assert.equal(t.isContiguous(), true);
  for (const idx of indices(t.shape)) assert.equal(t.toArray()[flatIndex(t.shape, idx)], at(x, [idx[1], idx[0]]));
  const k = x.clone();
  assert.notEqual(k.storage, x.storage);
  assert.deepEqual(Array.from(k.toArray()), Array.from(x.toArray()));
  const y = x.requiresGrad_().mul(2);
  assert.equal(y.requiresGrad, true);
  assert.equal(y.detach().requiresGrad, false);
  x.requiresGrad_(false);
});

test('toType casts (float64 -> int32 truncates like C, float32 rounds)', () => {
  const x = tensor(Float64Array.from([1.7, -2.5, 3.25]), [3], { backend: ref });
  assert.deepEqual(Array.from(x.toType('int32').toArray()), [1, -2, 3]);
  const f = x.toType('float32');
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(Array.from(f.toArray()), [Math.fround(1.7), -2.5, 3.25]);
  checkGrad((t) => t.toType('float64').mul(t), [rnd([3], 7)]);
});

test('gradients flow through every view', () => {
  const x = rnd([2, 3, 4], 8);
  checkGrad((t) => t.reshape(4, 6), [x]);
  checkGrad((t) => t.transpose(0, 2).reshape(24).mul(t.flatten()), [x]);
  checkGrad((t) => t.permute(1, 2, 0).exp(), [x]);
  checkGrad((t) => t.mT.sin(), [x]);
  checkGrad((t) => t.T.square(), [x]);
  checkGrad((t) => t.unsqueeze(1).squeeze(1).flatten(1), [x]);
  checkGrad((t) => t.narrow(2, 1, 2).mul(t.narrow(2, 2, 2)), [x]);
  checkGrad((t) => t.select(1, -1).mul(t.select(1, 0)), [x]);
  checkGrad((t) => t.index(null, [0, 3, 2], [1, 4, 2]).mul(3), [x]);
  checkGrad((t) => t.index(1).contiguous().clone(), [x]);
  const b = rnd([3, 1], 9);
  checkGrad((t) => t.expand(2, 3, 4).mul(x), [b]);
  checkGrad((t) => t.broadcastTo([3, 5]).square(), [b]);
  checkGrad((t) => t.mT.contiguous().reshape(-1).cos(), [rnd([3, 4], 10)]);
});

test('a non-contiguous input (a transposed view) checks out too', () => {
  const base = rnd([4, 3], 11);
  checkGrad((t) => t.mul(t).reshape(12), [base.mT]);
});

test('split and chunk give narrow views that cover the axis; gradients flow to every piece', () => {
  const x = rnd([2, 7], 12);
  const pieces = x.split([2, 4, 1], 1);
  assert.deepEqual(pieces.map((p) => p.shape[1]), [2, 4, 1]);
  assert.ok(pieces.every((p) => p.storage === x.storage));
  for (const [i, j] of indices([2, 4])) assert.equal(at(pieces[1], [i, j]), at(x, [i, j + 2]));
  assert.deepEqual(x.split(3, -1).map((p) => p.shape[1]), [3, 3, 1]);
  assert.deepEqual(x.chunk(3, 1).map((p) => p.shape[1]), [3, 3, 1]);
  assert.deepEqual(x.chunk(2).map((p) => p.shape[0]), [1, 1]);
  assert.throws(() => x.split([3, 3], 1), (e: Error) => e instanceof ShapeError && /\[3, 3\].*7/.test(e.message));
  assert.throws(() => x.chunk(0), ArgumentError);
  checkGrad((t) => {
    const [q, k, v] = t.chunk(3, -1);
    return q.mul(k).add(v);
  }, [rnd([2, 9], 13)]);
  assert.equal(rnd([], 14).argmax().item(), 0);
});
