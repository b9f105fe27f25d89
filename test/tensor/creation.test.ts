// Creation functions, the seeded generator (published xoshiro128** vector, statistics, state
// round trip, the portable logarithm), printing, and backend / dtype placement errors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefBackend } from '../../src/backend/ref/index.js';
import type { Backend } from '../../src/backend/types.js';
import {
  Rng, arange, full, ones, onesLike, rand, randint, randn, tensor, zeros, zerosLike,
} from '../../src/tensor/index.js';
import { ln } from '../../src/tensor/random.js';
import { ArgumentError, DTypeError, ShapeError } from '../../src/util/errors.js';
import { ref } from './helpers.js';

const opts = { backend: ref };

test('tensor() infers shapes from nested arrays and dtypes from typed arrays', () => {
  const t = tensor([[1, 2, 3], [4, 5, 6]], opts);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.toNested(), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(tensor(7, opts).shape, []);
  assert.equal(tensor(7, opts).item(), 7);
  assert.equal(tensor(Int32Array.from([1, 2]), opts).dtype, 'int32');
  assert.equal(tensor(Float64Array.from([1, 2]), opts).dtype, 'float64');
  const shaped = tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2], opts);
  assert.deepEqual(shaped.toNested(), [[1, 2], [3, 4], [5, 6]]);
  assert.deepEqual(tensor([1.5, 2.7], { ...opts, dtype: 'int32' }).toNested(), [1, 2]);
  assert.throws(() => tensor([[1, 2], [3]], opts), (e: Error) => e instanceof ShapeError && /ragged/.test(e.message));
  assert.throws(() => tensor([1, 2, 3], [2, 2], opts), (e: Error) => e instanceof ShapeError && /3 values.*\[2, 2\]/.test(e.message));
  assert.equal(tensor([[]], opts).size, 0);
});

test('zeros, ones, full, *Like and arange', () => {
  assert.deepEqual(Array.from(zeros([2, 2], opts).toArray()), [0, 0, 0, 0]);
  assert.deepEqual(Array.from(ones([3], { ...opts, dtype: 'int32' }).toArray()), [1, 1, 1]);
  assert.deepEqual(Array.from(full([2], 2.5, opts).toArray()), [2.5, 2.5]);
  const like = tensor(Float64Array.from([1, 2, 3]), opts);
  assert.equal(zerosLike(like).dtype, 'float64');
  assert.deepEqual(Array.from(onesLike(like, { dtype: 'int32' }).toArray()), [1, 1, 1]);
  assert.deepEqual(Array.from(arange(4, opts).toArray()), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(arange(2, 5, opts).toArray()), [2, 3, 4]);
  assert.deepEqual(Array.from(arange(5, 0, -2, { ...opts, dtype: 'int32' }).toArray()), [5, 3, 1]);
  assert.deepEqual(Array.from(arange(0, 1, 0.25, { ...opts, dtype: 'float64' }).toArray()), [0, 0.25, 0.5, 0.75]);
  assert.throws(() => arange(0, 1, 0, opts), ArgumentError);
  assert.throws(() => zeros([2, -1], opts), ShapeError);
  const r = ones([2], { ...opts, requiresGrad: true });
  assert.equal(r.requiresGrad, true);
});

test('xoshiro128** matches the reference implementation for state (1, 2, 3, 4)', () => {
  // Worked by hand from the published algorithm: result = rotl(s1 * 5, 7) * 9.
  const rng = Rng.fromState([1, 2, 3, 4, Number.NaN]);
  assert.deepEqual([rng.nextUint32(), rng.nextUint32(), rng.nextUint32()], [11520, 0, 5927040]);
});

test('seeded generators are reproducible, independent per seed, and resumable', () => {
  const a = randn([100], { ...opts, seed: 42 }).toArray();
  const b = randn([100], { ...opts, seed: 42 }).toArray();
  const c = randn([100], { ...opts, seed: 43 }).toArray();
  assert.deepEqual(Array.from(a), Array.from(b));
  assert.notDeepEqual(Array.from(a), Array.from(c));
  const rng = new Rng(7);
  rng.normal();
  const state = rng.getState();
  const continued = [rng.normal(), rng.normal(), rng.next()];
  const resumed = Rng.fromState(state);
  assert.deepEqual([resumed.normal(), resumed.normal(), resumed.next()], continued);
  const shared = new Rng(9);
  const first = rand([3], { ...opts, rng: shared }).toArray();
  const second = rand([3], { ...opts, rng: shared }).toArray();
  assert.notDeepEqual(Array.from(first), Array.from(second), 'an rng advances across calls');
});

test('distributions: normal moments, uniform range, randint range and coverage', () => {
  const n = 40000;
  const x = Array.from(randn([n], { ...opts, dtype: 'float64', seed: 1 }).toArray());
  const mean = x.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
  const withinOne = x.filter((v) => Math.abs(v) < 1).length / n;
  assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.02, `std ${std}`);
  assert.ok(Math.abs(withinOne - 0.6827) < 0.01, `P(|x|<1) ${withinOne}`);
  const scaled = Array.from(randn([n], { ...opts, dtype: 'float64', seed: 2, mean: 3, std: 0.5 }).toArray());
  assert.ok(Math.abs(scaled.reduce((s, v) => s + v, 0) / n - 3) < 0.01);
  const u = Array.from(rand([n], { ...opts, seed: 3, low: -2, high: 2 }).toArray());
  assert.ok(u.every((v) => v >= -2 && v < 2));
  assert.ok(Math.abs(u.reduce((s, v) => s + v, 0) / n) < 0.03);
  const ints = randint(-3, 4, [n], { ...opts, seed: 4 });
  assert.equal(ints.dtype, 'int32');
  const counts = new Map<number, number>();
  for (const v of ints.toArray()) counts.set(v, (counts.get(v) ?? 0) + 1);
  assert.deepEqual([...counts.keys()].sort((p, q) => p - q), [-3, -2, -1, 0, 1, 2, 3]);
  for (const count of counts.values()) assert.ok(Math.abs(count / n - 1 / 7) < 0.01);
  assert.throws(() => randint(3, 3, [2], opts), ArgumentError);
});

test('the portable logarithm agrees with Math.log to a few ulps', () => {
  const rng = new Rng(5);
  for (let i = 0; i < 20000; i++) {
    const x = i < 10 ? [1, 2, 0.5, Math.SQRT2, 1e-300, 5e-324, 1e300, 0.999999, 1.000001, 3][i] : Math.exp(rng.uniform(-700, 700));
    const expected = Math.log(x);
    const err = Math.abs(ln(x) - expected);
    assert.ok(err <= 4e-16 * Math.max(1, Math.abs(expected)), `ln(${x}) = ${ln(x)}, Math.log ${expected}`);
  }
});

test('toString prints values, dtype, shape and grad_fn; large tensors are elided', () => {
  const t = tensor([[1, 2], [3, 4]], opts);
  assert.match(t.toString(), /^tensor\(\[\[1\.0000, 2\.0000\],\n\s+\[3\.0000, 4\.0000\]\], dtype=float32, shape=\[2, 2\]\)$/);
  assert.match(tensor([1, 2], { ...opts, requiresGrad: true }).mul(2).toString(), /grad_fn=mul/);
  const big = zeros([50, 50], opts).toString();
  assert.ok(big.includes('...') && big.length < 2000);
  assert.match(tensor(Int32Array.from([3]), opts).toString(), /\[3\], dtype=int32/);
});

test('float64 stays on ref; operands on different backends are refused', () => {
  const other: Backend = Object.create(ref, { name: { value: 'wasm' } });
  assert.throws(() => tensor([1], { backend: other, dtype: 'float64' }), (e: Error) => e instanceof DTypeError && /float64.*ref.*wasm/.test(e.message));
  const second = new RefBackend();
  const a = tensor([1, 2], opts);
  const b = tensor([1, 2], { backend: second });
  assert.throws(() => a.add(b), (e: Error) => e instanceof ArgumentError && /different backends/.test(e.message));
  const moved = b.toBackend(ref);
  assert.deepEqual(Array.from(a.add(moved).toArray()), [2, 4]);
});
