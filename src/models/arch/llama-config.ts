// Llama-family config.json → ModelConfig: llama, mistral, qwen2 and gemma share the layout
// (RMSNorm, RoPE 'half', gated MLP, GQA) and differ in a few switches, set here per model_type.
import { type Family, type ModelConfig, validateConfig } from '../config.js';
import { ArgumentError } from '../../util/errors.js';
import { activationFromHF } from './gpt2-config.js';
import {
  type RawConfig, optionalBool, optionalInt, optionalNumber, optionalString, requireInt, ropeScaling, ropeTheta,
  tokenId,
} from './hf-config.js';

type LlamaLike = Extract<Family, 'llama' | 'mistral' | 'qwen2' | 'gemma'>;

export function llamaLikeConfig(raw: RawConfig, family: LlamaLike): ModelConfig {
  const dModel = requireInt(raw, 'hidden_size');
  const nHeads = requireInt(raw, 'num_attention_heads');
  const dHead = optionalInt(raw, 'head_dim', dModel / nHeads);
  if (!Number.isInteger(dHead)) throw new ArgumentError(`config.json: hidden_size ${dModel} is not divisible by num_attention_heads ${nHeads} and no head_dim is given`);
  const gemma = family === 'gemma';
  // Gemma names its activation hidden_activation (gelu_pytorch_tanh); older configs say hidden_act.
  const actName = gemma
    ? optionalString(raw, 'hidden_activation', optionalString(raw, 'hidden_act', 'gelu_pytorch_tanh'))
    : optionalString(raw, 'hidden_act', 'silu');
  // Qwen2 has q/k/v biases and no config switch for them; Llama/Mistral say attention_bias.
  const qkvBias = family === 'qwen2' ? true : optionalBool(raw, 'attention_bias', false);
  const nLayers = requireInt(raw, 'num_hidden_layers');
  const window = family === 'mistral' ? positiveWindow(raw) : family === 'qwen2' ? qwen2Window(raw, nLayers) : null;
  return validateConfig({
    family,
    nLayers,
    dModel,
    nHeads,
    nKvHeads: optionalInt(raw, 'num_key_value_heads', nHeads),
    dHead,
    dMlp: requireInt(raw, 'intermediate_size'),
    dVocab: requireInt(raw, 'vocab_size'),
    nCtx: requireInt(raw, 'max_position_embeddings'),
    act: activationFromHF(actName, gemma ? 'hidden_activation' : 'hidden_act'),
    gatedMlp: true,
    norm: 'rmsnorm',
    normEps: optionalNumber(raw, 'rms_norm_eps', 1e-6),
    normWeightOffset: gemma ? 1 : 0,
    positional: 'rotary',
    rotaryDim: dHead,
    rotaryBase: ropeTheta(raw),
    rotaryLayout: 'half',
    ropeScaling: ropeScaling(raw),
    parallelResidual: false,
    qkvBias,
    attnOutBias: family === 'qwen2' ? false : optionalBool(raw, 'attention_bias', false),
    mlpBias: optionalBool(raw, 'mlp_bias', false),
    // HF's class defaults: GemmaConfig ties, Llama/Mistral/Qwen2Config do not.
    tiedEmbeddings: optionalBool(raw, 'tie_word_embeddings', gemma),
    embedScale: gemma ? Math.sqrt(dModel) : 1,
    attnScale: 1 / Math.sqrt(optionalNumber(raw, 'query_pre_attn_scalar', dHead)),
    attnScaleByInverseLayer: false,
    slidingWindow: window,
    bosTokenId: tokenId(raw, 'bos_token_id'),
    eosTokenId: tokenId(raw, 'eos_token_id'),
    padTokenId: tokenId(raw, 'pad_token_id'),
  });
}

function positiveWindow(raw: RawConfig): number | null {
  const window = raw.sliding_window;
  return typeof window === 'number' && window > 0 ? window : null;
}

/**
 * Qwen2 slides its window only with use_sliding_window, and only on layers ≥ max_window_layers (or
 * those layer_types marks 'sliding_attention'). One window for all layers is what we support.
 */
function qwen2Window(raw: RawConfig, nLayers: number): number | null {
  const window = positiveWindow(raw);
  if (!optionalBool(raw, 'use_sliding_window', false) || window === null) return null;
  const maxWindowLayers = optionalInt(raw, 'max_window_layers', 28);
  const types = Array.isArray(raw.layer_types)
    ? raw.layer_types
    : Array.from({ length: nLayers }, (_, l) => (l >= maxWindowLayers ? 'sliding_attention' : 'full_attention'));
  const sliding = types.filter((t) => t === 'sliding_attention').length;
  if (sliding === 0) return null;
  if (sliding === nLayers) return window;
  throw new ArgumentError(`config.json (model_type "qwen2"): a sliding window on ${sliding} of ${nLayers} layers (max_window_layers ${maxWindowLayers}) is not supported; only on all layers or none`);
}
