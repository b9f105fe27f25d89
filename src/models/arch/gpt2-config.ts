// GPT-2's config.json → ModelConfig. Quirks: n_inner null means 4·d_model; activation names are
// HF's (gelu_new is the tanh approximation); tied embeddings unless said otherwise.
import { type Activation, type ModelConfig, validateConfig } from '../config.js';
import { ArgumentError } from '../../util/errors.js';
import {
  type RawConfig, optionalBool, optionalInt, optionalNumber, optionalString, requireInt, tokenId,
} from './hf-config.js';

/** HF activation names → ours. */
export function activationFromHF(name: string, field: string): Activation {
  switch (name) {
    case 'gelu_new': case 'gelu_fast': case 'gelu_pytorch_tanh': case 'gelu_tanh': return 'gelu_tanh';
    case 'gelu': return 'gelu';
    case 'relu': return 'relu';
    case 'silu': case 'swish': return 'silu';
    default:
      throw new ArgumentError(`config.json: ${field} ${JSON.stringify(name)} is not supported; supported: gelu, gelu_new, gelu_fast, gelu_pytorch_tanh, relu, silu`);
  }
}

export function gpt2Config(raw: RawConfig): ModelConfig {
  const dModel = requireInt(raw, 'n_embd', 'hidden_size');
  const nHeads = requireInt(raw, 'n_head', 'num_attention_heads');
  const dHead = dModel / nHeads;
  if (!Number.isInteger(dHead)) throw new ArgumentError(`config.json: n_embd ${dModel} is not divisible by n_head ${nHeads}`);
  const scaleWeights = optionalBool(raw, 'scale_attn_weights', true);
  return validateConfig({
    family: 'gpt2',
    nLayers: requireInt(raw, 'n_layer', 'num_hidden_layers'),
    dModel,
    nHeads,
    nKvHeads: nHeads,
    dHead,
    dMlp: optionalInt(raw, 'n_inner', 4 * dModel),
    dVocab: requireInt(raw, 'vocab_size'),
    nCtx: requireInt(raw, 'n_positions', 'n_ctx', 'max_position_embeddings'),
    act: activationFromHF(optionalString(raw, 'activation_function', 'gelu_new'), 'activation_function'),
    gatedMlp: false,
    norm: 'layernorm',
    normEps: optionalNumber(raw, 'layer_norm_epsilon', 1e-5),
    normWeightOffset: 0,
    positional: 'learned',
    rotaryDim: 0,
    rotaryBase: 0,
    rotaryLayout: 'half',
    ropeScaling: null,
    parallelResidual: false,
    qkvBias: true,
    attnOutBias: true,
    mlpBias: true,
    tiedEmbeddings: optionalBool(raw, 'tie_word_embeddings', true),
    embedScale: 1,
    attnScale: scaleWeights ? 1 / Math.sqrt(dHead) : 1,
    attnScaleByInverseLayer: optionalBool(raw, 'scale_attn_by_inverse_layer_idx', false),
    slidingWindow: null,
    bosTokenId: tokenId(raw, 'bos_token_id'),
    eosTokenId: tokenId(raw, 'eos_token_id'),
    padTokenId: tokenId(raw, 'pad_token_id'),
  });
}
