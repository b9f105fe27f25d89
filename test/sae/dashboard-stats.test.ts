// The streaming feature statistics against the naive computation: a hand-built case whose answer is
// written out, random activations fed in batches of several lengths and orders (the grid grows
// while they stream), the uniformity of interval sampling across grid merges, and bad input.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FeatureStatsAccumulator } from '../../src/sae/dashboard-stats.js';
import { ArgumentError } from '../../src/util/errors.js';
import { TestRng } from '../models/helpers.js';
import { assertMatchesNaive, naiveFeature, type ActivationTable } from './dashboard-helpers.js';

/** Feeds rows (grouped by `batches`, each a list of row indices of one length) to an accumulator. */
function feed(acc: FeatureStatsAccumulator, acts: ActivationTable, batches: number[][], counted?: (r: number, p: number) => boolean): void {
  for (const batch of batches) {
    const length = acts[batch[0]].length;
    const flat = Float32Array.from(batch.flatMap((r) => acts[r].flat()));
    const mask = counted ? Uint8Array.from(batch.flatMap((r) => acts[r].map((_, p) => (counted(r, p) ? 1 : 0)))) : undefined;
    acc.addBatch(batch, length, flat, mask);
  }
}

test('a hand-built feature: known top-k, histogram, intervals, density and mean', () => {
  // One feature over two rows of 4 tokens; activations 0, 3, 0, 1 and 0.5, 0, 3.5, 0.
  const acts: ActivationTable = [[[0], [3], [0], [1]], [[0.5], [0], [3.5], [0]]];
  const acc = new FeatureStatsAccumulator([7], { topK: 2, histogramBins: 4, binsPerInterval: 2, examplesPerInterval: 10, window: { before: 1, after: 1 } });
  feed(acc, acts, [[0], [1]]);
  const [stats] = acc.finish();
  assert.equal(stats.feature, 7);
  assert.equal(stats.tokens, 8);
  assert.equal(stats.firingTokens, 4);
  assert.equal(stats.density, 0.5);
  assert.equal(stats.maxActivation, 3.5);
  assert.equal(stats.meanActivation, 2);
  // Top 2: 3.5 at row 1 position 2 (window positions 1..3), then 3 at row 0 position 1 (window 0..2).
  assert.deepEqual(stats.topExamples.map((e) => [e.row, e.position, e.activation, e.contextStart, [...e.activations]]),
    [[1, 2, 3.5, 1, [0, 3.5, 0]], [0, 1, 3, 0, [0, 3, 0]]]);
  // 4 bins with 4 · w > 3.5: w = 1; counts of [0,1) [1,2) [2,3) [3,4) = 0.5 | 1 | – | 3, 3.5.
  assert.deepEqual(stats.histogram, { binWidth: 1, counts: [1, 1, 0, 2] });
  // Intervals of 2 bins, highest first: [2, 4) holds 3 and 3.5, [0, 2) holds 0.5 and 1.
  assert.deepEqual(stats.intervals.map((i) => [i.lower, i.upper, i.count, i.examples.map((e) => e.activation)]),
    [[2, 4, 2, [3.5, 3]], [0, 2, 2, [1, 0.5]]]);
});

test('a feature that never fires, and excluded tokens', () => {
  const acts: ActivationTable = [[[0, 9], [0, 2], [0, 0]]];
  const acc = new FeatureStatsAccumulator([0, 1], { histogramBins: 4, binsPerInterval: 2 });
  feed(acc, acts, [[0]], (_, p) => p !== 0);
  const [dead, live] = acc.finish();
  assert.deepEqual([dead.tokens, dead.firingTokens, dead.density, dead.maxActivation, dead.topExamples.length, dead.intervals.length],
    [2, 0, 0, 0, 0, 0]);
  assert.ok(Number.isNaN(dead.meanActivation));
  assert.deepEqual(dead.histogram, { binWidth: 0, counts: [] });
  // The 9 at position 0 is excluded from the statistics but stays in its neighbour's context.
  assert.deepEqual([live.tokens, live.firingTokens, live.maxActivation], [2, 1, 2]);
  assert.deepEqual([...live.topExamples[0].activations], [9, 2, 0]);
});

for (const seed of [1, 2, 3]) {
  test(`random activations in batches (seed ${seed}) equal the naive statistics`, () => {
    const rng = new TestRng(seed);
    const nFeatures = 6;
    const lengths = [5, 9, 5, 3, 9, 9, 5, 1, 9];
    // Heavy-tailed, sparse activations; feature 5 never fires; feature 4 fires with wildly varying scale.
    const acts: ActivationTable = lengths.map((length) => Array.from({ length }, () => Array.from({ length: nFeatures }, (_, j) => {
      if (j === 5 || rng.uniform() < 0.5) return 0;
      const scale = j === 4 ? 10 ** rng.int(-3, 3) : j + 1;
      return Math.fround(scale * Math.exp(rng.normal()));
    })));
    const options = { topK: 4, histogramBins: 16, binsPerInterval: 2, before: 2, after: 1, perInterval: 3 };
    const counted = (r: number, p: number) => (r + p) % 7 !== 3;
    // Batches grouped by length, in a shuffled order: the result must not depend on it (samples aside).
    const byLength = new Map<number, number[]>();
    lengths.forEach((length, r) => byLength.set(length, [...(byLength.get(length) ?? []), r]));
    const batches = [...byLength.values()].flatMap((rows) => [rows.slice(0, 2), rows.slice(2)]).filter((b) => b.length > 0);
    batches.sort(() => rng.uniform() - 0.5);
    const acc = new FeatureStatsAccumulator([0, 1, 2, 3, 4, 5], {
      topK: options.topK, histogramBins: options.histogramBins, binsPerInterval: options.binsPerInterval,
      examplesPerInterval: options.perInterval, window: { before: options.before, after: options.after }, seed,
    });
    feed(acc, acts, batches, counted);
    acc.finish().forEach((stats, j) => {
      assertMatchesNaive(stats, naiveFeature(acts, j, { ...options, counted }), acts, j, options, 1e-9);
    });
  });
}

test('interval samples are uniform, also when intervals merge as the range grows', () => {
  // Nine tokens at 4.1 ... 4.9 arrive first: with 64 bins the width is 1/8 and they split over
  // intervals [4, 4.5) and [4.5, 5); then 8.5 doubles the width and the two intervals merge.
  const values = [4.1, 4.2, 4.3, 4.4, 4.5, 4.6, 4.7, 4.8, 4.9, 8.5].map(Math.fround);
  const acts: ActivationTable = [values.map((v) => [v])];
  const chosen = new Map<number, number>();
  const runs = 450;
  for (let seed = 0; seed < runs; seed++) {
    const acc = new FeatureStatsAccumulator([0], { histogramBins: 64, binsPerInterval: 4, examplesPerInterval: 2, window: { before: 0, after: 0 }, seed });
    feed(acc, acts, [[0]]);
    const [stats] = acc.finish();
    const merged = stats.intervals.find((i) => i.lower === 4) ?? assert.fail('no interval [4, 5)');
    assert.equal(merged.upper, 5);
    assert.equal(merged.count, 9);
    for (const e of merged.examples) chosen.set(e.position, (chosen.get(e.position) ?? 0) + 1);
  }
  // Each of the 9 tokens is in a sample of 2 with probability 2/9: 100 of 450 runs, sd ≈ 8.8.
  for (let p = 0; p < 9; p++) {
    const count = chosen.get(p) ?? 0;
    assert.ok(Math.abs(count - 100) < 36, `token ${p} sampled ${count} times in ${runs} runs, expected about 100`);
  }
});

test('bad options and activations are rejected with the value named', () => {
  assert.throws(() => new FeatureStatsAccumulator([0], { topK: 0 }), (e: Error) => e instanceof ArgumentError && /topK must be a positive integer, got 0/.test(e.message));
  assert.throws(() => new FeatureStatsAccumulator([0], { histogramBins: 12, binsPerInterval: 4 }), /histogramBins \(12\) must be an even multiple of binsPerInterval \(4\)/);
  const acc = new FeatureStatsAccumulator([3, 4]);
  assert.throws(() => acc.addBatch([0], 2, new Float32Array(3)), /3 activations for 1 rows × 2 positions × 2 features/);
  assert.throws(() => acc.addBatch([0], 1, Float32Array.of(0, Number.NaN)), /feature 4 is NaN at row 0, position 0/);
  assert.throws(() => acc.addBatch([0], 1, Float32Array.of(Infinity, 0)), /feature 3 is infinite/);
});
