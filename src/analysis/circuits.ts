// A head's QK and OV circuits as factored matrices (A Mathematical Framework for Transformer
// Circuits; TransformerLens's model.OV / model.QK), through the embedding and unembedding, and the
// eigenvalue copying score.
//
// Norm weights. TransformerLens folds each norm's weight into the matrices that read its output
// (fold_ln, on by default), so its W_V is diag(w_ln1) W_V and its W_U is diag(w_lnf) W_U. Our
// weights are the checkpoint's, so `foldNormWeights` (default true) applies the same diag(w) here;
// norm biases and centring are left out, as the folded TL circuits leave them out. Rotary
// embeddings are ignored by the QK circuit (as in TransformerLens): it is the position-free part.

import type { HookedTransformer } from '../models/transformer.js';
import { tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { FactoredMatrix } from './factored-matrix.js';
import {
  checkHead, checkTokens, embedMatrix, headOutputWeight, headWeight, normWeight, unembedMatrix,
} from './model-weights.js';

export interface CircuitOptions {
  /** Multiply in the reading norm's weight, as TransformerLens's folded weights do (default true). */
  foldNormWeights?: boolean;
}

/** W [d_model, k] with its rows scaled by the weight of the norm that feeds it (when folding). */
function withNormWeight(model: HookedTransformer, w: Tensor, norm: 'ln1' | 'final', layer: number, fold: boolean): Tensor {
  const params = norm === 'final' ? model.params.lnFinal : model.params.blocks[layer].ln1;
  const weight = fold ? normWeight(model, params) : null;
  return weight === null ? w : w.mul(weight.reshape(-1, 1));
}

/** Pulls a pair of tensors out of a tidy (it keeps only tensors in arrays / plain objects). */
function factored(build: () => [Tensor, Tensor]): FactoredMatrix {
  const [a, b] = tidy(build);
  return new FactoredMatrix(a, b);
}

/** The OV circuit of one head, W_V[h] W_O[h]: [d_model, d_model] of rank d_head (GQA: W_V of its kv head). */
export function headOV(model: HookedTransformer, layer: number, head: number, options: CircuitOptions = {}): FactoredMatrix {
  checkHead(model.config, layer, head, 'headOV');
  const fold = options.foldNormWeights ?? true;
  return factored(() => [
    withNormWeight(model, headWeight(model, layer, head, 'V'), 'ln1', layer, fold),
    headOutputWeight(model, layer, head),
  ]);
}

/** The QK circuit of one head, W_Q[h] W_K[h]ᵀ: [d_model (query side), d_model (key side)]; unscaled by 1/√d_head. */
export function headQK(model: HookedTransformer, layer: number, head: number, options: CircuitOptions = {}): FactoredMatrix {
  checkHead(model.config, layer, head, 'headQK');
  const fold = options.foldNormWeights ?? true;
  return factored(() => [
    withNormWeight(model, headWeight(model, layer, head, 'Q'), 'ln1', layer, fold),
    withNormWeight(model, headWeight(model, layer, head, 'K'), 'ln1', layer, fold).mT,
  ]);
}

/**
 * The full OV circuit W_E W_V[h] W_O[h] W_U: [d_vocab (input token), d_vocab (output logit)] —
 * how attending to a token moves the logits, ignoring everything else. Factors are
 * [d_vocab, d_head] and [d_head, d_vocab].
 */
export function fullOVCircuit(model: HookedTransformer, layer: number, head: number, options: CircuitOptions = {}): FactoredMatrix {
  checkHead(model.config, layer, head, 'fullOVCircuit');
  const fold = options.foldNormWeights ?? true;
  return factored(() => [
    embedMatrix(model).matmul(withNormWeight(model, headWeight(model, layer, head, 'V'), 'ln1', layer, fold)),
    headOutputWeight(model, layer, head).matmul(withNormWeight(model, unembedMatrix(model), 'final', 0, fold)),
  ]);
}

/** The full QK circuit W_E W_Q[h] W_K[h]ᵀ W_Eᵀ: [d_vocab (query token), d_vocab (key token)], token embeddings only. */
export function fullQKCircuit(model: HookedTransformer, layer: number, head: number, options: CircuitOptions = {}): FactoredMatrix {
  checkHead(model.config, layer, head, 'fullQKCircuit');
  const fold = options.foldNormWeights ?? true;
  return factored(() => {
    const embed = embedMatrix(model);
    return [
      embed.matmul(withNormWeight(model, headWeight(model, layer, head, 'Q'), 'ln1', layer, fold)),
      embed.matmul(withNormWeight(model, headWeight(model, layer, head, 'K'), 'ln1', layer, fold)).mT,
    ];
  });
}

export interface TokenScore {
  token: number;
  value: number;
}

/**
 * The logits a head's full OV circuit produces when it attends to `token`: the k largest (and, with
 * `bottom`, the k smallest) output tokens.
 */
export function ovTopTokens(model: HookedTransformer, layer: number, head: number, token: number,
  options: CircuitOptions & { k?: number } = {}): { top: TokenScore[]; bottom: TokenScore[] } {
  checkTokens(model, [token], 'ovTopTokens');
  const circuit = fullOVCircuit(model, layer, head, options);
  try {
    return tidy(() => extremes(circuit.rows([token]).reshape(-1), options.k ?? 10));
  } finally {
    circuit.dispose();
  }
}

/** The k largest and k smallest entries of a vector, as plain token scores. */
export function extremes(values: Tensor, k: number): { top: TokenScore[]; bottom: TokenScore[] } {
  const n = Math.min(k, values.shape[0]);
  const read = (largest: boolean) => {
    const { values: v, indices } = values.topk(n, -1, { largest });
    const vs = v.toArray();
    return Array.from(indices.toArray(), (token, i) => ({ token, value: vs[i] }));
  };
  return tidy(() => ({ top: read(true), bottom: read(false) }));
}

/**
 * The positive-copying score of a head: Σ Re λ / Σ |λ| over the eigenvalues λ of its full OV
 * circuit (Elhage et al. 2021; the TransformerLens demo's OV copying score). Near 1 when the head
 * raises the logit of the token it attends to, near −1 when it suppresses it.
 */
export function copyingScore(model: HookedTransformer, layer: number, head: number, options: CircuitOptions = {}): number {
  const circuit = fullOVCircuit(model, layer, head, options);
  try {
    return copyingScoreOf(circuit);
  } finally {
    circuit.dispose();
  }
}

/** Σ Re λ / Σ |λ| over the eigenvalues of any square factored matrix (0 when all are 0). */
export function copyingScoreOf(circuit: FactoredMatrix): number {
  const { real, imag } = circuit.eigenvalues();
  const re = real.toArray();
  const im = imag.toArray();
  real.dispose();
  imag.dispose();
  let sum = 0;
  let modulus = 0;
  for (let i = 0; i < re.length; i++) {
    sum += re[i];
    modulus += Math.hypot(re[i], im[i]);
  }
  return modulus === 0 ? 0 : sum / modulus;
}

/** copyingScore of every head, [nLayers, nHeads]. The caller owns the tensor. */
export function copyingScores(model: HookedTransformer, options: CircuitOptions = {}): Tensor {
  const { nLayers, nHeads } = model.config;
  const scores = new Float32Array(nLayers * nHeads);
  for (let l = 0; l < nLayers; l++) for (let h = 0; h < nHeads; h++) scores[l * nHeads + h] = copyingScore(model, l, h, options);
  return tensor(scores, [nLayers, nHeads], { backend: model.backend });
}
