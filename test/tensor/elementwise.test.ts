// Elementwise ops: forward against Math.* / plain JS on float32 and float64 (contiguous and
// non-contiguous inputs, broadcasting, number operands), and every gradient by finite differences.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { erf } from '../../src/backend/ref/index.js';
import { Tensor, add, clamp, div, maximum, minimum, mul, pow, sub, tensor, where } from '../../src/tensor/index.js';
import { DTypeError, ShapeError } from '../../src/util/errors.js';
import { assertClose, checkGrad, f64, positive, ref, refBroadcast, rnd } from './helpers.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const geluErf = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

const UNARY: [string, (t: Tensor) => Tensor, (x: number) => number, boolean][] = [
  // [name, op, reference, needs positive input]
  ['neg', (t) => t.neg(), (x) => -x, false],
  ['abs', (t) => t.abs(), Math.abs, false],
  ['square', (t) => t.square(), (x) => x * x, false],
  ['sqrt', (t) => t.sqrt(), Math.sqrt, true],
  ['rsqrt', (t) => t.rsqrt(), (x) => 1 / Math.sqrt(x), true],
  ['reciprocal', (t) => t.reciprocal(), (x) => 1 / x, true],
  ['exp', (t) => t.exp(), Math.exp, false],
  ['log', (t) => t.log(), Math.log, true],
  ['sin', (t) => t.sin(), Math.sin, false],
  ['cos', (t) => t.cos(), Math.cos, false],
  ['tanh', (t) => t.tanh(), Math.tanh, false],
  ['erf', (t) => t.erf(), erf, false],
  ['sigmoid', (t) => t.sigmoid(), sigmoid, false],
  ['relu', (t) => t.relu(), (x) => Math.max(x, 0), false],
  ['silu', (t) => t.silu(), (x) => x * sigmoid(x), false],
  ['gelu', (t) => t.gelu(), geluErf, false],
  ['gelu tanh', (t) => t.gelu('tanh'), geluTanh, false],
];

test('unary ops match Math on float32 and float64, contiguous and transposed', () => {
  for (const [name, op, reference, needsPositive] of UNARY) {
    for (const dtype of ['float32', 'float64'] as const) {
      const base = needsPositive ? positive([3, 5], 1, dtype) : rnd([3, 5], 1, dtype);
      for (const x of [base, base.mT]) {
        const expected = Array.from(x.toArray(), reference);
        assertClose(op(x).toArray(), expected, dtype === 'float32' ? 2e-6 : 1e-12, `${name} ${dtype}`);
      }
    }
  }
  const s = tensor([-2, 0, 3]).sign().toArray();
  assert.deepEqual(Array.from(s), [-1, 0, 1]);
});

test('unary gradients match finite differences', () => {
  for (const [name, op, , needsPositive] of UNARY) {
    // Keep relu/abs inputs away from the kink at 0, where finite differences straddle it.
    const x = needsPositive ? positive([2, 3], 2) : rnd([2, 3], 2).add(f64([0.3, -0.2, 0.25], [3]));
    assert.doesNotThrow(() => checkGrad(op, [x], { tol: 1e-6 }), name);
  }
  checkGrad((t) => t.sign().add(t), [rnd([4], 3)]);
});

test('binary ops broadcast like numpy (odd sizes, non-contiguous, number operands)', () => {
  const cases: [number[], number[]][] = [[[3, 5], [3, 5]], [[3, 1], [1, 5]], [[17], [2, 3, 17]], [[2, 1, 4], [3, 1]], [[], [3]], [[1], [1]]];
  const ops: [string, (a: Tensor | number, b: Tensor | number) => Tensor, (x: number, y: number) => number][] = [
    ['add', add, (x, y) => x + y],
    ['sub', sub, (x, y) => x - y],
    ['mul', mul, (x, y) => x * y],
    ['div', div, (x, y) => x / y],
    ['pow', pow, (x, y) => x ** y],
    ['maximum', maximum, Math.max],
    ['minimum', minimum, Math.min],
    ['lt', (a, b) => (a as Tensor).lt(b), (x, y) => Number(x < y)],
    ['ge', (a, b) => (a as Tensor).ge(b), (x, y) => Number(x >= y)],
    ['eq', (a, b) => (a as Tensor).eq(b), (x, y) => Number(x === y)],
    ['ne', (a, b) => (a as Tensor).ne(b), (x, y) => Number(x !== y)],
  ];
  for (const [name, op, reference] of ops) {
    for (const [aShape, bShape] of cases) {
      for (const dtype of ['float32', 'float64'] as const) {
        const a = positive(aShape, 4, dtype);
        const b = positive(bShape, 5, dtype);
        const expected = refBroadcast(a.toArray(), aShape, b.toArray(), bShape, reference);
        const out = op(a, b);
        assert.deepEqual(out.shape, expected.shape, `${name} ${aShape} ${bShape}`);
        assertClose(out.toArray(), expected.values, dtype === 'float32' ? 2e-6 : 1e-12, `${name} ${aShape}x${bShape}`);
      }
    }
    const a = positive([2, 3], 6);
    const viaScalar = refBroadcast(a.toArray(), [2, 3], [1.5], [], reference).values;
    assertClose(op(a.mT, 1.5).toArray(), refBroadcast(a.mT.toArray(), [3, 2], [1.5], [], reference).values, 1e-12, `${name} x op s`);
    assertClose(op(a, 1.5).toArray(), viaScalar, 1e-12, `${name} x op s`);
    if (['lt', 'ge', 'eq', 'ne'].includes(name)) continue;
    assertClose(op(1.5, a).toArray(), refBroadcast([1.5], [], a.toArray(), [2, 3], reference).values, 1e-12, `${name} s op x`);
  }
});

test('binary gradients (broadcast operands reduce over broadcast axes)', () => {
  const shapes: [number[], number[]][] = [[[2, 3], [2, 3]], [[2, 3], [3]], [[2, 1, 3], [4, 1]], [[], [2, 2]]];
  for (const [aShape, bShape] of shapes) {
    const a = positive(aShape, 7);
    const b = positive(bShape, 8);
    checkGrad((x, y) => x.add(y), [a, b]);
    checkGrad((x, y) => x.sub(y), [a, b]);
    checkGrad((x, y) => x.mul(y), [a, b]);
    checkGrad((x, y) => x.div(y), [a, b]);
    checkGrad((x, y) => x.pow(y), [a, b]);
    checkGrad((x, y) => maximum(x, y.add(0.01)), [a, b]);
    checkGrad((x, y) => minimum(x, y.add(0.01)), [a, b]);
  }
  const x = positive([2, 3], 9);
  for (const s of [0.5, 2, -1.5]) {
    checkGrad((t) => t.add(s), [x]);
    checkGrad((t) => sub(s, t), [x]);
    checkGrad((t) => t.mul(s), [x]);
    checkGrad((t) => t.div(s), [x]);
    checkGrad((t) => t.pow(s), [x]);
    checkGrad((t) => pow(Math.abs(s), t), [x]);
    checkGrad((t) => maximum(t, 1.1), [x]);
    checkGrad((t) => minimum(t, 1.1), [x]);
  }
  checkGrad((t) => pow(2, t).add(t.reciprocal().mul(3)), [x]);
});

test('maximum splits the gradient evenly on ties (torch convention)', () => {
  const a = f64([1, 2, 3]).requiresGrad_();
  const b = f64([1, 5, 0]).requiresGrad_();
  maximum(a, b).sum().backward();
  assert.deepEqual(Array.from(a.grad!.toArray()), [0.5, 0, 1]);
  assert.deepEqual(Array.from(b.grad!.toArray()), [0.5, 1, 0]);
});

test('where selects and routes gradients to the chosen branch; clamp passes the inside', () => {
  const cond = tensor([1, 0, 1, 0], [2, 2], { backend: ref, dtype: 'float64' });
  const a = rnd([2, 2], 10);
  const b = rnd([2], 11);
  const out = where(cond, a, b).toArray();
  const av = a.toArray();
  const bv = b.toArray();
  assert.deepEqual(Array.from(out), [av[0], bv[1], av[2], bv[1]]);
  assert.deepEqual(Array.from(where(cond, 7, b).toArray()), [7, bv[1], 7, bv[1]]);
  checkGrad((x, y) => where(cond, x, y), [a, b]);
  const x = f64([-2, -0.5, 0.3, 0.9, 2]);
  assert.deepEqual(Array.from(clamp(x, -1, 1).toArray()), [-1, -0.5, 0.3, 0.9, 1]);
  assert.deepEqual(Array.from(x.clamp(null, 0.5).toArray()), [-2, -0.5, 0.3, 0.5, 0.5]);
  assert.deepEqual(Array.from(x.clamp(0).toArray()), [0, 0, 0.3, 0.9, 2]);
  checkGrad((t) => t.clamp(-1, 1), [x]);
});

test('int32 allows integer arithmetic and comparisons, refuses float-only ops', () => {
  const a = tensor([1, 2, 3], { dtype: 'int32', backend: ref });
  const b = tensor([3, 2, 1], { dtype: 'int32', backend: ref });
  assert.deepEqual(Array.from(a.add(b).mul(2).sub(1).toArray()), [7, 7, 7]);
  assert.deepEqual(Array.from(a.gt(b).toArray()), [0, 0, 1]);
  assert.equal(a.add(b).dtype, 'int32');
  assert.throws(() => a.exp(), (e: Error) => e instanceof DTypeError && /exp.*int32/.test(e.message));
  assert.throws(() => a.div(b), DTypeError);
  assert.throws(() => a.mul(0.5), DTypeError);
  assert.throws(() => a.add(f64([1, 2, 3])), (e: Error) => e instanceof DTypeError && /int32 and float64/.test(e.message));
  assert.throws(() => f64([1, 2]).add(f64([1, 2, 3])), (e: Error) => e instanceof ShapeError && /\[2\].*\[3\]/.test(e.message));
});
