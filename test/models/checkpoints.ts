// Seeded random checkpoints with Hugging Face's exact tensor names and layouts, for the model
// tests: GPT-2 (Conv1D [in, out] weights, optional legacy attn.bias/masked_bias buffers), GPT-NeoX
// (fused query_key_value, optional legacy rotary/mask buffers) and the Llama family (separate
// projections, optional biases, tied or untied head). Magnitudes keep activations O(1) so that
// attention patterns are far from uniform and every term matters at the test tolerance.

import type { Checkpoint, TestRng } from './helpers.js';
import type { Weights } from './hf-reference.js';

export interface Dims {
  d: number;
  H: number;
  KV: number;
  dh: number;
  dmlp: number;
  V: number;
  L: number;
  nCtx: number;
}

class CheckpointBuilder {
  readonly weights: Checkpoint = new Map();
  constructor(private readonly rng: TestRng) {}

  normal(name: string, shape: number[], std: number, mean = 0): void {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = mean + std * this.rng.normal();
    this.weights.set(name, { shape, data });
  }

  /** A weight matrix of a layer with `fanIn` inputs. */
  matrix(name: string, shape: number[], fanIn: number): void {
    this.normal(name, shape, 1 / Math.sqrt(fanIn));
  }

  bias(name: string, n: number): void {
    this.normal(name, [n], 0.1);
  }

  /** Norm weights near `center` (1 for LayerNorm/RMSNorm, 0 for Gemma's (1 + w)). */
  normWeight(name: string, n: number, center: number): void {
    this.normal(name, [n], 0.2, center);
  }
}

export function gpt2Checkpoint(rng: TestRng, dims: Dims, options: { prefix: string; lmHead: boolean; legacyBuffers: boolean }): Checkpoint {
  const { d, dmlp, V, L, nCtx } = dims;
  const c = new CheckpointBuilder(rng);
  const p = options.prefix;
  c.normal(`${p}wte.weight`, [V, d], 1);
  c.normal(`${p}wpe.weight`, [nCtx, d], 0.5);
  for (let l = 0; l < L; l++) {
    const h = `${p}h.${l}.`;
    c.normWeight(`${h}ln_1.weight`, d, 1);
    c.bias(`${h}ln_1.bias`, d);
    c.matrix(`${h}attn.c_attn.weight`, [d, 3 * d], d);
    c.bias(`${h}attn.c_attn.bias`, 3 * d);
    c.matrix(`${h}attn.c_proj.weight`, [d, d], d);
    c.bias(`${h}attn.c_proj.bias`, d);
    c.normWeight(`${h}ln_2.weight`, d, 1);
    c.bias(`${h}ln_2.bias`, d);
    c.matrix(`${h}mlp.c_fc.weight`, [d, dmlp], d);
    c.bias(`${h}mlp.c_fc.bias`, dmlp);
    c.matrix(`${h}mlp.c_proj.weight`, [dmlp, d], dmlp);
    c.bias(`${h}mlp.c_proj.bias`, d);
    if (options.legacyBuffers) {
      // Old GPT-2 checkpoints carry the causal-mask buffers; a loader must ignore them.
      const tril = new Float32Array(nCtx * nCtx);
      for (let i = 0; i < nCtx; i++) for (let j = 0; j <= i; j++) tril[i * nCtx + j] = 1;
      c.weights.set(`${h}attn.bias`, { shape: [1, 1, nCtx, nCtx], data: tril });
      c.weights.set(`${h}attn.masked_bias`, { shape: [], data: Float32Array.of(-1e4) });
    }
  }
  c.normWeight(`${p}ln_f.weight`, d, 1);
  c.bias(`${p}ln_f.bias`, d);
  if (options.lmHead) c.normal('lm_head.weight', [V, d], 1);
  return c.weights;
}

export function neoxCheckpoint(rng: TestRng, dims: Dims, options: { rotaryDim: number; legacyBuffers: boolean }): Checkpoint {
  const { d, dmlp, V, L, nCtx } = dims;
  const c = new CheckpointBuilder(rng);
  c.normal('gpt_neox.embed_in.weight', [V, d], 1);
  for (let l = 0; l < L; l++) {
    const p = `gpt_neox.layers.${l}.`;
    c.normWeight(`${p}input_layernorm.weight`, d, 1);
    c.bias(`${p}input_layernorm.bias`, d);
    c.normWeight(`${p}post_attention_layernorm.weight`, d, 1);
    c.bias(`${p}post_attention_layernorm.bias`, d);
    c.matrix(`${p}attention.query_key_value.weight`, [3 * d, d], d);
    c.bias(`${p}attention.query_key_value.bias`, 3 * d);
    c.matrix(`${p}attention.dense.weight`, [d, d], d);
    c.bias(`${p}attention.dense.bias`, d);
    c.matrix(`${p}mlp.dense_h_to_4h.weight`, [dmlp, d], d);
    c.bias(`${p}mlp.dense_h_to_4h.bias`, dmlp);
    c.matrix(`${p}mlp.dense_4h_to_h.weight`, [d, dmlp], dmlp);
    c.bias(`${p}mlp.dense_4h_to_h.bias`, d);
    if (options.legacyBuffers) {
      // Pythia's original files store these buffers (a BOOL causal mask among them).
      const mask = new Uint8Array(nCtx * nCtx);
      for (let i = 0; i < nCtx; i++) for (let j = 0; j <= i; j++) mask[i * nCtx + j] = 1;
      c.weights.set(`${p}attention.bias`, { shape: [1, 1, nCtx, nCtx], data: mask, dtype: 'BOOL' });
      c.weights.set(`${p}attention.masked_bias`, { shape: [], data: Float32Array.of(-1e9) });
      c.normal(`${p}attention.rotary_emb.inv_freq`, [options.rotaryDim / 2], 1);
    }
  }
  c.normWeight('gpt_neox.final_layer_norm.weight', d, 1);
  c.bias('gpt_neox.final_layer_norm.bias', d);
  c.normal('embed_out.weight', [V, d], 1);
  return c.weights;
}

export interface LlamaOptions {
  qkvBias: boolean;
  oBias: boolean;
  mlpBias: boolean;
  lmHead: boolean;
  /** Gemma stores w of (1 + w): its norm weights sit near 0. */
  gemmaNorms: boolean;
}

export function llamaCheckpoint(rng: TestRng, dims: Dims, options: LlamaOptions): Checkpoint {
  const { d, H, KV, dh, dmlp, V, L } = dims;
  const c = new CheckpointBuilder(rng);
  const normCenter = options.gemmaNorms ? 0 : 1;
  c.normal('model.embed_tokens.weight', [V, d], options.gemmaNorms ? 1 / Math.sqrt(d) : 1);
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}.`;
    c.normWeight(`${p}input_layernorm.weight`, d, normCenter);
    c.normWeight(`${p}post_attention_layernorm.weight`, d, normCenter);
    const proj = (name: string, outF: number, inF: number, bias: boolean): void => {
      c.matrix(`${p}${name}.weight`, [outF, inF], inF);
      if (bias) c.bias(`${p}${name}.bias`, outF);
    };
    proj('self_attn.q_proj', H * dh, d, options.qkvBias);
    proj('self_attn.k_proj', KV * dh, d, options.qkvBias);
    proj('self_attn.v_proj', KV * dh, d, options.qkvBias);
    proj('self_attn.o_proj', d, H * dh, options.oBias);
    proj('mlp.gate_proj', dmlp, d, options.mlpBias);
    proj('mlp.up_proj', dmlp, d, options.mlpBias);
    proj('mlp.down_proj', d, dmlp, options.mlpBias);
  }
  c.normWeight('model.norm.weight', d, normCenter);
  if (options.lmHead) c.normal('lm_head.weight', [V, d], 1);
  return c.weights;
}

/** The float64 view the reference reads (the exact float32 values the file holds). */
export function toFloat64(checkpoint: Checkpoint): Weights {
  const out = new Map<string, Float64Array>();
  for (const [name, t] of checkpoint) if (t.dtype !== 'BOOL') out.set(name, Float64Array.from(t.data));
  return out;
}
