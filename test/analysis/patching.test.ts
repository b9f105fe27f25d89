// Activation patching: anchors (patching everything → 1, patching the corrupted run's own values
// → 0), batched == loop for every target on three architectures, chunk sizes, startAtLayer,
// progress / abort, shape errors and memory.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { logitDiff, normalisedMetric, type Metric } from '../../src/analysis/metrics.js';
import {
  activationPatching, metricBaselines, patchBlockEvery, patchHeadsEvery, runPatchPlan,
} from '../../src/analysis/patching.js';
import { PATCH_TARGETS, type PatchPlan, type PatchTarget } from '../../src/analysis/patching-targets.js';
import type { MaskInput } from '../../src/models/inputs.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { tidy } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { ShapeError } from '../../src/util/errors.js';
import { loadFixture } from '../models/helpers.js';
import { assertClose, promptPair, refBackend, tinyGpt2 } from './intervention-helpers.js';

function targetsFor(model: HookedTransformer): PatchTarget[] {
  return PATCH_TARGETS.filter((t) => t !== 'resid_mid' || !model.config.parallelResidual);
}

describe('activation patching anchors', () => {
  let model: HookedTransformer;
  const { clean, corrupted } = promptPair(2, 6, 61, [2], 7);
  before(() => { model = tinyGpt2({ layers: 3, d: 32, heads: 4, vocab: 61 }, 100); });
  after(() => model.dispose());

  test('patching resid_pre at every position of any layer gives exactly 1 (normalised); the corrupted cache gives 0', async () => {
    const raw = logitDiff([3, 5], [4, 9]);
    const baselines = metricBaselines(model, raw, { cleanTokens: clean, corruptedTokens: corrupted });
    assert.ok(Math.abs(baselines.clean - baselines.corrupted) > 1e-2, `the prompts must separate: ${JSON.stringify(baselines)}`);
    const metric = normalisedMetric(raw, baselines);
    const plan: PatchPlan = {
      patches: [0, 1, 2].map((layer) => ({ hook: `blocks.${layer}.hook_resid_pre`, layer, region: [null], slot: layer })),
      shape: [3], axes: ['layer'],
    };
    for (const method of ['batched', 'loop'] as const) {
      const full = await runPatchPlan(model, plan, { cleanTokens: clean, corruptedTokens: corrupted, metric, method });
      assertClose(full.values.toArray(), [1, 1, 1], 1e-5, `${method}: whole resid_pre from the clean run`);
      full.values.dispose();
      const none = await runPatchPlan(model, plan, { cleanTokens: corrupted, corruptedTokens: corrupted, metric, method });
      assertClose(none.values.toArray(), [0, 0, 0], 1e-5, `${method}: patching the corrupted run's own values`);
      none.values.dispose();
    }
  });

  test('every target: patching the corrupted run into itself leaves the metric at 0 everywhere', async () => {
    const raw = logitDiff(3, 4);
    const metric = normalisedMetric(raw, metricBaselines(model, raw, { cleanTokens: clean, corruptedTokens: corrupted }));
    for (const target of targetsFor(model)) {
      const result = await activationPatching(model, target, { cleanTokens: corrupted, corruptedTokens: corrupted, metric });
      assertClose(result.values.toArray(), new Float32Array(result.values.size), 1e-5, target);
      result.values.dispose();
    }
  });

  test('resid_pre at the first layer recovers the clean run exactly at the changed position, nothing elsewhere', async () => {
    const raw = logitDiff(3, 4);
    const metric = normalisedMetric(raw, metricBaselines(model, raw, { cleanTokens: clean, corruptedTokens: corrupted }));
    const result = await activationPatching(model, 'resid_pre', { cleanTokens: clean, corruptedTokens: corrupted, metric });
    assert.deepEqual(result.axes, ['layer', 'pos']);
    assert.deepEqual(result.values.shape, [3, 6]);
    const layer0 = result.values.select(0, 0);
    assertClose(layer0.toArray(), [0, 0, 1, 0, 0, 0], 1e-5, 'layer 0: only position 2 differs between the prompts');
    layer0.dispose();
    result.values.dispose();
  });
});

const ARCHITECTURES: { name: string; load: () => Promise<HookedTransformer> }[] = [
  { name: 'gpt2 (random, 3 layers)', load: async () => tinyGpt2({ layers: 3, d: 32, heads: 4, vocab: 61 }, 200) },
  { name: 'pythia-tiny (parallel residual, rotary)', load: () => loadFixture('pythia-tiny') },
  { name: 'llama-tiny (GQA, RMSNorm)', load: () => loadFixture('llama-tiny') },
];

for (const arch of ARCHITECTURES) {
  describe(`batched == loop: ${arch.name}`, () => {
    let model: HookedTransformer;
    before(async () => { model = await arch.load(); });
    after(() => model.dispose());

    test('every target, chunked by memory and by odd batch sizes', async () => {
      const vocab = Math.min(model.config.dVocab, 500);
      const { clean, corrupted } = promptPair(2, 5, vocab, [1, 3], 11);
      const metric = logitDiff([7, 8], [9, 10]);
      const cache = model.runWithCache(clean).cache;
      try {
        for (const target of targetsFor(model)) {
          const loop = await activationPatching(model, target, { cleanCache: cache, corruptedTokens: corrupted, metric, method: 'loop' });
          const expected = loop.values.toArray();
          loop.values.dispose();
          assert.ok(expected.some((v) => Math.abs(v - expected[0]) > 1e-6), `${target}: the sweep must vary`);
          const chunkings = [{}, { batchSize: 1 }, { batchSize: 3 }, { batchSize: 17 }, { memoryBudgetBytes: 1 }];
          for (const chunking of chunkings) {
            const batched = await activationPatching(model, target, { cleanCache: cache, corruptedTokens: corrupted, metric, ...chunking });
            assertClose(batched.values.toArray(), expected, 1e-5, `${target} ${JSON.stringify(chunking)}`);
            batched.values.dispose();
          }
        }
      } finally {
        cache.dispose();
      }
    });

    test('metrics reading every position or a middle one, and padded prompts (no suffix skipping there)', async () => {
      const vocab = Math.min(model.config.dVocab, 500);
      const { clean, corrupted } = promptPair(2, 6, vocab, [0, 3], 12);
      const attentionMask = [[0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]];
      const everyPosition = (logits: Tensor) => tidy(() => logits.select(2, 3).sub(logits.select(2, 4)).mean().item());
      const cases: [string, Metric, MaskInput | undefined][] = [
        ['all positions', everyPosition, undefined],
        ['position 4', logitDiff(3, 4, { position: 4 }), undefined],
        ['position -2', logitDiff(3, 4, { position: -2 }), undefined],
        ['left padding', logitDiff(3, 4), attentionMask],
      ];
      for (const [what, metric, mask] of cases) {
        for (const target of ['resid_pre', 'k_by_pos', 'pattern_by_pos'] as const) {
          const options = { cleanTokens: clean, corruptedTokens: corrupted, metric, attentionMask: mask };
          const loop = await activationPatching(model, target, { ...options, method: 'loop' });
          const batched = await activationPatching(model, target, { ...options, batchSize: 4 });
          assertClose(batched.values.toArray(), loop.values.toArray(), 1e-5, `${what}, ${target}`);
          loop.values.dispose();
          batched.values.dispose();
        }
      }
    });
  });
}

describe('stacked sweeps', () => {
  test('patchBlockEvery = [resid_pre, attn_out, mlp_out] sweeps; patchHeadsEvery pads GQA k/v with NaN', async () => {
    const model = await loadFixture('llama-tiny');
    const { clean, corrupted } = promptPair(1, 4, 512, [0], 3);
    const metric = logitDiff(5, 6);
    const options = { cleanTokens: clean, corruptedTokens: corrupted, metric };
    const every = await patchBlockEvery(model, options);
    assert.deepEqual(every.axes, ['component', 'layer', 'pos']);
    assert.deepEqual(every.labels?.component, ['resid_pre', 'attn_out', 'mlp_out']);
    const parts = ['resid_pre', 'attn_out', 'mlp_out'] as const;
    for (let i = 0; i < 3; i++) {
      const single = await activationPatching(model, parts[i], { ...options, method: 'loop' });
      const row = every.values.select(0, i);
      assertClose(row.toArray(), single.values.toArray(), 1e-5, parts[i]);
      row.dispose();
      single.values.dispose();
    }
    every.values.dispose();
    const heads = await patchHeadsEvery(model, options);
    assert.deepEqual(heads.values.shape, [5, 2, 4]);
    const k = heads.values.select(0, 2).toArray();
    // llama-tiny has 2 kv heads for 4 query heads.
    assert.ok(Number.isNaN(k[2]) && Number.isNaN(k[3]) && !Number.isNaN(k[0]), `k row ${Array.from(k)}`);
    const kLoop = await activationPatching(model, 'k', { ...options, method: 'loop' });
    assertClose([k[0], k[1], k[4], k[5]], kLoop.values.toArray(), 1e-5, 'k (kv heads)');
    kLoop.values.dispose();
    heads.values.dispose();
    model.dispose();
  });
});

describe('sweep control and errors', () => {
  let model: HookedTransformer;
  const { clean, corrupted } = promptPair(1, 5, 61, [4], 5);
  before(() => { model = tinyGpt2({ layers: 2, d: 16, heads: 2, vocab: 61 }, 300); });
  after(() => model.dispose());

  test('progress counts every patch; aborting rejects with the signal reason', async () => {
    const seen: [number, number][] = [];
    const result = await activationPatching(model, 'resid_pre', {
      cleanTokens: clean, corruptedTokens: corrupted, metric: logitDiff(1, 2), batchSize: 3,
      onProgress: (done, total) => seen.push([done, total]),
    });
    result.values.dispose();
    assert.deepEqual(seen.at(-1), [10, 10]);
    seen.forEach(([done, total], i) => {
      assert.equal(total, 10);
      const step = done - (i === 0 ? 0 : seen[i - 1][0]);
      assert.ok(step >= 1 && step <= 3, `progress steps by 1..batchSize, got ${step}`);
    });
    const controller = new AbortController();
    await assert.rejects(activationPatching(model, 'resid_pre', {
      cleanTokens: clean, corruptedTokens: corrupted, metric: logitDiff(1, 2), method: 'loop', signal: controller.signal,
      onProgress: (done) => { if (done === 2) controller.abort(new Error('stop here')); },
    }), /stop here/);
    await assert.rejects(activationPatching(model, 'resid_pre', {
      cleanTokens: clean, corruptedTokens: corrupted, metric: logitDiff(1, 2), signal: AbortSignal.abort(),
    }), { name: 'AbortError' });
  });

  test('clean and corrupted prompts of different lengths → ShapeError naming both shapes', async () => {
    await assert.rejects(activationPatching(model, 'resid_pre', {
      cleanTokens: [[1, 2, 3]], corruptedTokens: corrupted, metric: logitDiff(1, 2),
    }), (err: Error) => err instanceof ShapeError && err.message.includes('[1, 3]') && err.message.includes('[1, 5]'));
    const cache = model.runWithCache([[1, 2, 3]]).cache;
    await assert.rejects(activationPatching(model, 'z', { cleanCache: cache, corruptedTokens: corrupted, metric: logitDiff(1, 2) }),
      (err: Error) => err instanceof ShapeError && err.message.includes('blocks.0.attn.hook_z'));
    cache.dispose();
  });

  test('no buffers leak, also when the metric throws', async () => {
    const backend = refBackend();
    const baseline = backend.liveBuffers();
    const result = await patchBlockEvery(model, { cleanTokens: clean, corruptedTokens: corrupted, metric: logitDiff(1, 2) });
    result.values.dispose();
    assert.equal(backend.liveBuffers(), baseline);
    await assert.rejects(activationPatching(model, 'z', {
      cleanTokens: clean, corruptedTokens: corrupted, metric: () => { throw new Error('bad metric'); },
    }), /bad metric/);
    assert.equal(backend.liveBuffers(), baseline);
  });
});

describe('forward({ startAtLayer }) (the model change patching relies on)', () => {
  test('starting from the cached resid_pre of any layer reproduces the full run, with padding and rotary positions', async () => {
    const model = await loadFixture('llama-tiny');
    const tokens = [[0, 0, 5, 6, 7], [1, 2, 3, 4, 5]];
    const attentionMask = [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]];
    const names = [0, 1].map((l) => `blocks.${l}.hook_resid_pre`);
    const { logits, cache } = model.runWithCache(tokens, { names, attentionMask });
    const expected = logits.toArray();
    for (let layer = 0; layer <= 2; layer++) {
      const input = layer < 2 ? cache.get(names[layer]) : model.forward(tokens, { stopAtLayer: 2, attentionMask });
      let embedHookRan = false;
      const out = model.forward(input, { startAtLayer: layer, attentionMask, hooks: [{ name: 'hook_embed', fn: () => { embedHookRan = true; } }] });
      assertClose(out.toArray(), expected, 1e-6, `startAtLayer ${layer}`);
      assert.equal(embedHookRan, false, 'embedding hooks do not run');
      assert.ok(!input.isDisposed, 'the caller keeps its input');
      out.dispose();
      if (layer === 2) input.dispose();
    }
    const resid = cache.get(names[1]);
    assert.throws(() => model.forward(tokens, { startAtLayer: 1 }), (err: Error) => err instanceof ShapeError && err.message.includes('residual stream'));
    assert.throws(() => model.forward(resid, { startAtLayer: 3 }), (err: Error) => err.name === 'IndexError' && err.message.includes('startAtLayer 3'));
    assert.throws(() => model.forward(resid, { startAtLayer: 1, stopAtLayer: 0 }), (err: Error) => err.name === 'IndexError');
    logits.dispose();
    cache.dispose();
    model.dispose();
  });
});
