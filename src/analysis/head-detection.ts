// Finding attention heads of a known kind by comparing each head's attention pattern with a
// detection pattern (TransformerLens's head_detector): previous-token, duplicate-token and
// induction heads, or any lower-triangular pattern the caller supplies.
//
// Scores (per head, averaged over the batch rows):
// - 'mul' (default): Σ attention · detection / Σ attention — the share of the head's attention
//   that lands where the detection pattern says (1 = all of it).
// - 'abs': 1 − Σ |attention − detection| / seq_len — 1 for a perfect match, down to −1.
//   (TransformerLens also rounds this to 3 decimals; we do not.)
// excludeBos zeroes attention to (or error at) position 0, excludeCurrentToken the diagonal,
// before scoring — as TransformerLens.

import type { ActivationCache } from '../hooks/activation-cache.js';
import type { HookedTransformer } from '../models/transformer.js';
import { Rng, tensor } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, IndexError, ShapeError, fmtShape } from '../util/errors.js';
import { notice } from '../util/log.js';
import { cached } from './cache-access.js';
import { checkHead } from './model-weights.js';

export type HeadKind = 'previous_token' | 'duplicate_token' | 'induction';
export const HEAD_KINDS: readonly HeadKind[] = ['previous_token', 'duplicate_token', 'induction'];

/**
 * What to look for: a named kind (its pattern is derived from each row's tokens), a function from
 * a row's tokens to a [pos][pos] pattern, or one fixed [pos][pos] pattern for every row.
 */
export type DetectionPattern = HeadKind | ((tokens: readonly number[]) => readonly (readonly number[])[]) | readonly (readonly number[])[];

export interface HeadScoreOptions {
  /** Ignore attention to position 0 (the BOS token). Default false. */
  excludeBos?: boolean;
  /** Ignore each query's attention to itself. Default false. */
  excludeCurrentToken?: boolean;
  errorMeasure?: 'mul' | 'abs';
  /** Score only these [layer, head] pairs; the others get −1 (as TransformerLens). Default all. */
  heads?: readonly (readonly [number, number])[];
}

/** [pos][pos] detection pattern of a named kind for one row of tokens (1 where the head should attend). */
export function detectionPattern(kind: HeadKind, tokens: readonly number[]): number[][] {
  const n = tokens.length;
  const zeros = () => Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const pattern = zeros();
  switch (kind) {
    case 'previous_token':
      for (let q = 1; q < n; q++) pattern[q][q - 1] = 1;
      return pattern;
    case 'duplicate_token': // earlier occurrences of the same token, not itself
      for (let q = 0; q < n; q++) for (let k = 0; k < q; k++) if (tokens[k] === tokens[q]) pattern[q][k] = 1;
      return pattern;
    case 'induction': // the token after an earlier occurrence of the current token: k − 1 duplicates q
      for (let q = 0; q < n; q++) for (let k = 1; k <= q; k++) if (k - 1 !== q && tokens[k - 1] === tokens[q]) pattern[q][k] = 1;
      return pattern;
    default:
      return kind satisfies never;
  }
}

/**
 * TransformerLens's compute_head_attention_similarity_score for one head on one row: attention and
 * detection are [pos × pos] row-major (query, key).
 */
export function attentionSimilarity(attention: ArrayLike<number>, detection: ArrayLike<number>, n: number,
  options: Omit<HeadScoreOptions, 'heads'> = {}): number {
  const excluded = (q: number, k: number) => (options.excludeBos === true && k === 0) || (options.excludeCurrentToken === true && q === k);
  const measure = options.errorMeasure ?? 'mul';
  let numerator = 0;
  let denominator = 0;
  for (let q = 0; q < n; q++) {
    for (let k = 0; k <= q; k++) {
      if (excluded(q, k)) continue;
      const a = attention[q * n + k];
      const d = detection[q * n + k];
      if (measure === 'mul') {
        numerator += a * d;
        denominator += a;
      } else {
        numerator += Math.abs(a - d);
      }
    }
  }
  // Above the diagonal both patterns are zero (checked for the detection pattern), so 'abs' loses nothing.
  return measure === 'mul' ? numerator / denominator : 1 - numerator / n;
}

function patternFor(pattern: DetectionPattern, tokens: readonly number[], what: string): Float64Array {
  const n = tokens.length;
  const rows = typeof pattern === 'string' ? detectionPattern(pattern, tokens)
    : typeof pattern === 'function' ? pattern(tokens) : pattern;
  if (rows.length !== n || rows.some((row) => row.length !== n)) {
    throw new ShapeError(`${what}: detection pattern has shape [${rows.length}, ${rows[0]?.length}], expected [${n}, ${n}] for ${n} tokens`);
  }
  const flat = new Float64Array(n * n);
  rows.forEach((row, q) => row.forEach((v, k) => {
    if (k > q && v !== 0) throw new ArgumentError(`${what}: detection pattern must be lower triangular, but [${q}][${k}] is ${v}`);
    flat[q * n + k] = v;
  }));
  return flat;
}

/**
 * Scores of every head ([nLayers, nHeads], float32, −1 for heads not asked for) from a cache
 * holding each layer's attn.hook_pattern, for the token rows the cache was run on (unpadded,
 * all the same length). The caller owns the tensor.
 */
export function headScores(model: HookedTransformer, cache: ActivationCache, tokens: readonly (readonly number[])[],
  pattern: DetectionPattern, options: HeadScoreOptions = {}): Tensor {
  const what = 'headScores';
  const c = model.config;
  const measure = options.errorMeasure ?? 'mul';
  if (measure !== 'mul' && measure !== 'abs') throw new ArgumentError(`${what}: errorMeasure must be 'mul' or 'abs', got ${JSON.stringify(measure)}`);
  if (tokens.length === 0) throw new ShapeError(`${what}: no token rows given`);
  const n = tokens[0].length;
  if (n < 2) throw new ShapeError(`${what}: rows must have at least 2 tokens, got ${n}`);
  const detections = tokens.map((row) => patternFor(pattern, row, what));
  if (measure === 'mul' && detections.some((d) => d.some((v) => v !== 0 && v !== 1))) {
    notice(`${what}: the detection pattern has values other than 0 and 1; the 'mul' score is then hard to read (consider errorMeasure 'abs')`);
  }
  const wanted = options.heads ?? Array.from({ length: c.nLayers * c.nHeads }, (_, i) => [Math.floor(i / c.nHeads), i % c.nHeads] as const);
  for (const [l, h] of wanted) checkHead(c, l, h, what);
  const scores = new Float32Array(c.nLayers * c.nHeads).fill(-1);
  const byLayer = new Map<number, number[]>();
  for (const [l, h] of wanted) byLayer.set(l, [...(byLayer.get(l) ?? []), h]);
  for (const [layer, heads] of byLayer) {
    const patternT = cached(cache, `blocks.${layer}.attn.hook_pattern`, what); // [batch, head, q, k]
    const [batch, , queries, keys] = patternT.shape;
    if (batch !== tokens.length || queries !== n || keys !== n) {
      throw new ShapeError(`${what}: cached pattern of layer ${layer} has shape ${fmtShape(patternT.shape)}, expected [${tokens.length}, ${c.nHeads}, ${n}, ${n}] for the token rows given (run without a KV cache)`);
    }
    const data = patternT.toArray();
    for (const h of heads) {
      let total = 0;
      for (let b = 0; b < batch; b++) {
        const start = (b * c.nHeads + h) * n * n;
        total += attentionSimilarity(data.subarray(start, start + n * n), detections[b], n, options);
      }
      scores[layer * c.nHeads + h] = total / batch;
    }
  }
  return tensor(scores, [c.nLayers, c.nHeads], { backend: model.backend });
}

/** Runs the model on `tokens` caching only attention patterns, then scores every head (see headScores). */
export function detectHeads(model: HookedTransformer, tokens: readonly (readonly number[])[], pattern: DetectionPattern,
  options: HeadScoreOptions = {}): Tensor {
  const names = Array.from({ length: model.config.nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const { logits, cache } = model.runWithCache(tokens, { names, logitPositions: 'last' });
  try {
    return headScores(model, cache, tokens, pattern, options);
  } finally {
    logits.dispose();
    cache.dispose();
  }
}

export interface RepeatedTokensOptions {
  /** Length of the random segment (the row is [bos?] + segment + segment). */
  length: number;
  batch?: number;
  seed?: number;
  /** Prepended to every row; null for none. Default: the model's BOS id, else none. */
  bos?: number | null;
  /** Draw ids from [low, high); default the whole vocabulary except the BOS id. */
  low?: number;
  high?: number;
}

/** Rows of random tokens repeated twice (the standard probe for induction heads), seeded. */
export function repeatedRandomTokens(model: HookedTransformer, options: RepeatedTokensOptions): number[][] {
  const c = model.config;
  const bos = options.bos === undefined ? c.bosTokenId : options.bos;
  const low = options.low ?? 0;
  const high = options.high ?? c.dVocab;
  const { length, batch = 1 } = options;
  if (!Number.isInteger(length) || length < 1) throw new ArgumentError(`repeatedRandomTokens: length must be a positive integer, got ${length}`);
  if (!(Number.isInteger(low) && Number.isInteger(high) && low >= 0 && high <= c.dVocab && high - low >= 2)) {
    throw new IndexError(`repeatedRandomTokens: token range [${low}, ${high}) must lie in [0, ${c.dVocab}) and hold at least 2 ids`);
  }
  const total = 2 * length + (bos === null ? 0 : 1);
  if (total > c.nCtx) throw new IndexError(`repeatedRandomTokens: rows of ${total} tokens exceed the model's context of ${c.nCtx}`);
  const rng = new Rng(options.seed ?? 0);
  return Array.from({ length: batch }, () => {
    const segment: number[] = [];
    while (segment.length < length) {
      const id = rng.int(low, high);
      if (id !== bos) segment.push(id);
    }
    return [...(bos === null ? [] : [bos]), ...segment, ...segment];
  });
}
