// Second-moment statistics of an MLP's keys, C = E[k kᵀ], where a key is the input of the down
// projection (blocks.L.mlp.hook_post: the activations, or act(gate) · up in gated MLPs) at one
// token. ROME measures C over a text corpus (its layer_stats: 100k Wikipedia texts) and uses C⁻¹
// to aim its rank-one update at the new key while disturbing the keys the model usually sees
// as little as possible. Pure (no Node APIs): key-statistics-cache.ts stores them on disk.

import { batchesByLength } from '../analysis/token-batches.js';
import type { HookedTransformer } from '../models/transformer.js';
import { noGrad, tidy } from '../tensor/index.js';
import { ArgumentError, IndexError } from '../util/errors.js';

export interface KeyStatistics {
  readonly layer: number;
  /** d_mlp: the keys' size. */
  readonly size: number;
  /** Tokens averaged. */
  readonly count: number;
  /** [size, size] row-major: E[k kᵀ] over the corpus's tokens (uncentred, as ROME's mom2). */
  readonly secondMoment: Float64Array;
}

export interface KeyStatisticsOptions {
  /** Rows per forward pass at most (default 16). */
  batchSize?: number;
  /** Tokens per forward pass at most (default 2048, ROME's is 3 × n_ctx): a pass keeps every layer's activations. */
  batchTokens?: number;
  /** Stop after this many tokens (default: the whole corpus). */
  maxTokens?: number;
  /** Called after each forward pass with (tokens done, tokens in total). */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects with signal.reason, checked between forward passes. */
  signal?: AbortSignal;
}

/** The name of the hook whose values are the keys of `layer`'s down projection. */
export function keyHookName(layer: number): string {
  return `blocks.${layer}.mlp.hook_post`;
}

export function checkLayer(model: HookedTransformer, layer: number): void {
  const n = model.config.nLayers;
  if (!Number.isInteger(layer) || layer < 0 || layer >= n) throw new IndexError(`layer ${layer} is out of range 0..${n - 1}`);
}

/**
 * The corpus as the rows a forward pass takes: rows longer than the model's context are cut into
 * pieces of at most n_ctx tokens, and cut short once maxTokens is reached.
 */
export function corpusRows(model: HookedTransformer, corpus: readonly (readonly number[])[], maxTokens = Infinity): number[][] {
  const { nCtx, dVocab } = model.config;
  const rows: number[][] = [];
  let total = 0;
  for (const [i, row] of corpus.entries()) {
    for (const id of row) {
      if (!Number.isInteger(id) || id < 0 || id >= dVocab) throw new IndexError(`corpus row ${i}: token id ${id} is out of range 0..${dVocab - 1}`);
    }
    for (let start = 0; start < row.length && total < maxTokens; start += nCtx) {
      const piece = row.slice(start, Math.min(row.length, start + nCtx, start + maxTokens - total));
      rows.push(piece);
      total += piece.length;
    }
    if (total >= maxTokens) break;
  }
  if (total === 0) throw new ArgumentError('the corpus has no tokens');
  return rows;
}

/** Row indices grouped by length, each batch within `maxRows` rows and `maxTokens` tokens (one long row may exceed it alone). */
function tokenBudgetBatches(rows: readonly number[][], maxRows: number, maxTokens: number): number[][] {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new ArgumentError(`batchTokens must be a positive integer, got ${maxTokens}`);
  return batchesByLength(rows, maxRows, 'computeKeyStatistics').flatMap((batch) => {
    const perBatch = Math.max(1, Math.floor(maxTokens / rows[batch[0]].length));
    const out: number[][] = [];
    for (let i = 0; i < batch.length; i += perBatch) out.push(batch.slice(i, i + perBatch));
    return out;
  });
}

/** C = E[k kᵀ] of layer `layer`'s keys over every token of `corpus` (token rows of any length). */
export async function computeKeyStatistics(model: HookedTransformer, layer: number, corpus: readonly (readonly number[])[],
  options: KeyStatisticsOptions = {}): Promise<KeyStatistics> {
  checkLayer(model, layer);
  options.signal?.throwIfAborted();
  const rows = corpusRows(model, corpus, options.maxTokens);
  const size = model.config.dMlp;
  const sum = new Float64Array(size * size);
  const total = rows.reduce((n, r) => n + r.length, 0);
  const name = keyHookName(layer);
  let done = 0;
  for (const batch of tokenBudgetBatches(rows, options.batchSize ?? 16, options.batchTokens ?? 2048)) {
    const gram = noGrad(() => {
      const { logits, cache } = model.runWithCache(batch.map((i) => rows[i]), { names: [name], stopAtLayer: layer + 1 });
      try {
        return tidy(() => {
          const keys = cache.get(name).reshape(-1, size); // [tokens, d_mlp]
          return keys.mT.matmul(keys).toArray();
        });
      } finally {
        logits.dispose();
        cache.dispose();
      }
    });
    for (let i = 0; i < sum.length; i++) sum[i] += gram[i];
    done += batch.reduce((n, i) => n + rows[i].length, 0);
    options.onProgress?.(done, total);
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    options.signal?.throwIfAborted();
  }
  for (let i = 0; i < sum.length; i++) sum[i] /= total;
  // Float32 partial sums are not exactly symmetric; C is.
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < i; j++) {
      const mean = (sum[i * size + j] + sum[j * size + i]) / 2;
      sum[i * size + j] = mean;
      sum[j * size + i] = mean;
    }
  }
  return { layer, size, count: total, secondMoment: sum };
}

/** Lower-triangular Cholesky factor L (C = L Lᵀ) of each statistics object, computed once. */
const factors = new WeakMap<KeyStatistics, Float64Array>();

function choleskyFactor(stats: KeyStatistics): Float64Array {
  const cached = factors.get(stats);
  if (cached) return cached;
  const n = stats.size;
  const c = stats.secondMoment;
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let diagonal = c[j * n + j];
    for (let k = 0; k < j; k++) diagonal -= l[j * n + k] ** 2;
    if (!(diagonal > 0)) {
      throw new ArgumentError(`the key statistics of layer ${stats.layer} are singular (key ${j} is a combination of the others over ${stats.count} tokens); `
        + 'measure them on a larger or more varied corpus');
    }
    const root = Math.sqrt(diagonal);
    l[j * n + j] = root;
    for (let i = j + 1; i < n; i++) {
      let v = c[i * n + j];
      for (let k = 0; k < j; k++) v -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = v / root;
    }
  }
  factors.set(stats, l);
  return l;
}

/** C⁻¹ k, by Cholesky (C is symmetric positive definite when the corpus spans every key direction). */
export function solveKeyStatistics(stats: KeyStatistics, k: ArrayLike<number>): Float64Array {
  const n = stats.size;
  if (k.length !== n) throw new ArgumentError(`a key of layer ${stats.layer} has ${n} values, got ${k.length}`);
  const l = choleskyFactor(stats);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = k[i];
    for (let j = 0; j < i; j++) v -= l[i * n + j] * y[j];
    y[i] = v / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let v = y[i];
    for (let j = i + 1; j < n; j++) v -= l[j * n + i] * x[j];
    x[i] = v / l[i * n + i];
  }
  return x;
}
