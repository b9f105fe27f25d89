// Evaluating an SAE (or transcoder) on held-out token rows, as SAELens's run_evals:
//   sparsity       L0 (active features per token), L1, feature densities, dead / dense fractions
//   reconstruction MSE, explained variance 1 − Σ||y − ŷ||² / Σ||y − ȳ||² (pooled over all tokens),
//                  cosine similarity, ||ŷ||/||y||
//   downstream     cross-entropy with the reconstruction spliced in vs clean vs the hook zero-ablated:
//                  CE loss recovered = (CE_zero − CE_sae)/(CE_zero − CE_clean); KL(clean ‖ spliced)
//                  and KL(clean ‖ zero-ablated), KL score = 1 − KL_sae/KL_zero.
// Positions holding excluded tokens (BOS / end-of-text) keep their activation and are left out of
// every metric, as SAELens's ignore_tokens. Reconstructions are computed once from the clean run's
// activation: splicing at the hook leaves everything upstream unchanged.

import type { HookedTransformer } from '../models/transformer.js';
import { keep, noGrad, tensor, tidy, type Tensor } from '../tensor/index.js';
import { ArgumentError, ShapeError } from '../util/errors.js';
import type { SparseAutoencoder } from './sae.js';

export interface SAEEvalOptions {
  /** Held-out token rows, all one length. */
  rows: readonly (readonly number[])[];
  /** Rows per forward pass (default 8). */
  batchRows?: number;
  /** Default: the model's BOS and EOS ids. */
  excludeTokenIds?: readonly number[];
  /** Compute CE loss recovered and KL (three forward passes per batch). Default true. */
  downstream?: boolean;
  /** A feature firing on more than this fraction of tokens counts as dense. Default 0.1. */
  denseThreshold?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface DensityHistogram {
  /** Bin edges in log10(density), ascending; bin i holds densities in [edges[i], edges[i+1]). */
  edges: number[];
  counts: number[];
  /** Features that never fired (log10 density = −∞), outside the bins. */
  neverFired: number;
}

export interface SAEEvalResult {
  tokens: number;
  l0: number;
  l1: number;
  mse: number;
  explainedVariance: number;
  cosineSimilarity: number;
  l2Ratio: number;
  /** Present when downstream metrics were computed. */
  ceClean?: number;
  ceWithSAE?: number;
  ceZeroAblation?: number;
  ceLossRecovered?: number;
  klWithSAE?: number;
  klZeroAblation?: number;
  klScore?: number;
  /** Fraction of tokens each feature fired on. */
  featureDensity: Float32Array;
  deadFraction: number;
  denseFraction: number;
  densityHistogram: DensityHistogram;
}

/** Per-position next-token log-probabilities of the targets and the full log-softmax, positions 0..T-2. */
function logProbs(logits: Tensor): Tensor {
  return logits.narrow(1, 0, logits.shape[1] - 1).logSoftmax(-1);
}

/** −log p(next token) per position [B, T-1], as a flat Float32Array. */
function crossEntropies(lp: Tensor, rows: readonly (readonly number[])[]): Float32Array {
  const [b, t] = lp.shape;
  const targets = tensor(Int32Array.from(rows.flatMap((r) => r.slice(1))), [b, t, 1], { dtype: 'int32', backend: lp.backend });
  return Float32Array.from(lp.gather(-1, targets).toArray(), (v) => -v);
}

/** KL(p ‖ q) per position from log-probabilities [B, T-1, V]. */
function klDivergences(lpClean: Tensor, lpOther: Tensor): Float32Array {
  return Float32Array.from(lpClean.exp().mul(lpClean.sub(lpOther)).sum(-1).toArray());
}

/** Accumulated sums over tokens (float64). */
class Sums {
  tokens = 0;
  l0 = 0;
  l1 = 0;
  sqError = 0;
  cos = 0;
  ratio = 0;
  sumY: Float64Array;
  sumSqY = 0;
  positions = 0;
  ceClean = 0;
  ceSae = 0;
  ceZero = 0;
  klSae = 0;
  klZero = 0;
  fired: Float64Array;
  constructor(dOut: number, dSae: number) {
    this.sumY = new Float64Array(dOut);
    this.fired = new Float64Array(dSae);
  }
}

function checkRows(rows: readonly (readonly number[])[]): void {
  if (rows.length === 0) throw new ArgumentError('evaluateSAE: no token rows given');
  const length = rows[0].length;
  if (length < 2 || rows.some((r) => r.length !== length)) throw new ShapeError(`evaluateSAE: rows must all have one length of at least 2, got ${rows.map((r) => r.length).slice(0, 5).join(', ')}...`);
}

/** Evaluates `sae` on `options.rows`; see the file comment for each metric. */
export async function evaluateSAE(model: HookedTransformer, sae: SparseAutoencoder, options: SAEEvalOptions): Promise<SAEEvalResult> {
  checkRows(options.rows);
  const c = model.config;
  const exclude = new Set(options.excludeTokenIds ?? [c.bosTokenId, c.eosTokenId].filter((t): t is number => t !== null));
  const batchRows = options.batchRows ?? 8;
  const downstream = options.downstream ?? true;
  const sums = new Sums(sae.dOut, sae.dSae);
  const inName = sae.hookName;
  const outName = sae.outputHookName;
  const total = options.rows.length;
  for (let start = 0; start < total; start += batchRows) {
    options.signal?.throwIfAborted();
    const rows = options.rows.slice(start, start + batchRows).map((r) => [...r]);
    noGrad(() => tidy(() => evaluateBatch(model, sae, rows, exclude, downstream, sums, inName, outName)));
    options.onProgress?.(Math.min(start + batchRows, total), total);
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
  return summarize(sums, sae, downstream, options.denseThreshold ?? 0.1);
}

function evaluateBatch(model: HookedTransformer, sae: SparseAutoencoder, rows: number[][], exclude: ReadonlySet<number>,
  downstream: boolean, sums: Sums, inName: string, outName: string): void {
  const [batch, pos] = [rows.length, rows[0].length];
  const keepMask = Float32Array.from(rows.flat(), (id) => (exclude.has(id) ? 0 : 1));
  const captured = new Map<string, Tensor>();
  // Kept: the forward pass disposes its activations when it returns; they are disposed below.
  const capture = { name: [...new Set([inName, outName])], fn: (act: Tensor, point: { name: string }) => { captured.set(point.name, keep(act.reshape(batch, pos, -1))); } };
  let cleanLogits: Tensor;
  try {
    cleanLogits = model.forward(rows, { hooks: [capture], stopAtLayer: downstream ? undefined : stopLayer(model, [inName, outName]) });
  } catch (err) {
    for (const t of captured.values()) t.dispose();
    throw err;
  }
  try {
    evaluateCaptured(model, sae, rows, keepMask, downstream, sums, cleanLogits, captured.get(inName)!, captured.get(outName)!, outName);
  } finally {
    for (const t of captured.values()) t.dispose();
  }
}

function evaluateCaptured(model: HookedTransformer, sae: SparseAutoencoder, rows: number[][], keepMask: Float32Array, downstream: boolean,
  sums: Sums, cleanLogits: Tensor, x: Tensor, y: Tensor, outName: string): void {
  const [batch, pos] = [rows.length, rows[0].length];
  const { features, reconstruction } = sae.run(x);
  const mask = tensor(keepMask, [batch, pos, 1], { backend: x.backend });
  // Excluded positions keep their activation (SAELens's ignore_tokens).
  const spliced = reconstruction.mul(mask).add(y.mul(mask.neg().add(1)));
  accumulateReconstruction(sums, y, reconstruction, features, keepMask);
  if (!downstream) return;
  const replace = (value: Tensor) => ({ name: outName, fn: (act: Tensor) => value.reshape(act.shape) });
  const saeLogits = model.forward(rows, { hooks: [replace(spliced)] });
  const zeroLogits = model.forward(rows, { hooks: [replace(y.mul(0))] });
  const lpClean = logProbs(cleanLogits);
  const lpSae = logProbs(saeLogits);
  const lpZero = logProbs(zeroLogits);
  const ce = [crossEntropies(lpClean, rows), crossEntropies(lpSae, rows), crossEntropies(lpZero, rows)];
  const kl = [klDivergences(lpClean, lpSae), klDivergences(lpClean, lpZero)];
  for (let b = 0; b < batch; b++) {
    for (let p = 0; p < pos - 1; p++) {
      if (keepMask[b * pos + p] === 0) continue;
      const i = b * (pos - 1) + p;
      sums.positions++;
      sums.ceClean += ce[0][i];
      sums.ceSae += ce[1][i];
      sums.ceZero += ce[2][i];
      sums.klSae += kl[0][i];
      sums.klZero += kl[1][i];
    }
  }
}

/** The smallest stopAtLayer that still runs every named hook (undefined when one is after the blocks). */
function stopLayer(model: HookedTransformer, names: readonly string[]): number | undefined {
  let stop = 0;
  for (const name of names) {
    const point = model.hookPoints.find((p) => p.name === name);
    if (point === undefined) throw new ArgumentError(`evaluateSAE: the model has no hook '${name}'`);
    if (point.layer === null) {
      if (!name.startsWith('hook_embed') && !name.startsWith('hook_pos_embed')) return undefined;
    } else {
      stop = Math.max(stop, point.layer + 1);
    }
  }
  return stop;
}

function accumulateReconstruction(sums: Sums, y: Tensor, yHat: Tensor, features: Tensor, keepMask: Float32Array): void {
  const d = y.shape[2];
  const dSae = features.shape[2];
  const yData = y.toArray();
  const hatData = yHat.toArray();
  const fData = features.toArray();
  for (let t = 0; t < keepMask.length; t++) {
    if (keepMask[t] === 0) continue;
    let err = 0;
    let dot = 0;
    let nY = 0;
    let nHat = 0;
    for (let i = 0; i < d; i++) {
      const a = yData[t * d + i];
      const b = hatData[t * d + i];
      err += (a - b) * (a - b);
      dot += a * b;
      nY += a * a;
      nHat += b * b;
      sums.sumY[i] += a;
    }
    sums.sqError += err;
    sums.sumSqY += nY;
    sums.cos += nY > 0 && nHat > 0 ? dot / Math.sqrt(nY * nHat) : 0;
    sums.ratio += nY > 0 ? Math.sqrt(nHat / nY) : 0;
    for (let j = 0; j < dSae; j++) {
      const f = fData[t * dSae + j];
      if (f > 0) {
        sums.l0++;
        sums.fired[j]++;
      }
      sums.l1 += Math.abs(f);
    }
    sums.tokens++;
  }
}

function summarize(sums: Sums, sae: SparseAutoencoder, downstream: boolean, denseThreshold: number): SAEEvalResult {
  const n = sums.tokens;
  if (n === 0) throw new ArgumentError('evaluateSAE: every position held an excluded token; nothing to evaluate');
  let meanSq = 0;
  for (const s of sums.sumY) meanSq += (s / n) * (s / n);
  const variance = sums.sumSqY / n - meanSq;
  const density = Float32Array.from(sums.fired, (f) => f / n);
  let dead = 0;
  let dense = 0;
  for (const p of density) {
    if (p === 0) dead++;
    if (p > denseThreshold) dense++;
  }
  const result: SAEEvalResult = {
    tokens: n,
    l0: sums.l0 / n,
    l1: sums.l1 / n,
    mse: sums.sqError / (n * sae.dOut),
    explainedVariance: 1 - (sums.sqError / n) / variance,
    cosineSimilarity: sums.cos / n,
    l2Ratio: sums.ratio / n,
    featureDensity: density,
    deadFraction: dead / sae.dSae,
    denseFraction: dense / sae.dSae,
    densityHistogram: densityHistogram(density),
  };
  if (downstream && sums.positions > 0) {
    const m = sums.positions;
    Object.assign(result, {
      ceClean: sums.ceClean / m, ceWithSAE: sums.ceSae / m, ceZeroAblation: sums.ceZero / m,
      ceLossRecovered: (sums.ceZero - sums.ceSae) / (sums.ceZero - sums.ceClean),
      klWithSAE: sums.klSae / m, klZeroAblation: sums.klZero / m, klScore: 1 - sums.klSae / sums.klZero,
    });
  }
  return result;
}

/** Histogram of log10 feature densities in 0.5-wide bins from 10^-8 to 10^0 (never-fired features counted apart). */
export function densityHistogram(density: ArrayLike<number>, low = -8, high = 0, binWidth = 0.5): DensityHistogram {
  const bins = Math.round((high - low) / binWidth);
  const edges = Array.from({ length: bins + 1 }, (_, i) => low + i * binWidth);
  const counts = new Array<number>(bins).fill(0);
  let neverFired = 0;
  for (let i = 0; i < density.length; i++) {
    if (density[i] <= 0) {
      neverFired++;
      continue;
    }
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((Math.log10(density[i]) - low) / binWidth)));
    counts[bin]++;
  }
  return { edges, counts, neverFired };
}

