// KV cache: a prompt, then new tokens fed one (or a few) at a time with a KVCache, give the logits
// of the full forward at every new position — on the three fixtures and on a built Mistral (GQA,
// rotary, sliding window shorter than the sequence, so the window must count cached keys). Left-
// padded batches keep their mask across steps. The cache frees everything it holds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend } from '../../src/backend/registry.js';
import type { Backend } from '../../src/backend/types.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import { KVCache } from '../../src/models/kv-cache.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { ARCH_CASES } from './arch-cases.js';
import {
  FIXTURES, TestRng, backendsToTest, assertClose, assertShape, loadFixture, rowSlice, tempRoot, writeModelFolder,
} from './helpers.js';

const TOLERANCE = 1e-4;

async function loadMistral(root: string, backend: Backend): Promise<HookedTransformer> {
  const mistral = ARCH_CASES.find((c) => c.name.startsWith('mistral (4.x'));
  assert.ok(mistral && mistral.config.sliding_window === 3);
  const folder = await writeModelFolder(root, 'mistral', mistral.config, mistral.weights(new TestRng(3)));
  return loadModelFolder(folder, { backend });
}

const BACKENDS = await backendsToTest();

describe('incremental decoding with a KVCache equals the full forward', () => {
  const root = tempRoot('kv');
  after(() => root.cleanup());
  const models: [string, () => Promise<HookedTransformer>][] = BACKENDS.flatMap((name) => {
    const backend = getBackend(name);
    return [
      ...FIXTURES.map((f) => [`${f} on ${name}`, () => loadFixture(f, backend)] as [string, () => Promise<HookedTransformer>]),
      [`mistral (built: GQA, sliding window 3) on ${name}`, () => loadMistral(root.dir, backend)],
    ];
  });

  for (const [name, load] of models) {
    describe(name, () => {
      let model: HookedTransformer;
      let tokens: number[][];
      let full: Float64Array[];
      before(async () => {
        model = await load();
        const rng = new TestRng(21);
        tokens = rng.tokens(2, 10, Math.min(model.config.dVocab, 500));
        const logits = model.forward(tokens);
        full = [rowSlice(logits, 0, 0, 10), rowSlice(logits, 1, 0, 10)];
        logits.dispose();
      });
      after(() => model.dispose());

      const V = () => model.config.dVocab;
      const expectRows = (logits: ReturnType<HookedTransformer['forward']>, start: number, count: number, what: string) => {
        for (let b = 0; b < 2; b++) {
          assertClose(rowSlice(logits, b, 0, count), full[b].subarray(start * V(), (start + count) * V()), TOLERANCE, `${what} row ${b}`);
        }
      };

      test('prompt of 4, then one token at a time', () => {
        const backend = model.backend;
        const baseline = backend.liveBuffers();
        const cache = new KVCache(model.config.nLayers);
        const prompt = model.forward(tokens.map((r) => r.slice(0, 4)), { kvCache: cache });
        expectRows(prompt, 0, 4, 'prompt');
        prompt.dispose();
        for (let t = 4; t < 10; t++) {
          const step = model.forward(tokens.map((r) => [r[t]]), { kvCache: cache });
          assertShape(step, [2, 1, V()], `step ${t}`);
          expectRows(step, t, 1, `step ${t}`);
          step.dispose();
          assert.equal(cache.length, t + 1);
        }
        cache.dispose();
        assert.equal(backend.liveBuffers(), baseline, 'live buffers after cache.dispose()');
      });

      test('chunks of 3, 2 and 5 tokens; runWithCache sees keys of past and new positions', () => {
        const cache = new KVCache(model.config.nLayers);
        let start = 0;
        for (const size of [3, 2, 5]) {
          // Caching hook_attn_scores takes the unfused path, whose causal mask must count the cached keys.
          const { logits, cache: acts } = model.runWithCache(tokens.map((r) => r.slice(start, start + size)), {
            kvCache: cache, names: ['blocks.0.attn.hook_pattern', 'blocks.1.attn.hook_attn_scores'],
          });
          expectRows(logits, start, size, `chunk at ${start}`);
          assertShape(acts.get('blocks.0.attn.hook_pattern'), [2, model.config.nHeads, size, start + size], 'pattern with a cache');
          logits.dispose();
          acts.dispose();
          start += size;
        }
        cache.dispose();
      });

      test('a step that fails part-way (a hook throws in the last layer) leaves the cache as it was', () => {
        const backend = model.backend;
        const baseline = backend.liveBuffers();
        const cache = new KVCache(model.config.nLayers);
        model.forward(tokens.map((r) => r.slice(0, 5)), { kvCache: cache }).dispose();
        const last = `blocks.${model.config.nLayers - 1}.hook_resid_pre`;
        assert.throws(() => model.forward(tokens.map((r) => [r[5]]), {
          kvCache: cache, hooks: [{ name: last, fn: () => { throw new Error('hook failed'); } }],
        }), /hook failed/);
        assert.equal(cache.length, 5);
        const step = model.forward(tokens.map((r) => [r[5]]), { kvCache: cache });
        expectRows(step, 5, 1, 'the step retried after the failure');
        step.dispose();
        cache.dispose();
        assert.equal(backend.liveBuffers(), baseline, 'live buffers');
      });

      test('a left-padded batch keeps its mask while decoding', () => {
        // Row 0: 2 pads then tokens[0][0..8); row 1: tokens[1][0..10). Each step adds one real token per row.
        const cache = new KVCache(model.config.nLayers);
        const prompt = [[0, 0, ...tokens[0].slice(0, 4)], tokens[1].slice(0, 6)];
        const attentionMask = [[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]];
        const first = model.forward(prompt, { kvCache: cache, attentionMask, logitPositions: 'last' });
        assertClose(rowSlice(first, 0, 0, 1), full[0].subarray(3 * V(), 4 * V()), TOLERANCE, 'row 0 prompt');
        assertClose(rowSlice(first, 1, 0, 1), full[1].subarray(5 * V(), 6 * V()), TOLERANCE, 'row 1 prompt');
        first.dispose();
        for (let s = 0; s < 4; s++) {
          const step = model.forward([[tokens[0][4 + s]], [tokens[1][6 + s]]], { kvCache: cache });
          assertClose(rowSlice(step, 0, 0, 1), full[0].subarray((4 + s) * V(), (5 + s) * V()), TOLERANCE, `row 0 step ${s}`);
          assertClose(rowSlice(step, 1, 0, 1), full[1].subarray((6 + s) * V(), (7 + s) * V()), TOLERANCE, `row 1 step ${s}`);
          step.dispose();
        }
        cache.dispose();
      });
    });
  }
});
