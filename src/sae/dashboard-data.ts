// The JSON a feature dashboard is written as (one file per feature, and an index over many): plain
// data with SAELens/TransformerLens spellings (snake_case, hook names), versioned so readers — the
// HTML pages, the web UI's panel, a Python notebook — can check what they are reading.
//
// Schema 'dissect/sae-feature-dashboard', version 1 (FeatureDashboard below):
//   feature                 index of the feature in the SAE
//   model, sae, corpus      what was scanned (DashboardSource)
//   density                 fraction of counted tokens where the activation is > 0; log10_density (null when 0)
//   fired_tokens            how many tokens that is
//   max_activation          0 when the feature never fired; mean_activation: over firing tokens (null when none)
//   histogram               counts of firing activations in bins [i · bin_width, (i + 1) · bin_width)
//   top_examples            the largest activations, largest first (DashboardExample)
//   interval_examples       uniform samples from equal-width intervals [lower, upper) of the activation,
//                           highest first; count = firing tokens in the interval, fraction = count / fired_tokens
//   logit_effects           tokens the decoder row promotes / suppresses through the direct path (method
//                           says how), or null when the SAE's hook has no direct path to the logits
// A DashboardExample is a window of one row: token_ids, tokens (display strings) and activations
// (the feature's, per token) in parallel arrays; focus is the index in them of the example's token.
// Numbers are rounded to 6 significant digits.

import type { TokenScore } from '../analysis/circuits.js';
import { ArgumentError } from '../util/errors.js';
import type { LogitEffects } from './dashboard-scan.js';
import type { FeatureExample, FeatureStatistics } from './dashboard-stats.js';

export const FEATURE_DASHBOARD_SCHEMA = 'dissect/sae-feature-dashboard';
export const DASHBOARD_INDEX_SCHEMA = 'dissect/sae-dashboard-index';
export const DASHBOARD_SCHEMA_VERSION = 1;

/** What was scanned: the same for every feature of one run. */
export interface DashboardSource {
  /** How the model is named to a reader (a hub id, a folder name). */
  model: string;
  /** The SAE's cfg.json fields, and where it was loaded from (a folder or hub id, as given). */
  sae: { hook_name: string; d_in: number; d_sae: number; architecture?: string; path?: string };
  corpus: {
    /** A file name, or a description of a generated corpus. */
    name: string;
    rows: number;
    /** Tokens counted in the statistics (excluded tokens are not). */
    tokens: number;
    /** Token ids left out of every statistic (they still appear in contexts). */
    excluded_token_ids: number[];
  };
}

export interface DashboardExample {
  row: number;
  position: number;
  activation: number;
  /** Row position of the first token of the window. */
  context_start: number;
  /** Index of the example's token in the arrays below. */
  focus: number;
  token_ids: number[];
  tokens: string[];
  activations: number[];
}

export interface DashboardInterval {
  lower: number;
  upper: number;
  count: number;
  fraction: number;
  examples: DashboardExample[];
}

export interface TokenEffect {
  token_id: number;
  token: string;
  value: number;
}

export interface FeatureDashboard extends DashboardSource {
  schema: typeof FEATURE_DASHBOARD_SCHEMA;
  version: typeof DASHBOARD_SCHEMA_VERSION;
  feature: number;
  density: number;
  log10_density: number | null;
  fired_tokens: number;
  max_activation: number;
  mean_activation: number | null;
  histogram: { bin_width: number; counts: number[] };
  top_examples: DashboardExample[];
  interval_examples: DashboardInterval[];
  logit_effects: { method: string; positive: TokenEffect[]; negative: TokenEffect[] } | null;
}

export interface DashboardIndexEntry {
  feature: number;
  /** The feature's JSON and HTML files, relative to the index. */
  json: string;
  html: string;
  density: number;
  log10_density: number | null;
  max_activation: number;
  mean_activation: number | null;
  /** The largest activation's example, or null when the feature never fired. */
  top_example: DashboardExample | null;
  /** The few tokens it promotes most (empty without logit effects). */
  positive_tokens: string[];
}

export interface DashboardIndex extends DashboardSource {
  schema: typeof DASHBOARD_INDEX_SCHEMA;
  version: typeof DASHBOARD_SCHEMA_VERSION;
  features: DashboardIndexEntry[];
}

/** Display strings of token ids (e.g. `(ids) => tokenizer.tokenStrings(ids)`). */
export type TokenStrings = (ids: readonly number[]) => string[];

/** A number for JSON: 6 significant digits (float32 noise dropped), −0 as 0. */
export function roundValue(value: number): number {
  return value === 0 || !Number.isFinite(value) ? value + 0 : Number(value.toPrecision(6)) + 0;
}

function example(e: FeatureExample, rows: readonly (readonly number[])[], tokenStrings: TokenStrings): DashboardExample {
  const ids = rows[e.row].slice(e.contextStart, e.contextStart + e.activations.length);
  return {
    row: e.row, position: e.position, activation: roundValue(e.activation), context_start: e.contextStart,
    focus: e.position - e.contextStart, token_ids: [...ids], tokens: tokenStrings(ids), activations: Array.from(e.activations, roundValue),
  };
}

function effects(scores: readonly TokenScore[], tokenStrings: TokenStrings): TokenEffect[] {
  const strings = tokenStrings(scores.map((s) => s.token));
  return scores.map((s, i) => ({ token_id: s.token, token: strings[i], value: roundValue(s.value) }));
}

/**
 * The dashboard of one feature from its statistics over `rows` (the same rows scanFeatures read)
 * and, when the hook has a direct path to the logits, its logit effects.
 */
export function featureDashboard(stats: FeatureStatistics, rows: readonly (readonly number[])[], tokenStrings: TokenStrings,
  source: DashboardSource, logitEffects: { effects: LogitEffects; method: string } | null): FeatureDashboard {
  if (logitEffects !== null && logitEffects.effects.feature !== stats.feature) {
    throw new ArgumentError(`featureDashboard: logit effects of feature ${logitEffects.effects.feature} given for feature ${stats.feature}`);
  }
  const fired = stats.firingTokens;
  return {
    schema: FEATURE_DASHBOARD_SCHEMA,
    version: DASHBOARD_SCHEMA_VERSION,
    feature: stats.feature,
    model: source.model,
    sae: { ...source.sae },
    corpus: { ...source.corpus, excluded_token_ids: [...source.corpus.excluded_token_ids] },
    density: roundValue(stats.density),
    log10_density: fired > 0 ? roundValue(Math.log10(stats.density)) : null,
    fired_tokens: fired,
    max_activation: roundValue(stats.maxActivation),
    mean_activation: fired > 0 ? roundValue(stats.meanActivation) : null,
    histogram: { bin_width: stats.histogram.binWidth, counts: [...stats.histogram.counts] },
    top_examples: stats.topExamples.map((e) => example(e, rows, tokenStrings)),
    interval_examples: stats.intervals.map((interval) => ({
      lower: interval.lower, upper: interval.upper, count: interval.count, fraction: roundValue(interval.count / fired),
      examples: interval.examples.map((e) => example(e, rows, tokenStrings)),
    })),
    logit_effects: logitEffects === null ? null : {
      method: logitEffects.method,
      positive: effects(logitEffects.effects.positive, tokenStrings),
      negative: effects(logitEffects.effects.negative, tokenStrings),
    },
  };
}

/** File names of a feature's dashboard, relative to the folder the index is in. */
export function dashboardFileNames(feature: number): { json: string; html: string } {
  return { json: `feature-${feature}.json`, html: `feature-${feature}.html` };
}

/** The index over several features' dashboards, in the order given. */
export function dashboardIndex(dashboards: readonly FeatureDashboard[], source: DashboardSource): DashboardIndex {
  return {
    schema: DASHBOARD_INDEX_SCHEMA,
    version: DASHBOARD_SCHEMA_VERSION,
    model: source.model,
    sae: { ...source.sae },
    corpus: { ...source.corpus, excluded_token_ids: [...source.corpus.excluded_token_ids] },
    features: dashboards.map((d) => ({
      feature: d.feature,
      ...dashboardFileNames(d.feature),
      density: d.density,
      log10_density: d.log10_density,
      max_activation: d.max_activation,
      mean_activation: d.mean_activation,
      top_example: d.top_examples[0] ?? null,
      positive_tokens: (d.logit_effects?.positive ?? []).slice(0, 5).map((t) => t.token),
    })),
  };
}

export type FeatureRanking = 'density' | 'max' | 'mean';
export const FEATURE_RANKINGS: readonly FeatureRanking[] = ['density', 'max', 'mean'];

/** The `count` features that rank highest by `by` among those that fired (fewer when fewer fired); ties: lower index first. */
export function topFeatures(stats: readonly FeatureStatistics[], count: number, by: FeatureRanking): FeatureStatistics[] {
  if (!Number.isInteger(count) || count < 1) throw new ArgumentError(`topFeatures: count must be a positive integer, got ${count}`);
  const key = (s: FeatureStatistics) => (by === 'density' ? s.density : by === 'max' ? s.maxActivation : s.meanActivation);
  return stats.filter((s) => s.firingTokens > 0)
    .sort((a, b) => key(b) - key(a) || a.feature - b.feature)
    .slice(0, count);
}
