// The weights of a transformer in one normalised structure. Matrices keep the layout the
// checkpoint stored them in (`transposed` says which), because our matmul reads a transposed
// operand through its strides at no cost: loading copies nothing, and saving back to Hugging Face
// writes the same tensors.

import type { Tensor } from '../tensor/tensor.js';
import type { Linear } from '../nn/linear.js';

export type { Linear } from '../nn/linear.js';

export interface NormParams {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
}

/**
 * How q, k and v come out of the block input. GPT-2 fuses them as [q | k | v] along the output
 * axis; GPT-NeoX fuses them per head as [head][q | k | v][d_head]; Llama-likes keep three matrices.
 */
export type QkvParams =
  | { readonly kind: 'fused-blocks'; readonly linear: Linear }
  | { readonly kind: 'fused-per-head'; readonly linear: Linear }
  | { readonly kind: 'separate'; readonly q: Linear; readonly k: Linear; readonly v: Linear };

export interface AttentionParams {
  readonly qkv: QkvParams;
  /** z (heads concatenated, [.., nHeads * dHead]) → d_model. */
  readonly out: Linear;
}

export interface MlpParams {
  /** d_model → d_mlp (W_in; 'up_proj' in gated MLPs). */
  readonly in: Linear;
  /** d_model → d_mlp gate of SwiGLU/GeGLU, else null. */
  readonly gate: Linear | null;
  /** d_mlp → d_model. */
  readonly out: Linear;
}

export interface BlockParams {
  readonly ln1: NormParams;
  readonly attn: AttentionParams;
  readonly ln2: NormParams;
  readonly mlp: MlpParams;
}

export interface TransformerParams {
  /** [d_vocab, d_model] */
  readonly embed: Tensor;
  /** [n_ctx, d_model] for learned positions, else null. */
  readonly posEmbed: Tensor | null;
  readonly blocks: readonly BlockParams[];
  readonly lnFinal: NormParams;
  /** Unembedding as a Linear from d_model to d_vocab (the embedding itself when tied). */
  readonly unembed: Linear;
  /** Every distinct tensor above, by its checkpoint name (for saving, freeing and counting). */
  readonly named: ReadonlyMap<string, Tensor>;
}
