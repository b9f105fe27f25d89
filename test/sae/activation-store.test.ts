// The activation store: harvested activations equal the cached activation at kept positions
// (excluded tokens dropped, in order); the mixing buffer hands out shuffled tokens, none twice; the
// norm scaling factor is sqrt(d)/mean ||x||; the disk cache round-trips chunks and refuses a cache
// made for another hook.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { ActivationDiskCache } from '../../src/sae/activation-disk-cache.js';
import { ActivationStore, harvestActivations, hookWidth, modelChunkSource, type ChunkSource } from '../../src/sae/activation-store.js';
import { noGrad, tidy } from '../../src/tensor/index.js';
import { ArgumentError } from '../../src/util/errors.js';
import { makeTempDir } from '../io/fixture-paths.js';
import { refBackend, tinyGpt2 } from '../analysis/intervention-helpers.js';

const D = 12;

/** Chunk i holds tokens whose every value is its global id (i·size + t), so a batch tells which tokens it holds. */
function idSource(size: number, d = 3): ChunkSource {
  return {
    dIn: d, dOut: d, hasOutput: false,
    chunk: (i) => ({ tokens: size, input: Float32Array.from({ length: size * d }, (_, j) => i * size + Math.floor(j / d)), output: null }),
  };
}

describe('activation store', () => {
  let model: HookedTransformer;
  const rows = [[5, 1, 9, 0, 3, 7], [0, 2, 2, 8, 4, 6]];
  before(() => { model = tinyGpt2({ layers: 2, d: D, heads: 2, vocab: 17 }, 55); });
  after(() => model.dispose());

  test('harvested activations are the cached ones at the kept positions, in order', () => {
    const chunk = harvestActivations(model, rows, 'blocks.1.hook_resid_mid', 'blocks.1.hook_mlp_out', new Set([0]));
    const { cached, out } = noGrad(() => tidy(() => {
      const { logits, cache } = model.runWithCache(rows, { names: ['blocks.1.hook_resid_mid', 'blocks.1.hook_mlp_out'] });
      logits.dispose();
      const result = { cached: Float32Array.from(cache.get('blocks.1.hook_resid_mid').toArray()), out: Float32Array.from(cache.get('blocks.1.hook_mlp_out').toArray()) };
      cache.dispose();
      return result;
    }));
    const kept = rows.flat().map((id, i) => [id, i]).filter(([id]) => id !== 0).map(([, i]) => i);
    assert.equal(chunk.tokens, kept.length);
    kept.forEach((flat, t) => {
      assert.deepEqual(Array.from(chunk.input.subarray(t * D, (t + 1) * D)), Array.from(cached.subarray(flat * D, (flat + 1) * D)), `input token ${t}`);
      assert.deepEqual(Array.from(chunk.output!.subarray(t * D, (t + 1) * D)), Array.from(out.subarray(flat * D, (flat + 1) * D)), `output token ${t}`);
    });
    assert.equal(hookWidth(model, 'blocks.0.attn.hook_z'), D, 'hook_z: heads × d_head');
    assert.equal(hookWidth(model, 'blocks.0.mlp.hook_post'), 4 * D);
    assert.throws(() => hookWidth(model, 'blocks.0.attn.hook_pattern'), ArgumentError);
  });

  test('batches are shuffled and no token is handed out twice', async () => {
    const store = new ActivationStore({ source: idSource(40), batchTokens: 16, bufferTokens: 64, seed: 3, backend: refBackend() });
    const seen = new Set<number>();
    let ordered = true;
    for (let b = 0; b < 12; b++) {
      const { input, target } = await store.nextBatch();
      assert.equal(input, target, 'an SAE\'s target is its input');
      const values = input.toArray();
      const ids = Array.from({ length: 16 }, (_, t) => values[t * 3]);
      for (let t = 0; t < 16; t++) assert.equal(values[t * 3 + 2], ids[t], 'rows stay whole');
      for (const id of ids) {
        assert.ok(!seen.has(id), `token ${id} handed out twice`);
        seen.add(id);
      }
      if (ids.some((id, t) => t > 0 && id < ids[t - 1])) ordered = false;
      input.dispose();
    }
    assert.ok(!ordered, 'tokens come out shuffled');
    assert.ok(store.nextChunk * 40 >= 12 * 16, 'enough chunks were harvested');
  });

  test('the norm scaling factor is sqrt(d) / mean ||x||, and batches are scaled by it', async () => {
    const source: ChunkSource = {
      dIn: 2, dOut: 2, hasOutput: false,
      chunk: () => ({ tokens: 4, input: Float32Array.from([3, 4, 0, 1, 6, 8, 0, 0]), output: null }),
    };
    const store = new ActivationStore({ source, batchTokens: 4, bufferTokens: 8, backend: refBackend() });
    const { inputScale } = await store.estimateNormScaling(8);
    assert.ok(Math.abs(inputScale - Math.SQRT2 / ((5 + 1 + 10 + 0) / 4)) < 1e-12);
    const { input } = await store.nextBatch();
    const values = input.toArray();
    for (let t = 0; t < 4; t++) {
      const norm = Math.hypot(values[2 * t], values[2 * t + 1]) / inputScale;
      assert.ok([0, 1, 5, 10].some((n) => Math.abs(norm - n) < 1e-5), `token ${t} has norm ${norm} / scale, not one of the source's`);
    }
    input.dispose();
  });

  test('the disk cache stores chunks as safetensors and serves them back', async () => {
    const temp = makeTempDir('sae-cache');
    try {
      const key = { model: 'tiny', hook_name: 'blocks.1.hook_resid_pre', hook_name_out: null, d_in: D, d_out: D, corpus: 'rows' };
      const cache = await ActivationDiskCache.open(temp.dir, key);
      let calls = 0;
      const source = () => modelChunkSource({ model, hookName: 'blocks.1.hook_resid_pre', rows: () => { calls++; return rows; }, diskCache: cache });
      const first = await source().chunk(0);
      const again = await source().chunk(0);
      assert.equal(calls, 1, 'the second read comes from disk');
      assert.deepEqual(Array.from(again.input), Array.from(first.input));
      await assert.rejects(ActivationDiskCache.open(temp.dir, { ...key, hook_name: 'blocks.0.hook_resid_pre' }), /different run.*hook_name/);
    } finally {
      temp.cleanup();
    }
  });
});
