// Tiny models for the discovery tests, built in memory from seeded random checkpoints of three
// families: GPT-2 (sequential residual), GPT-NeoX (parallel residual) and Llama (grouped-query
// attention, 4 query heads over 2 kv heads). Two transformations make answers exact:
//   linear: norms become affine (ε = 1e12 with weight √ε: (x − mean) / √(var + ε) · √ε is x − mean to
//     float32 precision), queries and keys are zero (attention is uniform over earlier positions, so a
//     head is linear in its value input), and MLPs are linear: ReLU with its pre-activation shifted far
//     above 0 and the shift subtracted again after the output projection (Llama's gated MLP is zeroed).
//     The whole model is then affine in every edge, so first-order attribution is exact.
//   gelu MLP 0 (with linear): layer 0's heads write nothing and MLP 0 is a genuine GELU MLP, so the
//     only non-linear edge is input → MLP 0, and its integrated gradient converges to the true effect.

import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import { architectureFor } from '../../src/models/architectures.js';
import { HookedTransformer } from '../../src/models/transformer.js';
import type { WeightSource } from '../../src/models/weight-reader.js';
import { tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { gpt2Checkpoint, llamaCheckpoint, neoxCheckpoint, type Dims } from '../models/checkpoints.js';
import { TestRng, type Checkpoint } from '../models/helpers.js';

export type Family = 'gpt2' | 'neox' | 'llama';
export const FAMILIES: readonly Family[] = ['gpt2', 'neox', 'llama'];

export const VOCAB = 13;
const BIG_EPS = 1e12;
const SHIFT = 40;

const DIMS: Record<Family, Dims> = {
  gpt2: { d: 16, H: 2, KV: 2, dh: 8, dmlp: 24, V: VOCAB, L: 2, nCtx: 16 },
  neox: { d: 16, H: 2, KV: 2, dh: 8, dmlp: 24, V: VOCAB, L: 2, nCtx: 16 },
  llama: { d: 16, H: 4, KV: 2, dh: 4, dmlp: 24, V: VOCAB, L: 2, nCtx: 16 },
};

export interface TinyOptions {
  /** Affine in every edge (see above). */
  linear?: boolean;
  /** With linear: layer 0's heads write nothing and MLP 0 is a GELU MLP. */
  geluMlp0?: boolean;
}

function rawConfig(family: Family, options: TinyOptions): Record<string, unknown> {
  const d = DIMS[family];
  const eps = options.linear ? BIG_EPS : 1e-5;
  switch (family) {
    case 'gpt2':
      return {
        model_type: 'gpt2', n_embd: d.d, n_head: d.H, n_layer: d.L, n_positions: d.nCtx, vocab_size: d.V, n_inner: d.dmlp,
        activation_function: options.linear && !options.geluMlp0 ? 'relu' : 'gelu', layer_norm_epsilon: eps,
      };
    case 'neox':
      return {
        model_type: 'gpt_neox', hidden_size: d.d, num_attention_heads: d.H, num_hidden_layers: d.L, intermediate_size: d.dmlp,
        max_position_embeddings: d.nCtx, vocab_size: d.V, layer_norm_eps: eps, use_parallel_residual: true, rotary_pct: 0.5,
        hidden_act: options.linear ? 'relu' : 'gelu', tie_word_embeddings: false,
      };
    case 'llama':
      return {
        model_type: 'llama', hidden_size: d.d, num_attention_heads: d.H, num_key_value_heads: d.KV, num_hidden_layers: d.L,
        intermediate_size: d.dmlp, max_position_embeddings: d.nCtx, vocab_size: d.V, rms_norm_eps: eps, hidden_act: 'silu',
        tie_word_embeddings: false,
      };
    default:
      return family satisfies never;
  }
}

function checkpoint(family: Family, seed: number): Checkpoint {
  const rng = new TestRng(seed);
  const dims = DIMS[family];
  switch (family) {
    case 'gpt2': return gpt2Checkpoint(rng, dims, { prefix: '', lmHead: false, legacyBuffers: false });
    case 'neox': return neoxCheckpoint(rng, dims, { rotaryDim: dims.dh / 2, legacyBuffers: false });
    case 'llama': return llamaCheckpoint(rng, dims, { qkvBias: true, oBias: false, mlpBias: false, lmHead: true, gemmaNorms: false });
    default: return family satisfies never;
  }
}

/** Sets entries of a checkpoint tensor: fn(index) → new value or undefined to keep. */
function edit(weights: Checkpoint, name: string, fn: (index: number, value: number) => number | undefined): void {
  const t = weights.get(name);
  if (t === undefined) throw new Error(`no tensor ${name}`);
  const data = Float32Array.from(t.data);
  data.forEach((v, i) => { const next = fn(i, v); if (next !== undefined) data[i] = next; });
  weights.set(name, { ...t, data });
}

/** Norm weights √ε (biases kept): the norm becomes x − mean (LayerNorm) or x (RMSNorm). */
function affineNorms(weights: Checkpoint): void {
  for (const name of [...weights.keys()]) {
    if (/(ln_\d|ln_f|layernorm|layer_norm|\.norm)\.weight$/.test(name)) edit(weights, name, () => Math.sqrt(BIG_EPS));
  }
}

/** ReLU MLP made linear: c_fc bias + SHIFT keeps every pre-activation positive; c_proj bias − W_out · SHIFT removes it again. */
function linearReluMlp(weights: Checkpoint, inBias: string, outWeight: string, outBias: string, outIsInOut: boolean, dMlp: number, d: number): void {
  edit(weights, inBias, (_, v) => v + SHIFT);
  const w = weights.get(outWeight)?.data as Float32Array;
  edit(weights, outBias, (o, v) => {
    let s = 0;
    for (let m = 0; m < dMlp; m++) s += outIsInOut ? w[m * d + o] : w[o * dMlp + m];
    return v - SHIFT * s;
  });
}

function makeLinear(family: Family, weights: Checkpoint, options: TinyOptions): void {
  const { d, dh, dmlp, L } = DIMS[family];
  affineNorms(weights);
  for (let l = 0; l < L; l++) {
    switch (family) {
      case 'gpt2': {
        const p = `h.${l}.`;
        // c_attn is [in, 3·d] with output columns [q | k | v].
        edit(weights, `${p}attn.c_attn.weight`, (i) => (i % (3 * d) < 2 * d ? 0 : undefined));
        edit(weights, `${p}attn.c_attn.bias`, (i) => (i < 2 * d ? 0 : undefined));
        if (options.geluMlp0 && l === 0) {
          edit(weights, `${p}attn.c_proj.weight`, () => 0);
          edit(weights, `${p}attn.c_proj.bias`, () => 0);
          edit(weights, `${p}mlp.c_fc.weight`, (_, v) => 3 * v); // pre-activations of a few units: GELU far from linear
        } else if (options.geluMlp0) {
          for (const name of ['mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias']) edit(weights, `${p}${name}`, () => 0);
        } else {
          linearReluMlp(weights, `${p}mlp.c_fc.bias`, `${p}mlp.c_proj.weight`, `${p}mlp.c_proj.bias`, true, dmlp, d);
        }
        break;
      }
      case 'neox': {
        const p = `gpt_neox.layers.${l}.`;
        // query_key_value is [3·d, in] with output rows [head][q | k | v][d_head].
        const isQk = (row: number) => Math.floor(row / dh) % 3 < 2;
        edit(weights, `${p}attention.query_key_value.weight`, (i) => (isQk(Math.floor(i / d)) ? 0 : undefined));
        edit(weights, `${p}attention.query_key_value.bias`, (i) => (isQk(i) ? 0 : undefined));
        linearReluMlp(weights, `${p}mlp.dense_h_to_4h.bias`, `${p}mlp.dense_4h_to_h.weight`, `${p}mlp.dense_4h_to_h.bias`, false, dmlp, d);
        break;
      }
      case 'llama': {
        const p = `model.layers.${l}.`;
        for (const name of ['self_attn.q_proj.weight', 'self_attn.q_proj.bias', 'self_attn.k_proj.weight', 'self_attn.k_proj.bias',
          'mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight']) edit(weights, `${p}${name}`, () => 0);
        break;
      }
      default:
        family satisfies never;
    }
  }
}

/** A HookedTransformer on the ref backend from a raw config and checkpoint tensors. */
export function modelFrom(raw: Record<string, unknown>, weights: Checkpoint): HookedTransformer {
  const architecture = architectureFor(raw.model_type);
  const config = architecture.config(raw);
  const backend = getBackend('ref');
  const tensors = new Map<string, Tensor>();
  for (const [name, t] of weights) tensors.set(name, tensor(Float32Array.from(t.data), t.shape, { backend }));
  const source: WeightSource = { names: [...tensors.keys()], description: 'tiny test model', get: (name) => tensors.get(name) as Tensor };
  return new HookedTransformer(config, architecture.params(source, config));
}

export function tinyModel(family: Family, seed: number, options: TinyOptions = {}): HookedTransformer {
  const weights = checkpoint(family, seed);
  if (options.linear) makeLinear(family, weights, options);
  return modelFrom(rawConfig(family, options), weights);
}

/** Prompt pairs of `pos` tokens differing at a few positions, with answer and wrong tokens. */
export function randomPairs(seed: number, count: number, pos: number): { clean: number[]; corrupted: number[]; answer: number; wrong: number }[] {
  const rng = new TestRng(seed);
  return Array.from({ length: count }, () => {
    const clean = Array.from({ length: pos }, () => rng.int(0, VOCAB));
    const corrupted = clean.map((t, i) => (i > 0 && rng.uniform() < 0.4 ? (t + 1 + rng.int(0, VOCAB - 1)) % VOCAB : t));
    const answer = rng.int(0, VOCAB);
    return { clean, corrupted, answer, wrong: (answer + 1 + rng.int(0, VOCAB - 1)) % VOCAB };
  });
}
