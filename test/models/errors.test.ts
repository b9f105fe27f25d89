// Bad input fails with typed errors that name the bad value and what was expected — token ids,
// lengths, ragged batches, masks, model types, config/checkpoint mismatches, missing tensors,
// stopAtLayer — and nothing leaks: live buffers return to their baseline after public calls,
// failed ones included, and after model.dispose().
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadModelFolder } from '../../src/io/load-model.js';
import { UnsupportedArchitectureError } from '../../src/models/architectures.js';
import { KVCache } from '../../src/models/kv-cache.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { MissingWeightError } from '../../src/models/weight-reader.js';
import { ArgumentError, IndexError, ShapeError, UseAfterFreeError } from '../../src/util/errors.js';
import { ARCH_CASES } from './arch-cases.js';
import {
  FIXTURES, TestRng, assertRejectsWith, assertThrowsWith, fixtureTokens, loadFixture, refBackend, tempRoot, writeModelFolder,
} from './helpers.js';

const llamaCase = ARCH_CASES.find((c) => c.name.startsWith('llama (4.x'));
assert.ok(llamaCase);
const qwenCase = ARCH_CASES.find((c) => c.name.startsWith('qwen2 (4.x, q/k/v'));
assert.ok(qwenCase);

describe('bad inputs to a forward pass', () => {
  let model: HookedTransformer;
  before(async () => { model = await loadFixture('llama-tiny'); });
  after(() => model.dispose());

  test('token ids outside the vocabulary → IndexError naming the id, its place and the vocabulary size', () => {
    const backend = refBackend();
    const baseline = backend.liveBuffers();
    assertThrowsWith(() => model.forward([[1, 2, 512]]), IndexError, ['512', '[0, 2]', '512 tokens']);
    assertThrowsWith(() => model.forward([[1, -1]]), IndexError, ['-1', '[0, 1]']);
    assertThrowsWith(() => model.forward([3, 1.5]), IndexError, ['1.5']);
    assert.equal(backend.liveBuffers(), baseline);
  });

  test('a sequence longer than the context → IndexError naming both lengths (also counting KV-cached positions)', () => {
    const n = model.config.nCtx;
    assertThrowsWith(() => model.forward([new Array<number>(n + 1).fill(1)]), IndexError, [`${n + 1}`, `${n}`]);
    const cache = new KVCache(model.config.nLayers);
    model.forward([new Array<number>(n - 2).fill(1)], { kvCache: cache }).dispose();
    assertThrowsWith(() => model.forward([[1, 2, 3]], { kvCache: cache }), IndexError, [`${n + 1}`, `${n}`]);
    assertThrowsWith(() => model.forward([[1], [2]], { kvCache: cache }), ShapeError, ['batch 2', 'batch 1']);
    cache.dispose();
  });

  test('ragged batches and empty inputs → ShapeError', () => {
    assertThrowsWith(() => model.forward([[1, 2, 3], [4, 5]]), ShapeError, ['row 1', 'length 2', 'expected 3']);
    assertThrowsWith(() => model.forward([]), ShapeError, ['empty']);
  });

  test('masks of the wrong shape → ShapeError; values other than 0/1 → ArgumentError naming the value', () => {
    const tokens = [[1, 2, 3], [4, 5, 6]];
    assertThrowsWith(() => model.forward(tokens, { attentionMask: [[1, 1, 1]] }), ShapeError, ['[1, 3]', '[2, 3]']);
    assertThrowsWith(() => model.forward(tokens, { attentionMask: [[1, 1], [1, 1]] }), ShapeError, ['[2, 2]', '[2, 3]']);
    assertThrowsWith(() => model.forward(tokens, { attentionMask: [[1, 1, 1], [1, 1]] }), ShapeError, ['row 1']);
    assertThrowsWith(() => model.forward(tokens, { attentionMask: [[1, 2, 1], [1, 1, 1]] }), ArgumentError, ['attentionMask[0][1]', '2']);
    assertThrowsWith(() => model.forward(tokens, { attentionMask: [[1, 1, 1], [0.5, 1, 1]] }), ArgumentError, ['attentionMask[1][0]', '0.5']);
  });

  test('stopAtLayer outside 0..nLayers → IndexError naming the value and the range', () => {
    for (const bad of [-1, model.config.nLayers + 1, 1.5]) {
      assertThrowsWith(() => model.forward([[1, 2]], { stopAtLayer: bad }), IndexError, [`${bad}`, `0..${model.config.nLayers}`]);
    }
  });
});

describe('checkpoints and configs that do not fit', () => {
  const root = tempRoot('errors');
  after(() => root.cleanup());

  test('an unsupported model_type → UnsupportedArchitectureError listing the supported ones (before reading weights)', async () => {
    const bert = await writeModelFolder(root.dir, 'bert', { model_type: 'bert', hidden_size: 8 }, new Map());
    await assertRejectsWith(loadModelFolder(bert, { backend: refBackend() }), UnsupportedArchitectureError,
      ['"bert"', 'gpt2, gpt_neox, llama, mistral, qwen2, gemma']);
    const typo = await writeModelFolder(root.dir, 'typo', { ...llamaCase.config, model_type: 'lama' }, new Map());
    await assertRejectsWith(loadModelFolder(typo, { backend: refBackend() }), UnsupportedArchitectureError, ['did you mean llama']);
  });

  test('config values we cannot honour → ArgumentError naming the field', async () => {
    const rng = new TestRng(1);
    const cases: [string, Record<string, unknown>, string[]][] = [
      ['yarn', { rope_scaling: { rope_type: 'yarn', factor: 4 } }, ['"yarn"', 'linear, llama3']],
      ['act', { hidden_act: 'gelu_10' }, ['hidden_act', '"gelu_10"']],
      ['kv', { num_key_value_heads: 3 }, ['nKvHeads (3)']],
    ];
    for (const [name, change, fragments] of cases) {
      const folder = await writeModelFolder(root.dir, name, { ...llamaCase.config, ...change }, llamaCase.weights(rng));
      await assertRejectsWith(loadModelFolder(folder, { backend: refBackend() }), ArgumentError, fragments);
    }
    const mixed = await writeModelFolder(root.dir, 'qwen-mixed', { ...qwenCase.config, use_sliding_window: true, max_window_layers: 1 }, qwenCase.weights(rng));
    await assertRejectsWith(loadModelFolder(mixed, { backend: refBackend() }), ArgumentError, ['sliding window on 1 of 2 layers']);
  });

  test('a tensor whose shape disagrees with the config → ShapeError naming it and both shapes; nothing leaks', async () => {
    const backend = refBackend();
    const baseline = backend.liveBuffers();
    const weights = llamaCase.weights(new TestRng(2));
    weights.set('model.layers.1.self_attn.k_proj.weight', { shape: [24, 32], data: new Float32Array(24 * 32) });
    const folder = await writeModelFolder(root.dir, 'bad-shape', llamaCase.config, weights);
    await assertRejectsWith(loadModelFolder(folder, { backend }), ShapeError,
      ["'model.layers.1.self_attn.k_proj.weight'", '[24, 32]', '[16, 32]']);
    assert.equal(backend.liveBuffers(), baseline, 'tensors read before the failure are freed');
  });

  test('a missing tensor → MissingWeightError with the closest names; an untied model without lm_head too', async () => {
    const backend = refBackend();
    const baseline = backend.liveBuffers();
    const weights = llamaCase.weights(new TestRng(3));
    weights.delete('model.layers.1.mlp.up_proj.weight');
    const folder = await writeModelFolder(root.dir, 'missing', llamaCase.config, weights);
    await assertRejectsWith(loadModelFolder(folder, { backend }), MissingWeightError,
      ["'model.layers.1.mlp.up_proj.weight'", 'model.layers.0.mlp.up_proj.weight']);
    const noHead = llamaCase.weights(new TestRng(3));
    noHead.delete('lm_head.weight');
    const untied = await writeModelFolder(root.dir, 'no-head', llamaCase.config, noHead);
    await assertRejectsWith(loadModelFolder(untied, { backend }), MissingWeightError, ["'lm_head.weight'"]);
    const noEmbed = llamaCase.weights(new TestRng(3));
    noEmbed.delete('model.embed_tokens.weight');
    const headless = await writeModelFolder(root.dir, 'no-embed', llamaCase.config, noEmbed);
    await assertRejectsWith(loadModelFolder(headless, { backend }), MissingWeightError, ["'embed_tokens.weight'"]);
    assert.equal(backend.liveBuffers(), baseline);
  });
});

describe('no leaks in the forward pass', () => {
  for (const fixture of FIXTURES) {
    test(`${fixture}: live buffers return to baseline after forward, runWithCache, hooks, KV cache and dispose`, async () => {
      const backend = refBackend();
      const beforeLoad = backend.liveBuffers();
      const model = await loadFixture(fixture, backend);
      const loaded = backend.liveBuffers();
      assert.ok(loaded > beforeLoad);
      const tokens = (await fixtureTokens(fixture)).map((row) => row.slice(0, 6));

      model.forward(tokens).dispose();
      assert.equal(backend.liveBuffers(), loaded, 'after forward');

      const { logits, cache } = model.runWithCache(tokens, { attentionMask: [[0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]] });
      logits.dispose();
      cache.dispose();
      assert.equal(backend.liveBuffers(), loaded, 'after runWithCache + dispose');

      const patched = model.runWithHooks(tokens, [
        { name: /hook_z$/, fn: (z) => z.indexPut([null, null, 0], 0) },
        { name: /hook_attn_scores$/, fn: (s) => s.mul(1) },
        { name: /ln.\.hook_scale$/, fn: () => undefined },
      ], { logitPositions: 'last' });
      patched.dispose();
      assert.equal(backend.liveBuffers(), loaded, 'after hooked run');

      const kv = new KVCache(model.config.nLayers);
      model.forward(tokens, { kvCache: kv }).dispose();
      model.forward([[1], [2]], { kvCache: kv }).dispose();
      kv.dispose();
      assert.equal(backend.liveBuffers(), loaded, 'after KV cache dispose');

      assertThrowsWith(() => model.runWithCache(tokens, { hooks: [{ name: 'blocks.1.hook_mlp_out', fn: () => { throw new Error('hook failed'); } }] }),
        Error, ['hook failed']);
      assert.equal(backend.liveBuffers(), loaded, 'after a hook threw mid-run');

      model.dispose();
      assert.equal(backend.liveBuffers(), beforeLoad, 'after model.dispose()');
      assertThrowsWith(() => model.forward(tokens), UseAfterFreeError, ['disposed']);
      assertThrowsWith(() => cache.get('hook_embed'), UseAfterFreeError, ['disposed']);
    });
  }
});
