// ActivationCache analyses on the three fixture families (GPT-2: LayerNorm, learned positions,
// tied unembedding; Pythia: parallel residual, partial rotary; Llama: RMSNorm, GQA, SwiGLU),
// checked against the cached activations they must add up to and against hook-based ablations.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  accumulatedResid, applyLnToStack, decomposeResid, neuronResults, stackHeadResults, stackNeuronResults,
} from '../../src/analysis/cache-analysis.js';
import { dispose, tensor, tidy } from '../../src/tensor/index.js';
import { IndexError } from '../../src/util/errors.js';
import { FIXTURES, assertClose, assertNoLeak, assertThrowsWith, fixture, maxAbs, sumFirstAxis } from './inspect-helpers.js';

for (const name of FIXTURES) {
  test(`${name}: decomposeResid sums to the residual it decomposes`, async () => {
    const { model, tokens } = await fixture(name);
    const { logits, cache } = model.runWithCache(tokens);
    const c = model.config;
    try {
      const full = decomposeResid(model, cache);
      const expectedLabels = ['embed', ...(c.positional === 'learned' ? ['pos_embed'] : []),
        ...Array.from({ length: c.nLayers }, (_, l) => [`${l}_attn_out`, `${l}_mlp_out`]).flat()];
      assert.deepEqual(full.labels, expectedLabels);
      const final = cache.get(`blocks.${c.nLayers - 1}.hook_resid_post`).toArray();
      assertClose(sumFirstAxis(full.stack), final, 1e-4 * maxAbs(final), 'sum of components vs final resid_post');

      const upTo1 = decomposeResid(model, cache, { layer: 1 });
      const residPre1 = cache.get('blocks.1.hook_resid_pre').toArray();
      assertClose(sumFirstAxis(upTo1.stack), residPre1, 1e-4 * maxAbs(residPre1), 'components before layer 1 vs resid_pre 1');

      // The MLP of layer 1 reads resid_mid (sequential) or resid_pre (parallel residual).
      const mlpIn = decomposeResid(model, cache, { layer: 1, mlpInput: true });
      const mlpTarget = cache.get(c.parallelResidual ? 'blocks.1.hook_resid_pre' : 'blocks.1.hook_resid_mid').toArray();
      assertClose(sumFirstAxis(mlpIn.stack), mlpTarget, 1e-4 * maxAbs(mlpTarget), 'MLP input decomposition');
      assert.equal(mlpIn.labels.includes('1_attn_out'), !c.parallelResidual);

      const atPos = decomposeResid(model, cache, { pos: -1, mode: 'attn' });
      assert.deepEqual([...atPos.stack.shape], [expectedLabels.length - c.nLayers, tokens.length, c.dModel]);
      assert.ok(!atPos.labels.some((l) => l.includes('mlp')));
      dispose([full.stack, upTo1.stack, mlpIn.stack, atPos.stack]);
    } finally {
      logits.dispose();
      cache.dispose();
    }
  });

  test(`${name}: stackHeadResults plus the output bias is attn_out; one head matches an ablation`, async () => {
    const { model, tokens } = await fixture(name);
    const c = model.config;
    const { logits, cache } = model.runWithCache(tokens);
    try {
      const heads = stackHeadResults(model, cache);
      assert.equal(heads.labels.length, c.nLayers * c.nHeads);
      assert.equal(heads.labels[c.nHeads + 1], 'L1H1');
      for (let l = 0; l < c.nLayers; l++) {
        const perLayer = tidy(() => heads.stack.narrow(0, l * c.nHeads, c.nHeads).sum(0).add(heads.outBias.select(0, l)));
        const attnOut = cache.get(`blocks.${l}.hook_attn_out`).toArray();
        assertClose(perLayer.toArray(), attnOut, 1e-4 * maxAbs(attnOut), `layer ${l}: Σ heads + b_O vs attn_out`);
        perLayer.dispose();
      }
      // Independent check of one head: zero every other head's z and read attn_out - b_O.
      const layer = 1;
      const head = 2;
      const ablated = model.runWithCache(tokens, {
        names: [`blocks.${layer}.hook_attn_out`],
        hooks: [{
          name: `blocks.${layer}.attn.hook_z`,
          fn: (z) => tidy(() => {
            const keepOne = new Float32Array(c.nHeads);
            keepOne[head] = 1;
            return z.mul(tensor(keepOne, [1, 1, c.nHeads, 1], { backend: model.backend }));
          }),
        }],
      });
      const onlyHead = tidy(() => ablated.cache.get(`blocks.${layer}.hook_attn_out`).sub(heads.outBias.select(0, layer)));
      const fromStack = heads.stack.select(0, layer * c.nHeads + head).toArray();
      assertClose(fromStack, onlyHead.toArray(), 1e-4 * maxAbs(fromStack), `L${layer}H${head} vs ablation`);
      dispose([onlyHead, ablated.logits, heads.stack, heads.outBias]);
      ablated.cache.dispose();
    } finally {
      logits.dispose();
      cache.dispose();
    }
  });

  test(`${name}: neuron results plus the output bias are mlp_out`, async () => {
    const { model, tokens } = await fixture(name);
    const c = model.config;
    const { logits, cache } = model.runWithCache(tokens);
    try {
      const neurons = neuronResults(model, cache, 1);
      assert.equal(neurons.labels[3], 'L1N3');
      const summed = tidy(() => neurons.stack.sum(0).add(neurons.outBias));
      const mlpOut = cache.get('blocks.1.hook_mlp_out').toArray();
      assertClose(summed.toArray(), mlpOut, 1e-4 * maxAbs(mlpOut), 'Σ neurons + b_out vs mlp_out');

      // A chosen subset at one position: post[b, pos, n] * W_out[n] for exactly those neurons.
      const picked = neuronResults(model, cache, 0, { neurons: [5, 1], pos: 3 });
      assert.deepEqual([...picked.stack.shape], [2, tokens.length, c.dModel]);
      const all0 = neuronResults(model, cache, 0);
      const expected = tidy(() => all0.stack.select(0, 5).select(1, 3));
      assertClose(picked.stack.select(0, 0).toArray(), expected.toArray(), 1e-6, 'neuron 5 at position 3');

      const stacked = stackNeuronResults(model, cache, 2, { neurons: [0, 7] });
      assert.deepEqual(stacked.labels, ['L0N0', 'L0N7', 'L1N0', 'L1N7']);
      dispose([neurons.stack, neurons.outBias, summed, picked.stack, picked.outBias, all0.stack, all0.outBias, expected, stacked.stack]);
    } finally {
      logits.dispose();
      cache.dispose();
    }
  });

  test(`${name}: accumulatedResid and applyLnToStack reproduce ln_final's normalised output`, async () => {
    const { model, tokens } = await fixture(name);
    const c = model.config;
    const { logits, cache } = model.runWithCache(tokens);
    try {
      const acc = accumulatedResid(model, cache);
      assert.deepEqual(acc.labels, [...Array.from({ length: c.nLayers }, (_, l) => `${l}_pre`), 'final_post']);
      assertClose(acc.stack.select(0, 1).toArray(), cache.get('blocks.1.hook_resid_pre').toArray(), 0, 'entry 1 is resid_pre 1');

      // Scaled with the cached final scale, then ln_final's weight (and bias): ln_final's output.
      const scaled = accumulatedResid(model, cache, { applyLn: true, pos: 2 });
      const normalized = cache.get('ln_final.hook_normalized').select(1, 2);
      const p = model.params.lnFinal;
      const rebuilt = tidy(() => {
        let x = scaled.stack.select(0, c.nLayers);
        // LayerNorm's hook_normalized includes weight and bias; RMSNorm's does not (TransformerLens's convention).
        if (c.norm === 'layernorm') {
          if (p.weight) x = x.mul(p.weight);
          if (p.bias) x = x.add(p.bias);
        }
        return x;
      });
      assertClose(rebuilt.toArray(), normalized.toArray(), 1e-4, 'final entry after applyLn');

      // applyLnToStack is linear: the scaled decomposition sums to the scaled residual.
      const parts = decomposeResid(model, cache, { applyLn: true });
      const whole = applyLnToStack(model, cache, cache.get(`blocks.${c.nLayers - 1}.hook_resid_post`).unsqueeze(0));
      const wholeData = whole.toArray();
      assertClose(sumFirstAxis(parts.stack), wholeData, 1e-4 * maxAbs(wholeData), 'scaled parts vs scaled whole');
      dispose([acc.stack, scaled.stack, normalized, rebuilt, parts.stack, whole]);
    } finally {
      logits.dispose();
      cache.dispose();
    }
  });
}

test('cache analyses free every temporary and reject bad layers', async () => {
  const { model, tokens } = await fixture('llama-tiny');
  const { logits, cache } = model.runWithCache(tokens);
  try {
    assertNoLeak('analyses', () => {
      dispose(Object.values(decomposeResid(model, cache, { applyLn: true, pos: 0 })));
      dispose(Object.values(stackHeadResults(model, cache, { layer: 1 })));
      dispose(Object.values(stackNeuronResults(model, cache, 1)));
      dispose(Object.values(accumulatedResid(model, cache)));
    });
    assertThrowsWith(() => decomposeResid(model, cache, { layer: 3 }), IndexError, ['layer 3', '0..2']);
    assertThrowsWith(() => stackHeadResults(model, cache, { layer: 0 }), IndexError, ['layer 0']);
    assertThrowsWith(() => accumulatedResid(model, cache, { pos: 12 }), IndexError, ['position 12']);
    assertThrowsWith(() => neuronResults(model, cache, 0, { neurons: [172] }), IndexError, ['neuron 172']);
  } finally {
    logits.dispose();
    cache.dispose();
  }
});

test('a cache without the needed activation names it in the error', async () => {
  const { model, tokens } = await fixture('gpt2-tiny');
  const { logits, cache } = model.runWithCache(tokens, { names: ['hook_embed'] });
  try {
    assert.throws(() => decomposeResid(model, cache), /decomposeResid needs 'hook_pos_embed'/);
  } finally {
    logits.dispose();
    cache.dispose();
  }
});
