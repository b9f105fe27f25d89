// A 2-layer GPT-2 (Conv1D layout, LayerNorm, learned positions) whose weights are written by hand
// so that its heads have known jobs:
//   L0H0 previous-token head     L0H1 does nothing (zero weights: uniform attention, writes 0)
//   L1H0 duplicate-token head    L1H1 induction head (K-composition with L0H0)
// MLPs are zero. The residual stream has one-hot subspaces:
//   TOK [0, 16)   token identity          POS [16, 48)  position
//   PREV [48, 64) previous token (written by L0H0)
//   CONST 64      1 everywhere (lets a query ask for "position 0" as a default)
//   BAL 65        minus the sum of the others, so every vector has mean 0 and LayerNorm's centring
//                 is the identity; its norm is the same at every position, so LayerNorm only
//                 rescales by a constant (s0 before layer 0, s1 before layer 1).
// Scores are (A·e)² · 1/√d_head per matching feature, with e = 1/s the normalised entry: A = 12
// gives ≈ 190 (layer 0) and ≈ 115 (layer 1), so softmax is one-hot to float precision.
// Layer-1 heads give key 0 (BOS) half a match's score: with no match they rest on BOS, as real
// induction heads do.

import { gpt2Config } from '../../src/models/arch/gpt2-config.js';
import { gpt2Params } from '../../src/models/arch/gpt2.js';
import { HookedTransformer } from '../../src/models/transformer.js';
import type { WeightSource } from '../../src/models/weight-reader.js';
import { tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { ref } from './inspect-helpers.js';

export const VOCAB = 16;
export const CONTEXT = 32;
const D = 128;
const HEADS = 2;
const D_HEAD = 64;
const TOK = 0;
const POS = 16;
const PREV = 48;
const CONST = 64;
const BAL = 65;
const A = 12;
const EPS = 1e-5;

/** LayerNorm's divisor for a zero-mean residual with this sum of squares. */
function lnScale(sumOfSquares: number): number {
  return Math.sqrt(sumOfSquares / D + EPS);
}

class Matrix {
  readonly data: Float32Array;
  constructor(readonly rows: number, readonly cols: number) {
    this.data = new Float32Array(rows * cols);
  }
  set(r: number, c: number, v: number): void {
    this.data[r * this.cols + c] = v;
  }
}

/** Column of head `head`'s q, k or v feature `i` in GPT-2's fused c_attn output ([q | k | v]). */
function qkvColumn(which: 0 | 1 | 2, head: number, i: number): number {
  return which * D + head * D_HEAD + i;
}

export function handBuiltModel(): HookedTransformer {
  const raw = {
    model_type: 'gpt2', n_embd: D, n_head: HEADS, n_layer: 2, n_positions: CONTEXT, vocab_size: VOCAB,
    n_inner: 32, activation_function: 'gelu_new', layer_norm_epsilon: EPS, bos_token_id: 0, eos_token_id: 0,
  };
  const config = gpt2Config(raw);
  const weights = new Map<string, { data: Float32Array; shape: number[] }>();
  const put = (name: string, m: Matrix | Float32Array, shape?: number[]) => {
    if (m instanceof Matrix) weights.set(name, { data: m.data, shape: [m.rows, m.cols] });
    else weights.set(name, { data: m, shape: shape ?? [m.length] });
  };

  const embed = new Matrix(VOCAB, D);
  for (let t = 0; t < VOCAB; t++) {
    embed.set(t, TOK + t, 1);
    embed.set(t, CONST, 1);
    embed.set(t, BAL, -2);
  }
  const posEmbed = new Matrix(CONTEXT, D);
  for (let p = 0; p < CONTEXT; p++) {
    posEmbed.set(p, POS + p, 1);
    posEmbed.set(p, BAL, -1);
  }
  put('wte.weight', embed);
  put('wpe.weight', posEmbed);

  const s0 = lnScale(1 + 1 + 1 + 9); // TOK, POS, CONST, BAL = -3
  // Layer 0: head 0 matches query position p with key position p − 1 and copies the key's token into PREV.
  const attn0 = new Matrix(D, 3 * D);
  for (let p = 0; p < CONTEXT; p++) {
    attn0.set(POS + p, qkvColumn(0, 0, p), A);
    attn0.set(POS + p, qkvColumn(1, 0, p + 1), A);
  }
  for (let t = 0; t < VOCAB; t++) attn0.set(TOK + t, qkvColumn(2, 0, t), 1);
  const out0 = new Matrix(D, D);
  for (let t = 0; t < VOCAB; t++) {
    out0.set(t, PREV + t, s0); // z holds the normalised entry 1/s0
    out0.set(t, BAL, -s0);
  }

  // Layer 1, head 0: same token, not itself, else BOS. Head 1: key's previous token = query's token, else BOS.
  const attn1 = new Matrix(D, 3 * D);
  const bosFeature = D_HEAD - 1;
  for (let t = 0; t < VOCAB; t++) {
    attn1.set(TOK + t, qkvColumn(0, 0, t), A);
    attn1.set(TOK + t, qkvColumn(1, 0, t), A);
    attn1.set(TOK + t, qkvColumn(0, 1, t), A);
    attn1.set(PREV + t, qkvColumn(1, 1, t), A);
  }
  for (let p = 0; p < CONTEXT; p++) {
    attn1.set(POS + p, qkvColumn(0, 0, VOCAB + p), A);
    attn1.set(POS + p, qkvColumn(1, 0, VOCAB + p), -A);
  }
  for (const head of [0, 1]) {
    attn1.set(CONST, qkvColumn(0, head, bosFeature), A);
    attn1.set(POS, qkvColumn(1, head, bosFeature), A / 2);
  }

  const zeros = (n: number) => new Float32Array(n);
  const ones = (n: number) => new Float32Array(n).fill(1);
  [[attn0, out0], [attn1, new Matrix(D, D)]].forEach(([cAttn, cProj], l) => {
    put(`h.${l}.ln_1.weight`, ones(D));
    put(`h.${l}.ln_1.bias`, zeros(D));
    put(`h.${l}.attn.c_attn.weight`, cAttn);
    put(`h.${l}.attn.c_attn.bias`, zeros(3 * D));
    put(`h.${l}.attn.c_proj.weight`, cProj);
    put(`h.${l}.attn.c_proj.bias`, zeros(D));
    put(`h.${l}.ln_2.weight`, ones(D));
    put(`h.${l}.ln_2.bias`, zeros(D));
    put(`h.${l}.mlp.c_fc.weight`, new Matrix(D, config.dMlp));
    put(`h.${l}.mlp.c_fc.bias`, zeros(config.dMlp));
    put(`h.${l}.mlp.c_proj.weight`, new Matrix(config.dMlp, D));
    put(`h.${l}.mlp.c_proj.bias`, zeros(D));
  });
  put('ln_f.weight', ones(D));
  put('ln_f.bias', zeros(D));

  const tensors = new Map<string, Tensor>();
  for (const [name, w] of weights) tensors.set(name, tensor(w.data, w.shape, { backend: ref }));
  const source: WeightSource = { names: [...tensors.keys()], description: 'hand-built', get: (name) => tensors.get(name) as Tensor };
  return new HookedTransformer(config, gpt2Params(source, config));
}
