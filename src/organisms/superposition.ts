// Toy models of superposition (Elhage et al. 2022, "Toy Models of Superposition"): n sparse
// features x ∈ [0,1]^n (each zero with probability S, else uniform) squeezed into m < n hidden
// dimensions, h = W x, and read back as x' = ReLU(Wᵀ h + b), trained on the importance-weighted
// reconstruction loss Σ_i I_i (x_i − x'_i)². Dense features (S = 0) get m orthogonal directions and
// the rest are dropped; as S grows the model packs more features than dimensions (superposition).
// One independent model per sparsity of the sweep. Not a transformer: shipped as safetensors +
// a JSON config.

import type { Backend } from '../backend/types.js';
import { defaultBackend } from '../backend/registry.js';
import { AdamW, Rng, noGrad, randn, tensor, tidy, zeros } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';

export interface SuperpositionConfig {
  nFeatures: number;
  nHidden: number;
  /** Probability that a feature is zero, one model per value. */
  sparsities: number[];
  /** Importance of feature i is importanceDecay^i. */
  importanceDecay: number;
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
}

export const SUPERPOSITION_TOY: SuperpositionConfig = {
  nFeatures: 20,
  nHidden: 5,
  sparsities: [0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999],
  importanceDecay: 0.9,
  steps: 4000,
  batchSize: 1024,
  lr: 1e-3,
  seed: 7,
};

export interface SuperpositionModel {
  /** [m, n] per sparsity. */
  W: Tensor;
  /** [n] per sparsity. */
  b: Tensor;
}

/** A batch of sparse features [batch, n]: zero with probability sparsity, else uniform in [0, 1). */
export function sparseFeatures(rng: Rng, batch: number, n: number, sparsity: number): Float32Array {
  const data = new Float32Array(batch * n);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() < sparsity ? 0 : rng.next();
  return data;
}

/** x' = ReLU(Wᵀ W x + b) for x [batch, n]. */
export function reconstruct(model: SuperpositionModel, x: Tensor): Tensor {
  return tidy(() => x.matmul(model.W.mT).matmul(model.W).add(model.b).relu());
}

/** Σ_i I_i (x_i − x'_i)², averaged over the batch. */
export function reconstructionLoss(model: SuperpositionModel, x: Tensor, importance: Tensor): Tensor {
  return tidy(() => reconstruct(model, x).sub(x).square().mul(importance).sum(-1).mean());
}

export function importanceWeights(config: SuperpositionConfig): number[] {
  return Array.from({ length: config.nFeatures }, (_, i) => config.importanceDecay ** i);
}

export interface SuperpositionRun {
  models: SuperpositionModel[];
  finalLosses: number[];
  seconds: number;
}

/** Trains one model per sparsity with AdamW (no weight decay, constant lr, as in the paper's notebook). */
export function trainSuperposition(config: SuperpositionConfig, options: { backend?: Backend; onStep?: (model: number, step: number, loss: number) => void } = {}): SuperpositionRun {
  const backend = options.backend ?? defaultBackend();
  const started = Date.now();
  const importance = tensor(importanceWeights(config), { backend });
  const models: SuperpositionModel[] = [];
  const finalLosses: number[] = [];
  config.sparsities.forEach((sparsity, index) => {
    const rng = new Rng(config.seed * 1000 + index);
    // Xavier-normal initialisation, as the paper's code.
    const std = Math.sqrt(2 / (config.nFeatures + config.nHidden));
    const model = { W: randn([config.nHidden, config.nFeatures], { rng, std, backend }).requiresGrad_(), b: zeros([config.nFeatures], { backend }).requiresGrad_() };
    const optimizer = new AdamW([model.W, model.b], { lr: config.lr, weightDecay: 0 });
    let loss = 0;
    for (let step = 0; step < config.steps; step++) {
      const x = tensor(sparseFeatures(rng, config.batchSize, config.nFeatures, sparsity), [config.batchSize, config.nFeatures], { backend });
      const l = reconstructionLoss(model, x, importance);
      l.backward();
      loss = l.item();
      l.dispose();
      x.dispose();
      optimizer.step();
      optimizer.zeroGrad();
      options.onStep?.(index, step, loss);
    }
    optimizer.dispose();
    model.W.requiresGrad = false;
    model.b.requiresGrad = false;
    models.push(model);
    finalLosses.push(loss);
  });
  importance.dispose();
  return { models, finalLosses, seconds: (Date.now() - started) / 1000 };
}

export interface SuperpositionStats {
  /** Features whose column of W has norm > 0.5 (the model represents them). */
  representedFeatures: number;
  /** m / ||W||_F²: hidden dimensions per feature (1 = no superposition, < 1 = superposition). */
  dimensionsPerFeature: number;
  /** Column norms ||W_i||. */
  featureNorms: number[];
}

export function superpositionStats(W: Float32Array | Float64Array, nHidden: number, nFeatures: number): SuperpositionStats {
  const featureNorms = Array.from({ length: nFeatures }, (_, i) => {
    let s = 0;
    for (let j = 0; j < nHidden; j++) s += W[j * nFeatures + i] ** 2;
    return Math.sqrt(s);
  });
  const frobenius = featureNorms.reduce((a, v) => a + v * v, 0);
  return { representedFeatures: featureNorms.filter((v) => v > 0.5).length, dimensionsPerFeature: nHidden / frobenius, featureNorms };
}

/** Frees the sweep's tensors. */
export function disposeSuperposition(models: readonly SuperpositionModel[]): void {
  noGrad(() => { for (const m of models) { m.W.dispose(); m.b.dispose(); } });
}
