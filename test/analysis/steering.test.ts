// Steering vectors: the residual after the hook is exactly before + c·v at the chosen positions;
// the logits move by the linearised expectation (gradient · v, checked by finite differences); the
// contrast vector equals the hand-computed mean difference; KV-cached steps are steered like full runs.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { metricValue, logitDiff } from '../../src/analysis/metrics.js';
import { contrastVector, steeringHook } from '../../src/analysis/steering.js';
import type { Hook } from '../../src/hooks/hook-set.js';
import { generate } from '../../src/models/generate.js';
import { KVCache } from '../../src/models/kv-cache.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { enableGrad, keep, noGrad, randn, tidy, zeros } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { IndexError, ShapeError } from '../../src/util/errors.js';
import { assertClose, refBackend, tinyGpt2 } from './intervention-helpers.js';

const D = 24;

function residAfter(model: HookedTransformer, tokens: number[][], hooks: readonly Hook[], name: string): Float32Array {
  let seen: Float32Array | null = null;
  noGrad(() => tidy(() => { model.forward(tokens, { hooks: [...hooks, { name, fn: (act) => { seen = act.toArray() as Float32Array; } }] }); }));
  assert.ok(seen !== null);
  return seen;
}

describe('steering', () => {
  let model: HookedTransformer;
  let vector: Float32Array;
  const tokens = [[3, 9, 4, 1, 7], [2, 2, 8, 5, 6]];
  before(() => {
    model = tinyGpt2({ layers: 3, d: D, heads: 3, vocab: 37 }, 1200);
    const v = randn([D], { seed: 4, backend: refBackend() });
    vector = v.toArray() as Float32Array;
    v.dispose();
  });
  after(() => model.dispose());

  test('the residual after the hook is before + c·v at exactly the chosen positions', () => {
    for (const point of ['resid_pre', 'resid_mid', 'resid_post'] as const) {
      const name = `blocks.1.hook_${point}`;
      const before = residAfter(model, tokens, [], name);
      const cases: ['all' | 'last' | number[], number[]][] = [['all', [0, 1, 2, 3, 4]], ['last', [4]], [[0, -3, 9], [0, 2]]];
      for (const [positions, steered] of cases) {
        const after = residAfter(model, tokens, [steeringHook(model, vector, { layer: 1, point, coefficient: 2.5, positions })], name);
        const expected = Float64Array.from(before);
        for (let b = 0; b < 2; b++) for (const p of steered) for (let j = 0; j < D; j++) expected[(b * 5 + p) * D + j] += 2.5 * vector[j];
        assertClose(after, expected, 1e-6, `${point}, positions ${JSON.stringify(positions)}`);
      }
    }
  });

  test('logits move by the linearised expectation: d metric / dc at 0 = Σ_pos ∂metric/∂resid · v', () => {
    const metric = logitDiff([5, 6], [7, 8]);
    const name = 'blocks.2.hook_resid_pre';
    let delta: Tensor | null = null;
    const slope = enableGrad(() => tidy(() => {
      const addDelta: Hook = { name, fn: (act) => { delta = keep(zeros(act.shape).requiresGrad_()); return act.add(delta); } };
      const value = metric(model.runWithHooks(tokens, [addDelta]));
      value.backward();
      const grad = (delta as unknown as Tensor).grad?.toArray() ?? new Float32Array(0);
      let sum = 0;
      for (let i = 0; i < grad.length; i++) sum += grad[i] * vector[i % D];
      return sum;
    }));
    (delta as unknown as Tensor).dispose();
    const at = (c: number) => noGrad(() => tidy(() => metricValue(metric,
      model.runWithHooks(tokens, [steeringHook(model, vector, { layer: 2, coefficient: c })]))));
    const eps = 1e-2;
    const finite = (at(eps) - at(-eps)) / (2 * eps);
    assert.ok(Math.abs(slope) > 1e-2, `the vector must matter (slope ${slope})`);
    assert.ok(Math.abs(finite - slope) <= 0.02 * Math.abs(slope), `finite difference ${finite} vs gradient ${slope}`);
    // Causality: steering position 3 only leaves the logits of positions 0..2 untouched.
    noGrad(() => tidy(() => {
      const plain = model.forward(tokens).narrow(1, 0, 3).toArray();
      const steered = model.runWithHooks(tokens, [steeringHook(model, vector, { layer: 0, coefficient: 5, positions: [3] })]);
      assertClose(steered.narrow(1, 0, 3).toArray(), plain, 0, 'logits before the steered position');
    }));
  });

  test('contrastVector = mean positive − mean negative residual (ragged prompts), at the last position or over all', () => {
    const positive = [[1, 2, 3], [4, 5, 6, 7], [8, 9, 10]];
    const negative = [[11, 12], [13, 14, 15, 16, 17]];
    const name = 'blocks.1.hook_resid_post';
    for (const at of ['last', 'all'] as const) {
      const mean = (prompts: number[][]) => {
        const out = new Float64Array(D);
        for (const prompt of prompts) {
          const act = residAfter(model, [prompt], [], name);
          const from = at === 'last' ? prompt.length - 1 : 0;
          for (let p = from; p < prompt.length; p++) for (let j = 0; j < D; j++) out[j] += act[p * D + j] / (prompt.length - from) / prompts.length;
        }
        return out;
      };
      const pos = mean(positive);
      const neg = mean(negative);
      const v = contrastVector(model, { positive, negative, layer: 1, point: 'resid_post', at });
      assert.deepEqual(v.shape, [D]);
      assertClose(v.toArray(), pos.map((x, j) => x - neg[j]), 1e-5, `at ${at}`);
      v.dispose();
    }
  });

  test('KV-cached single-token steps are steered like the full run', async () => {
    const hook = steeringHook(model, vector, { layer: 1, coefficient: 3 });
    const prompt = [[3, 9, 4, 1]];
    const next = [[7]];
    noGrad(() => tidy(() => {
      const cache = new KVCache(model.config.nLayers);
      try {
        model.forward(prompt, { hooks: [hook], kvCache: cache });
        const step = model.forward(next, { hooks: [hook], kvCache: cache });
        const full = model.forward([[...prompt[0], ...next[0]]], { hooks: [hook], logitPositions: 'last' });
        assertClose(step.toArray(), full.toArray(), 1e-4, 'last logits, cached vs full');
      } finally {
        cache.dispose();
      }
    }));
    const cached = await generate(model, [3, 9, 4], { maxNewTokens: 5, hooks: [hook], stopTokenIds: [] });
    const uncached = await generate(model, [3, 9, 4], { maxNewTokens: 5, hooks: [hook], stopTokenIds: [], useKvCache: false });
    const plain = await generate(model, [3, 9, 4], { maxNewTokens: 5, stopTokenIds: [] });
    assert.deepEqual(cached.tokens, uncached.tokens);
    assert.notDeepEqual(cached.tokens, plain.tokens, 'a coefficient-3 vector should change a greedy continuation');
  });

  test('bad vectors and sites are refused with their values named', () => {
    assert.throws(() => steeringHook(model, new Float32Array(D + 1), { layer: 0 }), (err: Error) => err instanceof ShapeError && err.message.includes(`${D + 1}`));
    assert.throws(() => steeringHook(model, vector, { layer: 3 }), (err: Error) => err instanceof IndexError && err.message.includes('layer 3'));
  });
});
