// Ablations against manual computations: a zeroed head or neuron removes exactly its term of the
// output projection (computed in float64 from the weights), means and resampled rows equal the
// dataset's activations read directly, and the hooks work in KV-cached generation.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ablationEffect, meanAblation, resampleAblation, zeroAblation, type AblationTarget,
} from '../../src/analysis/ablation.js';
import { logitDiff, metricValue } from '../../src/analysis/metrics.js';
import type { Hook } from '../../src/hooks/hook-set.js';
import { generate } from '../../src/models/generate.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { noGrad, tidy } from '../../src/tensor/index.js';
import { IndexError, ShapeError } from '../../src/util/errors.js';
import { assertClose, promptPair, refBackend, tinyGpt2 } from './intervention-helpers.js';

const D = 16;
const HEADS = 4;
const DH = D / HEADS;
const POS = 5;

/** Runs tokens with `hooks` and returns the activation at `name` as seen after them. */
function seenAfter(model: HookedTransformer, tokens: number[][], hooks: readonly Hook[], name: string): Float32Array {
  let seen: Float32Array | null = null;
  noGrad(() => tidy(() => { model.forward(tokens, { hooks: [...hooks, { name, fn: (act) => { seen = act.toArray() as Float32Array; } }] }); }));
  assert.ok(seen !== null, `hook ${name} ran`);
  return seen;
}

function cached(model: HookedTransformer, tokens: number[][], name: string): Float32Array {
  const { logits, cache } = model.runWithCache(tokens, { names: [name] });
  const data = cache.get(name).toArray() as Float32Array;
  logits.dispose();
  cache.dispose();
  return data;
}

describe('ablations', () => {
  let model: HookedTransformer;
  const tokens = promptPair(2, POS, 41, [], 3).clean;
  const dataset = promptPair(7, POS, 41, [], 99).clean;
  before(() => { model = tinyGpt2({ layers: 2, d: D, heads: HEADS, vocab: 41 }, 1000); });
  after(() => model.dispose());

  test('zero ablation of heads removes exactly z_h · W_O[h] from attn_out', () => {
    const heads = [1, 3];
    using ablation = zeroAblation(model, { kind: 'head', layer: 1, heads });
    const ablated = seenAfter(model, tokens, ablation.hooks, 'blocks.1.hook_attn_out');
    const attnOut = cached(model, tokens, 'blocks.1.hook_attn_out');
    const z = cached(model, tokens, 'blocks.1.attn.hook_z'); // [2, POS, HEADS, DH]
    const out = model.params.blocks[1].attn.out;
    assert.equal(out.transposed, false, 'GPT-2 Conv1D stores W_O as [in, out]');
    const W = out.weight.toArray();
    const expected = Float64Array.from(attnOut);
    for (let row = 0; row < 2 * POS; row++) {
      for (const h of heads) {
        for (let j = 0; j < D; j++) {
          let term = 0;
          for (let k = 0; k < DH; k++) term += z[(row * HEADS + h) * DH + k] * W[(h * DH + k) * D + j];
          expected[row * D + j] -= term;
        }
      }
    }
    assertClose(ablated, expected, 1e-5, 'attn_out without heads 1 and 3');
  });

  test('zero ablation of neurons removes exactly post[n] · W_out[n]; of a whole layer, zeros its output', () => {
    const neurons = [0, 7, 63];
    using ablation = zeroAblation(model, { kind: 'neuron', layer: 0, neurons });
    const ablated = seenAfter(model, tokens, ablation.hooks, 'blocks.0.hook_mlp_out');
    const mlpOut = cached(model, tokens, 'blocks.0.hook_mlp_out');
    const post = cached(model, tokens, 'blocks.0.mlp.hook_post');
    const W = model.params.blocks[0].mlp.out.weight.toArray(); // [d_mlp, d]
    const dMlp = model.config.dMlp;
    const expected = Float64Array.from(mlpOut);
    for (let row = 0; row < 2 * POS; row++) {
      for (const n of neurons) for (let j = 0; j < D; j++) expected[row * D + j] -= post[row * dMlp + n] * W[n * D + j];
    }
    assertClose(ablated, expected, 1e-5, 'mlp_out without three neurons');
    using layer = zeroAblation(model, [{ kind: 'attn', layer: 0 }, { kind: 'head', layer: 0, heads: 2 }]);
    const residMid = seenAfter(model, tokens, layer.hooks, 'blocks.0.hook_resid_mid');
    assertClose(residMid, cached(model, tokens, 'blocks.0.hook_resid_pre'), 0, 'resid_mid = resid_pre without attention');
  });

  test('mean ablation replaces with the dataset mean (over rows and positions, or per position), for any batch size', () => {
    const dmlp = model.config.dMlp;
    const acts = cached(model, dataset, 'blocks.1.mlp.hook_post'); // [7, POS, dmlp]
    const overAll = new Float64Array(dmlp);
    const perPos = new Float64Array(POS * dmlp);
    for (let r = 0; r < 7; r++) {
      for (let p = 0; p < POS; p++) {
        for (let n = 0; n < dmlp; n++) {
          overAll[n] += acts[(r * POS + p) * dmlp + n] / (7 * POS);
          perPos[p * dmlp + n] += acts[(r * POS + p) * dmlp + n] / 7;
        }
      }
    }
    const target: AblationTarget = { kind: 'neuron', layer: 1, neurons: [2, 5] };
    const original = cached(model, tokens, 'blocks.1.mlp.hook_post');
    for (const perPosition of [false, true]) {
      for (const batchSize of [1, 3, 16]) {
        using ablation = meanAblation(model, target, { dataset, batchSize, perPosition });
        const seen = seenAfter(model, tokens, ablation.hooks, 'blocks.1.mlp.hook_post');
        const expected = Float64Array.from(original);
        for (let row = 0; row < 2 * POS; row++) {
          for (const n of [2, 5]) expected[row * dmlp + n] = perPosition ? perPos[(row % POS) * dmlp + n] : overAll[n];
        }
        assertClose(seen, expected, 1e-5, `perPosition ${perPosition}, batchSize ${batchSize}`);
      }
    }
    using perPosition = meanAblation(model, target, { dataset, perPosition: true });
    assert.throws(() => model.runWithHooks([[1, 2, 3]], perPosition.hooks), ShapeError);
  });

  test('resample ablation takes each row from another dataset row, seeded', () => {
    const name = 'blocks.0.attn.hook_z';
    const source = cached(model, dataset, name); // [7, POS, HEADS, DH]
    const rowSize = POS * HEADS * DH;
    const picks = (seed: number): number[] => {
      using ablation = resampleAblation(model, { kind: 'head', layer: 0, heads: 1 }, { dataset, seed, batchSize: 2 });
      const seen = seenAfter(model, dataset, ablation.hooks, name);
      const original = cached(model, dataset, name);
      return Array.from({ length: 7 }, (_, b) => {
        const matches = [];
        for (let r = 0; r < 7; r++) {
          let same = true;
          for (let i = 0; i < rowSize && same; i++) {
            const head = Math.floor(i / DH) % HEADS;
            const expected = head === 1 ? source[r * rowSize + i] : original[b * rowSize + i];
            same = Math.abs(seen[b * rowSize + i] - expected) <= 1e-6;
          }
          if (same) matches.push(r);
        }
        assert.equal(matches.length, 1, `row ${b}: head 1 must equal exactly one dataset row's, others unchanged`);
        assert.notEqual(matches[0], b, `row ${b} resampled from itself`);
        return matches[0];
      });
    };
    const first = picks(5);
    assert.deepEqual(picks(5), first, 'same seed, same rows');
    assert.notDeepEqual(picks(6), first, 'another seed, other rows');
  });

  test('ablationEffect = metric with hooks − without; mean ablation works in KV-cached generation', async () => {
    const metric = logitDiff(1, 2);
    using ablation = meanAblation(model, [{ kind: 'mlp', layer: 1 }, { kind: 'head', layer: 0, heads: [0, 2] }], { dataset });
    const result = ablationEffect(model, tokens, ablation, metric);
    const manual = (hooks: readonly Hook[]) => noGrad(() => tidy(() => metricValue(metric, model.runWithHooks(tokens, hooks))));
    assertClose([result.clean, result.ablated, result.effect], [manual([]), manual(ablation.hooks), manual(ablation.hooks) - manual([])], 1e-6, 'effect');
    assert.ok(Math.abs(result.effect) > 1e-3, 'the ablation must matter');
    const cachedRun = await generate(model, [3, 4, 5], { maxNewTokens: 4, hooks: ablation.hooks, stopTokenIds: [] });
    const fullRun = await generate(model, [3, 4, 5], { maxNewTokens: 4, hooks: ablation.hooks, stopTokenIds: [], useKvCache: false });
    assert.deepEqual(cachedRun.tokens, fullRun.tokens);
  });

  test('bad targets are named; statistics are freed by dispose', () => {
    assert.throws(() => zeroAblation(model, { kind: 'head', layer: 0, heads: 4 }), (err: Error) => err instanceof IndexError && err.message.includes('head 4'));
    assert.throws(() => zeroAblation(model, { kind: 'mlp', layer: 2 }), (err: Error) => err instanceof IndexError && err.message.includes('layer 2'));
    const backend = refBackend();
    const baseline = backend.liveBuffers();
    const ablation = resampleAblation(model, { kind: 'neuron', layer: 1, neurons: 3 }, { dataset });
    noGrad(() => tidy(() => { model.runWithHooks(dataset, ablation.hooks); }));
    ablation.dispose();
    assert.equal(backend.liveBuffers(), baseline);
  });
});
