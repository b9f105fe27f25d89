// Path patching against runs composed by hand with plain hooks. The hand-made version patches the
// receivers' normalised block input (ln1.hook_normalized) instead of their q/k/v: when every head
// of a layer receives, the two are the same intervention reached through different hook points.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { logitDiff, metricValue, type Metric } from '../../src/analysis/metrics.js';
import { pathPatching, pathPatchingSweep, type ReceiverInput } from '../../src/analysis/path-patching.js';
import type { Hook } from '../../src/hooks/hook-set.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { noGrad, tidy } from '../../src/tensor/index.js';
import { IndexError } from '../../src/util/errors.js';
import { loadFixture } from '../models/helpers.js';
import { assertClose, promptPair, refBackend, tinyGpt2 } from './intervention-helpers.js';

function everyInput(model: HookedTransformer, layer: number): ReceiverInput[] {
  const c = model.config;
  return (['q', 'k', 'v'] as const).flatMap((input) => Array.from({ length: input === 'q' ? c.nHeads : c.nKvHeads }, (_, head) => ({ layer, head, input })));
}

/**
 * Step 2 by hand: clean input, the sender layer's z from the corrupted run, every other layer's z
 * (and optionally every MLP output) from the clean run. Receivers: the whole input of `receiverLayer`'s
 * attention, or the logits.
 */
function byHand(model: HookedTransformer, clean: number[][], corrupted: number[][], senderLayer: number,
  receiverLayer: number | 'logits', metric: Metric, freezeMlps = false): number {
  return noGrad(() => tidy(() => {
    const cleanRun = model.runWithCache(clean);
    const corruptedRun = model.runWithCache(corrupted);
    const frozen: Hook[] = [];
    for (let l = 0; l < model.config.nLayers; l++) {
      const z = `blocks.${l}.attn.hook_z`;
      frozen.push({ name: z, fn: () => (l === senderLayer ? corruptedRun.cache : cleanRun.cache).get(z) });
      if (freezeMlps) frozen.push({ name: `blocks.${l}.hook_mlp_out`, fn: () => cleanRun.cache.get(`blocks.${l}.hook_mlp_out`) });
    }
    try {
      if (receiverLayer === 'logits') return metricValue(metric, model.runWithHooks(clean, frozen));
      const input = `blocks.${receiverLayer}.ln1.hook_normalized`;
      const step2 = model.runWithCache(clean, { hooks: frozen, names: [input] });
      const patched = model.runWithHooks(clean, [{ name: input, fn: () => step2.cache.get(input) }]);
      step2.cache.dispose();
      return metricValue(metric, patched);
    } finally {
      cleanRun.cache.dispose();
      corruptedRun.cache.dispose();
    }
  }));
}

const MODELS: { name: string; load: () => Promise<HookedTransformer> }[] = [
  { name: 'gpt2 (random, 3 layers)', load: async () => tinyGpt2({ layers: 3, d: 32, heads: 4, vocab: 61 }, 500) },
  { name: 'llama-tiny (GQA)', load: () => loadFixture('llama-tiny') },
  { name: 'pythia-tiny (parallel residual)', load: () => loadFixture('pythia-tiny') },
];

for (const entry of MODELS) {
  describe(`path patching: ${entry.name}`, () => {
    let model: HookedTransformer;
    let clean: number[][];
    let corrupted: number[][];
    const metric = logitDiff([2, 5], [3, 6]);
    before(async () => {
      model = await entry.load();
      ({ clean, corrupted } = promptPair(2, 6, Math.min(model.config.dVocab, 61), [1, 4], 21));
    });
    after(() => model.dispose());

    test('senders = every head of layer 0, receivers = every input of the next layer(s) == hand-composed runs', async () => {
      const senders = Array.from({ length: model.config.nHeads }, (_, head) => ({ layer: 0, head }));
      for (let receiverLayer = 1; receiverLayer < model.config.nLayers; receiverLayer++) {
        for (const freezeMlps of [false, true]) {
          const expected = byHand(model, clean, corrupted, 0, receiverLayer, metric, freezeMlps);
          for (const method of ['batched', 'loop'] as const) {
            const value = await pathPatching(model, senders, {
              cleanTokens: clean, corruptedTokens: corrupted, metric, receivers: everyInput(model, receiverLayer), freezeMlps, method,
            });
            assertClose([value], [expected], 1e-5, `${method}, receivers layer ${receiverLayer}, freezeMlps ${freezeMlps}`);
          }
        }
      }
      const toLogits = await pathPatching(model, senders, { cleanTokens: clean, corruptedTokens: corrupted, metric, receivers: 'logits' });
      assertClose([toLogits], [byHand(model, clean, corrupted, 0, 'logits', metric)], 1e-5, 'receivers = logits');
      const cleanValue = noGrad(() => tidy(() => metricValue(metric, model.forward(clean))));
      assert.ok(Math.abs(toLogits - cleanValue) > 1e-4, 'the senders must matter, or the test proves nothing');
    });

    test('sweep over single sender heads: batched == loop for any chunking', async () => {
      const last = model.config.nLayers - 1;
      const receiverSets: (readonly ReceiverInput[] | 'logits')[] = [
        [{ layer: last, head: 1, input: 'q' }],
        [{ layer: last, head: 0, input: 'k' }, { layer: last, head: 1, input: 'v' }, { layer: 1, head: 0, input: 'q' }],
        'logits',
      ];
      for (const receivers of receiverSets) {
        const options = { cleanTokens: clean, corruptedTokens: corrupted, metric, receivers };
        const loop = await pathPatchingSweep(model, { ...options, method: 'loop' });
        const expected = loop.values.toArray();
        const senderLayers = receivers === 'logits' ? model.config.nLayers : last;
        assert.deepEqual(loop.values.shape, [senderLayers, model.config.nHeads]);
        loop.values.dispose();
        for (const batchSize of [undefined, 1, 3]) {
          const batched = await pathPatchingSweep(model, { ...options, batchSize });
          assertClose(batched.values.toArray(), expected, 1e-5, `receivers ${JSON.stringify(receivers)}, batchSize ${batchSize ?? 'auto'}`);
          batched.values.dispose();
        }
      }
    });
  });
}

describe('path patching errors and memory', () => {
  test('bad heads and receivers are named; no buffers leak', async () => {
    const model = tinyGpt2({ layers: 2, d: 16, heads: 2, vocab: 31 }, 9);
    const { clean, corrupted } = promptPair(1, 4, 31, [0], 2);
    const options = { cleanTokens: clean, corruptedTokens: corrupted, metric: logitDiff(1, 2) };
    await assert.rejects(pathPatching(model, [{ layer: 0, head: 2 }], { ...options, receivers: 'logits' }),
      (err: Error) => err instanceof IndexError && err.message.includes('sender head 2'));
    await assert.rejects(pathPatching(model, [{ layer: 0, head: 0 }], { ...options, receivers: [{ layer: 2, head: 0, input: 'q' }] }),
      (err: Error) => err instanceof IndexError && err.message.includes('layer 2'));
    const backend = refBackend();
    const baseline = backend.liveBuffers();
    const sweep = await pathPatchingSweep(model, { ...options, receivers: [{ layer: 1, head: 1, input: 'k' }] });
    sweep.values.dispose();
    assert.equal(backend.liveBuffers(), baseline);
    model.dispose();
  });
});
