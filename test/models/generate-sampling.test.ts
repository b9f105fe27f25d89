// Sampling: chooseToken's empirical distribution against the probabilities Hugging Face's logits
// warpers define (temperature, top-k, top-p), written here the straightforward way (full sorts,
// top-p by ascending cumulative sums as in transformers' TopPLogitsWarper); the limits that must
// equal greedy; and seeded generation on a fixture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import '../../src/backend/ref/index.js';
import { loadModelFolder } from '../../src/io/load-model.js';
import { generate } from '../../src/models/generate.js';
import { argmax, chooseToken, kthLargest, samplingPlan, type SamplingOptions } from '../../src/models/sampling.js';
import { Rng, manualSeed } from '../../src/tensor/index.js';
import { sharedFixtures } from '../io/fixture-paths.js';

/** Probabilities after HF's warpers, in float64. */
function referenceProbabilities(logits: readonly number[], options: SamplingOptions): number[] {
  const t = options.temperature ?? 1;
  let scores = logits.map((l) => l / t);
  const byScoreDesc = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  if (options.topK !== undefined && options.topK < scores.length) {
    const keep = new Set(byScoreDesc.slice(0, options.topK));
    scores = scores.map((s, i) => (keep.has(i) ? s : -Infinity));
  }
  const softmax = (xs: number[]): number[] => {
    const max = Math.max(...xs);
    const e = xs.map((x) => Math.exp(x - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / sum);
  };
  if (options.topP !== undefined) {
    const probs = softmax(scores);
    const ascending = probs.map((_, i) => i).sort((a, b) => probs[a] - probs[b]);
    let cumulative = 0;
    const remove = new Set<number>();
    ascending.forEach((id, rank) => {
      cumulative += probs[id];
      if (cumulative <= 1 - options.topP! && rank < ascending.length - 1) remove.add(id);
    });
    scores = scores.map((s, i) => (remove.has(i) ? -Infinity : s));
  }
  return softmax(scores);
}

function randomLogits(n: number, seed: number, scale = 2): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.normal() * scale);
}

/** Draw `draws` tokens and check each frequency against the expected probability (5 sigma + slack). */
function checkDistribution(logits: number[], options: SamplingOptions, draws: number, seed: number): void {
  const expected = referenceProbabilities(logits, options);
  const counts = new Array<number>(logits.length).fill(0);
  const rng = new Rng(seed);
  const plan = samplingPlan(options);
  const row = Float32Array.from(logits);
  for (let i = 0; i < draws; i++) counts[chooseToken(row, plan, rng)]++;
  counts.forEach((count, id) => {
    const p = expected[id];
    if (p === 0) {
      assert.equal(count, 0, `token ${id} is outside what ${JSON.stringify(options)} keeps but was drawn ${count} times`);
      return;
    }
    const sigma = Math.sqrt(draws * p * (1 - p));
    assert.ok(Math.abs(count - draws * p) <= 5 * sigma + 2, `${JSON.stringify(options)}: token ${id} drawn ${count} times, expected ${(draws * p).toFixed(1)}`);
  });
}

test('sampled frequencies follow temperature / top-k / top-p probabilities (small vocabularies)', () => {
  const cases: SamplingOptions[] = [
    { temperature: 1 }, { temperature: 0.5 }, { temperature: 3 }, { topK: 3 }, { topK: 1, temperature: 2 },
    { topP: 0.5 }, { topP: 0.9, temperature: 0.7 }, { topK: 5, topP: 0.6 }, { topK: 17, topP: 0.95, temperature: 1.3 },
  ];
  for (const [i, options] of cases.entries()) {
    for (const n of [1, 3, 17]) checkDistribution(randomLogits(n, 100 + i * 7 + n), options, 6000, i + n);
  }
});

test('top-k and top-p keep exactly the reference set on a large, peaked vocabulary (the cutoff fallbacks)', () => {
  // A few tokens dominate, so fewer than k ids sit above the first cutoffs and the search widens.
  const logits = randomLogits(5003, 9, 1);
  [17, 400, 4000].forEach((id, j) => { logits[id] = 40 - j; });
  for (const options of [{ topK: 50 }, { topK: 50, temperature: 20 }, { topP: 0.999999 }, { topP: 0.99, temperature: 8 }, { topK: 5000, topP: 0.9, temperature: 30 }]) {
    checkDistribution(logits, options, 300, 5);
  }
});

test('kthLargest equals sorting, with duplicates and odd sizes', () => {
  const rng = new Rng(11);
  for (const n of [1, 3, 17, 65, 1023]) {
    for (const distinct of [2, 1000]) {
      const values = Float64Array.from({ length: n }, () => rng.int(0, distinct) * 0.5);
      const sorted = [...values].sort((a, b) => b - a);
      for (const k of new Set([1, 2, Math.ceil(n / 2), n].filter((k) => k <= n))) {
        assert.equal(kthLargest(values, k), sorted[k - 1], `n=${n} k=${k} distinct=${distinct}`);
      }
    }
  }
});

test('top-k=1, tiny top-p, temperature 0 and tiny temperatures all equal greedy; ties go to the lowest id', () => {
  for (let seed = 0; seed < 20; seed++) {
    const logits = Float32Array.from(randomLogits(65, seed));
    const best = argmax(logits);
    const rng = new Rng(seed);
    for (const options of [{}, { greedy: true, temperature: 5 }, { topK: 1, temperature: 4 }, { topP: 1e-9 }, { temperature: 0 }, { temperature: 1e-6 }, { temperature: 1e-30 }]) {
      assert.equal(chooseToken(logits, samplingPlan(options), rng), best, `${JSON.stringify(options)} (seed ${seed})`);
    }
  }
  assert.equal(argmax([1, 3, 3, 2]), 1);
  assert.equal(argmax([Number.NaN, 1, 2]), 2);
  const tied = Float32Array.from([0, 5, 5, -1]);
  assert.equal(chooseToken(tied, samplingPlan({ topK: 1 }), new Rng(1)), 1);
  const rng = new Rng(2);
  const draws = new Set(Array.from({ length: 200 }, () => chooseToken(tied, samplingPlan({ temperature: 1e-9 }), rng)));
  assert.deepEqual([...draws].sort(), [1, 2], 'a vanishing temperature shares the mass between tied maxima');
});

test('samplingPlan: greedy unless asked to sample; invalid values are named', () => {
  assert.equal(samplingPlan({}).greedy, true);
  assert.equal(samplingPlan({ temperature: 0.7 }).greedy, false);
  assert.equal(samplingPlan({ topP: 0.9 }).greedy, false);
  assert.equal(samplingPlan({ greedy: true, topK: 5 }).greedy, true);
  assert.equal(samplingPlan({ greedy: false }).greedy, false);
  assert.throws(() => samplingPlan({ temperature: Number.NaN }), /temperature must be a finite number >= 0 .* got NaN/);
  assert.throws(() => samplingPlan({ topK: 2.5 }), /topK must be an integer >= 1, got 2.5/);
  assert.throws(() => samplingPlan({ topP: 0 }), /topP must be in \(0, 1\], got 0/);
});

test('seeded generation is reproducible, seeds differ, and the limits of sampling equal greedy', async () => {
  const model = await loadModelFolder(join(sharedFixtures, 'llama-tiny'));
  const prompts = [[1, 45, 300, 12, 7], [1, 99]];
  const options = { maxNewTokens: 12, stopTokenIds: [], temperature: 1.2, topK: 100, topP: 0.95 };
  const a = await generate(model, prompts, { ...options, seed: 1 });
  const b = await generate(model, prompts, { ...options, seed: 1 });
  const c = await generate(model, prompts, { ...options, seed: 2 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.tokens, c.tokens);
  // An explicit Rng and the global one (manualSeed) give the same stream as the seed.
  assert.deepEqual((await generate(model, prompts, { ...options, rng: new Rng(1) })).tokens, a.tokens);
  manualSeed(1);
  assert.deepEqual((await generate(model, prompts, options)).tokens, a.tokens);

  const greedy = await generate(model, prompts, { maxNewTokens: 12, stopTokenIds: [] });
  assert.ok(new Set(greedy.tokens[0]).size > 3, 'the fixture should not collapse to one token');
  for (const limit of [{ topK: 1, temperature: 2 }, { topP: 1e-7 }, { temperature: 0 }, { temperature: 1e-5 }]) {
    const limited = await generate(model, prompts, { maxNewTokens: 12, stopTokenIds: [], seed: 4, ...limit });
    assert.deepEqual(limited.tokens, greedy.tokens, JSON.stringify(limit));
  }
  model.dispose();
});
