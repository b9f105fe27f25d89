// Streaming statistics of SAE features over a token corpus, for feature dashboards (as SAEDashboard
// and Neuronpedia show them): how often a feature fires, how strongly, its top-activating contexts,
// and examples sampled across its whole range of activations — not only its maximum, where a
// feature can look cleaner than it is.
//
// Memory does not grow with the corpus. The histogram lives on a grid of equal-width bins whose
// width is a power of two: when an activation lands past the last bin, the width doubles and
// neighbouring bins merge, which is exact (bin j of width 2w is bins 2j and 2j+1 of width w). The
// final width is therefore the smallest power of two w with bins · w > max activation, whatever
// order the tokens came in. Interval samples use the same grid (a few histogram bins per interval)
// and keep, per interval, the examples with the smallest random keys: a uniform sample without
// replacement that stays uniform when two intervals merge (the smallest keys of a union are the
// smallest of the two sets' smallest keys).

import { Rng } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';

/** One token where a feature fired, with the activations of a window of tokens around it. */
export interface FeatureExample {
  /** Index of the row in the rows scanned. */
  readonly row: number;
  readonly position: number;
  readonly activation: number;
  /** Position of activations[0] in the row. */
  readonly contextStart: number;
  /** The feature's activation at each token of the window (row positions contextStart...). */
  readonly activations: Float32Array;
}

/** Examples from one equal-width interval of activation values, [lower, upper). */
export interface ActivationInterval {
  readonly lower: number;
  readonly upper: number;
  /** Firing tokens whose activation falls in the interval. */
  readonly count: number;
  /** A uniform random sample of them (at most examplesPerInterval), largest activation first. */
  readonly examples: FeatureExample[];
}

export interface FeatureStatistics {
  readonly feature: number;
  /** Tokens counted (excluded tokens are not). */
  readonly tokens: number;
  /** Tokens where the activation is > 0. */
  readonly firingTokens: number;
  /** firingTokens / tokens. */
  readonly density: number;
  /** Largest activation (0 when the feature never fired). */
  readonly maxActivation: number;
  /** Mean activation over the tokens where it fired (NaN when it never fired). */
  readonly meanActivation: number;
  /** The top-k examples, largest activation first (ties: earlier row, then earlier position). */
  readonly topExamples: FeatureExample[];
  /** Counts of firing activations in bins [i · binWidth, (i + 1) · binWidth); empty when it never fired. */
  readonly histogram: { readonly binWidth: number; readonly counts: number[] };
  /** Interval samples over (0, max], highest interval first; intervals with no tokens are left out. */
  readonly intervals: ActivationInterval[];
}

export interface FeatureStatsOptions {
  /** Top-activating examples kept per feature (default 20). */
  topK?: number;
  /** Examples sampled per activation interval (default 5). */
  examplesPerInterval?: number;
  /** Histogram bins the grid has; the activations use between half and all of them (default 64). */
  histogramBins?: number;
  /** Histogram bins per sampling interval (default 4: between 9 and 16 intervals). Must divide histogramBins. */
  binsPerInterval?: number;
  /** Tokens of context kept around each example (default 12 before, 6 after). */
  window?: { before?: number; after?: number };
  /** Seed of the interval sampling (default 0): equal seeds and inputs give equal samples. */
  seed?: number;
}

interface Sampled extends FeatureExample {
  readonly key: number;
}

/** Per-feature state. Allocated on the first firing token, so dead features cost nothing. */
class FeatureState {
  firing = 0;
  sum = 0;
  max = 0;
  /** Histogram bin width (a power of two); 0 until the first firing token. */
  width = 0;
  readonly counts: Float64Array;
  readonly top: FeatureExample[] = [];
  readonly samples: Sampled[][];

  constructor(bins: number, intervals: number) {
    this.counts = new Float64Array(bins);
    this.samples = Array.from({ length: intervals }, () => []);
  }
}

/** Whether a ranks above b in the top examples: larger activation, then earlier row, then earlier position. */
function ranksAbove(a: { activation: number; row: number; position: number }, b: FeatureExample): boolean {
  if (a.activation !== b.activation) return a.activation > b.activation;
  return a.row !== b.row ? a.row < b.row : a.position < b.position;
}

/**
 * Accumulates statistics of `features.length` features over batches of token rows. Feed it with
 * addBatch, then read finish(). The columns of each batch's activations are the features, in order.
 */
export class FeatureStatsAccumulator {
  private readonly states: (FeatureState | null)[];
  private readonly topK: number;
  private readonly perInterval: number;
  private readonly bins: number;
  private readonly binsPerInterval: number;
  private readonly before: number;
  private readonly after: number;
  private readonly rng: Rng;
  private tokens = 0;

  constructor(readonly features: readonly number[], options: FeatureStatsOptions = {}) {
    this.topK = options.topK ?? 20;
    this.perInterval = options.examplesPerInterval ?? 5;
    this.bins = options.histogramBins ?? 64;
    this.binsPerInterval = options.binsPerInterval ?? 4;
    this.before = options.window?.before ?? 12;
    this.after = options.window?.after ?? 6;
    const counts = { topK: this.topK, examplesPerInterval: this.perInterval, histogramBins: this.bins, binsPerInterval: this.binsPerInterval };
    for (const [name, value] of Object.entries(counts)) {
      if (!Number.isInteger(value) || value < 1) throw new ArgumentError(`feature statistics: ${name} must be a positive integer, got ${value}`);
    }
    if (this.bins % this.binsPerInterval !== 0 || (this.bins / this.binsPerInterval) % 2 !== 0) {
      throw new ArgumentError(`feature statistics: histogramBins (${this.bins}) must be an even multiple of binsPerInterval (${this.binsPerInterval})`);
    }
    for (const [name, value] of [['before', this.before], ['after', this.after]] as const) {
      if (!Number.isInteger(value) || value < 0) throw new ArgumentError(`feature statistics: window.${name} must be an integer >= 0, got ${value}`);
    }
    this.states = features.map(() => null);
    this.rng = new Rng(options.seed ?? 0);
  }

  /**
   * One batch of rows of equal length: `activations` is [rows.length, length, features.length]
   * row-major; `counted` (optional, [rows.length * length]) is 0 where a token is left out of
   * every statistic (e.g. BOS), though it still shows in the contexts of its neighbours.
   */
  addBatch(rows: readonly number[], length: number, activations: ArrayLike<number>, counted?: ArrayLike<number>): void {
    const nF = this.features.length;
    if (activations.length !== rows.length * length * nF) {
      throw new ArgumentError(`feature statistics: ${activations.length} activations for ${rows.length} rows × ${length} positions × ${nF} features`);
    }
    rows.forEach((row, b) => {
      for (let p = 0; p < length; p++) {
        const token = b * length + p;
        if (counted !== undefined && counted[token] === 0) continue;
        this.tokens++;
        const base = token * nF;
        for (let j = 0; j < nF; j++) {
          const value = activations[base + j];
          if (value > 0) this.fire(j, value, row, p, activations, b * length * nF, length);
          else if (Number.isNaN(value)) throw new ArgumentError(`feature statistics: feature ${this.features[j]} is NaN at row ${row}, position ${p}`);
        }
      }
    });
  }

  private fire(j: number, value: number, row: number, position: number, acts: ArrayLike<number>, rowBase: number, length: number): void {
    if (value === Infinity) throw new ArgumentError(`feature statistics: feature ${this.features[j]} is infinite at row ${row}, position ${position}`);
    const state = (this.states[j] ??= new FeatureState(this.bins, this.bins / this.binsPerInterval));
    state.firing++;
    state.sum += value;
    if (value > state.max) state.max = value;
    this.growGrid(state, value);
    const bin = Math.floor(value / state.width);
    state.counts[bin]++;

    const window = () => {
      const start = Math.max(0, position - this.before);
      const end = Math.min(length, position + this.after + 1);
      const out = new Float32Array(end - start);
      for (let p = start; p < end; p++) out[p - start] = acts[rowBase + p * this.features.length + j];
      return { row, position, activation: value, contextStart: start, activations: out };
    };
    const top = state.top;
    const candidate = { activation: value, row, position };
    if (top.length < this.topK || ranksAbove(candidate, top[top.length - 1])) {
      let i = top.length;
      while (i > 0 && ranksAbove(candidate, top[i - 1])) i--;
      top.splice(i, 0, window());
      if (top.length > this.topK) top.pop();
    }
    const key = this.rng.next();
    const sample = state.samples[Math.floor(bin / this.binsPerInterval)];
    if (sample.length < this.perInterval || key < sample[sample.length - 1].key) {
      let i = sample.length;
      while (i > 0 && sample[i - 1].key > key) i--;
      sample.splice(i, 0, { ...window(), key });
      if (sample.length > this.perInterval) sample.pop();
    }
  }

  /** Widens the grid (doubling the bin width, merging pairs of bins and of intervals) until `value` fits. */
  private growGrid(state: FeatureState, value: number): void {
    const bins = this.bins;
    if (state.width === 0) {
      // The smallest power of two with bins · width > value.
      let width = Math.max(2 ** Math.floor(Math.log2(value / bins)), 2 ** -1074);
      while (bins * width <= value) width *= 2;
      while (width > 0 && bins * (width / 2) > value) width /= 2;
      state.width = width;
      return;
    }
    while (bins * state.width <= value) {
      state.width *= 2;
      const c = state.counts;
      for (let i = 0; i < bins / 2; i++) c[i] = c[2 * i] + c[2 * i + 1];
      c.fill(0, bins / 2);
      const s = state.samples;
      for (let i = 0; i < s.length / 2; i++) {
        s[i] = [...s[2 * i], ...s[2 * i + 1]].sort((a, b) => a.key - b.key).slice(0, this.perInterval);
      }
      for (let i = s.length / 2; i < s.length; i++) s[i] = [];
    }
  }

  /** The statistics of each feature, in the order of `features`. */
  finish(): FeatureStatistics[] {
    return this.features.map((feature, j) => {
      const state = this.states[j];
      const tokens = this.tokens;
      if (state === null) {
        return {
          feature, tokens, firingTokens: 0, density: 0, maxActivation: 0, meanActivation: Number.NaN,
          topExamples: [], histogram: { binWidth: 0, counts: [] }, intervals: [],
        };
      }
      // Keep the bins up to the last one used: the grid guarantees at least half of them are.
      const used = Math.floor(state.max / state.width) + 1;
      const counts = Array.from(state.counts.subarray(0, used));
      const intervalWidth = state.width * this.binsPerInterval;
      const intervals: ActivationInterval[] = [];
      state.samples.forEach((sample, i) => {
        const count = counts.slice(i * this.binsPerInterval, (i + 1) * this.binsPerInterval).reduce((a, b) => a + b, 0);
        if (count === 0) return;
        const examples = sample.map(({ key: _key, ...example }) => example).sort((a, b) => b.activation - a.activation);
        intervals.push({ lower: i * intervalWidth, upper: (i + 1) * intervalWidth, count, examples });
      });
      return {
        feature, tokens, firingTokens: state.firing, density: tokens > 0 ? state.firing / tokens : 0,
        maxActivation: state.max, meanActivation: state.sum / state.firing,
        topExamples: [...state.top], histogram: { binWidth: state.width, counts }, intervals: intervals.reverse(),
      };
    });
  }
}
