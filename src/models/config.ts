// One normalised description of a decoder-only transformer. Each architecture file in arch/ maps a
// Hugging Face config.json onto it; everything downstream (the forward pass, hooks, analysis) reads
// only this, never the HF field names.

import { ArgumentError } from '../util/errors.js';

export type Family = 'gpt2' | 'gpt_neox' | 'llama' | 'mistral' | 'qwen2' | 'gemma';

/** gelu_tanh is HF's gelu_new / gelu_pytorch_tanh; gelu is the exact erf form. */
export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';

export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
    type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number;
    originalMaxPositionEmbeddings: number;
  };

export interface ModelConfig {
  family: Family;
  nLayers: number;
  dModel: number;
  nHeads: number;
  /** Key/value heads: < nHeads for grouped-query attention; head h reads kv head floor(h / (nHeads / nKvHeads)). */
  nKvHeads: number;
  dHead: number;
  dMlp: number;
  dVocab: number;
  /** Longest sequence the model accepts (learned positions table size, or the configured max). */
  nCtx: number;
  act: Activation;
  /** SwiGLU / GeGLU: mlp_out = W_out (act(W_gate x) * (W_in x)). */
  gatedMlp: boolean;
  norm: 'layernorm' | 'rmsnorm';
  normEps: number;
  /** Gemma's RMSNorm multiplies by (1 + w): 1 there, else 0. */
  normWeightOffset: number;
  positional: 'learned' | 'rotary';
  /** Features of each head that rotate (NeoX partial rotary: a fraction of dHead). */
  rotaryDim: number;
  rotaryBase: number;
  /** 'half' pairs i with i + rotaryDim/2 (NeoX, Llama); 'interleaved' pairs 2i with 2i+1 (GPT-J). */
  rotaryLayout: 'half' | 'interleaved';
  ropeScaling: RopeScaling | null;
  /** NeoX: attn and MLP both read resid_pre and add to it (no resid_mid). */
  parallelResidual: boolean;
  /** Query/key/value projections have biases (GPT-2, NeoX, Qwen2). */
  qkvBias: boolean;
  /** The attention output projection has a bias (GPT-2, NeoX). */
  attnOutBias: boolean;
  mlpBias: boolean;
  /** The unembedding is the transposed embedding matrix (no lm_head weight stored). */
  tiedEmbeddings: boolean;
  /** Gemma multiplies token embeddings by sqrt(dModel). */
  embedScale: number;
  /** Attention scores are multiplied by this (1/sqrt(dHead) unless a config says otherwise). */
  attnScale: number;
  /** GPT-2's scale_attn_by_inverse_layer_idx: scores of layer l are further divided by l + 1. */
  attnScaleByInverseLayer: boolean;
  /** Mistral-style sliding window (keys more than this many positions back are masked), or null. */
  slidingWindow: number | null;
  bosTokenId: number | null;
  eosTokenId: number | null;
  padTokenId: number | null;
}

/** Check the invariants every architecture relies on; throws ArgumentError naming the field. */
export function validateConfig(config: ModelConfig): ModelConfig {
  const positive: (keyof ModelConfig)[] = ['nLayers', 'dModel', 'nHeads', 'nKvHeads', 'dHead', 'dMlp', 'dVocab', 'nCtx'];
  for (const key of positive) {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new ArgumentError(`model config: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
    }
  }
  if (config.nHeads % config.nKvHeads !== 0) {
    throw new ArgumentError(`model config: nHeads (${config.nHeads}) must be a multiple of nKvHeads (${config.nKvHeads})`);
  }
  if (config.positional === 'rotary') {
    if (config.rotaryDim <= 0 || config.rotaryDim > config.dHead || config.rotaryDim % 2 !== 0) {
      throw new ArgumentError(`model config: rotaryDim must be even and in (0, dHead=${config.dHead}], got ${config.rotaryDim}`);
    }
  }
  if (!(config.normEps > 0)) throw new ArgumentError(`model config: normEps must be > 0, got ${config.normEps}`);
  return config;
}
