// An independent reference forward pass in plain float64 JS, written from the Hugging Face
// modeling files (modeling_gpt2, modeling_gpt_neox, modeling_llama/mistral/qwen2/gemma) and their
// config classes' defaults. It reads the HF config.json fields and HF tensor names itself and
// shares no code with src/ (no tensors, no nn/, no models/), so agreement with it means something.
// Slow on purpose: nested loops over one sequence at a time.

import { refLlamaLike } from './hf-reference-llama.js';
import {
  type RefModel, type Vec, type Weights, activationFn, conv1d, layerNorm, linear, pick, ropeInvFreq,
} from './hf-reference-math.js';

export type { Weights } from './hf-reference-math.js';

export interface RefActivation {
  shape: number[];
  data: Float64Array;
}

export interface RefResult {
  /** [batch, pos, vocab] */
  logits: RefActivation;
  /** TransformerLens hook name → activation (hook_resid_pre/mid/post, attn/mlp out, q, rot_q, k, pattern, z, mlp post, ln1 scale). */
  acts: Map<string, RefActivation>;
}

type Config = Record<string, unknown>;

function num(config: Config, key: string, fallback: number): number {
  const v = config[key];
  return typeof v === 'number' ? v : fallback;
}

function bool(config: Config, key: string, fallback: boolean): boolean {
  const v = config[key];
  return typeof v === 'boolean' ? v : fallback;
}

function ropeParams(config: Config): Config {
  const p = config.rope_parameters;
  return p !== null && typeof p === 'object' ? (p as Config) : {};
}

/** GPT2LMHeadModel / GPT2Model: Conv1D weights [in, out], c_attn output [q | k | v], learned positions. */
function refGpt2(config: Config, w: Weights): RefModel {
  const d = num(config, 'n_embd', 768);
  const H = num(config, 'n_head', 12);
  const dh = d / H;
  const dmlp = typeof config.n_inner === 'number' ? config.n_inner : 4 * d;
  const eps = num(config, 'layer_norm_epsilon', 1e-5);
  const act = activationFn(String(config.activation_function ?? 'gelu_new'));
  const prefix = w.has('transformer.wte.weight') ? 'transformer.' : '';
  const g = (name: string): Vec => pick(w, prefix + name);
  const wte = g('wte.weight');
  const wpe = g('wpe.weight');
  const V = num(config, 'vocab_size', 50257);
  const tied = bool(config, 'tie_word_embeddings', true);
  const unembedWeight = tied ? wte : pick(w, 'lm_head.weight');
  return {
    d, H, KV: H, dh, V,
    layers: Array.from({ length: num(config, 'n_layer', 12) }, (_, l) => {
      const p = `h.${l}.`;
      return {
        ln1: (x) => layerNorm(x, g(`${p}ln_1.weight`), g(`${p}ln_1.bias`), eps),
        qkv: (x) => {
          const fused = conv1d(g(`${p}attn.c_attn.weight`), g(`${p}attn.c_attn.bias`), x, d, 3 * d);
          const heads = (part: number): Vec[] => Array.from({ length: H }, (__, h) => fused.slice(part * d + h * dh, part * d + (h + 1) * dh));
          return { q: heads(0), k: heads(1), v: heads(2) };
        },
        out: (z) => conv1d(g(`${p}attn.c_proj.weight`), g(`${p}attn.c_proj.bias`), z, d, d),
        ln2: (x) => layerNorm(x, g(`${p}ln_2.weight`), g(`${p}ln_2.bias`), eps),
        mlp: (x) => {
          const pre = conv1d(g(`${p}mlp.c_fc.weight`), g(`${p}mlp.c_fc.bias`), x, d, dmlp);
          const post = pre.map(act);
          return { post, out: conv1d(g(`${p}mlp.c_proj.weight`), g(`${p}mlp.c_proj.bias`), post, dmlp, d) };
        },
        attnScale: (bool(config, 'scale_attn_weights', true) ? 1 / Math.sqrt(dh) : 1)
          / (bool(config, 'scale_attn_by_inverse_layer_idx', false) ? l + 1 : 1),
        window: null,
      };
    }),
    embed: (id, position) => {
      const out = new Float64Array(d);
      for (let i = 0; i < d; i++) out[i] = wte[id * d + i] + wpe[position * d + i];
      return out;
    },
    rope: null,
    parallel: false,
    lnFinal: (x) => layerNorm(x, g('ln_f.weight'), g('ln_f.bias'), eps),
    unembed: (x) => linear(unembedWeight, null, x, d, V),
  };
}

/** GPTNeoXForCausalLM: query_key_value output viewed as [head, 3 * head_size]; partial rotary; parallel residual. */
function refNeox(config: Config, w: Weights): RefModel {
  const d = num(config, 'hidden_size', 6144);
  const H = num(config, 'num_attention_heads', 64);
  const dh = d / H;
  const dmlp = num(config, 'intermediate_size', 24576);
  const rp = ropeParams(config);
  const pct = typeof rp.partial_rotary_factor === 'number' ? rp.partial_rotary_factor : num(config, 'rotary_pct', 0.25);
  const base = typeof rp.rope_theta === 'number' ? rp.rope_theta : num(config, 'rotary_emb_base', 10000);
  const rotaryDim = Math.floor(dh * pct);
  const eps = num(config, 'layer_norm_eps', 1e-5);
  const act = activationFn(String(config.hidden_act ?? 'gelu'));
  const g = (name: string): Vec => pick(w, `gpt_neox.${name}`);
  const embedIn = g('embed_in.weight');
  const V = num(config, 'vocab_size', 50432);
  const unembedWeight = bool(config, 'tie_word_embeddings', false) ? embedIn : pick(w, 'embed_out.weight');
  return {
    d, H, KV: H, dh, V,
    layers: Array.from({ length: num(config, 'num_hidden_layers', 44) }, (_, l) => {
      const p = `layers.${l}.`;
      return {
        ln1: (x) => layerNorm(x, g(`${p}input_layernorm.weight`), g(`${p}input_layernorm.bias`), eps),
        qkv: (x) => {
          const fused = linear(g(`${p}attention.query_key_value.weight`), g(`${p}attention.query_key_value.bias`), x, d, 3 * d);
          const part = (which: number): Vec[] => Array.from({ length: H }, (__, h) => fused.slice(h * 3 * dh + which * dh, h * 3 * dh + (which + 1) * dh));
          return { q: part(0), k: part(1), v: part(2) };
        },
        out: (z) => linear(g(`${p}attention.dense.weight`), g(`${p}attention.dense.bias`), z, d, d),
        ln2: (x) => layerNorm(x, g(`${p}post_attention_layernorm.weight`), g(`${p}post_attention_layernorm.bias`), eps),
        mlp: (x) => {
          const post = linear(g(`${p}mlp.dense_h_to_4h.weight`), g(`${p}mlp.dense_h_to_4h.bias`), x, d, dmlp).map(act);
          return { post, out: linear(g(`${p}mlp.dense_4h_to_h.weight`), g(`${p}mlp.dense_4h_to_h.bias`), post, dmlp, d) };
        },
        attnScale: 1 / Math.sqrt(dh),
        window: null,
      };
    }),
    embed: (id) => embedIn.slice(id * d, (id + 1) * d),
    rope: { dim: rotaryDim, invFreq: ropeInvFreq(rotaryDim, base, null) },
    parallel: bool(config, 'use_parallel_residual', true),
    lnFinal: (x) => layerNorm(x, g('final_layer_norm.weight'), g('final_layer_norm.bias'), eps),
    unembed: (x) => linear(unembedWeight, null, x, d, V),
  };
}

function refModel(config: Config, w: Weights): RefModel {
  switch (config.model_type) {
    case 'gpt2': return refGpt2(config, w);
    case 'gpt_neox': return refNeox(config, w);
    case 'llama': case 'mistral': case 'qwen2': case 'gemma': return refLlamaLike(config, w);
    default: throw new Error(`reference: no model_type ${String(config.model_type)}`);
  }
}

/** HF's rotate_half RoPE on the first `dim` features: x·cos + rotate_half(x)·sin, emb = cat(freqs, freqs). */
function applyRope(x: Vec, position: number, dim: number, invFreq: Float64Array): Vec {
  const half = dim / 2;
  const out = Float64Array.from(x);
  for (let i = 0; i < dim; i++) {
    const angle = position * invFreq[i % half];
    const rotated = i < half ? -x[i + half] : x[i - half];
    out[i] = x[i] * Math.cos(angle) + rotated * Math.sin(angle);
  }
  return out;
}

class Recorder {
  readonly acts = new Map<string, RefActivation>();
  constructor(private readonly batch: number) {}

  /** Writes row b of activation `name` (rowShape excludes batch). */
  put(name: string, rowShape: number[], b: number, data: ArrayLike<number>): void {
    let act = this.acts.get(name);
    if (act === undefined) {
      const size = rowShape.reduce((x, y) => x * y, 1);
      act = { shape: [this.batch, ...rowShape], data: new Float64Array(this.batch * size) };
      this.acts.set(name, act);
    }
    act.data.set(data, b * data.length);
  }
}

function flat(rows: readonly ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(rows.reduce((n, r) => n + r.length, 0));
  let o = 0;
  for (const r of rows) { out.set(r, o); o += r.length; }
  return out;
}

/** One sequence at positions 0..pos-1 (no padding), recorded into row b. */
function forwardRow(m: RefModel, tokens: readonly number[], b: number, rec: Recorder): Float64Array[] {
  const pos = tokens.length;
  const { d, H, KV, dh } = m;
  const group = H / KV;
  let resid = tokens.map((id, p) => m.embed(id, p));
  m.layers.forEach((layer, l) => {
    const n = `blocks.${l}.`;
    rec.put(`${n}hook_resid_pre`, [pos, d], b, flat(resid));
    const ln1 = resid.map((x) => layer.ln1(x));
    rec.put(`${n}ln1.hook_scale`, [pos, 1], b, ln1.map((r) => r.scale));
    const qkv = ln1.map((x) => layer.qkv(x.out));
    rec.put(`${n}attn.hook_q`, [pos, H, dh], b, flat(qkv.flatMap((t) => t.q)));
    rec.put(`${n}attn.hook_k`, [pos, KV, dh], b, flat(qkv.flatMap((t) => t.k)));
    const rope = m.rope;
    const q = qkv.map((t, p) => t.q.map((head) => (rope ? applyRope(head, p, rope.dim, rope.invFreq) : head)));
    const k = qkv.map((t, p) => t.k.map((head) => (rope ? applyRope(head, p, rope.dim, rope.invFreq) : head)));
    if (rope) rec.put(`${n}attn.hook_rot_q`, [pos, H, dh], b, flat(q.flat()));
    const pattern = new Float64Array(H * pos * pos);
    const z = Array.from({ length: pos }, () => new Float64Array(H * dh));
    for (let h = 0; h < H; h++) {
      const kvHead = Math.floor(h / group); // repeat_kv: query head h reads kv head h // n_rep
      for (let i = 0; i < pos; i++) {
        const scores = new Float64Array(pos).fill(-Infinity);
        for (let j = 0; j <= i; j++) {
          if (layer.window !== null && !(j > i - layer.window)) continue; // HF: kv_idx > q_idx - sliding_window
          let s = 0;
          for (let e = 0; e < dh; e++) s += q[i][h][e] * k[j][kvHead][e];
          scores[j] = s * layer.attnScale;
        }
        const max = Math.max(...scores);
        let total = 0;
        for (let j = 0; j < pos; j++) total += Math.exp(scores[j] - max);
        for (let j = 0; j < pos; j++) {
          const weight = Math.exp(scores[j] - max) / total;
          pattern[(h * pos + i) * pos + j] = weight;
          for (let e = 0; e < dh; e++) z[i][h * dh + e] += weight * qkv[j].v[kvHead][e];
        }
      }
    }
    rec.put(`${n}attn.hook_pattern`, [H, pos, pos], b, pattern);
    rec.put(`${n}attn.hook_z`, [pos, H, dh], b, flat(z));
    const attnOut = z.map((zp) => layer.out(zp));
    rec.put(`${n}hook_attn_out`, [pos, d], b, flat(attnOut));
    const add = (x: Vec, y: Vec): Vec => x.map((v, i) => v + y[i]);
    let mlpIn: Vec[];
    let base: Vec[];
    if (m.parallel) {
      mlpIn = resid;
      base = resid.map((x, p) => add(x, attnOut[p]));
    } else {
      base = resid.map((x, p) => add(x, attnOut[p]));
      rec.put(`${n}hook_resid_mid`, [pos, d], b, flat(base));
      mlpIn = base;
    }
    const mlp = mlpIn.map((x) => layer.mlp(layer.ln2(x).out));
    rec.put(`${n}mlp.hook_post`, [pos, mlp[0].post.length], b, flat(mlp.map((r) => r.post)));
    rec.put(`${n}hook_mlp_out`, [pos, d], b, flat(mlp.map((r) => r.out)));
    resid = base.map((x, p) => add(x, mlp[p].out));
    rec.put(`${n}hook_resid_post`, [pos, d], b, flat(resid));
  });
  return resid.map((x) => m.unembed(m.lnFinal(x).out));
}

/** Logits and activations for rows of token ids (all rows the same length, no padding). */
export function referenceForward(config: Config, weights: Weights, tokens: readonly (readonly number[])[]): RefResult {
  const m = refModel(config, weights);
  const batch = tokens.length;
  const pos = tokens[0].length;
  const rec = new Recorder(batch);
  const logits = new Float64Array(batch * pos * m.V);
  tokens.forEach((row, b) => logits.set(flat(forwardRow(m, row, b, rec)), b * pos * m.V));
  return { logits: { shape: [batch, pos, m.V], data: logits }, acts: rec.acts };
}
