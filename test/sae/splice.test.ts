// Splicing SAEs into the forward pass: the activation after the hook is exactly the SAE's
// reconstruction (or x itself with the error term kept); ablating a feature with the error kept
// moves the activation by exactly −f·W_dec[feature]; steering adds c·W_dec[feature]; a transcoder
// replaces its output hook with its prediction from its input hook; hooks work in generate().

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Hook } from '../../src/hooks/hook-set.js';
import { generate } from '../../src/models/generate.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { SparseAutoencoder, type SAEConfig } from '../../src/sae/sae.js';
import { featureSteeringHook, runWithSAEs, saeHooks } from '../../src/sae/splice.js';
import { noGrad, tensor, tidy } from '../../src/tensor/index.js';
import { ArgumentError, IndexError } from '../../src/util/errors.js';
import { assertClose, maxAbsDiff, refBackend, tinyGpt2 } from '../analysis/intervention-helpers.js';

const D = 16;
const TOKENS = [[3, 9, 4, 1, 7, 2], [2, 2, 8, 5, 6, 0]];

function activationAt(model: HookedTransformer, name: string, hooks: readonly Hook[] = []): Float32Array {
  let seen: Float32Array | null = null;
  noGrad(() => tidy(() => { model.forward(TOKENS, { hooks: [...hooks, { name, fn: (act) => { seen = Float32Array.from(act.toArray()); } }] }); }));
  assert.ok(seen !== null, `hook ${name} ran`);
  return seen;
}

function makeSAE(cfg: Partial<SAEConfig>, seed: number): SparseAutoencoder {
  const sae = SparseAutoencoder.init({
    architecture: 'standard', d_in: D, d_sae: 40, apply_b_dec_to_input: true, normalize_activations: 'none',
    hook_name: 'blocks.1.hook_resid_pre', hook_layer: 1, dtype: 'float32', ...cfg,
  }, { seed, decoderInitNorm: 1, backend: refBackend() });
  // Biases that make some features fire and others not.
  noGrad(() => tidy(() => {
    sae.b_enc.copy_(tensor(Float32Array.from({ length: sae.dSae }, (_, i) => (i % 3) * 0.3 - 0.3), [sae.dSae], { backend: refBackend() }));
    sae.W_enc.copy_(sae.W_enc.mul(3));
  }));
  return sae;
}

describe('splicing SAEs into the model', () => {
  let model: HookedTransformer;
  let sae: SparseAutoencoder;
  before(() => {
    model = tinyGpt2({ layers: 2, d: D, heads: 2, vocab: 23 }, 300);
    sae = makeSAE({}, 5);
  });
  after(() => {
    sae.dispose();
    model.dispose();
  });

  test('without the error term the hook activation becomes SAE(x)', () => {
    const x = activationAt(model, 'blocks.1.hook_resid_pre');
    const expected = noGrad(() => tidy(() => sae.forward(tensor(x, [2, 6, D], { backend: refBackend() })).toArray()));
    const after = activationAt(model, 'blocks.1.hook_resid_post', saeHooks(sae));
    const spliced = activationAt(model, 'blocks.1.hook_resid_pre', saeHooks(sae));
    assertClose(spliced, expected, 1e-6, 'spliced activation');
    assert.ok(maxAbsDiff(spliced, x) > 1e-3, 'the reconstruction differs from x');
    assert.ok(maxAbsDiff(after, activationAt(model, 'blocks.1.hook_resid_post')) > 1e-3, 'downstream activations change');
  });

  test('with the error term the model is unchanged, and runWithSAEs returns the features', () => {
    const clean = noGrad(() => tidy(() => model.forward(TOKENS).toArray()));
    const { logits, features } = noGrad(() => runWithSAEs(model, TOKENS, [sae], { keepError: true }));
    assertClose(logits.toArray(), clean, 1e-5, 'logits with the error term kept');
    const f = features.get('blocks.1.hook_resid_pre')!;
    const x = activationAt(model, 'blocks.1.hook_resid_pre');
    const expected = noGrad(() => tidy(() => sae.encode(tensor(x, [2, 6, D], { backend: refBackend() })).toArray()));
    assertClose(f.toArray(), expected, 1e-6, 'features');
    logits.dispose();
    f.dispose();
  });

  test('ablating a feature (error kept) moves the activation by exactly −f·W_dec[feature]', () => {
    const x = activationAt(model, 'blocks.1.hook_resid_pre');
    const f = noGrad(() => tidy(() => sae.encode(tensor(x, [2, 6, D], { backend: refBackend() })).toArray()));
    let feature = -1;
    for (let j = 0; j < sae.dSae && feature < 0; j++) if (f[j] > 0 && f[sae.dSae + j] > 0) feature = j;
    assert.ok(feature >= 0, 'a feature active at positions 0 and 1');
    const edited = activationAt(model, 'blocks.1.hook_resid_pre', saeHooks(sae, { keepError: true, edits: [{ feature, mode: 'ablate', positions: [0] }] }));
    const row = sae.W_dec.toArray().subarray(feature * D, (feature + 1) * D);
    const expected = Float32Array.from(x);
    for (let b = 0; b < 2; b++) {
      const fb = f[(b * 6) * sae.dSae + feature];
      for (let i = 0; i < D; i++) expected[(b * 6) * D + i] -= fb * row[i];
    }
    assertClose(edited, expected, 1e-5, 'ablated at position 0 only');
  });

  test('steering adds c·W_dec[feature], and works while generating', async () => {
    const feature = 7;
    const x = activationAt(model, 'blocks.1.hook_resid_pre');
    const steered = activationAt(model, 'blocks.1.hook_resid_pre', [featureSteeringHook(sae, feature, 2.5)]);
    const row = sae.W_dec.toArray().subarray(feature * D, (feature + 1) * D);
    assertClose(steered, Float32Array.from(x, (v, i) => v + 2.5 * row[i % D]), 1e-6, 'steered activation');
    const hooks = [featureSteeringHook(sae, feature, 8)];
    const cached = await generate(model, [3, 9, 4], { maxNewTokens: 5, hooks, stopTokenIds: [] });
    const uncached = await generate(model, [3, 9, 4], { maxNewTokens: 5, hooks, stopTokenIds: [], useKvCache: false });
    assert.deepEqual(cached.tokens, uncached.tokens, 'steering is the same with and without the KV cache');
    assert.throws(() => featureSteeringHook(sae, sae.dSae, 1), IndexError);
  });

  test('a transcoder replaces its output hook with its prediction from its input hook', () => {
    const dMlp = 4 * D;
    const transcoder = makeSAE({
      d_out: D, hook_name: 'blocks.0.ln2.hook_normalized', hook_layer: 0, hook_name_out: 'blocks.0.hook_mlp_out', hook_layer_out: 0,
    }, 9);
    try {
      const input = activationAt(model, 'blocks.0.ln2.hook_normalized');
      const expected = noGrad(() => tidy(() => transcoder.forward(tensor(input, [2, 6, D], { backend: refBackend() })).toArray()));
      const out = activationAt(model, 'blocks.0.hook_mlp_out', saeHooks(transcoder));
      assertClose(out, expected, 1e-6, 'transcoder output');
      const kept = activationAt(model, 'blocks.0.hook_mlp_out', saeHooks(transcoder, { keepError: true }));
      assertClose(kept, activationAt(model, 'blocks.0.hook_mlp_out'), 1e-5, 'transcoder with the error term');
      assert.equal(dMlp, 64);
    } finally {
      transcoder.dispose();
    }
  });

  test('two SAEs on one hook are refused', () => {
    assert.throws(() => runWithSAEs(model, TOKENS, [sae, sae]), ArgumentError);
  });
});
