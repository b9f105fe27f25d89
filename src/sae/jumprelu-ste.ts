// JumpReLU's training ops (Rajamanoharan et al. 2024, as SAELens implements them). The forward
// pass is the true, discontinuous function; the backward pass gives the threshold a
// straight-through pseudo-derivative through a rectangle kernel of width `bandwidth`:
//
//   JumpReLU(x; θ) = x·H(x − θ)      ∂/∂x = H(x − θ)   ∂/∂θ = −(θ/ε)·K((x − θ)/ε)
//   Step(x; θ)     = H(x − θ)        ∂/∂x = 0          ∂/∂θ = −(1/ε)·K((x − θ)/ε)
//
// with K(u) = 1 for |u| < 1/2 (else 0). The θ gradient is summed over every leading axis (tokens).

import { needsGrad, record } from '../tensor/autograd.js';
import { noGrad, type Tensor } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';

/** K((x − θ)/ε): 1 inside the band |x − θ| < ε/2, 0 outside. */
function rectangle(x: Tensor, threshold: Tensor, bandwidth: number): Tensor {
  const u = x.sub(threshold).div(bandwidth);
  return u.gt(-0.5).mul(u.lt(0.5));
}

/** Sums a [..., d_sae] gradient over every leading axis, to the threshold's [d_sae]. */
function toThresholdShape(g: Tensor, threshold: Tensor): Tensor {
  return g.reshape(-1, threshold.size).sum(0).reshape(threshold.shape);
}

function checkBandwidth(bandwidth: number, op: string): void {
  if (!(bandwidth > 0)) throw new ArgumentError(`${op}: bandwidth ${bandwidth} must be > 0`);
}

/** x·H(x − θ) with the straight-through θ gradient; x [..., d_sae], θ [d_sae]. */
export function jumpReluSTE(x: Tensor, threshold: Tensor, bandwidth: number): Tensor {
  checkBandwidth(bandwidth, 'jumpReluSTE');
  const { out, mask } = noGrad(() => {
    const m = x.gt(threshold);
    return { out: x.mul(m), mask: m };
  });
  if (needsGrad(x, threshold)) {
    record('jumprelu_ste', out, [x, threshold], (g, [sx, st, smask], needs) => [
      needs[0] ? g.mul(smask) : null,
      needs[1] ? toThresholdShape(rectangle(sx, st, bandwidth).mul(st).mul(g).mul(-1 / bandwidth), st) : null,
    ], [x, threshold, mask]);
  }
  mask.dispose();
  return out;
}

/** H(x − θ) with the straight-through θ gradient (the L0 count's pseudo-derivative); no gradient to x. */
export function stepSTE(x: Tensor, threshold: Tensor, bandwidth: number): Tensor {
  checkBandwidth(bandwidth, 'stepSTE');
  const out = noGrad(() => x.gt(threshold));
  if (needsGrad(threshold)) {
    record('step_ste', out, [x, threshold], (g, [sx, st], needs) => [
      null,
      needs[1] ? toThresholdShape(rectangle(sx, st, bandwidth).mul(g).mul(-1 / bandwidth), st) : null,
    ], [x, threshold]);
  }
  return out;
}
