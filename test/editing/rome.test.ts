// ROME's pieces against independent references: the rank-one update (W' k* = v* through the
// model's own forward pass, unchanged outputs for keys orthogonal under C⁻¹, in GPT-2's Conv1D
// and nn.Linear layouts), bit-exact undo, key statistics against a naive float64 sum, the
// Cholesky solve, the on-disk cache, keys at the subject, the value optimisation's reported
// losses against a recomputation, and saving an edited model.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadModelFolder } from '../../src/io/load-model.js';
import { Tokenizer } from '../../src/io/tokenizer.js';
import { cachedKeyStatistics } from '../../src/editing/key-statistics-cache.js';
import { computeKeyStatistics, keyHookName, solveKeyStatistics, type KeyStatistics } from '../../src/editing/key-statistics.js';
import { applyRankOneUpdate, restoreDownProjection, romeEdit } from '../../src/editing/rome.js';
import { downProjection, keysAtSubject, meanKey } from '../../src/editing/rome-key.js';
import { optimiseValue } from '../../src/editing/rome-value.js';
import { saveEditedModel } from '../../src/editing/save-edited.js';
import { encodeWithSubject, findSubjectRange, toTemplate } from '../../src/editing/subject.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { noGrad, tensor, tidy } from '../../src/tensor/index.js';
import { ArgumentError } from '../../src/util/errors.js';
import { ref } from '../analysis/inspect-helpers.js';
import { makeTempDir, repoRoot } from '../io/fixture-paths.js';
import { FIXTURES, TestRng, fixtureFolder, loadFixture } from '../models/helpers.js';

/** A random symmetric positive definite "second moment" of size n: the mean of m random outer products plus a ridge. */
function randomStatistics(n: number, layer: number, seed: number): KeyStatistics {
  const rng = new TestRng(seed);
  const m = 3 * n;
  const keys = Array.from({ length: m }, () => Array.from({ length: n }, () => rng.normal()));
  const c = new Float64Array(n * n);
  for (const k of keys) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) c[i * n + j] += (k[i] * k[j]) / m;
  for (let i = 0; i < n; i++) c[i * n + i] += 0.1;
  return { layer, size: n, count: m, secondMoment: c };
}

function matVec(c: Float64Array, x: ArrayLike<number>, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) y[i] += c[i * n + j] * x[j];
  return y;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
const maxAbs = (a: ArrayLike<number>) => Math.max(...Array.from(a, Math.abs));

/** The MLP output at position 1 when hook_post there is replaced by `key` — through the model's own forward pass. */
function mlpOutputFor(model: HookedTransformer, layer: number, key: ArrayLike<number>): Float64Array {
  return noGrad(() => {
    const k = tensor(Float32Array.from(key), [key.length], { backend: model.backend });
    const { logits, cache } = model.runWithCache([[1, 2, 3]], {
      names: [`blocks.${layer}.hook_mlp_out`],
      hooks: [{ name: keyHookName(layer), fn: (post) => post.indexPut([0, 1], k) }],
    });
    try {
      return Float64Array.from(tidy(() => cache.get(`blocks.${layer}.hook_mlp_out`).index(0, 1).toArray()));
    } finally {
      logits.dispose();
      cache.dispose();
      k.dispose();
    }
  });
}

describe('the rank-one update', () => {
  for (const name of FIXTURES) {
    test(`${name}: W' k* = v* through the forward pass, C⁻¹-orthogonal keys unchanged, undo is bit-exact`, async () => {
      const model = await loadFixture(name, ref);
      try {
        const layer = 1;
        const n = model.config.dMlp;
        const rng = new TestRng(11);
        const stats = randomStatistics(n, layer, 5);
        const key = Array.from({ length: n }, () => rng.normal());
        const value = Array.from({ length: model.config.dModel }, () => rng.normal());
        // A key with kᵀ C⁻¹ k* = 0: project a random key off k* in the C⁻¹ inner product.
        const direction = solveKeyStatistics(stats, key);
        const random = Array.from({ length: n }, () => rng.normal());
        const orthogonal = random.map((v, i) => v - (dot(random, direction) / dot(key, direction)) * key[i]);
        assert.ok(Math.abs(dot(orthogonal, direction)) < 1e-9 * Math.sqrt(dot(random, random) * dot(direction, direction)));

        const weight = model.params.blocks[layer].mlp.out.weight;
        const original = Float32Array.from(weight.toArray());
        const orthogonalBefore = mlpOutputFor(model, layer, orthogonal);
        const update = applyRankOneUpdate(model, layer, key, value, stats);

        const written = mlpOutputFor(model, layer, key);
        const scale = Math.max(maxAbs(value), 1);
        assert.ok(maxAbs(written.map((v, i) => v - value[i])) < 2e-4 * scale, `W' k* + b vs v*: ${maxAbs(written.map((v, i) => v - value[i]))}`);
        assert.ok(maxAbs(downProjection(model, layer, key).map((v, i) => v - value[i])) < 2e-4 * scale);
        const orthogonalAfter = mlpOutputFor(model, layer, orthogonal);
        assert.ok(maxAbs(orthogonalAfter.map((v, i) => v - orthogonalBefore[i])) < 2e-4 * Math.max(1, maxAbs(orthogonalBefore)));
        // The update is rank one: Λ (C⁻¹ k*)ᵀ.
        const changed = weight.toArray();
        const transposed = model.params.blocks[layer].mlp.out.transposed;
        const d = model.config.dModel;
        for (const [i, j] of [[0, 0], [d - 1, n - 1], [3, 7]]) {
          const at = transposed ? i * n + j : j * d + i;
          assert.ok(Math.abs(changed[at] - original[at] - update.scale[i] * update.direction[j]) < 1e-5 * (1 + Math.abs(changed[at])));
        }

        restoreDownProjection(model, layer, update.original);
        assert.deepEqual(weight.toArray(), original, 'restored bit for bit');
      } finally {
        model.dispose();
      }
    });
  }

  test('mismatched statistics and a zero key are rejected', async () => {
    const model = await loadFixture('llama-tiny', ref);
    try {
      const n = model.config.dMlp;
      const value = new Array<number>(model.config.dModel).fill(0);
      assert.throws(() => applyRankOneUpdate(model, 1, new Array(n).fill(1), value, randomStatistics(n, 0, 1)), /layer 0, not 1/);
      assert.throws(() => applyRankOneUpdate(model, 1, new Array(n).fill(1), value, randomStatistics(n + 1, 1, 1)), /size/);
      assert.throws(() => applyRankOneUpdate(model, 1, new Array(n).fill(0), value, randomStatistics(n, 1, 1)), ArgumentError);
    } finally {
      model.dispose();
    }
  });
});

describe('key statistics', () => {
  let model: HookedTransformer;
  const rng = new TestRng(3);
  // Rows of several lengths, one longer than the context (128): it is read as 128 + 22 tokens.
  const corpus = [40, 40, 17, 150, 9, 40].map((length) => Array.from({ length }, () => rng.int(0, 512)));
  before(async () => { model = await loadFixture('pythia-tiny', ref); });
  after(() => model.dispose());

  test('E[k kᵀ] equals a naive float64 sum over every token', async () => {
    const layer = 1;
    const stats = await computeKeyStatistics(model, layer, corpus, { batchSize: 2 });
    const n = model.config.dMlp;
    const naive = new Float64Array(n * n);
    let count = 0;
    for (const row of corpus) {
      for (let start = 0; start < row.length; start += 128) {
        const piece = row.slice(start, start + 128);
        const keys = noGrad(() => {
          const { logits, cache } = model.runWithCache([piece], { names: [keyHookName(layer)] });
          const data = cache.get(keyHookName(layer)).toArray();
          logits.dispose();
          cache.dispose();
          return data;
        });
        for (let t = 0; t < piece.length; t++) {
          for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) naive[i * n + j] += keys[t * n + i] * keys[t * n + j];
        }
        count += piece.length;
      }
    }
    assert.equal(stats.count, count);
    assert.equal(stats.size, n);
    const scale = maxAbs(naive) / count;
    const diff = maxAbs(stats.secondMoment.map((v, i) => v - naive[i] / count));
    assert.ok(diff < 1e-5 * scale, `max diff ${diff} (scale ${scale})`);
  });

  test('maxTokens stops early; too few tokens for the keys’ size is a typed error; the solve inverts C', async () => {
    const stats = await computeKeyStatistics(model, 0, corpus, { maxTokens: 50 });
    assert.equal(stats.count, 50);
    const k = Array.from({ length: stats.size }, (_, i) => Math.sin(i));
    assert.throws(() => solveKeyStatistics(stats, k), (e: Error) => e instanceof ArgumentError && /singular/.test(e.message) && /50 tokens/.test(e.message));
    const random = randomStatistics(stats.size, 0, 9);
    const back = matVec(random.secondMoment, solveKeyStatistics(random, k), random.size);
    assert.ok(maxAbs(back.map((v, i) => v - k[i])) < 1e-8, 'C (C⁻¹ k) = k');
  });

  test('the disk cache returns the same statistics and keys its files on model, layer and corpus', async () => {
    const { dir, cleanup } = makeTempDir('key-stats');
    try {
      let progressCalls = 0;
      const first = await cachedKeyStatistics(model, 1, corpus, { cacheDir: dir, onProgress: () => { progressCalls++; } });
      assert.equal(first.fromCache, false);
      assert.ok(progressCalls > 0);
      const calls = progressCalls;
      const second = await cachedKeyStatistics(model, 1, corpus, { cacheDir: dir, onProgress: () => { progressCalls++; } });
      assert.equal(second.fromCache, true);
      assert.equal(progressCalls, calls, 'read from disk, not recomputed');
      assert.deepEqual(second.secondMoment, first.secondMoment);
      assert.equal(second.count, first.count);
      const otherCorpus = await cachedKeyStatistics(model, 1, corpus.slice(1), { cacheDir: dir });
      assert.notEqual(otherCorpus.path, first.path);
      const otherLayer = await cachedKeyStatistics(model, 0, corpus, { cacheDir: dir, maxTokens: 30 });
      assert.notEqual(otherLayer.path, first.path);
      // Editing layer 1's down projection cannot change its keys (same file); editing layer 0's can.
      const n = model.config.dMlp;
      const value = new Array<number>(model.config.dModel).fill(0.5);
      const own = applyRankOneUpdate(model, 1, first.secondMoment.slice(0, n), value, randomStatistics(n, 1, 4));
      assert.equal((await cachedKeyStatistics(model, 1, corpus, { cacheDir: dir })).fromCache, true);
      restoreDownProjection(model, 1, own.original);
      const lower = applyRankOneUpdate(model, 0, first.secondMoment.slice(0, n), value, randomStatistics(n, 0, 4));
      try {
        assert.equal((await cachedKeyStatistics(model, 1, corpus, { cacheDir: dir })).fromCache, false);
      } finally {
        restoreDownProjection(model, 0, lower.original);
      }
    } finally {
      cleanup();
    }
  });
});

describe('subjects, keys and values', () => {
  let tokenizer: Tokenizer;
  before(async () => { tokenizer = await Tokenizer.fromFile(join(repoRoot, 'assets', 'tokenizers', 'gpt2', 'tokenizer.json')); });

  test('the subject is found in running text and placed by templates (GPT-2 tokenizer)', () => {
    const tokens = tokenizer.encode('The Eiffel Tower is in the city of');
    assert.deepEqual(tokenizer.tokenStrings(tokens.slice(...findSubjectRange(tokenizer, tokens, 'Eiffel Tower'))), [' E', 'iff', 'el', ' Tower']);
    const built = encodeWithSubject(tokenizer, 'The {} is in the city of', 'Eiffel Tower');
    assert.deepEqual(built.tokens, tokens);
    assert.deepEqual(built.subject, findSubjectRange(tokenizer, tokens, 'Eiffel Tower'));
    const first = encodeWithSubject(tokenizer, '{} is in', 'Paris');
    assert.deepEqual(first.subject, [0, 1]);
    assert.equal(toTemplate('The Eiffel Tower is in', 'Eiffel Tower'), 'The {} is in');
    assert.throws(() => findSubjectRange(tokenizer, tokens, 'Louvre'), /Louvre/);
    assert.throws(() => encodeWithSubject(tokenizer, 'no slot', 'x'), /exactly one '\{\}'/);
  });

  test('keys at the subject are hook_post at its last token; the value optimisation reports what it optimised', async () => {
    const model = await loadFixture('gpt2-tiny', ref);
    try {
      const layer = 0;
      const prompts = [encodeWithSubject(tokenizer, 'The {} is in', 'Eiffel Tower'), encodeWithSubject(tokenizer, 'I saw {}', 'Eiffel Tower')];
      const keys = keysAtSubject(model, layer, prompts);
      prompts.forEach((p, i) => {
        const expected = noGrad(() => {
          const { logits, cache } = model.runWithCache([p.tokens], { names: [keyHookName(layer)] });
          const data = tidy(() => cache.get(keyHookName(layer)).index(0, p.subject[1] - 1).toArray());
          logits.dispose();
          cache.dispose();
          return data;
        });
        assert.ok(maxAbs(keys[i].map((v, j) => v - expected[j])) < 1e-6);
      });

      const target = tokenizer.encode(' Rome', { addSpecialTokens: false });
      const initial = downProjection(model, layer, keys[0]);
      const essence = [encodeWithSubject(tokenizer, '{} is a', 'Eiffel Tower')];
      const result = await optimiseValue(model, { layer, rewritePrompts: prompts, targetIds: target, essencePrompts: essence, initial },
        { steps: 6, klFactor: 0.5, clampNormFactor: 0.5, stopLoss: 0 });
      assert.equal(result.steps.length, 6);
      assert.equal(result.steps[0].kl, 0, 'δ starts at 0');
      assert.ok(result.steps.at(-1)!.nll < result.steps[0].nll, 'the new object became likelier');
      const norm = (v: ArrayLike<number>) => Math.sqrt(dot(v, v));
      assert.ok(norm(result.delta) <= 0.5 * norm(initial) * (1 + 1e-5), 'δ stays in the clamp ball');
      assert.ok(maxAbs(result.value.map((v, i) => v - initial[i] - result.delta[i])) < 1e-12);
      // Recompute the last step's terms with δ added by a plain hook.
      const last = result.steps.at(-1)!;
      const delta = tensor(Float32Array.from(result.delta), [model.config.dModel], { backend: model.backend });
      const addAt = (p: { subject: readonly [number, number] }) => ({
        name: `blocks.${layer}.hook_mlp_out`, fn: (out: import('../../src/tensor/tensor.js').Tensor) => out.indexPut([0, p.subject[1] - 1], out.index(0, p.subject[1] - 1).add(delta)),
      });
      const nll = prompts.map((p) => noGrad(() => tidy(() => -model.forward([p.tokens], { hooks: [addAt(p)], logitPositions: 'last' }).logSoftmax(-1).reshape(-1).toArray()[target[0]])));
      const logProbs = (hooks: ReturnType<typeof addAt>[]) => noGrad(() => tidy(() => Float64Array.from(
        model.forward([essence[0].tokens], { hooks }).logSoftmax(-1).index(0, essence[0].subject[1] - 1).toArray())));
      const edited = logProbs([addAt(essence[0])]);
      const clean = logProbs([]);
      const kl = edited.reduce((s, lp, i) => s + Math.exp(lp) * (lp - clean[i]), 0);
      assert.ok(Math.abs(last.nll - (nll[0] + nll[1]) / 2) < 1e-4 * Math.max(1, last.nll), `nll ${last.nll} vs ${(nll[0] + nll[1]) / 2}`);
      assert.ok(Math.abs(last.kl - 0.5 * kl) < 1e-4 * Math.max(1, last.kl), `kl ${last.kl} vs ${0.5 * kl}`);
      assert.ok(Math.abs(last.decay - 0.5 * norm(result.delta) / dot(initial, initial)) < 1e-5 * Math.max(1e-3, last.decay));
      delta.dispose();
    } finally {
      model.dispose();
    }
  });
});

test('romeEdit: k* is the mean key over the contexts (prompt or subject alone), the layer then maps it to v*, undo is exact', async () => {
  const tokenizer = await Tokenizer.fromFile(join(repoRoot, 'assets', 'tokenizers', 'gpt2', 'tokenizer.json'));
  const model = await loadFixture('gpt2-tiny', ref);
  try {
    const layer = 1;
    const prefixes = ['', 'Once upon a time. ', 'I went home. '];
    const statistics = randomStatistics(model.config.dMlp, layer, 8);
    const request = { prompt: 'The Eiffel Tower is in', subject: 'Eiffel Tower', target: ' Rome' };
    const original = Float32Array.from(model.params.blocks[layer].mlp.out.weight.toArray());
    for (const keyContext of ['prompt', 'subject'] as const) {
      const expectedKey = meanKey(model, layer, prefixes.map((p) => encodeWithSubject(tokenizer, `${p}${keyContext === 'prompt' ? 'The {}' : '{}'}`, 'Eiffel Tower')));
      const edit = await romeEdit(model, tokenizer, request, { layer, statistics, prefixes, keyContext, steps: 3 });
      assert.match(edit.weightName, /(^|\.)h\.1\.mlp\.c_proj\.weight$/);
      assert.ok(maxAbs(edit.key.map((v, i) => v - expectedKey[i])) < 1e-6, `${keyContext}: k*`);
      assert.equal(edit.valueSteps.length, 3);
      const written = downProjection(model, layer, edit.key);
      assert.ok(maxAbs(written.map((v, i) => v - edit.value[i])) < 2e-4 * Math.max(1, maxAbs(edit.value)), `${keyContext}: W' k* + b = v*`);
      assert.equal(edit.applied, true);
      edit.undo();
      edit.undo();
      assert.equal(edit.applied, false);
      assert.deepEqual(model.params.blocks[layer].mlp.out.weight.toArray(), original);
    }
  } finally {
    model.dispose();
  }
});

test('an edited model saves as a Hugging Face folder that loads with the edit', async () => {
  const { dir, cleanup } = makeTempDir('rome-save');
  const model = await loadFixture('llama-tiny', ref);
  try {
    const n = model.config.dMlp;
    const update = applyRankOneUpdate(model, 0, Array.from({ length: n }, (_, i) => Math.cos(i)), new Array(model.config.dModel).fill(0.25), randomStatistics(n, 0, 2));
    const out = join(dir, 'edited');
    const copied = await saveEditedModel(model, out, { source: fixtureFolder('llama-tiny'), metadata: { edit: 'test' } });
    assert.ok(copied.includes('config.json'));
    assert.equal(await readFile(join(out, 'config.json'), 'utf8'), await readFile(join(fixtureFolder('llama-tiny'), 'config.json'), 'utf8'));
    const loaded = await loadModelFolder(out, { backend: ref });
    try {
      for (const [name, t] of model.params.named) assert.deepEqual(loaded.params.named.get(name)?.toArray(), t.toArray(), name);
    } finally {
      loaded.dispose();
    }
    assert.ok(update.original.length > 0);
    await assert.rejects(saveEditedModel(model, fixtureFolder('llama-tiny'), { source: fixtureFolder('llama-tiny') }), /refusing to overwrite/);
  } finally {
    model.dispose();
    cleanup();
  }
});
