// GPT-NeoX (Pythia) config.json → ModelConfig. Quirks: partial rotary (rotary_pct of each head,
// 'half' layout), parallel residual by default, untied unembedding, hidden_act 'gelu' is exact.
import { type ModelConfig, validateConfig } from '../config.js';
import { ArgumentError } from '../../util/errors.js';
import { activationFromHF } from './gpt2-config.js';
import {
  type RawConfig, optionalBool, optionalNumber, optionalString, partialRotaryFactor, requireInt, ropeScaling,
  ropeTheta, tokenId,
} from './hf-config.js';

export function neoxConfig(raw: RawConfig): ModelConfig {
  const dModel = requireInt(raw, 'hidden_size');
  const nHeads = requireInt(raw, 'num_attention_heads');
  const dHead = dModel / nHeads;
  if (!Number.isInteger(dHead)) throw new ArgumentError(`config.json: hidden_size ${dModel} is not divisible by num_attention_heads ${nHeads}`);
  // HF: rotary_ndims = int(head_size * rotary_pct)
  const rotaryDim = Math.trunc(dHead * partialRotaryFactor(raw, 0.25));
  const bias = optionalBool(raw, 'attention_bias', true);
  return validateConfig({
    family: 'gpt_neox',
    nLayers: requireInt(raw, 'num_hidden_layers'),
    dModel,
    nHeads,
    nKvHeads: nHeads,
    dHead,
    dMlp: requireInt(raw, 'intermediate_size'),
    dVocab: requireInt(raw, 'vocab_size'),
    nCtx: requireInt(raw, 'max_position_embeddings'),
    act: activationFromHF(optionalString(raw, 'hidden_act', 'gelu'), 'hidden_act'),
    gatedMlp: false,
    norm: 'layernorm',
    normEps: optionalNumber(raw, 'layer_norm_eps', 1e-5),
    normWeightOffset: 0,
    positional: 'rotary',
    rotaryDim,
    rotaryBase: ropeTheta(raw),
    rotaryLayout: 'half',
    ropeScaling: ropeScaling(raw),
    parallelResidual: optionalBool(raw, 'use_parallel_residual', true),
    qkvBias: bias,
    attnOutBias: bias,
    mlpBias: true,
    tiedEmbeddings: optionalBool(raw, 'tie_word_embeddings', false),
    embedScale: 1,
    attnScale: 1 / Math.sqrt(dHead),
    attnScaleByInverseLayer: false,
    slidingWindow: null,
    bosTokenId: tokenId(raw, 'bos_token_id'),
    eosTokenId: tokenId(raw, 'eos_token_id'),
    padTokenId: tokenId(raw, 'pad_token_id'),
  });
}
