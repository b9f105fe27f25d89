// Memory ownership: refcounted buffers shared by views, tidy / keep / nested scopes, graphs that
// outlive a tidy until backward or dispose, optimizer state, and UseAfterFreeError.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW, SGD, dispose, keep, tidy, type Tensor } from '../../src/tensor/index.js';
import { ArgumentError, UseAfterFreeError } from '../../src/util/errors.js';
import { ref, rnd } from './helpers.js';

function mlp(): { params: Tensor[]; x: Tensor; target: Tensor; loss: () => Tensor } {
  const params = [rnd([4, 8], 1), rnd([8], 2), rnd([8, 3], 3), rnd([3], 4)].map((p) => p.requiresGrad_());
  const x = rnd([5, 4], 5);
  const target = rnd([5, 3], 6);
  const [w1, b1, w2, b2] = params;
  const loss = () => x.matmul(w1).add(b1).gelu().matmul(w2.mT.contiguous().mT).add(b2).sub(target).square().mean();
  return { params, x, target, loss };
}

test('forward + backward inside tidy leaves only the parameters and their grads', () => {
  const base = ref.liveBuffers();
  const { params, x, target, loss } = mlp();
  assert.equal(ref.liveBuffers(), base + 6);
  tidy(() => loss().backward());
  assert.equal(ref.liveBuffers(), base + 6 + 4, 'parameters, inputs and four grads');
  for (const p of params) assert.notEqual(p.grad, null);
  dispose([params, x, target]);
  assert.equal(ref.liveBuffers(), base, 'disposing a parameter frees its grad');
});

test('tidy(() => loss = f(params)); loss.backward() works and nothing leaks', () => {
  const base = ref.liveBuffers();
  const { params, x, target, loss } = mlp();
  const l = tidy(() => loss());
  assert.ok(ref.liveBuffers() > base + 7, 'the graph keeps saved activations alive');
  l.backward();
  assert.equal(ref.liveBuffers(), base + 6 + 4 + 1, 'backward freed the saved activations');
  l.dispose();
  dispose([params, x, target]);
  assert.equal(ref.liveBuffers(), base);
});

test('disposing the output of an unused graph releases everything it saved', () => {
  const base = ref.liveBuffers();
  const { params, x, target, loss } = mlp();
  const l = tidy(() => loss());
  l.dispose();
  assert.equal(ref.liveBuffers(), base + 6);
  const kept = tidy(() => loss().mul(1)); // retained graph disposed by hand after retainGraph
  kept.backward({ retainGraph: true });
  kept.dispose();
  for (const p of params) p.grad = (p.grad?.dispose(), null);
  assert.equal(ref.liveBuffers(), base + 6);
  dispose([params, x, target]);
  assert.equal(ref.liveBuffers(), base);
});

test('optimizer steps keep a constant footprint and free their state on dispose', () => {
  const base = ref.liveBuffers();
  const { params, x, target, loss } = mlp();
  for (const makeOptimizer of [() => new SGD(params, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }), () => new AdamW(params, { lr: 0.01 })]) {
    const optimizer = makeOptimizer();
    const counts: number[] = [];
    for (let step = 0; step < 4; step++) {
      tidy(() => loss().backward());
      optimizer.step();
      optimizer.zeroGrad();
      counts.push(ref.liveBuffers());
    }
    assert.deepEqual(counts.slice(1), [counts[1], counts[1], counts[1]], 'constant across steps');
    optimizer.dispose();
    assert.equal(ref.liveBuffers(), base + 6);
  }
  dispose([params, x, target]);
  assert.equal(ref.liveBuffers(), base);
});

test('views keep the buffer alive after the base is disposed; use after dispose names the op', () => {
  const base = ref.liveBuffers();
  const x = rnd([3, 4], 7);
  const row = x.index(1);
  const values = Array.from(row.toArray());
  x.dispose();
  assert.equal(ref.liveBuffers(), base + 1);
  assert.deepEqual(Array.from(row.toArray()), values);
  assert.throws(() => x.add(1), (e: Error) => e instanceof UseAfterFreeError && /^add:/.test(e.message));
  assert.throws(() => x.matmul(row), (e: Error) => e instanceof UseAfterFreeError && /matmul/.test(e.message));
  assert.throws(() => x.toArray(), (e: Error) => e instanceof UseAfterFreeError && /toArray/.test(e.message));
  x.dispose(); // idempotent
  row[Symbol.dispose]();
  assert.equal(ref.liveBuffers(), base);
});

test('tidy returns tensors in arrays and objects, keep() escapes, nested scopes pass results up', () => {
  const base = ref.liveBuffers();
  let escaped: Tensor | null = null;
  const result = tidy(() => {
    const a = rnd([2], 8);
    const inner = tidy(() => {
      const b = a.mul(2);
      b.add(1); // dropped
      return { b, list: [a.sub(1)], label: 'x' };
    });
    escaped = keep(a.exp());
    a.neg(); // dropped
    return [inner.b, inner.list[0]];
  });
  assert.equal(ref.liveBuffers(), base + 3);
  assert.equal(result[0].isDisposed, false);
  dispose(result);
  escaped!.dispose();
  assert.equal(ref.liveBuffers(), base);
});

test('tidy disposes on throw and refuses async functions', () => {
  const base = ref.liveBuffers();
  assert.throws(() => tidy(() => {
    rnd([3], 9).mul(2);
    throw new Error('boom');
  }), /boom/);
  assert.equal(ref.liveBuffers(), base);
  assert.throws(() => tidy(() => Promise.resolve(rnd([3], 10))), ArgumentError);
  assert.equal(ref.liveBuffers(), base);
});

test('a tensor returned from tidy but created outside it is left alone', () => {
  const x = rnd([2], 11);
  const same = tidy(() => x);
  tidy(() => {
    tidy(() => x);
  });
  assert.equal(same.isDisposed, false);
  x.dispose();
});
