// Optimizers with PyTorch's update formulas, so a training run here can be checked against
// torch step by step. Parameters are updated in place (models keep their tensor objects);
// optimizer state tensors are owned by the optimizer and freed by dispose().

import { ArgumentError } from '../util/errors.js';
import { noGrad } from './autograd.js';
import { zerosLike } from './creation.js';
import { keep, tidy } from './scope.js';
import type { Tensor } from './tensor.js';

function checkParams(params: readonly Tensor[], op: string): void {
  if (params.length === 0) throw new ArgumentError(`${op}: got an empty parameter list`);
  for (const p of params) {
    p.assertLive(op);
    if (!p.requiresGrad) throw new ArgumentError(`${op}: parameter of shape [${p.shape.join(', ')}] does not require grad`);
  }
}

function checkLr(lr: number, op: string): number {
  if (!(lr >= 0)) throw new ArgumentError(`${op}: learning rate ${lr} must be >= 0`);
  return lr;
}

/** Sets every parameter's `.grad` to null (freeing it). */
function zeroGrads(params: readonly Tensor[]): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** torch.optim.SGD: d = g + wd·p; buf = m·buf + (1 - dampening)·d (buf = d at first); p -= lr·(nesterov ? d + m·buf : buf). */
export class SGD {
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private momentumBuffers: (Tensor | null)[];

  constructor(readonly params: readonly Tensor[], options: SGDOptions) {
    checkParams(params, 'SGD');
    this.lr = checkLr(options.lr, 'SGD');
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.momentumBuffers = params.map(() => null);
  }

  zeroGrad(): void {
    zeroGrads(this.params);
  }

  step(): void {
    noGrad(() => this.params.forEach((p, i) => {
      const grad = p.grad;
      if (grad === null) return;
      tidy(() => {
        let d = this.weightDecay !== 0 ? grad.add(p.mul(this.weightDecay)) : grad;
        if (this.momentum !== 0) {
          const buffer = this.momentumBuffers[i];
          if (buffer === null) {
            this.momentumBuffers[i] = keep(d.clone());
          } else {
            buffer.copy_(buffer.mul(this.momentum).add(d.mul(1 - this.dampening)));
          }
          const updated = this.momentumBuffers[i]!;
          d = this.nesterov ? d.add(updated.mul(this.momentum)) : updated;
        }
        p.copy_(p.sub(d.mul(this.lr)));
      });
    }));
  }

  /** Copies of the momentum buffers (null before a parameter's first step); the caller owns them. */
  exportState(): { momentumBuffers: (Tensor | null)[] } {
    return { momentumBuffers: this.momentumBuffers.map((b) => (b === null ? null : keep(b.clone()))) };
  }

  loadState(state: { momentumBuffers: readonly (Tensor | null)[] }): void {
    this.dispose();
    this.momentumBuffers = state.momentumBuffers.map((b) => (b === null ? null : keep(b.clone())));
  }

  dispose(): void {
    for (const b of this.momentumBuffers) b?.dispose();
    this.momentumBuffers = this.params.map(() => null);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

export interface AdamWOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
}

export interface AdamWState {
  steps: number[];
  expAvg: (Tensor | null)[];
  expAvgSq: (Tensor | null)[];
}

/**
 * torch.optim.AdamW: p *= 1 - lr·wd; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
 * p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps). Step counts are per parameter, as torch.
 */
export class AdamW {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private state: AdamWState;

  constructor(readonly params: readonly Tensor[], options: AdamWOptions = {}) {
    checkParams(params, 'AdamW');
    this.lr = checkLr(options.lr ?? 1e-3, 'AdamW');
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 1e-2;
    this.state = this.emptyState();
  }

  private emptyState(): AdamWState {
    return { steps: this.params.map(() => 0), expAvg: this.params.map(() => null), expAvgSq: this.params.map(() => null) };
  }

  zeroGrad(): void {
    zeroGrads(this.params);
  }

  step(): void {
    const { steps, expAvg, expAvgSq } = this.state;
    noGrad(() => this.params.forEach((p, i) => {
      const grad = p.grad;
      if (grad === null) return;
      const m = (expAvg[i] ??= keep(zerosLike(p)));
      const v = (expAvgSq[i] ??= keep(zerosLike(p)));
      const t = ++steps[i];
      tidy(() => {
        if (this.weightDecay !== 0) p.copy_(p.mul(1 - this.lr * this.weightDecay));
        m.copy_(m.mul(this.beta1).add(grad.mul(1 - this.beta1)));
        v.copy_(v.mul(this.beta2).add(grad.square().mul(1 - this.beta2)));
        const stepSize = this.lr / (1 - this.beta1 ** t);
        const denom = v.sqrt().div(Math.sqrt(1 - this.beta2 ** t)).add(this.eps);
        p.copy_(p.sub(m.div(denom).mul(stepSize)));
      });
    }));
  }

  /** Step counts and copies of the moment estimates (null before a parameter's first step); the caller owns the tensors. */
  exportState(): AdamWState {
    const copy = (t: Tensor | null) => (t === null ? null : keep(t.clone()));
    return { steps: [...this.state.steps], expAvg: this.state.expAvg.map(copy), expAvgSq: this.state.expAvgSq.map(copy) };
  }

  loadState(state: AdamWState): void {
    if (state.steps.length !== this.params.length) {
      throw new ArgumentError(`AdamW.loadState: state has ${state.steps.length} parameters, optimizer has ${this.params.length}`);
    }
    this.dispose();
    const copy = (t: Tensor | null) => (t === null ? null : keep(t.clone()));
    this.state = { steps: [...state.steps], expAvg: state.expAvg.map(copy), expAvgSq: state.expAvgSq.map(copy) };
  }

  dispose(): void {
    for (const t of [...this.state.expAvg, ...this.state.expAvgSq]) t?.dispose();
    this.state = this.emptyState();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Scales all gradients in place so their global L2 norm is at most maxNorm (torch's
 * clip_grad_norm_: coefficient maxNorm / (norm + 1e-6), applied only when below 1).
 * Returns the norm before clipping.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return 0;
  return noGrad(() => tidy(() => {
    let squares = 0;
    for (const g of grads) squares += g.square().sum().item();
    const norm = Math.sqrt(squares);
    const coefficient = maxNorm / (norm + 1e-6);
    if (coefficient < 1) for (const g of grads) g.copy_(g.mul(coefficient));
    return norm;
  }));
}
