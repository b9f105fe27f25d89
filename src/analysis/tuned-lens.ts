// The tuned lens (Belrose et al. 2023): the logit lens with one learned affine "translator" per
// layer, h ↦ h W_l + b_l, applied to resid_pre of layer l before ln_final and the unembedding.
// W_l starts at the identity and b_l at 0 (so an untrained lens is the logit lens) and is trained
// with AdamW to minimise KL(final ‖ lens): the model's own output distribution against the lens's,
// averaged over positions. The model's weights are not trained.
//
// Saved as safetensors: 'translators.{l}.weight' [d_model, d_model] (applied as h @ W, i.e.
// [in, out]) and 'translators.{l}.bias' [d_model], metadata format = 'dissect-tuned-lens'. This is
// not the `tuned-lens` Python package's format (a pickled nn.Linear residual, h + A h + b).

import type { Backend } from '../backend/types.js';
import { openSafetensorsBytes } from '../io/safetensors-bytes.js';
import { serializeSafetensors } from '../io/safetensors-serialize.js';
import type { HookedTransformer } from '../models/transformer.js';
import { AdamW, Rng, noGrad, tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, FormatError, IndexError, ShapeError, UseAfterFreeError, fmtShape } from '../util/errors.js';
import { unembedResidual } from './model-weights.js';
import { batchesByLength } from './token-batches.js';

const FORMAT = 'dissect-tuned-lens';

export class TunedLens {
  private disposed = false;

  /** Takes ownership of one [d_model, d_model] weight and one [d_model] bias per layer. */
  constructor(readonly weights: readonly Tensor[], readonly biases: readonly Tensor[]) {
    if (weights.length === 0 || weights.length !== biases.length) {
      throw new ArgumentError(`TunedLens: need one weight and one bias per layer, got ${weights.length} and ${biases.length}`);
    }
    const d = weights[0].shape[0];
    weights.forEach((w, l) => {
      if (w.ndim !== 2 || w.shape[0] !== d || w.shape[1] !== d) throw new ShapeError(`TunedLens: weight ${l} has shape ${fmtShape(w.shape)}, expected [${d}, ${d}]`);
      if (biases[l].ndim !== 1 || biases[l].shape[0] !== d) throw new ShapeError(`TunedLens: bias ${l} has shape ${fmtShape(biases[l].shape)}, expected [${d}]`);
    });
  }

  /** Identity translators for every layer of `model`: the logit lens. */
  static identity(model: HookedTransformer): TunedLens {
    const d = model.config.dModel;
    const eye = new Float32Array(d * d);
    for (let i = 0; i < d; i++) eye[i * d + i] = 1;
    const n = model.config.nLayers;
    return new TunedLens(
      Array.from({ length: n }, () => tensor(eye, [d, d], { backend: model.backend })),
      Array.from({ length: n }, () => tensor(new Float32Array(d), [d], { backend: model.backend })),
    );
  }

  get nLayers(): number {
    return this.weights.length;
  }

  get dModel(): number {
    return this.weights[0].shape[0];
  }

  /** resid [..., d_model] of layer `layer`'s input → translated residual. The caller owns it. */
  translate(resid: Tensor, layer: number): Tensor {
    if (this.disposed) throw new UseAfterFreeError('TunedLens: used after dispose()');
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.nLayers) throw new IndexError(`TunedLens: layer ${layer} is out of range 0..${this.nLayers - 1}`);
    return tidy(() => resid.matmul(this.weights[layer]).add(this.biases[layer]));
  }

  /** Logits the lens reads from resid_pre of `layer`: unembed(ln_final(translate(resid))). */
  logits(model: HookedTransformer, resid: Tensor, layer: number): Tensor {
    return tidy(() => unembedResidual(model, this.translate(resid, layer)));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of [...this.weights, ...this.biases]) t.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

function residNames(model: HookedTransformer): string[] {
  return Array.from({ length: model.config.nLayers }, (_, l) => `blocks.${l}.hook_resid_pre`);
}

function checkLensFits(model: HookedTransformer, lens: TunedLens, what: string): void {
  if (lens.nLayers !== model.config.nLayers || lens.dModel !== model.config.dModel) {
    throw new ShapeError(`${what}: the lens has ${lens.nLayers} layers of width ${lens.dModel}; the model has ${model.config.nLayers} of ${model.config.dModel}`);
  }
}

/**
 * Σ over layers of the mean KL(final ‖ lens) on one batch, as a scalar tensor (with gradients to
 * the lens when they are enabled). The model runs without gradients.
 */
function batchLoss(model: HookedTransformer, lens: TunedLens, batch: readonly (readonly number[])[], perLayer: number[] | null): Tensor {
  const { logits, cache } = noGrad(() => model.runWithCache(batch, { names: residNames(model) }));
  try {
    return tidy(() => {
      const finalLogProbs = logits.logSoftmax(-1);
      const finalProbs = finalLogProbs.exp();
      let total: Tensor | null = null;
      for (let l = 0; l < lens.nLayers; l++) {
        const lensLogProbs = lens.logits(model, cache.get(`blocks.${l}.hook_resid_pre`), l).logSoftmax(-1);
        const kl = finalProbs.mul(finalLogProbs.sub(lensLogProbs)).sum(-1).mean();
        if (perLayer !== null) perLayer[l] += kl.item();
        total = total === null ? kl : total.add(kl);
      }
      return total as Tensor;
    });
  } finally {
    logits.dispose();
    cache.dispose();
  }
}

export interface TrainTunedLensOptions {
  /** Optimiser steps (default 100). Batches cycle through the rows in a seeded shuffled order. */
  steps?: number;
  /** Rows per step (default 8); rows of different lengths go in different batches. */
  batchSize?: number;
  lr?: number;
  /** AdamW's decoupled decay pulls W towards 0, not towards the identity: keep it small (default 0). */
  weightDecay?: number;
  seed?: number;
  /** Continue training this lens (it is updated in place and returned) instead of starting at the identity. */
  lens?: TunedLens;
  /** After each step: (step, steps, loss = Σ over layers of the batch's mean KL). */
  onProgress?: (step: number, steps: number, loss: number) => void;
  signal?: AbortSignal;
}

/** Trains a tuned lens on `rows` of token ids. The caller owns the returned lens. */
export function trainTunedLens(model: HookedTransformer, rows: readonly (readonly number[])[], options: TrainTunedLensOptions = {}): TunedLens {
  const what = 'trainTunedLens';
  const steps = options.steps ?? 100;
  if (!Number.isInteger(steps) || steps < 0) throw new ArgumentError(`${what}: steps must be a non-negative integer, got ${steps}`);
  const batches = batchesByLength(rows, options.batchSize ?? 8, what);
  const lens = options.lens ?? TunedLens.identity(model);
  checkLensFits(model, lens, what);
  const params = [...lens.weights, ...lens.biases];
  for (const p of params) p.requiresGrad_(true);
  const optimizer = new AdamW(params, { lr: options.lr ?? 1e-3, weightDecay: options.weightDecay ?? 0 });
  const rng = new Rng(options.seed ?? 0);
  let order: number[] = [];
  let finished = false;
  try {
    for (let step = 0; step < steps; step++) {
      options.signal?.throwIfAborted();
      if (order.length === 0) order = shuffled(batches.length, rng);
      const batch = batches[order.pop() as number].map((i) => rows[i]);
      const loss = batchLoss(model, lens, batch, null);
      const value = loss.item();
      loss.backward();
      loss.dispose();
      optimizer.step();
      optimizer.zeroGrad();
      options.onProgress?.(step + 1, steps, value);
    }
    finished = true;
  } finally {
    optimizer.dispose();
    for (const p of params) {
      p.grad?.dispose();
      p.grad = null;
      p.requiresGrad_(false);
    }
    if (!finished && options.lens === undefined) lens.dispose();
  }
  return lens;
}

function shuffled(n: number, rng: Rng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Mean KL(final ‖ lens) per layer over every position of `rows` ([nLayers] numbers, in nats).
 * With lens null, the logit lens (fresh ln_final on each residual).
 */
export function lensKL(model: HookedTransformer, rows: readonly (readonly number[])[], lens: TunedLens | null,
  options: { batchSize?: number } = {}): number[] {
  const what = 'lensKL';
  const evaluated = lens ?? TunedLens.identity(model);
  try {
    checkLensFits(model, evaluated, what);
    const sums = new Array<number>(model.config.nLayers).fill(0);
    let positions = 0;
    for (const batch of batchesByLength(rows, options.batchSize ?? 8, what)) {
      const perBatch = new Array<number>(model.config.nLayers).fill(0);
      noGrad(() => batchLoss(model, evaluated, batch.map((i) => rows[i]), perBatch)).dispose();
      const count = batch.length * rows[batch[0]].length;
      perBatch.forEach((kl, l) => { sums[l] += kl * count; });
      positions += count;
    }
    return sums.map((s) => s / positions);
  } finally {
    if (lens === null) evaluated.dispose();
  }
}

/** The lens as safetensors bytes (see the file comment for the layout). */
export function serializeTunedLens(lens: TunedLens): Uint8Array {
  const tensors: Record<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> = {};
  lens.weights.forEach((w, l) => {
    tensors[`translators.${l}.weight`] = { dtype: 'F32', shape: [...w.shape], data: Float32Array.from(w.toArray()) };
    tensors[`translators.${l}.bias`] = { dtype: 'F32', shape: [...lens.biases[l].shape], data: Float32Array.from(lens.biases[l].toArray()) };
  });
  return serializeSafetensors(tensors, { format: FORMAT, n_layers: String(lens.nLayers), d_model: String(lens.dModel) });
}

/** A lens from safetensors bytes written by serializeTunedLens. The caller owns it. */
export function tunedLensFromBytes(bytes: Uint8Array, backend: Backend, label = '<memory>'): TunedLens {
  const file = openSafetensorsBytes(bytes, label);
  if (file.metadata.format !== FORMAT) {
    throw new FormatError(`${label}: metadata format is ${JSON.stringify(file.metadata.format)}, expected '${FORMAT}' (a lens saved by saveTunedLens)`);
  }
  const n = Number(file.metadata.n_layers);
  if (!Number.isInteger(n) || n < 1) throw new FormatError(`${label}: metadata n_layers ${JSON.stringify(file.metadata.n_layers)} is not a positive integer`);
  const read = (name: string) => {
    const loaded = file.readSync(name);
    return tensor(Float32Array.from(loaded.data as ArrayLike<number>), loaded.shape, { backend });
  };
  const weights: Tensor[] = [];
  const biases: Tensor[] = [];
  try {
    for (let l = 0; l < n; l++) {
      weights.push(read(`translators.${l}.weight`));
      biases.push(read(`translators.${l}.bias`));
    }
    return new TunedLens(weights, biases);
  } catch (err) {
    for (const t of [...weights, ...biases]) t.dispose();
    throw err;
  }
}
