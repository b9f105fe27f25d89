// The naive reference the dashboard tests compare against: every statistic computed from a full
// list of activations (no streaming, no grid growth), and small SAEs built on the ref backend.

import assert from 'node:assert/strict';
import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import { SparseAutoencoder, type SAEConfig } from '../../src/sae/sae.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import { tensor } from '../../src/tensor/index.js';
import type { FeatureStatistics } from '../../src/sae/dashboard-stats.js';
import { TestRng } from '../models/helpers.js';

export const ref = getBackend('ref');

/** acts[row][pos][feature]: every activation of every feature. */
export type ActivationTable = number[][][];

export interface NaiveOptions {
  topK: number;
  histogramBins: number;
  binsPerInterval: number;
  before: number;
  after: number;
  /** counted[row][pos] false: left out. */
  counted?: (row: number, pos: number) => boolean;
}

export interface NaiveFiring {
  row: number;
  position: number;
  activation: number;
}

export interface NaiveFeature {
  tokens: number;
  firing: NaiveFiring[];
  density: number;
  max: number;
  mean: number;
  top: NaiveFiring[];
  binWidth: number;
  counts: number[];
  /** Per used interval (lowest first): its bounds and the firing tokens in it. */
  intervals: { lower: number; upper: number; members: NaiveFiring[] }[];
}

/** The statistics of feature `j`, straight from the definitions. */
export function naiveFeature(acts: ActivationTable, j: number, o: NaiveOptions): NaiveFeature {
  let tokens = 0;
  const firing: NaiveFiring[] = [];
  acts.forEach((row, r) => row.forEach((values, p) => {
    if (o.counted && !o.counted(r, p)) return;
    tokens++;
    if (values[j] > 0) firing.push({ row: r, position: p, activation: values[j] });
  }));
  const max = Math.max(0, ...firing.map((f) => f.activation));
  const mean = firing.reduce((s, f) => s + f.activation, 0) / firing.length;
  const top = [...firing].sort((a, b) => b.activation - a.activation || a.row - b.row || a.position - b.position).slice(0, o.topK);
  // The smallest power of two w with bins · w > max.
  let binWidth = 0;
  const counts: number[] = [];
  const intervals: NaiveFeature['intervals'] = [];
  if (firing.length > 0) {
    binWidth = 1;
    while (o.histogramBins * binWidth <= max) binWidth *= 2;
    while (o.histogramBins * binWidth / 2 > max) binWidth /= 2;
    const used = Math.floor(max / binWidth) + 1;
    for (let i = 0; i < used; i++) counts.push(firing.filter((f) => f.activation >= i * binWidth && f.activation < (i + 1) * binWidth).length);
    const width = binWidth * o.binsPerInterval;
    for (let i = 0; i * width <= max; i++) {
      const members = firing.filter((f) => f.activation >= i * width && f.activation < (i + 1) * width);
      if (members.length > 0) intervals.push({ lower: i * width, upper: (i + 1) * width, members });
    }
  }
  return { tokens, firing, density: tokens ? firing.length / tokens : 0, max, mean, top, binWidth, counts, intervals };
}

/** Checks an accumulator's statistics of one feature against the naive ones (samples: membership and size). */
export function assertMatchesNaive(actual: FeatureStatistics, expected: NaiveFeature, acts: ActivationTable, j: number,
  o: NaiveOptions & { perInterval: number }, tolerance: number): void {
  const what = `feature ${actual.feature}`;
  const close = (a: number, b: number, label: string) => assert.ok(Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b)), `${what} ${label}: ${a} vs ${b}`);
  assert.equal(actual.tokens, expected.tokens, `${what} tokens`);
  assert.equal(actual.firingTokens, expected.firing.length, `${what} firing tokens`);
  close(actual.density, expected.density, 'density');
  close(actual.maxActivation, expected.max, 'max');
  if (expected.firing.length > 0) close(actual.meanActivation, expected.mean, 'mean');
  else assert.ok(Number.isNaN(actual.meanActivation), `${what}: mean of a dead feature is NaN`);
  assert.deepEqual(actual.topExamples.map((e) => [e.row, e.position]), expected.top.map((e) => [e.row, e.position]), `${what} top examples`);
  for (const e of [...actual.topExamples, ...actual.intervals.flatMap((i) => i.examples)]) {
    assert.equal(e.contextStart, Math.max(0, e.position - o.before), `${what} context start`);
    const end = Math.min(acts[e.row].length, e.position + o.after + 1);
    assert.deepEqual(Array.from(e.activations), acts[e.row].slice(e.contextStart, end).map((v) => Math.fround(v[j])), `${what} window activations`);
    assert.equal(e.activation, Math.fround(acts[e.row][e.position][j]), `${what} example activation`);
  }
  assert.equal(actual.histogram.binWidth, expected.binWidth, `${what} bin width`);
  assert.deepEqual(actual.histogram.counts, expected.counts, `${what} histogram`);
  const intervals = [...expected.intervals].reverse();
  assert.deepEqual(actual.intervals.map((i) => [i.lower, i.upper, i.count]), intervals.map((i) => [i.lower, i.upper, i.members.length]), `${what} intervals`);
  actual.intervals.forEach((interval, i) => {
    const members = new Set(intervals[i].members.map((m) => `${m.row}:${m.position}`));
    const keys = interval.examples.map((e) => `${e.row}:${e.position}`);
    assert.equal(new Set(keys).size, keys.length, `${what} interval ${i}: examples are distinct`);
    assert.equal(keys.length, Math.min(o.perInterval, members.size), `${what} interval ${i}: sample size`);
    for (const key of keys) assert.ok(members.has(key), `${what} interval ${i}: ${key} is not in [${interval.lower}, ${interval.upper})`);
    const sorted = interval.examples.map((e) => e.activation);
    assert.deepEqual(sorted, [...sorted].sort((a, b) => b - a), `${what} interval ${i}: largest first`);
  });
}

/** Per-dimension mean and overall standard deviation of a hook's activation over some rows (to fit a random SAE to it). */
export interface InputStats {
  mean: Float32Array;
  std: number;
}

/**
 * A standard (ReLU) SAE on the ref backend with random weights, fitted to inputs with `stats`
 * (b_dec is their mean, which the SAE subtracts; W_enc is scaled by their spread) so that
 * pre-activations are about N(0, 1) and, with the encoder bias near -0.5, each feature fires on
 * roughly a third of tokens (some more, some less).
 */
export function randomSae(hookName: string, hookLayer: number, dIn: number, dSae: number, seed: number,
  stats: InputStats = { mean: new Float32Array(dIn), std: 1 }): SparseAutoencoder {
  const rng = new TestRng(seed);
  const cfg: SAEConfig = {
    architecture: 'standard', d_in: dIn, d_sae: dSae, apply_b_dec_to_input: true, normalize_activations: 'none',
    hook_name: hookName, hook_layer: hookLayer, dtype: 'float32',
  };
  const randomTensor = (shape: number[], scale: number) =>
    tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale), shape, { backend: ref });
  return new SparseAutoencoder(cfg, {
    W_enc: randomTensor([dIn, dSae], 1 / (Math.sqrt(dIn) * stats.std)),
    b_enc: tensor(Float32Array.from({ length: dSae }, () => -0.5 + 0.3 * rng.normal()), [dSae], { backend: ref }),
    W_dec: randomTensor([dSae, dIn], 1 / Math.sqrt(dIn)),
    b_dec: tensor(stats.mean, [dIn], { backend: ref }),
  });
}

/** InputStats of a hook's activation over `rows`. */
export function inputStats(model: HookedTransformer, hookName: string, rows: readonly (readonly number[])[], dIn: number): InputStats {
  const all: Float32Array[] = rows.map((row) => {
    const { logits, cache } = model.runWithCache([[...row]], { names: [hookName] });
    const values = Float32Array.from(cache.get(hookName).toArray());
    logits.dispose();
    cache.dispose();
    return values;
  });
  const mean = new Float32Array(dIn);
  let count = 0;
  for (const values of all) for (let i = 0; i < values.length; i++) mean[i % dIn] += values[i];
  for (const values of all) count += values.length / dIn;
  mean.forEach((_, i) => (mean[i] /= count));
  let square = 0;
  for (const values of all) for (let i = 0; i < values.length; i++) square += (values[i] - mean[i % dIn]) ** 2;
  return { mean, std: Math.sqrt(square / (count * dIn)) };
}
