// Reference for the Llama family as Hugging Face defines each member (config class defaults
// included): Llama, Mistral (sliding window; num_key_value_heads defaults to 8), Qwen2 (q/k/v
// biases, no o_proj bias, sliding window only on layers ≥ max_window_layers and only with
// use_sliding_window), Gemma (embeddings × √hidden_size, RMSNorm × (1 + w), GeGLU with the tanh
// GELU, tied unembedding).

import {
  type RefLayer, type RefModel, type RopeScalingSpec, type Vec, type Weights, activationFn, linear, pick, rmsNorm,
  ropeInvFreq,
} from './hf-reference-math.js';

type Config = Record<string, unknown>;

function num(config: Config, key: string, fallback: number): number {
  const v = config[key];
  return typeof v === 'number' ? v : fallback;
}

function bool(config: Config, key: string, fallback: boolean): boolean {
  const v = config[key];
  return typeof v === 'boolean' ? v : fallback;
}

function slidingWindow(config: Config, layer: number): number | null {
  if (config.model_type === 'mistral') {
    if (config.sliding_window === null) return null;
    return num(config, 'sliding_window', 4096);
  }
  if (config.model_type === 'qwen2') {
    if (!bool(config, 'use_sliding_window', false) || typeof config.sliding_window !== 'number') return null;
    const types = config.layer_types;
    const sliding = Array.isArray(types) ? types[layer] === 'sliding_attention' : layer >= num(config, 'max_window_layers', 28);
    return sliding ? config.sliding_window : null;
  }
  return null;
}

export function refLlamaLike(config: Config, w: Weights): RefModel {
  const type = String(config.model_type);
  const gemma = type === 'gemma';
  const qwen2 = type === 'qwen2';
  const d = num(config, 'hidden_size', 4096);
  const H = num(config, 'num_attention_heads', 32);
  const KV = num(config, 'num_key_value_heads', type === 'mistral' ? 8 : H);
  const dh = num(config, 'head_dim', d / H);
  const dmlp = num(config, 'intermediate_size', 11008);
  const V = num(config, 'vocab_size', 32000);
  const eps = num(config, 'rms_norm_eps', 1e-6);
  const actName = gemma
    ? String(config.hidden_activation ?? config.hidden_act ?? 'gelu_pytorch_tanh')
    : String(config.hidden_act ?? 'silu');
  const act = activationFn(actName);
  const attentionBias = bool(config, 'attention_bias', false);
  const qkvBias = qwen2 || attentionBias;
  const oBias = !qwen2 && attentionBias;
  const mlpBias = type === 'llama' && bool(config, 'mlp_bias', false);
  const tied = bool(config, 'tie_word_embeddings', gemma);
  const offset = gemma ? 1 : 0;

  const rp = (config.rope_parameters ?? {}) as Config;
  const theta = typeof rp.rope_theta === 'number' ? rp.rope_theta : num(config, 'rope_theta', 10000);
  const scaling = (config.rope_scaling ?? config.rope_parameters ?? null) as RopeScalingSpec | null;

  const g = (name: string): Vec => pick(w, `model.${name}`);
  const bias = (name: string, present: boolean): Vec | null => (present ? g(name) : null);
  const embedTokens = g('embed_tokens.weight');
  const unembedWeight = tied ? embedTokens : pick(w, 'lm_head.weight');
  const normalizer = gemma ? Math.sqrt(d) : 1;

  const layers: RefLayer[] = Array.from({ length: num(config, 'num_hidden_layers', 32) }, (_, l) => {
    const p = `layers.${l}.`;
    const proj = (name: string, x: Vec, inF: number, outF: number, hasBias: boolean): Vec =>
      linear(g(`${p}${name}.weight`), bias(`${p}${name}.bias`, hasBias), x, inF, outF);
    const heads = (flat: Vec, n: number): Vec[] => Array.from({ length: n }, (__, h) => flat.slice(h * dh, (h + 1) * dh));
    return {
      ln1: (x) => rmsNorm(x, g(`${p}input_layernorm.weight`), eps, offset),
      qkv: (x) => ({
        q: heads(proj('self_attn.q_proj', x, d, H * dh, qkvBias), H),
        k: heads(proj('self_attn.k_proj', x, d, KV * dh, qkvBias), KV),
        v: heads(proj('self_attn.v_proj', x, d, KV * dh, qkvBias), KV),
      }),
      out: (z) => proj('self_attn.o_proj', z, H * dh, d, oBias),
      ln2: (x) => rmsNorm(x, g(`${p}post_attention_layernorm.weight`), eps, offset),
      mlp: (x) => {
        const gate = proj('mlp.gate_proj', x, d, dmlp, mlpBias);
        const up = proj('mlp.up_proj', x, d, dmlp, mlpBias);
        const post = gate.map((v, i) => act(v) * up[i]);
        return { post, out: proj('mlp.down_proj', post, dmlp, d, mlpBias) };
      },
      attnScale: 1 / Math.sqrt(dh),
      window: slidingWindow(config, l),
    };
  });
  return {
    d, H, KV, dh, V, layers,
    embed: (id) => embedTokens.slice(id * d, (id + 1) * d).map((v) => v * normalizer),
    rope: { dim: dh, invFreq: ropeInvFreq(dh, theta, scaling) },
    parallel: false,
    lnFinal: (x) => rmsNorm(x, g('norm.weight'), eps, offset),
    unembed: (x) => linear(unembedWeight, null, x, d, V),
  };
}
