// Tiny checkpoints of every supported family, with config.json written the way transformers 4.x
// (rope_theta / rope_scaling / rotary_pct at top level) and 5.x (rope_parameters) write them.
// Each case may name a config change its output must be sensitive to, so that a test comparing
// against the reference cannot pass while ignoring that feature.

import { type Dims, gpt2Checkpoint, llamaCheckpoint, neoxCheckpoint } from './checkpoints.js';
import type { Checkpoint, TestRng } from './helpers.js';

type Config = Record<string, unknown>;

export interface ArchCase {
  name: string;
  config: Config;
  weights: (rng: TestRng) => Checkpoint;
  /** Reference outputs under this altered config must differ from the real ones by > 1e-3. */
  sensitiveTo?: { what: string; config: Config };
}

const v4 = { torch_dtype: 'float32', transformers_version: '4.46.3', use_cache: true };
const v5 = { dtype: 'float32', transformers_version: '5.0.0', use_cache: true };

function gpt2Base(dims: Dims): Config {
  return {
    architectures: ['GPT2LMHeadModel'], attn_pdrop: 0.1, bos_token_id: 0, eos_token_id: 0, embd_pdrop: 0.1,
    initializer_range: 0.02, layer_norm_epsilon: 1e-5, model_type: 'gpt2', n_ctx: dims.nCtx, n_embd: dims.d,
    n_head: dims.H, n_inner: null, n_layer: dims.L, n_positions: dims.nCtx, reorder_and_upcast_attn: false,
    resid_pdrop: 0.1, scale_attn_weights: true, summary_activation: null, summary_first_dropout: 0.1,
    summary_proj_to_labels: true, summary_type: 'cls_index', summary_use_proj: true, vocab_size: dims.V,
  };
}

function neoxBase(dims: Dims): Config {
  return {
    architectures: ['GPTNeoXForCausalLM'], attention_bias: true, attention_dropout: 0.0, bos_token_id: 0,
    classifier_dropout: 0.1, eos_token_id: 0, hidden_dropout: 0.0, hidden_size: dims.d, initializer_range: 0.02,
    intermediate_size: dims.dmlp, layer_norm_eps: 1e-5, max_position_embeddings: dims.nCtx, model_type: 'gpt_neox',
    num_attention_heads: dims.H, num_hidden_layers: dims.L, tie_word_embeddings: false, use_parallel_residual: true,
    vocab_size: dims.V,
  };
}

function llamaBase(modelType: string, dims: Dims): Config {
  return {
    architectures: [`${modelType[0].toUpperCase()}${modelType.slice(1)}ForCausalLM`], attention_dropout: 0.0,
    bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', hidden_size: dims.d, initializer_range: 0.02,
    intermediate_size: dims.dmlp, max_position_embeddings: dims.nCtx, model_type: modelType,
    num_attention_heads: dims.H, num_hidden_layers: dims.L, num_key_value_heads: dims.KV, rms_norm_eps: 1e-6,
    vocab_size: dims.V,
  };
}

const gpt2Dims: Dims = { d: 32, H: 4, KV: 4, dh: 8, dmlp: 128, V: 61, L: 3, nCtx: 32 };
const gpt2ReluDims: Dims = { d: 24, H: 3, KV: 3, dh: 8, dmlp: 40, V: 53, L: 2, nCtx: 16 };
const neoxDims: Dims = { d: 32, H: 4, KV: 4, dh: 8, dmlp: 64, V: 57, L: 2, nCtx: 32 };
const llamaDims: Dims = { d: 32, H: 4, KV: 2, dh: 8, dmlp: 48, V: 59, L: 2, nCtx: 64 };
const mqaDims: Dims = { d: 32, H: 4, KV: 1, dh: 8, dmlp: 48, V: 59, L: 2, nCtx: 64 };
// head_dim · heads (32) ≠ hidden_size (24): o_proj is [24, 32], as in Gemma and some Mistrals.
const wideHeadDims: Dims = { d: 24, H: 4, KV: 2, dh: 8, dmlp: 40, V: 47, L: 2, nCtx: 32 };
const gemmaMqaDims: Dims = { d: 24, H: 4, KV: 1, dh: 8, dmlp: 40, V: 47, L: 2, nCtx: 32 };

const llamaWeights = (dims: Dims, options: Partial<Parameters<typeof llamaCheckpoint>[2]>) => (rng: TestRng) =>
  llamaCheckpoint(rng, dims, { qkvBias: false, oBias: false, mlpBias: false, lmHead: true, gemmaNorms: false, ...options });

export const ARCH_CASES: ArchCase[] = [
  {
    name: 'gpt2 (4.x, GPT2Model names, exact gelu, scale_attn_by_inverse_layer_idx, legacy mask buffers)',
    config: { ...gpt2Base(gpt2Dims), ...v4, activation_function: 'gelu', scale_attn_by_inverse_layer_idx: true, architectures: ['GPT2Model'] },
    weights: (rng) => gpt2Checkpoint(rng, gpt2Dims, { prefix: '', lmHead: false, legacyBuffers: true }),
    sensitiveTo: { what: 'scale_attn_by_inverse_layer_idx', config: { scale_attn_by_inverse_layer_idx: false } },
  },
  {
    name: 'gpt2 (5.x, relu, n_inner, untied lm_head)',
    config: { ...gpt2Base(gpt2ReluDims), ...v5, activation_function: 'relu', n_inner: gpt2ReluDims.dmlp, scale_attn_by_inverse_layer_idx: false, tie_word_embeddings: false },
    weights: (rng) => gpt2Checkpoint(rng, gpt2ReluDims, { prefix: 'transformer.', lmHead: true, legacyBuffers: false }),
    sensitiveTo: { what: 'the untied lm_head', config: { tie_word_embeddings: true } },
  },
  {
    name: 'gpt_neox (4.x, rotary_pct 1.0, sequential residual, legacy buffers)',
    config: { ...neoxBase(neoxDims), ...v4, hidden_act: 'gelu', rotary_pct: 1.0, rotary_emb_base: 10000, use_parallel_residual: false },
    weights: (rng) => neoxCheckpoint(rng, neoxDims, { rotaryDim: 8, legacyBuffers: true }),
    sensitiveTo: { what: 'use_parallel_residual', config: { use_parallel_residual: true } },
  },
  {
    name: 'gpt_neox (5.x, rope_parameters partial_rotary_factor 0.5, parallel residual, gelu_fast)',
    config: {
      ...neoxBase(neoxDims), ...v5, hidden_act: 'gelu_fast',
      rope_parameters: { partial_rotary_factor: 0.5, rope_theta: 100.0, rope_type: 'default' },
    },
    weights: (rng) => neoxCheckpoint(rng, neoxDims, { rotaryDim: 4, legacyBuffers: false }),
    sensitiveTo: { what: 'rope_theta', config: { rope_parameters: { partial_rotary_factor: 0.5, rope_theta: 10000.0, rope_type: 'default' } } },
  },
  {
    name: 'llama (4.x, GQA 4/2, rope_scaling linear as "type", rope_theta top level)',
    config: {
      ...llamaBase('llama', llamaDims), ...v4, attention_bias: false, mlp_bias: false, pretraining_tp: 1,
      rope_theta: 500.0, rope_scaling: { type: 'linear', factor: 4.0 }, tie_word_embeddings: false,
    },
    weights: llamaWeights(llamaDims, {}),
    sensitiveTo: { what: 'rope_scaling', config: { rope_scaling: null } },
  },
  {
    name: 'llama (5.x, MQA 4/1, llama3 rope_parameters, tied, attention and mlp biases)',
    config: {
      ...llamaBase('llama', mqaDims), ...v5, attention_bias: true, mlp_bias: true, head_dim: 8, pretraining_tp: 1,
      rope_parameters: {
        rope_type: 'llama3', rope_theta: 10000.0, factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0,
        original_max_position_embeddings: 64,
      },
      tie_word_embeddings: true,
    },
    weights: llamaWeights(mqaDims, { qkvBias: true, oBias: true, mlpBias: true, lmHead: false }),
    sensitiveTo: { what: 'llama3 rope scaling', config: { rope_parameters: { rope_type: 'default', rope_theta: 10000.0 } } },
  },
  {
    name: 'mistral (4.x, sliding_window 3 < sequence, head_dim·heads ≠ hidden_size)',
    config: { ...llamaBase('mistral', wideHeadDims), ...v4, head_dim: 8, rope_theta: 10000.0, sliding_window: 3, tie_word_embeddings: false },
    weights: llamaWeights(wideHeadDims, {}),
    sensitiveTo: { what: 'sliding_window', config: { sliding_window: null } },
  },
  {
    name: 'mistral (5.x, rope_parameters, sliding_window null)',
    config: { ...llamaBase('mistral', llamaDims), ...v5, head_dim: 8, rope_parameters: { rope_theta: 1000000.0, rope_type: 'default' }, sliding_window: null, tie_word_embeddings: false },
    weights: llamaWeights(llamaDims, {}),
  },
  {
    name: 'qwen2 (4.x, q/k/v biases, untied, sliding window configured but use_sliding_window false)',
    config: {
      ...llamaBase('qwen2', llamaDims), ...v4, max_window_layers: 0, rope_theta: 1000000.0, sliding_window: 3,
      tie_word_embeddings: false, use_sliding_window: false,
    },
    weights: llamaWeights(llamaDims, { qkvBias: true }),
    sensitiveTo: { what: 'use_sliding_window', config: { use_sliding_window: true } },
  },
  {
    name: 'qwen2 (4.x, use_sliding_window with max_window_layers 0: window 3 on every layer)',
    config: {
      ...llamaBase('qwen2', llamaDims), ...v4, max_window_layers: 0, rope_theta: 10000.0, sliding_window: 3,
      tie_word_embeddings: false, use_sliding_window: true,
    },
    weights: llamaWeights(llamaDims, { qkvBias: true }),
    sensitiveTo: { what: 'the sliding window', config: { use_sliding_window: false } },
  },
  {
    name: 'qwen2 (5.x, rope_parameters, layer_types, tied)',
    config: {
      ...llamaBase('qwen2', llamaDims), ...v5, layer_types: ['full_attention', 'full_attention'], max_window_layers: 28,
      rope_parameters: { rope_theta: 1000000.0, rope_type: 'default' }, sliding_window: null, tie_word_embeddings: true,
      use_sliding_window: false,
    },
    weights: llamaWeights(llamaDims, { qkvBias: true, lmHead: false }),
    sensitiveTo: { what: 'q/k/v biases', config: { model_type: 'llama' } },
  },
  {
    name: 'gemma (4.x, hidden_activation gelu_pytorch_tanh beside hidden_act gelu, MQA, head_dim·heads ≠ hidden_size)',
    config: {
      ...llamaBase('gemma', gemmaMqaDims), ...v4, attention_bias: false, head_dim: 8, hidden_act: 'gelu',
      hidden_activation: 'gelu_pytorch_tanh', pad_token_id: 0, rope_theta: 10000.0,
    },
    weights: llamaWeights(gemmaMqaDims, { lmHead: false, gemmaNorms: true }),
  },
  {
    name: 'gemma (5.x, hidden_act gelu_pytorch_tanh, rope_parameters, GQA)',
    config: {
      ...llamaBase('gemma', wideHeadDims), ...v5, attention_bias: false, head_dim: 8, hidden_act: 'gelu_pytorch_tanh',
      pad_token_id: 0, rope_parameters: { rope_theta: 10000.0, rope_type: 'default' }, tie_word_embeddings: true,
    },
    weights: llamaWeights(wideHeadDims, { lmHead: false, gemmaNorms: true }),
  },
];
