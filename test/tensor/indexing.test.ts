// indexSelect, gather, indexPut / setIndex_ / copy_, concat, stack: values against index
// arithmetic, gradients by finite differences, and the errors for bad ids and shapes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concat, gather, indexPut, indexSelect, noGrad, stack, tensor, type Tensor } from '../../src/tensor/index.js';
import { DTypeError, GradError, IndexError, ShapeError } from '../../src/util/errors.js';
import { assertClose, checkGrad, f64, indices, ref, rnd } from './helpers.js';

const ids = (values: number[], shape?: number[]) => tensor(Int32Array.from(values), shape ?? [values.length], { backend: ref });

function at(t: Tensor, idx: readonly number[]): number {
  return t.storage.data[t.offset + idx.reduce((acc, v, d) => acc + v * t.strides[d], 0)];
}

test('indexSelect: embedding lookup with 2-d ids, other axes, repeated ids', () => {
  const table = rnd([5, 3], 1);
  const tokens = ids([4, 0, 4, 2], [2, 2]);
  const emb = indexSelect(table, 0, tokens);
  assert.deepEqual(emb.shape, [2, 2, 3]);
  for (const [i, j, d] of indices(emb.shape)) {
    assert.equal(at(emb, [i, j, d]), at(table, [tokens.toArray()[i * 2 + j], d]));
  }
  const x = rnd([2, 4, 3], 2);
  const cols = x.indexSelect(1, ids([3, 3, 0]));
  for (const [a, b, c] of indices(cols.shape)) assert.equal(at(cols, [a, b, c]), at(x, [a, [3, 3, 0][b], c]));
  const last = x.mT.indexSelect(-1, ids([1]));
  assert.deepEqual(last.shape, [2, 3, 1]);
  for (const [a, b] of indices([2, 3])) assert.equal(at(last, [a, b, 0]), at(x, [a, 1, b]));
  checkGrad((t) => indexSelect(t, 0, tokens), [table]);
  checkGrad((t) => t.indexSelect(1, ids([3, 3, 0, 3])), [x]);
  checkGrad((t) => t.mT.indexSelect(2, ids([2, 2])), [x]);
});

test('indexSelect checks ids on the way in', () => {
  const table = rnd([5, 3], 3);
  assert.throws(() => indexSelect(table, 0, ids([1, 5])), (e: Error) => e instanceof IndexError && /id 5.*\[0, 4\]/.test(e.message));
  assert.throws(() => indexSelect(table, 0, ids([-1])), (e: Error) => e instanceof IndexError && /id -1/.test(e.message));
  assert.throws(() => indexSelect(table, 0, f64([1, 2])), (e: Error) => e instanceof DTypeError && /ids must be int32, got float64/.test(e.message));
  assert.throws(() => indexSelect(table, 2, ids([0])), IndexError);
});

test('gather takes along an axis (torch.gather) and scatters gradients back, repeats adding', () => {
  const x = rnd([3, 4], 4);
  const picks = ids([3, 0, 0, 1, 2, 2], [3, 2]);
  const out = gather(x, 1, picks);
  assert.deepEqual(out.shape, [3, 2]);
  const p = picks.toArray();
  for (const [i, j] of indices([3, 2])) assert.equal(at(out, [i, j]), at(x, [i, p[i * 2 + j]]));
  const rows = x.gather(0, ids([2, 0, 1, 1], [1, 4]));
  for (const [, j] of indices([1, 4])) assert.equal(at(rows, [0, j]), at(x, [[2, 0, 1, 1][j], j]));
  checkGrad((t) => gather(t, 1, picks), [x]);
  checkGrad((t) => t.mT.gather(0, ids([1, 1, 1, 0], [2, 2])), [x]);
  assert.throws(() => gather(x, 1, ids([4], [1, 1])), IndexError);
  assert.throws(() => gather(x, 1, ids([0, 1])), ShapeError);
});

test('indexPut replaces a region (broadcast value) without touching x; gradients reach both', () => {
  const x = rnd([3, 4, 2], 5);
  const value = rnd([2], 6);
  const out = indexPut(x, [[0, 3, 2], 1], value);
  const before = Array.from(x.toArray());
  for (const idx of indices(x.shape)) {
    const inRegion = (idx[0] === 0 || idx[0] === 2) && idx[1] === 1;
    assert.equal(at(out, idx), inRegion ? at(value, [idx[2]]) : at(x, idx));
  }
  assert.deepEqual(Array.from(x.toArray()), before, 'x unchanged');
  assert.equal(x.indexPut([null, -1], 0).index(null, -1).abs().sum().item(), 0);
  checkGrad((t, v) => indexPut(t, [[0, 3, 2], 1], v), [x, value]);
  checkGrad((t, v) => t.mT.indexPut([1, [0, 2]], v), [x, rnd([2, 1], 7)]);
  checkGrad((t) => t.indexPut([2], 3).mul(t), [x]);
  assert.throws(() => indexPut(x, [0], rnd([5], 1)), (e: Error) => e instanceof ShapeError && /\[5\].*\[4, 2\]/.test(e.message));
});

test('activation patching: patch one position of a hidden state, gradient to the patched value', () => {
  const hidden = rnd([1, 4, 3], 8); // [batch, pos, d_model]
  const clean = rnd([3], 9);
  checkGrad((h, c) => h.indexPut([0, 2], c).tanh().sum(1), [hidden, clean]);
});

test('setIndex_ and copy_ write in place (views see it), refuse while grad is needed', () => {
  const x = rnd([3, 4], 10);
  const view = x.index(1);
  x.setIndex_([1, [1, 3]], 7);
  assert.deepEqual(Array.from(view.toArray()).map((v, i) => (i === 1 || i === 2 ? v === 7 : v !== 7)), [true, true, true, true]);
  const row = rnd([4], 11);
  x.setIndex_([0], row);
  assert.deepEqual(Array.from(x.index(0).toArray()), Array.from(row.toArray()));
  x.setIndex_([2], x.index(0)); // overlapping source and destination share a buffer
  assert.deepEqual(Array.from(x.index(2).toArray()), Array.from(row.toArray()));
  x.copy_(f64(2));
  assert.equal(x.sum().item(), 24);
  const counts = tensor([0, 0, 0], { dtype: 'int32', backend: ref });
  counts.copy_(f64([1.9, -2.5, 3])); // casts like the copy kernel (truncation)
  assert.deepEqual(Array.from(counts.toArray()), [1, -2, 3]);
  const p = rnd([2], 12).requiresGrad_();
  assert.throws(() => p.setIndex_([0], 1), (e: Error) => e instanceof GradError && /indexPut/.test(e.message));
  noGrad(() => p.copy_(f64([1, 2])));
  assert.deepEqual(Array.from(p.toArray()), [1, 2]);
});

test('an in-place write to a tensor saved for backward is detected', () => {
  const x = rnd([3], 13).requiresGrad_();
  const y = x.exp();
  const z = y.mul(y);
  noGrad(() => y.setIndex_([0], 0));
  assert.throws(() => z.sum().backward(), (e: Error) => e instanceof GradError && /modified in place/.test(e.message));
});

test('concat and stack along any axis; gradients split back', () => {
  const a = rnd([2, 3], 14);
  const b = rnd([2, 1], 15);
  const c = rnd([2, 2], 16);
  const cat = concat([a, b.mT.mT, c], -1);
  assert.deepEqual(cat.shape, [2, 6]);
  for (const [i, j] of indices([2, 6])) {
    const expected = j < 3 ? at(a, [i, j]) : j < 4 ? at(b, [i, 0]) : at(c, [i, j - 4]);
    assert.equal(at(cat, [i, j]), expected);
  }
  const st = stack([a, a.mul(2)], 1);
  assert.deepEqual(st.shape, [2, 2, 3]);
  for (const [i, s, j] of indices(st.shape)) assert.equal(at(st, [i, s, j]), at(a, [i, j]) * (s + 1));
  assertClose(stack([a, c.narrow(1, 0, 1).expand(2, 3)], -1).toArray(), Array.from(stack([a, c.narrow(1, 0, 1).expand(2, 3).contiguous()], 2).toArray()), 0);
  checkGrad((x, y, z) => concat([x, y, z], 1), [a, b, c]);
  checkGrad((x, y) => concat([x.mT, y.mT], 0), [a, c]);
  checkGrad((x, y) => stack([x, y, x], 0), [a, rnd([2, 3], 17)]);
  checkGrad((x) => stack([x, x.exp()], -1), [a]);
  assert.throws(() => concat([a, rnd([3, 3], 1)], 1), (e: Error) => e instanceof ShapeError && /\[2, 3\] and \[3, 3\].*axis 1/.test(e.message));
  assert.throws(() => stack([a, c], 0), (e: Error) => e instanceof ShapeError && /\[2, 3\] and \[2, 2\]/.test(e.message));
  assert.throws(() => concat([a, a.toType('float32')], 0), DTypeError);
});
