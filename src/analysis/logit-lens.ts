// The logit lens (nostalgebraist, 2020): read the residual stream at the input of every layer as if
// it were the final one — ln_final, then the unembedding — and see which tokens it already
// predicts.
//
// Two ways to normalise an intermediate residual:
// - 'fresh' (default, the classic logit lens): ln_final applied to each residual with that
//   residual's own mean and scale, exactly what the model would do if it stopped there.
// - 'cached': TransformerLens's apply_ln_to_stack — centre, divide by the scale ln_final computed
//   for the real final residual, then ln_final's weight and bias. Keeps every layer on the final
//   residual's scale (linear in the residual, so layers are comparable as sums).
// Both give the model's own logits on the last row ('final_post').

import type { ActivationCache } from '../hooks/activation-cache.js';
import type { TokenInput } from '../models/inputs.js';
import type { HookedTransformer } from '../models/transformer.js';
import { linear } from '../nn/linear.js';
import { stack as stackTensors, tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../util/errors.js';
import { cached, resolvePosition, targetGrid, type TokenTargets } from './cache-access.js';
import { applyFinalNorm, normWeight } from './model-weights.js';

export type LensNorm = 'fresh' | 'cached';

export interface LogitLensOptions {
  /** Positions to read (negative counts from the end); all by default. */
  positions?: readonly number[];
  /** Tokens whose probability and rank to report: one id, one per batch row, or a [batch][positions] grid. */
  targets?: TokenTargets;
  /** How many top tokens per cell (default 5). */
  topK?: number;
  norm?: LensNorm;
}

// A type (not an interface) so that dispose(result) from the tensor API accepts it.
export type LogitLensResult = {
  /** Row labels: '0_pre' .. '{nLayers-1}_pre', 'final_post'. */
  labels: string[];
  /** The positions read, resolved to non-negative indices. */
  positions: number[];
  /** int32 [rows, batch, positions, k]: the most probable tokens, best first. */
  topTokens: Tensor;
  /** [rows, batch, positions, k]: their probabilities. */
  topProbs: Tensor;
  /** [rows, batch, positions]: probability of the target token (null without targets). */
  targetProbs: Tensor | null;
  /** int32 [rows, batch, positions]: how many tokens are strictly more probable than the target (0 = top). */
  targetRanks: Tensor | null;
};

/**
 * The logit lens over a cache that holds every blocks.{l}.hook_resid_pre and the last
 * hook_resid_post (and ln_final.hook_scale for norm 'cached'). Works one layer at a time, so
 * memory is one layer's [batch, positions, d_vocab] logits. The caller owns the result's tensors
 * (dispose them all with `dispose(result)` from the tensor API).
 */
export function logitLens(model: HookedTransformer, cache: ActivationCache, options: LogitLensOptions = {}): LogitLensResult {
  const what = 'logitLens';
  const c = model.config;
  const norm = options.norm ?? 'fresh';
  const k = options.topK ?? 5;
  if (!Number.isInteger(k) || k < 1 || k > c.dVocab) throw new ArgumentError(`${what}: topK ${k} must be an integer in 1..${c.dVocab}`);
  const first = cached(cache, 'blocks.0.hook_resid_pre', what);
  const [batch, seqLen] = first.shape;
  const positions = (options.positions ?? Array.from({ length: seqLen }, (_, p) => p)).map((p) => resolvePosition(p, seqLen, what));
  if (positions.length === 0) throw new ArgumentError(`${what}: positions is empty`);
  const grid = options.targets === undefined ? null : targetGrid(model, options.targets, batch, positions.length, what);
  const labels = [...Array.from({ length: c.nLayers }, (_, l) => `${l}_pre`), 'final_post'];
  const finalScale = norm === 'cached' ? cached(cache, 'ln_final.hook_scale', `${what} (norm: cached)`) : null;
  if (finalScale !== null && finalScale.shape[1] !== seqLen) {
    throw new ArgumentError(`${what} (norm: cached): ln_final.hook_scale covers ${finalScale.shape[1]} of ${seqLen} positions; cache a run with logitPositions 'all'`);
  }

  return tidy(() => {
    const posIds = tensor(Int32Array.from(positions), [positions.length], { dtype: 'int32', backend: model.backend });
    const targetIds = grid === null ? null
      : tensor(Int32Array.from(grid.flat()), [batch, positions.length, 1], { dtype: 'int32', backend: model.backend });
    const rows = labels.map((_, l) => tidy(() => {
      const name = l === c.nLayers ? `blocks.${c.nLayers - 1}.hook_resid_post` : `blocks.${l}.hook_resid_pre`;
      const resid = cached(cache, name, what).indexSelect(1, posIds); // [batch, positions, d_model]
      const logProbs = lensLogits(model, resid, posIds, finalScale).logSoftmax(-1);
      const top = logProbs.topk(k, -1);
      const row: Record<string, Tensor> = { tokens: top.indices, probs: top.values.exp() };
      if (targetIds !== null) {
        const targetLogProb = logProbs.gather(-1, targetIds); // [batch, positions, 1]
        row.targetProbs = targetLogProb.exp().squeeze(-1);
        row.targetRanks = logProbs.gt(targetLogProb).sum(-1).toType('int32'); // counts are exact in float32 below 2^24
      }
      return row;
    }));
    const gatherRows = (key: string) => stackTensors(rows.map((r) => r[key]), 0);
    return {
      labels,
      positions,
      topTokens: gatherRows('tokens'),
      topProbs: gatherRows('probs'),
      targetProbs: targetIds === null ? null : gatherRows('targetProbs'),
      targetRanks: targetIds === null ? null : gatherRows('targetRanks'),
    };
  });
}

/** Logits of one layer's residual [batch, positions, d_model]: fresh ln_final, or with the cached final scale [batch, pos, 1]. */
function lensLogits(model: HookedTransformer, resid: Tensor, posIds: Tensor, finalScale: Tensor | null): Tensor {
  if (finalScale === null) return linear(applyFinalNorm(model, resid), model.params.unembed);
  const c = model.config;
  const scale = (finalScale as Tensor).indexSelect(1, posIds);
  const centered = c.norm === 'layernorm' ? resid.sub(resid.mean(-1, { keepdim: true })) : resid;
  let normalized = centered.div(scale);
  const weight = normWeight(model, model.params.lnFinal);
  if (weight !== null) normalized = normalized.mul(weight);
  if (model.params.lnFinal.bias !== null) normalized = normalized.add(model.params.lnFinal.bias);
  return linear(normalized, model.params.unembed);
}

/** Runs the model caching only what the lens reads, then applies logitLens. */
export function runLogitLens(model: HookedTransformer, tokens: TokenInput, options: LogitLensOptions = {}): LogitLensResult {
  const c = model.config;
  const names = [
    ...Array.from({ length: c.nLayers }, (_, l) => `blocks.${l}.hook_resid_pre`),
    `blocks.${c.nLayers - 1}.hook_resid_post`,
    ...(options.norm === 'cached' ? ['ln_final.hook_scale'] : []),
  ];
  // The cached scale must cover every position; the fresh lens needs no logits at all beyond one.
  const logitPositions = options.norm === 'cached' ? 'all' : 'last';
  const { logits, cache } = model.runWithCache(tokens, { names, logitPositions });
  try {
    return logitLens(model, cache, options);
  } finally {
    logits.dispose();
    cache.dispose();
  }
}

export interface LensHeatmap {
  /** Row labels (layers), top to bottom as computed: '0_pre' first. */
  rows: string[];
  /** Column labels: the positions. */
  columns: number[];
  /** [row][column]: the top token id of each cell. */
  tokens: number[][];
  /** [row][column]: the target's probability, or the top token's probability without targets. */
  values: number[][];
}

/** One batch row of a logit lens result as plain arrays, ready for a layer × position heatmap. */
export function logitLensHeatmap(result: LogitLensResult, batchIndex = 0): LensHeatmap {
  const [rowsN, batch, cols, k] = result.topTokens.shape;
  if (!Number.isInteger(batchIndex) || batchIndex < 0 || batchIndex >= batch) {
    throw new ArgumentError(`logitLensHeatmap: batch index ${batchIndex} is out of range 0..${batch - 1}`);
  }
  const tokens = result.topTokens.toArray();
  const values = (result.targetProbs ?? result.topProbs).toArray();
  const valueStride = result.targetProbs === null ? k : 1;
  const cell = (r: number, p: number) => (r * batch + batchIndex) * cols + p;
  const grid = <T>(f: (r: number, p: number) => T) => Array.from({ length: rowsN }, (_, r) => Array.from({ length: cols }, (_, p) => f(r, p)));
  return {
    rows: [...result.labels],
    columns: [...result.positions],
    tokens: grid((r, p) => tokens[cell(r, p) * k]),
    values: grid((r, p) => values[cell(r, p) * valueStride]),
  };
}
