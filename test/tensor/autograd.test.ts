// Autograd semantics: accumulation, shared subexpressions, seeds, retainGraph, retainGrad,
// grad modes, the functional grad helper and GradError cases.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { record } from '../../src/tensor/autograd.js';
import { enableGrad, grad, isGradEnabled, noGrad, tensor, valueAndGrad, type Tensor } from '../../src/tensor/index.js';
import { DTypeError, GradError, ShapeError } from '../../src/util/errors.js';
import { assertClose, checkGrad, f64, ref, rnd } from './helpers.js';

test('backward accumulates into leaves across calls; shared subexpressions add up', () => {
  const x = f64([0.5, -1, 2]).requiresGrad_();
  const xv = x.toArray();
  const y = x.mul(x).add(x.exp()); // d/dx = 2x + e^x
  y.sum().backward();
  const once = Array.from(xv, (v) => 2 * v + Math.exp(v));
  assertClose(x.grad!.toArray(), once, 1e-12);
  x.mul(x).add(x.exp()).sum().backward();
  assertClose(x.grad!.toArray(), once.map((v) => 2 * v), 1e-12, 'accumulated');
});

test('a non-scalar output needs a seed of its shape', () => {
  const x = rnd([2, 3], 1).requiresGrad_();
  const y = x.mul(3);
  assert.throws(() => y.backward(), (e: Error) => e instanceof GradError && /\[2, 3\].*seed/.test(e.message));
  assert.throws(() => y.backward(f64([1, 2])), (e: Error) => e instanceof ShapeError && /\[2\].*\[2, 3\]/.test(e.message));
  const seed = rnd([2, 3], 2);
  y.backward(seed);
  assertClose(x.grad!.toArray(), Array.from(seed.toArray(), (v) => 3 * v), 1e-12);
});

test('backward twice through saved tensors needs retainGraph', () => {
  const x = rnd([3], 3).requiresGrad_();
  x.exp().sum().backward({ retainGraph: true });
  x.grad = null;
  const retained = x.exp().sum();
  retained.backward(undefined, { retainGraph: true });
  retained.backward();
  assertClose(x.grad!.toArray(), Array.from(x.toArray(), (v) => 2 * Math.exp(v)), 1e-12, 'two passes');
  assert.throws(() => retained.backward(), (e: Error) => e instanceof GradError && /exp.*retainGraph/.test(e.message));
  const sum = x.add(1).sum(); // nothing saved: running twice is fine, as in torch
  sum.backward();
  sum.backward();
});

test('retainGrad keeps a non-leaf gradient; leaves without requiresGrad get none', () => {
  const x = rnd([2, 2], 4).requiresGrad_();
  const c = rnd([2, 2], 5);
  const h = x.mul(c).retainGrad();
  h.tanh().sum().backward();
  const hv = h.toArray();
  assertClose(h.grad!.toArray(), Array.from(hv, (v) => 1 - Math.tanh(v) ** 2), 1e-12);
  assert.equal(c.grad, null);
  assert.equal(h.requiresGrad, true);
});

test('noGrad records nothing; enableGrad re-enables inside it', () => {
  const x = rnd([2], 6).requiresGrad_();
  const y = noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  assert.throws(() => y.sum().backward(), (e: Error) => e instanceof GradError && /does not require grad/.test(e.message));
  noGrad(() => {
    assert.equal(isGradEnabled(), false);
    const z = enableGrad(() => x.mul(2));
    assert.equal(z.requiresGrad, true);
  });
  assert.equal(isGradEnabled(), true);
  assert.throws(() => noGrad(() => { throw new Error('boom'); }));
  assert.equal(isGradEnabled(), true, 'restored after a throw');
});

test('grad() returns gradients without touching .grad; unused inputs get zeros', () => {
  const a = rnd([3], 7);
  const b = rnd([3], 8);
  const unused = rnd([2], 9);
  const [ga, gb, gu] = grad((x, y) => x.mul(y).sum(), [a, b, unused]);
  assertClose(ga.toArray(), b.toArray(), 0);
  assertClose(gb.toArray(), a.toArray(), 0);
  assert.deepEqual(Array.from(gu.toArray()), [0, 0]);
  assert.equal(a.grad, null);
  assert.equal(a.requiresGrad, false, 'inputs are not modified');
  const { value, grads } = valueAndGrad((x) => x.square().sum(), [a]);
  assertClose([value.item()], [a.square().sum().item()], 1e-12);
  assertClose(grads[0].toArray(), Array.from(a.toArray(), (v) => 2 * v), 1e-12);
  assert.equal(value.requiresGrad, false);
});

test('grad() leaves other parameters alone and works under noGrad', () => {
  const w = rnd([3], 10).requiresGrad_();
  const x = rnd([3], 11);
  const [gx] = noGrad(() => grad((t) => t.mul(w).sum(), [x]));
  assertClose(gx.toArray(), w.toArray(), 0);
  assert.equal(w.grad, null);
});

test('only float tensors can require grad; a disposed leaf is skipped by backward', () => {
  const ids = tensor([1, 2], { dtype: 'int32', backend: ref });
  assert.throws(() => ids.requiresGrad_(), (e: Error) => e instanceof DTypeError && /int32/.test(e.message));
  assert.throws(() => tensor([1], { dtype: 'int32', backend: ref, requiresGrad: true }), DTypeError);
  const x = rnd([2], 12).requiresGrad_();
  const y = rnd([2], 13).requiresGrad_();
  const loss = x.mul(y).sum();
  x.dispose();
  loss.backward();
  assert.equal(x.grad, null);
  assert.notEqual(y.grad, null);
});

test('gradient through a long chain (deep graphs need no recursion)', () => {
  const x = f64([0.1]).requiresGrad_();
  let y = x;
  for (let i = 0; i < 5000; i++) y = y.mul(1.0001);
  y.sum().backward();
  assertClose(x.grad!.toArray(), [1.0001 ** 5000], 1e-9);
});

test('retainGrad on a tensor without grad is an error', () => {
  assert.throws(() => rnd([2], 14).retainGrad(), GradError);
});

test('checkGrad catches a wrong backward rule (the checker itself can fail)', () => {
  const wrongSquare = (x: Tensor) => {
    const out = noGrad(() => x.square());
    record('wrongSquare', out, [x], (g, [saved]) => [g.mul(saved)], [x]); // missing the factor 2
    return out;
  };
  assert.throws(() => checkGrad(wrongSquare, [rnd([3], 15)]), /d\/d input 0/);
  checkGrad((x) => x.square(), [rnd([3], 15)]);
});
