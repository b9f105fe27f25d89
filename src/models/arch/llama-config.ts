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
  const useSliding = family === 'mistral' || (family === 'qwen2' && optionalBool(raw, 'use_sliding_window', false));
  const window = raw.sliding_window;
  return validateConfig({
    family,
    nLayers: requireInt(raw, 'num_hidden_layers'),
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
    tiedEmbeddings: optionalBool(raw, 'tie_word_embeddings', gemma || family === 'qwen2'),
    embedScale: gemma ? Math.sqrt(dModel) : 1,
    attnScale: 1 / Math.sqrt(optionalNumber(raw, 'query_pre_attn_scalar', dHead)),
    attnScaleByInverseLayer: false,
    slidingWindow: useSliding && typeof window === 'number' && window > 0 ? window : null,
    bosTokenId: tokenId(raw, 'bos_token_id'),
    eosTokenId: tokenId(raw, 'eos_token_id'),
    padTokenId: tokenId(raw, 'pad_token_id'),
  });
}
