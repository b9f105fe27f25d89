// Gradients through a hooked run: with a weight (or a tensor a hook adds) requiring grad,
// loss.backward() fills cache.grad(name) for every cached activation downstream of it. Checked
// against central finite differences in float32 (eps 1e-2, loose tolerance), against causality
// (no gradient flows to later positions or other rows), and against the steering-vector identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad, tensor, zeros } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { ArgumentError } from '../../src/util/errors.js';
import { TestRng, assertClose, assertThrowsWith, fixtureTokens, loadFixture, refBackend } from './helpers.js';

const EPS = 1e-2;

function assertGradClose(analytic: number, numeric: number, what: string): void {
  const tolerance = 2e-3 + 2e-2 * Math.abs(numeric);
  assert.ok(Math.abs(analytic - numeric) <= tolerance, `${what}: backward gives ${analytic}, finite differences ${numeric}`);
}

test('llama-tiny: cache.grad and weight gradients agree with finite differences; causality holds', async () => {
  const backend = refBackend();
  const baseline = backend.liveBuffers();
  const model: HookedTransformer = await loadFixture('llama-tiny', backend);
  const tokens = (await fixtureTokens('llama-tiny')).map((row) => row.slice(0, 8));
  const rng = new TestRng(7);
  const target = 5;
  const probe = Float32Array.from({ length: model.config.dVocab }, () => rng.normal());
  const probeTensor = tensor(probe, [model.config.dVocab], { backend });
  // loss = Σ_v logits[0, target, v] · probe[v], evaluated in float64 from a run's logits.
  const lossOf = (logits: Tensor): number => {
    const row = logits.index(0, target);
    const values = row.toArray();
    row.dispose();
    let total = 0;
    for (let i = 0; i < values.length; i++) total += values[i] * probe[i];
    return total;
  };

  const weight = model.params.blocks[0].ln1.weight as Tensor;
  weight.requiresGrad_();
  const names = ['hook_embed', 'blocks.0.attn.hook_z', 'blocks.1.hook_resid_pre', 'blocks.1.mlp.hook_post'];
  const { logits, cache } = model.runWithCache(tokens, { names });
  const row = logits.index(0, target);
  const product = row.mul(probeTensor);
  const loss = product.sum();
  loss.backward();
  try {
    assertThrowsWith(() => cache.grad('hook_embed'), ArgumentError, ['hook_embed', 'requires grad']);
    assert.deepEqual(cache.gradientEntries().map(([n]) => n).sort(), names.slice(1).sort());

    const residGrad = cache.grad('blocks.1.hook_resid_pre');
    assert.deepEqual([...residGrad.shape], [2, 8, model.config.dModel]);
    const g = residGrad.toArray();
    const d = model.config.dModel;
    for (let p = 0; p < 8; p++) {
      for (let e = 0; e < d; e++) {
        if (p > target) assert.equal(g[p * d + e], 0, `no gradient reaches later position ${p}`);
        assert.equal(g[(8 + p) * d + e], 0, 'no gradient reaches the other row');
      }
    }

    // Finite differences on activations, through a hook that nudges one element.
    const nudged = (name: string, index: number, delta: number): number => {
      const activation = cache.get(name);
      const data = new Float32Array(activation.size);
      data[index] = delta;
      const offset = tensor(data, activation.shape, { backend });
      const out = noGrad(() => model.runWithHooks(tokens, [{ name, fn: (x) => x.add(offset) }]));
      const value = lossOf(out);
      out.dispose();
      offset.dispose();
      return value;
    };
    const zGrad = cache.grad('blocks.0.attn.hook_z').toArray();
    const checks: [string, number, ArrayLike<number>][] = [
      ['blocks.1.hook_resid_pre', 3 * d + 7, g],
      ['blocks.1.hook_resid_pre', target * d + 11, g],
      ['blocks.0.attn.hook_z', (2 * model.config.nHeads + 1) * model.config.dHead + 5, zGrad],
      ['blocks.1.mlp.hook_post', target * model.config.dMlp + 17, cache.grad('blocks.1.mlp.hook_post').toArray()],
    ];
    for (const [name, index, grads] of checks) {
      const numeric = (nudged(name, index, EPS) - nudged(name, index, -EPS)) / (2 * EPS);
      assertGradClose(grads[index], numeric, `${name}[${index}]`);
    }

    // Finite differences on the weight, changed in place outside autograd.
    const weightGrad = (weight.grad as Tensor).toArray();
    for (const e of [0, 13, 40]) {
      const original = weight.toArray()[e];
      const lossWith = (value: number): number => noGrad(() => {
        weight.setIndex_([e], value);
        const out = model.forward(tokens);
        const l = lossOf(out);
        out.dispose();
        return l;
      });
      const numeric = (lossWith(original + EPS) - lossWith(original - EPS)) / (2 * EPS);
      noGrad(() => weight.setIndex_([e], original));
      assertGradClose(weightGrad[e], numeric, `ln1.weight[${e}]`);
    }
  } finally {
    for (const t of [loss, product, row, logits]) t.dispose();
    cache.dispose();
    weight.requiresGrad_(false);
  }

  // A hook can add a tensor that requires grad (a steering vector): its gradient is the sum of
  // the gradient at the point it was added over batch and positions.
  const steer = zeros([model.config.dModel], { backend, requiresGrad: true });
  const steered = model.runWithCache(tokens, {
    names: ['blocks.1.hook_resid_pre'],
    hooks: [{ name: 'blocks.0.hook_resid_post', fn: (x) => x.add(steer) }],
  });
  const steeredRow = steered.logits.index(0, target);
  const steeredProduct = steeredRow.mul(probeTensor);
  const steeredLoss = steeredProduct.sum();
  steeredLoss.backward();
  const atPoint = steered.cache.grad('blocks.1.hook_resid_pre').toArray();
  const summed = new Float64Array(model.config.dModel);
  for (let i = 0; i < atPoint.length; i++) summed[i % model.config.dModel] += atPoint[i];
  assertClose((steer.grad as Tensor).toArray(), summed, 1e-5, 'steering vector gradient');
  for (const t of [steeredLoss, steeredProduct, steeredRow, steered.logits, steer, probeTensor]) t.dispose();
  steered.cache.dispose();
  model.dispose();
  assert.equal(backend.liveBuffers(), baseline, 'live buffers after the gradient runs and dispose');
});
