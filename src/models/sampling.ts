// Choosing the next token from one row of logits: greedy, or sampling with temperature, top-k and
// top-p (nucleus), applied in Hugging Face's order (temperature, then top-k, then top-p over what
// top-k kept). Plain JS over a Float32Array in float64 arithmetic: one row of a few ten thousand
// logits per step is cheap next to the forward pass, and this code is its own reference.

import type { Rng } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';

export interface SamplingOptions {
  /**
   * Pick the most likely token (ties: the lowest id). Defaults to true when none of temperature,
   * topK and topP is given — as Hugging Face's generate, which samples only when asked.
   */
  greedy?: boolean;
  /** Divides the logits before sampling. 0 means greedy; must be >= 0. Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (exactly k: ties at the boundary go to the lower id). */
  topK?: number;
  /** Keep the most likely tokens until their probability reaches p, in (0, 1]. */
  topP?: number;
}

/** SamplingOptions checked and with defaults filled in. */
export interface SamplingPlan {
  readonly greedy: boolean;
  readonly temperature: number;
  readonly topK: number | null;
  readonly topP: number | null;
}

/** Validates options (ArgumentError naming the bad value) and resolves the greedy default. */
export function samplingPlan(options: SamplingOptions): SamplingPlan {
  const { temperature, topK, topP } = options;
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0)) {
    throw new ArgumentError(`temperature must be a finite number >= 0 (0 means greedy), got ${temperature}`);
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) {
    throw new ArgumentError(`topK must be an integer >= 1, got ${topK}`);
  }
  if (topP !== undefined && !(Number.isFinite(topP) && topP > 0 && topP <= 1)) {
    throw new ArgumentError(`topP must be in (0, 1], got ${topP}`);
  }
  const asksToSample = temperature !== undefined || topK !== undefined || topP !== undefined;
  const greedy = options.greedy ?? !asksToSample;
  return {
    greedy: greedy || temperature === 0,
    temperature: temperature ?? 1,
    topK: topK ?? null,
    topP: topP ?? null,
  };
}

/** Index of the largest logit; ties go to the lowest index (as torch.argmax). NaN never wins. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best] || Number.isNaN(logits[best])) best = i;
  return best;
}

/** log softmax(logits)[token], at temperature 1: how likely the unmodified model found the choice. */
export function logProbability(logits: ArrayLike<number>, token: number): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return logits[token] - max - Math.log(sum);
}

/** The next token for one row of logits [d_vocab]. Draws one uniform number from rng when sampling. */
export function chooseToken(logits: ArrayLike<number>, plan: SamplingPlan, rng: Rng): number {
  if (plan.greedy) return argmax(logits);
  const weights = temperatureWeights(logits, plan.temperature);
  const kept = keptTokens(weights, plan);
  return kept === null ? drawAll(weights, rng) : drawFrom(kept, weights, rng);
}

/**
 * exp((logit - max) / T): unnormalised probabilities. As T → 0 every weight but the maximum's
 * underflows to 0 (never NaN), so a tiny temperature degrades to greedy, ties shared.
 */
function temperatureWeights(logits: ArrayLike<number>, temperature: number): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  const weights = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const w = Math.exp((logits[i] - max) / temperature);
    weights[i] = Number.isNaN(w) ? 0 : w;
  }
  return weights;
}

/**
 * Ids top-k and top-p keep, most likely first (ties: lower id first); null when no filter applies.
 * Sorting the whole vocabulary every step would cost more than a small model's forward pass, so
 * only ids at or above a threshold are sorted: for top-k the k-th largest weight (quickselect),
 * for top-p alone a cutoff low enough that the ids above it hold mass p (the nucleus is a prefix
 * of the sorted order, and every id above the cutoff precedes every id below it).
 */
function keptTokens(weights: Float64Array, plan: SamplingPlan): number[] | null {
  const k = plan.topK !== null && plan.topK < weights.length ? plan.topK : null;
  const p = plan.topP !== null && plan.topP < 1 ? plan.topP : null;
  if (k === null && p === null) return null;
  if (k !== null) {
    const topK = sortedAtLeast(weights, kthLargest(weights, k)).slice(0, k);
    if (p === null) return topK;
    // Hugging Face renormalises over what top-k kept before applying top-p.
    return nucleus(topK, weights, p, sumOf(weights, topK));
  }
  const total = sumOf(weights, null);
  for (const cutoff of TOP_P_CUTOFFS) {
    let mass = 0;
    for (let i = 0; i < weights.length; i++) if (weights[i] >= cutoff) mass += weights[i];
    if (mass >= (p as number) * total || cutoff === -Infinity) return nucleus(sortedAtLeast(weights, cutoff), weights, p as number, total);
  }
  return null; // not reached: the last cutoff always returns
}

/**
 * Scanning is cheap and sorting is not, so cutoffs fall by 10× at a time. The largest weight is
 * exactly 1 and the ids below a cutoff c hold at most n·c of the mass, so 1e-9 suffices unless p is
 * within n·1e-9 of 1; -∞ (every id) covers that case.
 */
const TOP_P_CUTOFFS = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, -Infinity];

/** Ids whose weight is >= threshold, largest weight first, ties by lower id. */
function sortedAtLeast(weights: Float64Array, threshold: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < weights.length; i++) if (weights[i] >= threshold) ids.push(i);
  return ids.sort((a, b) => weights[b] - weights[a] || a - b);
}

function sumOf(weights: Float64Array, ids: readonly number[] | null): number {
  let total = 0;
  if (ids === null) for (let i = 0; i < weights.length; i++) total += weights[i];
  else for (const id of ids) total += weights[id];
  return total;
}

/** The k-th largest value (k from 1), by quickselect (Hoare partition) on a copy: O(n) on average. */
export function kthLargest(values: Float64Array, k: number): number {
  const a = values.slice();
  const target = k - 1;
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    // Now a[lo..j] >= pivot >= a[i..hi], and anything between j and i equals the pivot.
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return a[target];
}

/**
 * The shortest most-likely-first prefix of `sorted` whose weight reaches p of `total` (at least
 * one id): HF's rule, which drops a token when the mass ranked above it already reaches p.
 */
function nucleus(sorted: number[], weights: Float64Array, p: number, total: number): number[] {
  let before = 0;
  let end = 0;
  while (end < sorted.length && (end === 0 || before < p * total)) before += weights[sorted[end++]];
  return sorted.slice(0, end);
}

function drawAll(weights: Float64Array, rng: Rng): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i];
  let target = rng.next() * total;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] === 0) continue;
    last = i;
    target -= weights[i];
    if (target < 0) return i;
  }
  return last; // rounding left a sliver of mass: the last token with any weight takes it
}

function drawFrom(ids: readonly number[], weights: Float64Array, rng: Rng): number {
  let total = 0;
  for (const id of ids) total += weights[id];
  let target = rng.next() * total;
  for (const id of ids) {
    target -= weights[id];
    if (target < 0) return id;
  }
  return ids[ids.length - 1];
}
