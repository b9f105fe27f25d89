// One SAE training forward pass and its loss, per architecture, with SAELens's maths:
//
//   all:       mse = mean over tokens of ||x̂ − y||²  (y = x for SAEs, the output hook for transcoders)
//   standard:  + l1 · mean Σ_i f_i·||W_dec,i||   (Anthropic's April 2024 decoder-norm-weighted L1)
//   topk:      + aux · min(dead/k_aux, 1) · mean ||z_aux W_dec − (y − x̂)||²   (OpenAI's AuxK: the
//              k_aux = d_in/2 largest pre-activations among dead features predict the residual)
//   batchtopk: as topk, with the batch-wide top-k; the inference threshold follows an EMA of the
//              smallest kept activation (SAELens's topk_threshold, lr 0.01)
//   jumprelu:  f = JumpReLU(h; θ), θ = exp(log θ); + l0 · mean Σ_i Step(h_i; θ_i) (both straight-through)

import { Tensor, keep, noGrad, tensor, tidy, where } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';
import { jumpReluSTE, stepSTE } from './jumprelu-ste.js';
import { kthLargest } from './kth-value.js';
import { batchTopkActivation, topkActivation, type SparseAutoencoder } from './sae.js';

export interface TrainingCoefficients {
  /** Standard: the L1 coefficient (already warmed up). */
  l1: number;
  /** JumpReLU: the L0 coefficient (already warmed up). */
  l0: number;
  /** TopK/BatchTopK: the AuxK coefficient (SAELens's aux_loss_coefficient, default 1). */
  auxK: number;
}

export interface TrainingOptions {
  /** JumpReLU: the rectangle kernel's width ε (SAELens's jumprelu_bandwidth, default 0.05). */
  bandwidth: number;
  /** BatchTopK: EMA rate of the inference threshold (SAELens's topk_threshold_lr, default 0.01). */
  topkThresholdLr: number;
}

export interface StepLosses {
  loss: number;
  mse: number;
  /** l1 (standard), l0 (jumprelu) or auxk (topk, batchtopk) term, already multiplied by its coefficient. */
  sparsity: number;
}

export interface TrainingForward {
  /** The scalar loss, with its autograd graph (call backward, then dispose). */
  loss: Tensor;
  /** The terms as numbers (read once the loss is computed). */
  losses: StepLosses;
  /** [tokens, d_sae] feature activations, detached. */
  features: Tensor;
  /** [tokens, d_out] reconstruction, detached. */
  reconstruction: Tensor;
}

/**
 * An SAE while it trains: the parameters the optimiser updates (JumpReLU trains log θ instead of
 * θ, as SAELens) and BatchTopK's running threshold. `syncInference()` writes the inference
 * threshold back into the SAE (before evaluating or saving).
 */
export class TrainableSAE implements Disposable {
  /** JumpReLU: log of the per-feature threshold, the trained leaf. */
  readonly logThreshold: Tensor | null;
  /** BatchTopK: the running inference threshold (float64, as SAELens keeps it). */
  topkThreshold = 0;

  constructor(readonly sae: SparseAutoencoder, readonly options: TrainingOptions) {
    if (sae.cfg.architecture === 'jumprelu') {
      if (sae.threshold === null) throw new ArgumentError('TrainableSAE: a jumprelu SAE needs a threshold to start from');
      const threshold = sae.threshold;
      this.logThreshold = keep(noGrad(() => tidy(() => threshold.clamp(1e-12, null).log())));
    } else {
      this.logThreshold = null;
    }
    if (sae.cfg.architecture === 'batchtopk' && sae.threshold !== null) this.topkThreshold = sae.threshold.toArray()[0];
  }

  /** What the optimiser updates, in a fixed order. */
  parameters(): Tensor[] {
    const s = this.sae;
    return [s.W_enc, s.b_enc, s.W_dec, s.b_dec, ...(this.logThreshold ? [this.logThreshold] : [])];
  }

  /** Names matching parameters(), for checkpoints. */
  parameterNames(): string[] {
    return ['W_enc', 'b_enc', 'W_dec', 'b_dec', ...(this.logThreshold ? ['log_threshold'] : [])];
  }

  /** Copies the trained threshold into sae.threshold (JumpReLU: exp(log θ); BatchTopK: the EMA value for every feature). */
  syncInference(): void {
    const s = this.sae;
    noGrad(() => {
      if (this.logThreshold !== null) {
        tidy(() => s.threshold!.copy_(this.logThreshold!.exp()));
      } else if (s.cfg.architecture === 'batchtopk') {
        const value = tensor(new Array<number>(s.dSae).fill(this.topkThreshold), [s.dSae], { dtype: s.W_enc.dtype, backend: s.W_enc.backend });
        if (s.threshold === null) s.threshold = keep(value);
        else {
          s.threshold.copy_(value);
          value.dispose();
        }
      }
    });
  }

  /**
   * Loss of one batch x [tokens, d_in] against target [tokens, d_out]; deadMask (1 = dead, per
   * feature) drives AuxK. BatchTopK's threshold EMA is updated here, as SAELens does in its
   * training forward pass.
   */
  forward(x: Tensor, target: Tensor, coefficients: TrainingCoefficients, deadMask: Uint8Array | null): TrainingForward {
    const sae = this.sae;
    const arch = sae.cfg.architecture;
    const result = tidy(() => {
      const hiddenPre = sae.hiddenPre(x);
      let features: Tensor;
      switch (arch) {
        case 'standard': features = hiddenPre.relu(); break;
        case 'topk': features = topkActivation(hiddenPre, sae.cfg.k!); break;
        case 'batchtopk': features = batchTopkActivation(hiddenPre, sae.cfg.k!); break;
        case 'jumprelu': features = jumpReluSTE(hiddenPre, this.logThreshold!.exp(), this.options.bandwidth); break;
        default: return arch satisfies never;
      }
      const reconstruction = sae.decode(features);
      const mse = reconstruction.sub(target).square().sum(-1).mean();
      let sparsity: Tensor | null = null;
      if (arch === 'standard' && coefficients.l1 !== 0) {
        sparsity = features.mul(sae.decoderNorms()).sum(-1).mean().mul(coefficients.l1);
      } else if (arch === 'jumprelu' && coefficients.l0 !== 0) {
        sparsity = stepSTE(hiddenPre, this.logThreshold!.exp(), this.options.bandwidth).sum(-1).mean().mul(coefficients.l0);
      } else if ((arch === 'topk' || arch === 'batchtopk') && deadMask !== null && coefficients.auxK !== 0) {
        sparsity = auxKLoss(sae, x, target.sub(reconstruction).detach(), deadMask, coefficients.auxK);
      }
      const loss = sparsity === null ? mse : mse.add(sparsity);
      return { loss, mse: mse.detach(), sparsity: sparsity?.detach() ?? null, features: features.detach(), reconstruction: reconstruction.detach() };
    });
    const losses = { loss: result.loss.item(), mse: result.mse.item(), sparsity: result.sparsity?.item() ?? 0 };
    result.mse.dispose();
    result.sparsity?.dispose();
    if (arch === 'batchtopk') this.updateTopkThreshold(result.features);
    return { loss: result.loss, losses, features: result.features, reconstruction: result.reconstruction };
  }

  /** SAELens: θ ← (1 − lr)·θ + lr·min(positive activations of this batch). */
  private updateTopkThreshold(features: Tensor): void {
    // Zeros are lifted to +inf so the minimum is the smallest positive activation (inf when none fired).
    const min = noGrad(() => tidy(() => where(features.gt(0), features, Infinity).min().item()));
    if (!Number.isFinite(min)) return;
    const lr = this.options.topkThresholdLr;
    this.topkThreshold = (1 - lr) * this.topkThreshold + lr * min;
  }

  dispose(): void {
    this.logThreshold?.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * TopK's auxiliary loss: among dead features only, the k_aux = d_in/2 largest pre-activations of
 * each token (kept as they are, negative ones included, as SAELens) decode — without b_dec, which
 * the residual already accounts for — to predict the residual y − x̂. Scaled by min(dead/k_aux, 1).
 * Only the dead features' encoder columns and decoder rows take part, so the cost scales with the
 * number of dead features rather than d_sae.
 */
export function auxKLoss(sae: SparseAutoencoder, x: Tensor, residual: Tensor, deadMask: Uint8Array, coefficient: number): Tensor | null {
  const deadIds: number[] = [];
  deadMask.forEach((d, i) => { if (d) deadIds.push(i); });
  if (deadIds.length === 0) return null;
  const half = Math.max(1, Math.floor(sae.dIn / 2));
  const scale = Math.min(deadIds.length / half, 1);
  const kAux = Math.min(half, deadIds.length);
  return tidy(() => {
    const ids = tensor(Int32Array.from(deadIds), [deadIds.length], { dtype: 'int32', backend: x.backend });
    const input = sae.processInput(x);
    let pre = input.matmul(sae.W_enc.indexSelect(1, ids)).add(sae.b_enc.indexSelect(0, ids)); // [tokens, dead]
    const norms = sae.cfg.rescale_acts_by_decoder_norm ? sae.decoderNorms().indexSelect(0, ids) : null;
    if (norms !== null) pre = pre.mul(norms);
    const kth = kthLargest(pre, kAux);
    const auxActs = pre.mul(pre.ge(kth));
    const f = norms !== null ? auxActs.div(norms) : auxActs;
    const predicted = f.matmul(sae.W_dec.indexSelect(0, ids));
    return predicted.sub(residual).square().sum(-1).mean().mul(coefficient * scale);
  });
}
