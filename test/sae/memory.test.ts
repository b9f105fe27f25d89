// Live buffers return to baseline after each public SAE call once its results are disposed:
// splicing (runWithSAEs), evaluation, training (with its checkpoint save) and loading/saving.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { HookedTransformer } from '../../src/models/transformer.js';
import type { ChunkSource } from '../../src/sae/activation-store.js';
import { evaluateSAE } from '../../src/sae/evals.js';
import { loadSAE, saveSAE } from '../../src/sae/saelens-files.js';
import { SparseAutoencoder } from '../../src/sae/sae.js';
import { runWithSAEs } from '../../src/sae/splice.js';
import { saeTrainSpec, trainSAE } from '../../src/sae/trainer.js';
import { makeTempDir } from '../io/fixture-paths.js';
import { refBackend, tinyGpt2 } from '../analysis/intervention-helpers.js';

const D = 8;
const HOOK = 'blocks.0.hook_resid_post';

describe('SAE memory', () => {
  let model: HookedTransformer;
  let sae: SparseAutoencoder;
  const temp = makeTempDir('sae-memory');
  before(() => {
    model = tinyGpt2({ layers: 1, d: D, heads: 2, vocab: 13 }, 9);
    sae = SparseAutoencoder.init({
      architecture: 'jumprelu', d_in: D, d_sae: 24, apply_b_dec_to_input: true, normalize_activations: 'none', hook_name: HOOK, hook_layer: 0, dtype: 'float32',
    }, { seed: 1, backend: refBackend() });
  });
  after(() => {
    sae.dispose();
    model.dispose();
    temp.cleanup();
  });

  test('splicing, evaluating, saving and loading free what they allocate', async () => {
    const backend = refBackend();
    const baseline = backend.liveBuffers();
    const { logits, features } = runWithSAEs(model, [[1, 2, 3, 4]], [sae], { keepError: true, edits: [{ feature: 2, mode: 'scale', value: 3 }] });
    logits.dispose();
    for (const f of features.values()) f.dispose();
    assert.equal(backend.liveBuffers(), baseline, 'runWithSAEs');
    await evaluateSAE(model, sae, { rows: [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]], batchRows: 1 });
    assert.equal(backend.liveBuffers(), baseline, 'evaluateSAE');
    await saveSAE(sae, join(temp.dir, 'saved'));
    const loaded = await loadSAE(join(temp.dir, 'saved'), { backend });
    loaded.sae.dispose();
    assert.equal(backend.liveBuffers(), baseline, 'saveSAE / loadSAE');
  });

  test('training frees everything but the SAE it returns', async () => {
    const backend = refBackend();
    const baseline = backend.liveBuffers();
    const source: ChunkSource = {
      dIn: D, dOut: D, hasOutput: false,
      chunk: (i) => ({ tokens: 8, input: Float32Array.from({ length: 8 * D }, (_, j) => Math.sin(i * 7 + j)), output: null }),
    };
    for (const architecture of ['topk', 'jumprelu', 'batchtopk'] as const) {
      const spec = saeTrainSpec({
        architecture, k: 2, d_in: D, d_sae: 16, apply_b_dec_to_input: true, normalize_activations: 'none', hook_name: 'x', hook_layer: 0, dtype: 'float32',
      }, { steps: 6, batchTokens: 8, bufferTokens: 16, deadFeatureWindow: 1, normalizeActivations: 'expected_average_only_in', normEstimateTokens: 16 });
      const result = await trainSAE(spec, { source, backend, checkpointDir: join(temp.dir, `ckpt-${architecture}`), checkpointEvery: 3 });
      result.sae.dispose();
      assert.equal(backend.liveBuffers(), baseline, architecture);
    }
  });
});
