// A model's weights in TransformerLens's orientation, derived from the checkpoint-layout params:
// W_Q/W_K/W_V [d_model, d_head] and W_O [d_head, d_model] per head, W_out [d_mlp, d_model],
// W_U [d_model, d_vocab]. Checkpoints store linears as [in, out] (GPT-2's Conv1D) or [out, in]
// (nn.Linear) and fuse q/k/v in family-specific ways; this file is the one place analysis code
// decodes that, so every analysis works on every architecture.
//
// Ownership: every function returns a new Tensor the caller disposes. Most are views of the
// model's weights: disposing a view never frees the weights (a view holds its own reference).

import type { ModelConfig } from '../models/config.js';
import type { Linear, NormParams } from '../models/params.js';
import type { HookedTransformer } from '../models/transformer.js';
import { linear } from '../nn/linear.js';
import { layerNorm, rmsNorm, tensor } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { IndexError } from '../util/errors.js';

/** Output features [start, start + count) of a linear, as an [in, count] matrix (x @ it gives them). */
export function outputColumns(layer: Linear, start: number, count: number): Tensor {
  return layer.transposed ? layer.weight.narrow(0, start, count).mT : layer.weight.narrow(1, start, count);
}

/** Input features [start, start + count) of a linear, as the [count, out] rows they multiply. */
export function inputRows(layer: Linear, start: number, count: number): Tensor {
  return layer.transposed ? layer.weight.narrow(1, start, count).mT : layer.weight.narrow(0, start, count);
}

/** The whole weight of a linear as [in, out]. */
export function inOutMatrix(layer: Linear): Tensor {
  return layer.transposed ? layer.weight.mT : alias(layer.weight);
}

/** A new Tensor object over the same data (so the caller can own and dispose it). */
export function alias(t: Tensor): Tensor {
  return t.reshape(t.shape);
}

/** Under grouped-query attention, query head `head` reads key/value head floor(head / group). */
export function kvHeadOf(config: ModelConfig, head: number): number {
  return Math.floor(head / (config.nHeads / config.nKvHeads));
}

export function checkLayer(config: ModelConfig, layer: number, what: string): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= config.nLayers) {
    throw new IndexError(`${what}: layer ${layer} is out of range 0..${config.nLayers - 1}`);
  }
}

export function checkHead(config: ModelConfig, layer: number, head: number, what: string): void {
  checkLayer(config, layer, what);
  if (!Number.isInteger(head) || head < 0 || head >= config.nHeads) {
    throw new IndexError(`${what}: head ${head} is out of range 0..${config.nHeads - 1}`);
  }
}

export type QkvName = 'Q' | 'K' | 'V';

/** Where head `head`'s q, k or v features sit in the qkv projection's output axis, and which linear holds them. */
function qkvSlice(model: HookedTransformer, layer: number, head: number, which: QkvName): { linear: Linear; start: number } {
  const c = model.config;
  const qkv = model.params.blocks[layer].attn.qkv;
  const index = which === 'Q' ? 0 : which === 'K' ? 1 : 2;
  const h = which === 'Q' ? head : kvHeadOf(c, head);
  switch (qkv.kind) {
    case 'fused-blocks': // GPT-2: [q | k | v], each nHeads * dHead wide
      return { linear: qkv.linear, start: index * c.nHeads * c.dHead + h * c.dHead };
    case 'fused-per-head': // GPT-NeoX: [head][q | k | v][d_head]
      return { linear: qkv.linear, start: (h * 3 + index) * c.dHead };
    case 'separate':
      return { linear: which === 'Q' ? qkv.q : which === 'K' ? qkv.k : qkv.v, start: h * c.dHead };
    default:
      return qkv satisfies never;
  }
}

/** W_Q, W_K or W_V of a query head, [d_model, d_head] (K and V: the kv head it reads under GQA). */
export function headWeight(model: HookedTransformer, layer: number, head: number, which: QkvName): Tensor {
  checkHead(model.config, layer, head, `W_${which}`);
  const { linear: lin, start } = qkvSlice(model, layer, head, which);
  return outputColumns(lin, start, model.config.dHead);
}

/** b_Q, b_K or b_V of a head, [d_head], or null when the model has no qkv bias. */
export function headBias(model: HookedTransformer, layer: number, head: number, which: QkvName): Tensor | null {
  checkHead(model.config, layer, head, `b_${which}`);
  const { linear: lin, start } = qkvSlice(model, layer, head, which);
  return lin.bias === null ? null : lin.bias.narrow(0, start, model.config.dHead);
}

/** W_O of a head: the [d_head, d_model] rows of the output projection that read its z. */
export function headOutputWeight(model: HookedTransformer, layer: number, head: number): Tensor {
  checkHead(model.config, layer, head, 'W_O');
  const d = model.config.dHead;
  return inputRows(model.params.blocks[layer].attn.out, head * d, d);
}

/** W_out of an MLP as [d_mlp, d_model]: row n is neuron n's value vector. */
export function mlpOutputWeight(model: HookedTransformer, layer: number): Tensor {
  checkLayer(model.config, layer, 'W_out');
  return inOutMatrix(model.params.blocks[layer].mlp.out);
}

/** W_U as [d_model, d_vocab]. */
export function unembedMatrix(model: HookedTransformer): Tensor {
  return inOutMatrix(model.params.unembed);
}

/** Columns of W_U for token ids, as rows: [n, d_model] (row i = W_U[:, ids[i]]). */
export function unembedRows(model: HookedTransformer, ids: readonly number[]): Tensor {
  checkTokens(model, ids, 'unembedRows');
  const u = model.params.unembed;
  const idx = tensor(Int32Array.from(ids), [ids.length], { dtype: 'int32', backend: model.backend });
  try {
    return u.transposed ? u.weight.indexSelect(0, idx) : u.weight.indexSelect(1, idx).mT;
  } finally {
    idx.dispose();
  }
}

/** b_U for token ids, [n], or null when the unembedding has no bias. */
export function unembedBias(model: HookedTransformer, ids: readonly number[]): Tensor | null {
  const bias = model.params.unembed.bias;
  if (bias === null) return null;
  const idx = tensor(Int32Array.from(ids), [ids.length], { dtype: 'int32', backend: model.backend });
  try {
    return bias.indexSelect(0, idx);
  } finally {
    idx.dispose();
  }
}

/** The token embedding W_E [d_vocab, d_model], times Gemma's embedding scale when it has one (then a copy). */
export function embedMatrix(model: HookedTransformer): Tensor {
  const e = model.params.embed;
  return model.config.embedScale === 1 ? alias(e) : e.mul(model.config.embedScale);
}

/**
 * The factor a norm multiplies the normalised vector by, [d_model]: its weight (Gemma: 1 + w), or
 * null when it has none. A copy when an offset applies, else a view.
 */
export function normWeight(model: HookedTransformer, norm: NormParams): Tensor | null {
  if (norm.weight === null) return null;
  const offset = model.config.normWeightOffset;
  return offset === 0 ? alias(norm.weight) : norm.weight.add(offset);
}

/** ln_final applied afresh to x [..., d_model] (its own statistics, as the model does at the end). */
export function applyFinalNorm(model: HookedTransformer, x: Tensor): Tensor {
  const c = model.config;
  const p = model.params.lnFinal;
  if (c.norm === 'layernorm') return layerNorm(x, p.weight, p.bias, c.normEps);
  return rmsNorm(x, p.weight, c.normEps, { weightOffset: c.normWeightOffset });
}

/** Logits of a final residual x [..., d_model]: unembed(ln_final(x)), exactly the model's last step. */
export function unembedResidual(model: HookedTransformer, x: Tensor): Tensor {
  const normalized = applyFinalNorm(model, x);
  try {
    return linear(normalized, model.params.unembed);
  } finally {
    normalized.dispose();
  }
}

export function checkTokens(model: HookedTransformer, ids: readonly number[], what: string): void {
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= model.config.dVocab) {
      throw new IndexError(`${what}: token id ${id} is out of range: the vocabulary has ${model.config.dVocab} tokens`);
    }
  }
}
