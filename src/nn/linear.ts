// Linear layers. Weights keep their checkpoint layout; a transposed weight is read through its
// strides by matmul, so neither loading nor the forward pass copies it.

import type { Tensor } from '../tensor/tensor.js';

/** y = x @ W + b when W is stored [in, out] (GPT-2's Conv1D); y = x @ Wᵀ + b when stored [out, in] (nn.Linear). */
export interface Linear {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  /** true: weight is [out, in] (nn.Linear); false: [in, out] (Conv1D). */
  readonly transposed: boolean;
}

/** Input features of a Linear. */
export function inFeatures(layer: Linear): number {
  return layer.transposed ? layer.weight.shape[1] : layer.weight.shape[0];
}

/** x [..., in] → [..., out]. Leading axes are flattened into one GEMM (m = all positions). */
export function linear(x: Tensor, layer: Linear): Tensor {
  const weight = layer.transposed ? layer.weight.mT : layer.weight;
  const lead = x.shape.slice(0, -1);
  const rows = x.ndim === 2 ? x : x.reshape(-1, x.shape[x.ndim - 1]);
  const product = rows.matmul(weight);
  const biased = layer.bias ? product.add(layer.bias) : product;
  return x.ndim === 2 ? biased : biased.reshape([...lead, weight.shape[1]]);
}
