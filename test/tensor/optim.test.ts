// Optimizers against PyTorch's update formulas computed by hand in plain float64 JS.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdamW, SGD, clipGradNorm, noGrad, type SGDOptions, type Tensor } from '../../src/tensor/index.js';
import { ArgumentError } from '../../src/util/errors.js';
import { assertClose, f64, rnd } from './helpers.js';

/** A quadratic-ish loss whose gradient changes with the parameters: sum(w³ / 3 - c·w). */
function lossOf(w: Tensor, c: Tensor): Tensor {
  return w.pow(3).div(3).sub(w.mul(c)).sum();
}
const gradOf = (w: number[], c: ArrayLike<number>) => w.map((v, i) => v * v - c[i]);

test('SGD with momentum, dampening, weight decay and nesterov follows torch.optim.SGD', () => {
  const cases: SGDOptions[] = [
    { lr: 0.1 },
    { lr: 0.05, momentum: 0.9, weightDecay: 0.01 },
    { lr: 0.05, momentum: 0.8, dampening: 0.1 },
    { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.1 },
  ];
  for (const options of cases) {
    const w = rnd([5], 1).requiresGrad_();
    const c = rnd([5], 2);
    const optimizer = new SGD([w], options);
    let expected = Array.from(w.toArray());
    let buffer: number[] = [];
    const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = options;
    for (let step = 0; step < 5; step++) {
      optimizer.zeroGrad();
      lossOf(w, c).backward();
      optimizer.step();
      let d = gradOf(expected, c.toArray()).map((g, i) => g + weightDecay * expected[i]);
      if (momentum !== 0) {
        buffer = step === 0 ? [...d] : buffer.map((b, i) => momentum * b + (1 - dampening) * d[i]);
        d = nesterov ? d.map((v, i) => v + momentum * buffer[i]) : buffer;
      }
      expected = expected.map((v, i) => v - lr * d[i]);
      assertClose(w.toArray(), expected, 1e-12, `SGD ${JSON.stringify(options)} step ${step}`);
    }
    optimizer.dispose();
  }
});

test('AdamW follows torch.optim.AdamW (bias correction, decoupled weight decay, settable lr)', () => {
  const w = rnd([6], 3).requiresGrad_();
  const c = rnd([6], 4);
  const [beta1, beta2, eps, weightDecay] = [0.8, 0.95, 1e-6, 0.05];
  const optimizer = new AdamW([w], { lr: 0.01, betas: [beta1, beta2], eps, weightDecay });
  let p = Array.from(w.toArray());
  let m = p.map(() => 0);
  let v = p.map(() => 0);
  for (let t = 1; t <= 6; t++) {
    const lr = 0.01 * (t <= 3 ? 1 : 0.5); // a schedule: lr changes between steps
    optimizer.lr = lr;
    optimizer.zeroGrad();
    lossOf(w, c).backward();
    optimizer.step();
    const g = gradOf(p, c.toArray());
    p = p.map((x) => x * (1 - lr * weightDecay));
    m = m.map((x, i) => beta1 * x + (1 - beta1) * g[i]);
    v = v.map((x, i) => beta2 * x + (1 - beta2) * g[i] * g[i]);
    const stepSize = lr / (1 - beta1 ** t);
    const bc2 = Math.sqrt(1 - beta2 ** t);
    p = p.map((x, i) => x - (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2 + eps));
    assertClose(w.toArray(), p, 1e-12, `AdamW step ${t}`);
  }
  const state = optimizer.exportState();
  assert.deepEqual(state.steps, [6]);
  assertClose(state.expAvg[0]!.toArray(), m, 1e-12, 'exported m');
  assertClose(state.expAvgSq[0]!.toArray(), v, 1e-12, 'exported v');
  const resumed = new AdamW([w], { lr: 0.005, betas: [beta1, beta2], eps, weightDecay });
  resumed.loadState(state);
  assert.deepEqual(resumed.exportState().steps, [6]);
  for (const t of [...state.expAvg, ...state.expAvgSq]) t?.dispose();
  optimizer.dispose();
  resumed.dispose();
});

test('AdamW skips parameters without grads and keeps per-parameter step counts', () => {
  const a = rnd([2], 5).requiresGrad_();
  const b = rnd([2], 6).requiresGrad_();
  const optimizer = new AdamW([a, b]);
  const before = Array.from(b.toArray());
  a.sum().backward();
  optimizer.step();
  assert.deepEqual(Array.from(b.toArray()), before);
  assert.deepEqual(optimizer.exportState().steps, [1, 0]);
  optimizer.dispose();
});

test('clipGradNorm scales grads to the max norm (torch coefficient) and returns the old norm', () => {
  const a = f64([3, 0]).requiresGrad_();
  const b = f64([4]).requiresGrad_();
  noGrad(() => {
    a.grad = f64([3, 0]);
    b.grad = f64([4]);
  });
  const norm = clipGradNorm([a, b], 1);
  assert.equal(norm, 5);
  const coefficient = 1 / (5 + 1e-6);
  assertClose(a.grad!.toArray(), [3 * coefficient, 0], 1e-15);
  assertClose(b.grad!.toArray(), [4 * coefficient], 1e-15);
  assert.equal(clipGradNorm([a, b], 10), Math.sqrt((3 * coefficient) ** 2 + (4 * coefficient) ** 2));
  assertClose(b.grad!.toArray(), [4 * coefficient], 1e-15, 'no change below the max');
});

test('optimizers validate their arguments', () => {
  assert.throws(() => new SGD([], { lr: 0.1 }), ArgumentError);
  assert.throws(() => new SGD([rnd([2], 1)], { lr: 0.1 }), (e: Error) => e instanceof ArgumentError && /does not require grad/.test(e.message));
  assert.throws(() => new AdamW([rnd([2], 1).requiresGrad_()], { lr: -1 }), (e: Error) => e instanceof ArgumentError && /-1/.test(e.message));
});
