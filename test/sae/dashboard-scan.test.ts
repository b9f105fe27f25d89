// scanFeatures on real models against the naive statistics of activations computed independently
// (a full forward pass with a cache per row, then the SAE's encode), and featureLogitEffects
// against the model itself: with ln_final's scale pinned to 1 the direct path is linear, so adding
// the decoder row at the SAE's hook (last layer, later components frozen) changes the logits by
// exactly the effect.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { featureLogitEffects, scanFeatures, type LogitEffects } from '../../src/sae/dashboard-scan.js';
import type { SparseAutoencoder } from '../../src/sae/sae.js';
import { tensor, tidy } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { TestRng, fixture, assertNoLeak } from '../analysis/inspect-helpers.js';
import { inputStats, assertMatchesNaive, naiveFeature, randomSae, ref, type ActivationTable } from './dashboard-helpers.js';

/** acts[row][pos][feature] from one cached forward pass per row. */
function naiveActivations(model: HookedTransformer, sae: SparseAutoencoder, rows: number[][]): ActivationTable {
  return rows.map((row) => {
    const { logits, cache } = model.runWithCache([row], { names: [sae.cfg.hook_name] });
    const values = tidy(() => sae.encode(cache.get(sae.cfg.hook_name).reshape(row.length, sae.cfg.d_in)).toArray());
    logits.dispose();
    cache.dispose();
    return row.map((_, p) => Array.from(values.subarray(p * sae.cfg.d_sae, (p + 1) * sae.cfg.d_sae)));
  });
}

for (const name of ['gpt2-tiny', 'llama-tiny'] as const) {
  // Hooks in a block (the pass stops after it), before the blocks (it stops at 0) and after them (the whole model runs).
  for (const hook of ['blocks.0.hook_resid_post', 'blocks.1.mlp.hook_post', 'blocks.1.attn.hook_z', 'hook_embed', 'ln_final.hook_normalized'] as const) {
    test(`${name} ${hook}: scanFeatures equals the naive statistics`, async () => {
      const { model } = await fixture(name);
      const c = model.config;
      const dIn = hook.endsWith('hook_post') ? c.dMlp : hook.endsWith('hook_z') ? c.nHeads * c.dHead : c.dModel;
      const rng = new TestRng(5);
      const rows = [...rng.tokens(3, 9, c.dVocab), ...rng.tokens(2, 4, c.dVocab), ...rng.tokens(2, 9, c.dVocab)];
      const sae = randomSae(hook, Number(hook.split('.')[1] ?? 0), dIn, 20, 11, inputStats(model, hook, rows, dIn));
      try {
        const excluded = rows[0][0];
        const options = { topK: 5, histogramBins: 32, binsPerInterval: 4, before: 3, after: 2, perInterval: 3 };
        const acts = naiveActivations(model, sae, rows);
        const progress: [number, number][] = [];
        const features = hook === 'blocks.0.hook_resid_post' ? undefined : [19, 0, 7];
        const stats = await scanFeatures(model, sae, rows, {
          features, batchSize: 2, topK: options.topK, histogramBins: options.histogramBins, binsPerInterval: options.binsPerInterval,
          examplesPerInterval: options.perInterval, window: { before: options.before, after: options.after },
          excludeTokens: [excluded], onProgress: (done, total) => progress.push([done, total]),
        });
        const total = rows.reduce((s, r) => s + r.length, 0);
        assert.deepEqual(progress.at(-1), [total, total]);
        assert.ok(progress.every(([done], i) => i === 0 || done > progress[i - 1][0]), 'progress only grows');
        const ids = features ?? Array.from({ length: 20 }, (_, i) => i);
        assert.deepEqual(stats.map((s) => s.feature), ids);
        const counted = (r: number, p: number) => rows[r][p] !== excluded;
        const fired = stats.filter((s) => s.firingTokens > 0).length;
        assert.ok(fired >= Math.min(3, ids.length), `only ${fired} features fired: the test SAE should make most fire`);
        stats.forEach((s) => assertMatchesNaive(s, naiveFeature(acts, s.feature, { ...options, counted }), acts, s.feature, options, 1e-5));
      } finally {
        sae.dispose();
      }
    });
  }
}

test('scanFeatures honours an abort signal and frees what it allocates', async () => {
  const { model } = await fixture('llama-tiny');
  const sae = randomSae('blocks.0.hook_resid_post', 0, model.config.dModel, 8, 3);
  try {
    const rows = new TestRng(1).tokens(4, 6, model.config.dVocab);
    const controller = new AbortController();
    controller.abort(new Error('stop here'));
    await assert.rejects(scanFeatures(model, sae, rows, { signal: controller.signal }), /stop here/);
    // Aborted while running: the scan stops after the batch in flight.
    const midway = new AbortController();
    let batches = 0;
    await assert.rejects(scanFeatures(model, sae, rows, {
      batchSize: 1, signal: midway.signal, onProgress: () => { batches++; midway.abort(new Error('stopped midway')); },
    }), /stopped midway/);
    assert.equal(batches, 1);
    const before = ref.liveBuffers();
    await scanFeatures(model, sae, rows, { batchSize: 3 });
    assert.equal(ref.liveBuffers(), before, 'live buffers return to where they were');
    await assert.rejects(scanFeatures(model, sae, rows, { features: [8] }), /feature 8 is out of range 0\.\.7/);
  } finally {
    sae.dispose();
  }
});

/** Logits at the last position when `delta` [d_in] is added to the hook there, ln_final's scale pinned to 1 and mlp_out frozen. */
function pinnedLogits(model: HookedTransformer, tokens: number[], hook: string, delta: Float32Array | null, cleanMlpOut: Tensor): Float32Array {
  const last = model.config.nLayers - 1;
  return tidy(() => {
    const hooks = [
      { name: 'ln_final.hook_scale', fn: (s: Tensor) => s.mul(0).add(1) },
      { name: `blocks.${last}.hook_mlp_out`, fn: () => cleanMlpOut },
    ];
    if (delta !== null) {
      hooks.push({
        name: hook,
        fn: (x: Tensor) => {
          const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
          const full = new Float32Array(x.size);
          full.set(delta, (tokens.length - 1) * inner);
          return x.add(tensor(full, x.shape, { backend: x.backend }));
        },
      });
    }
    return model.forward([tokens], { hooks }).select(1, tokens.length - 1).reshape(-1).toArray() as Float32Array;
  });
}

for (const name of ['gpt2-tiny', 'llama-tiny'] as const) {
  test(`${name}: logit effects equal the change in the model's logits along the direct path`, async () => {
    const { model } = await fixture(name);
    const c = model.config;
    const last = c.nLayers - 1;
    const tokens = new TestRng(9).tokens(1, 6, c.dVocab)[0];
    const { logits, cache } = model.runWithCache([tokens], { names: [`blocks.${last}.hook_mlp_out`] });
    logits.dispose();
    const cleanMlpOut = cache.get(`blocks.${last}.hook_mlp_out`);
    try {
      const clean = pinnedLogits(model, tokens, '', null, cleanMlpOut);
      // mlp.hook_post feeds mlp_out, which the pinned run freezes: compare it without the freeze.
      for (const [hook, dIn] of [[`blocks.${last}.hook_resid_post`, c.dModel], [`blocks.${last}.attn.hook_z`, c.nHeads * c.dHead]] as const) {
        const sae = randomSae(hook, last, dIn, 12, 21);
        try {
          const features = [7, 0, 11];
          const result: { effects: LogitEffects[] | null } = { effects: null };
          assertNoLeak(`${name} ${hook} logit effects`, () => { result.effects = featureLogitEffects(model, sae, features, 5); });
          const effects = result.effects;
          assert.ok(effects !== null, `${hook} has a direct path`);
          const W_dec = sae.W_dec.toArray();
          effects.forEach((effect, i) => {
            const f = features[i];
            assert.equal(effect.feature, f);
            const moved = pinnedLogits(model, tokens, hook, W_dec.slice(f * dIn, (f + 1) * dIn) as Float32Array, cleanMlpOut);
            const delta = Array.from(moved, (v, t) => ({ token: t, value: v - clean[t] }));
            const largest = Math.max(...delta.map((d) => Math.abs(d.value)));
            const order = [...delta].sort((a, b) => b.value - a.value);
            for (const [got, want] of [[effect.positive, order.slice(0, 5)], [effect.negative, order.slice(-5).reverse()]] as const) {
              got.forEach((g, r) => assert.ok(Math.abs(g.value - want[r].value) < 1e-4 * largest,
                `${name} ${hook} feature ${f} rank ${r}: effect ${g.value}, model ${want[r].value}`));
              // Token ids agree unless two logits are within float noise of each other.
              got.forEach((g, r) => assert.ok(g.token === want[r].token || Math.abs(delta[g.token].value - want[r].value) < 1e-4 * largest,
                `${name} ${hook} feature ${f} rank ${r}: token ${g.token}, model ${want[r].token}`));
            }
          });
        } finally {
          sae.dispose();
        }
      }
    } finally {
      cache.dispose();
    }
  });

  test(`${name}: the MLP-neuron basis (mlp.hook_post) maps through W_out`, async () => {
    const { model } = await fixture(name);
    const c = model.config;
    const last = c.nLayers - 1;
    const hook = `blocks.${last}.mlp.hook_post`;
    const sae = randomSae(hook, last, c.dMlp, 6, 4);
    const tokens = new TestRng(2).tokens(1, 5, c.dVocab)[0];
    try {
      const effects = featureLogitEffects(model, sae, [3], 4);
      assert.ok(effects !== null);
      // Adding the row at hook_post changes mlp_out by row · W_out: measure it with an unfrozen run.
      const run = (delta: Float32Array | null) => tidy(() => model.forward([tokens], {
        hooks: [
          { name: 'ln_final.hook_scale', fn: (s: Tensor) => s.mul(0).add(1) },
          ...(delta === null ? [] : [{ name: hook, fn: (x: Tensor) => {
            const full = new Float32Array(x.size);
            full.set(delta, (tokens.length - 1) * c.dMlp);
            return x.add(tensor(full, x.shape, { backend: x.backend }));
          } }]),
        ],
      }).select(1, tokens.length - 1).reshape(-1).toArray());
      const row = sae.W_dec.toArray().slice(3 * c.dMlp, 4 * c.dMlp) as Float32Array;
      const clean = run(null);
      const moved = run(row);
      const delta = Array.from(moved, (v, t) => v - clean[t]);
      const largest = Math.max(...delta.map(Math.abs));
      for (const e of [...effects[0].positive, ...effects[0].negative]) {
        assert.ok(Math.abs(e.value - delta[e.token]) < 1e-4 * largest, `token ${e.token}: effect ${e.value}, model ${delta[e.token]}`);
      }
      assert.ok(Math.abs(effects[0].positive[0].value - Math.max(...delta)) < 1e-4 * largest, 'the top effect is the largest logit change');
    } finally {
      sae.dispose();
    }
  });
}

test('hooks with no direct path to the logits give null logit effects', async () => {
  const { model } = await fixture('gpt2-tiny');
  const norm = randomSae('blocks.0.ln1.hook_normalized', 0, model.config.dModel, 4, 1);
  const oneHead = randomSae('blocks.1.attn.hook_z', 1, model.config.dHead, 4, 1);
  oneHead.cfg.hook_head_index = 2;
  try {
    assert.equal(featureLogitEffects(model, norm, [0]), null);
    assert.equal(featureLogitEffects(model, oneHead, [0]), null);
  } finally {
    norm.dispose();
    oneHead.dispose();
  }
});
