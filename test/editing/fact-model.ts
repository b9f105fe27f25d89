// A 3-layer GPT-2 (Conv1D layout, LayerNorm, learned positions) whose weights are written by hand
// so that it recalls one fact, stored in one MLP at the subject's last token:
//
//   prompt  [BOS, S1, S2, X]  (subject = S1 S2 at positions 1..2)   answer: ANSWER
//   L0 attn   previous-token head: writes "the token before me" (PREV) at every position
//   L1 MLP    one neuron fires iff TOK = S2 and PREV = S1 — the fact lookup — and writes FACT
//   L2 attn   every query attends to the position holding FACT and copies it into ANS
//   L2 MLP    one neuron fires iff ANS is large and writes OUT, which the unembedding reads as ANSWER
//
// Everything else is zero. The residual stream has one-hot subspaces (d_model 512, so LayerNorm'd
// one-hot entries are ≈ 5 and the thresholds sit far above what noise on two positions can reach):
//   TOK [0, 16) token   POS [16, 32) position   PREV [32, 48) previous token
//   CONST 48   FACT 49   ANS 50   OUT 51   BAL 52 (minus the sum of the others: LayerNorm's centring is the identity)
//
// With the subject corrupted, causal tracing must find: restoring L1's MLP output at position 2
// (or the residual stream there after L0 or L1) brings the answer back; so does restoring L2's
// attention or MLP output (or the residual stream) at the last position; nothing else does.

import { gpt2Config } from '../../src/models/arch/gpt2-config.js';
import { gpt2Params } from '../../src/models/arch/gpt2.js';
import { HookedTransformer } from '../../src/models/transformer.js';
import { tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import type { Backend } from '../../src/backend/types.js';

export const FACT_PROMPT = [0, 3, 5, 7];
export const FACT_SUBJECT: readonly [number, number] = [1, 3];
export const FACT_ANSWER = 9;
/** Cells (layer, position) whose restoration brings the answer back, by kind. */
export const FACT_HOT_CELLS = {
  resid: [[0, 2], [1, 2], [2, 3]],
  mlp: [[1, 2], [2, 3]],
  attn: [[2, 3]],
} as const;

const VOCAB = 16;
const CONTEXT = 16;
const D = 512;
const HEAD = 256;
const D_MLP = 8;
const TOK = 0;
const POS = 16;
const PREV = 32;
const CONST = 48;
const FACT = 49;
const ANS = 50;
const OUT = 51;
const BAL = 52;
const [S1, S2] = [3, 5];

class Matrix {
  readonly data: Float32Array;
  constructor(readonly rows: number, readonly cols: number) {
    this.data = new Float32Array(rows * cols);
  }
  set(r: number, c: number, v: number): void {
    this.data[r * this.cols + c] = v;
  }
}

/** Column of head h's q (0), k (1) or v (2) feature i in GPT-2's fused c_attn output. */
function qkv(which: 0 | 1 | 2, head: number, i: number): number {
  return which * D + head * HEAD + i;
}

export function factModel(backend: Backend): HookedTransformer {
  const raw = {
    model_type: 'gpt2', n_embd: D, n_head: 2, n_layer: 3, n_positions: CONTEXT, vocab_size: VOCAB,
    n_inner: D_MLP, activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, bos_token_id: 0, eos_token_id: 0,
  };
  const config = gpt2Config(raw);
  const weights = new Map<string, { data: Float32Array; shape: number[] }>();
  const put = (name: string, m: Matrix | Float32Array) => {
    weights.set(name, m instanceof Matrix ? { data: m.data, shape: [m.rows, m.cols] } : { data: m, shape: [m.length] });
  };

  const embed = new Matrix(VOCAB, D);
  for (let t = 0; t < VOCAB; t++) {
    embed.set(t, TOK + t, 1);
    embed.set(t, CONST, 1);
    embed.set(t, BAL, -2);
  }
  // Tied unembedding: the answer's row also reads OUT (the answer never appears as an input).
  embed.set(FACT_ANSWER, OUT, 1);
  const posEmbed = new Matrix(CONTEXT, D);
  for (let p = 0; p < CONTEXT; p++) {
    posEmbed.set(p, POS + p, 1);
    posEmbed.set(p, BAL, -1);
  }
  put('wte.weight', embed);
  put('wpe.weight', posEmbed);

  // L0: query p matches key p − 1; the value is the key's token, written into PREV (× s0 undoes LayerNorm's 1/s0).
  const s0 = Math.sqrt((1 + 1 + 1 + 9) / D + 1e-5);
  const attn0 = new Matrix(D, 3 * D);
  for (let p = 0; p < CONTEXT; p++) {
    attn0.set(POS + p, qkv(0, 0, p), 4);
    attn0.set(POS + p, qkv(1, 0, p + 1), 4);
  }
  for (let t = 0; t < VOCAB; t++) attn0.set(TOK + t, qkv(2, 0, t), 1);
  const out0 = new Matrix(D, D);
  for (let t = 0; t < VOCAB; t++) {
    out0.set(t, PREV + t, s0);
    out0.set(t, BAL, -s0);
  }

  // L1 MLP: neuron 0 = gelu(TOK_S2 + PREV_S1 − 7) in LayerNorm'd units (clean: ≈ 5.06 each), written into FACT.
  const fc1 = new Matrix(D, D_MLP);
  fc1.set(TOK + S2, 0, 1);
  fc1.set(PREV + S1, 0, 1);
  const fcBias1 = new Float32Array(D_MLP);
  fcBias1[0] = -7;
  const proj1 = new Matrix(D_MLP, D);
  proj1.set(0, FACT, 200);
  proj1.set(0, BAL, -200);

  // L2 attn: queries (CONST) look for FACT; the value is FACT, written into ANS.
  const attn2 = new Matrix(D, 3 * D);
  attn2.set(CONST, qkv(0, 0, 0), 2);
  attn2.set(FACT, qkv(1, 0, 0), 2);
  attn2.set(FACT, qkv(2, 0, 0), 1);
  const out2 = new Matrix(D, D);
  out2.set(0, ANS, 1);
  out2.set(0, BAL, -1);

  // L2 MLP: neuron 0 = gelu(ANS − 7) (clean: ANS ≈ 14 after LayerNorm), written into OUT.
  const fc2 = new Matrix(D, D_MLP);
  fc2.set(ANS, 0, 1);
  const fcBias2 = new Float32Array(D_MLP);
  fcBias2[0] = -7;
  const proj2 = new Matrix(D_MLP, D);
  proj2.set(0, OUT, 100);
  proj2.set(0, BAL, -100);

  const zeros = (n: number) => new Float32Array(n);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const layers = [
    { attn: attn0, out: out0, fc: new Matrix(D, D_MLP), fcBias: zeros(D_MLP), proj: new Matrix(D_MLP, D) },
    { attn: new Matrix(D, 3 * D), out: new Matrix(D, D), fc: fc1, fcBias: fcBias1, proj: proj1 },
    { attn: attn2, out: out2, fc: fc2, fcBias: fcBias2, proj: proj2 },
  ];
  layers.forEach((w, l) => {
    put(`h.${l}.ln_1.weight`, ones(D));
    put(`h.${l}.ln_1.bias`, zeros(D));
    put(`h.${l}.attn.c_attn.weight`, w.attn);
    put(`h.${l}.attn.c_attn.bias`, zeros(3 * D));
    put(`h.${l}.attn.c_proj.weight`, w.out);
    put(`h.${l}.attn.c_proj.bias`, zeros(D));
    put(`h.${l}.ln_2.weight`, ones(D));
    put(`h.${l}.ln_2.bias`, zeros(D));
    put(`h.${l}.mlp.c_fc.weight`, w.fc);
    put(`h.${l}.mlp.c_fc.bias`, w.fcBias);
    put(`h.${l}.mlp.c_proj.weight`, w.proj);
    put(`h.${l}.mlp.c_proj.bias`, zeros(D));
  });
  put('ln_f.weight', ones(D));
  put('ln_f.bias', zeros(D));

  const tensors = new Map<string, Tensor>();
  for (const [name, w] of weights) tensors.set(name, tensor(w.data, w.shape, { backend }));
  return new HookedTransformer(config, gpt2Params({ names: [...tensors.keys()], description: 'fact model', get: (name) => tensors.get(name) as Tensor }, config));
}
