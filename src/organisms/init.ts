// Fresh weights for a model we train: a Hugging Face config.json object in, a HookedTransformer
// out, holding tensors under exactly the names transformers uses (so saving writes a checkpoint
// AutoModelForCausalLM loads). GPT-2's initialisation: N(0, 0.02) for matrices and embeddings,
// zero biases, unit norm weights, and residual-output projections scaled by 1/sqrt(2·n_layer)
// so the residual stream's variance does not grow with depth (GPT-2 paper §2.3).

import type { Backend } from '../backend/types.js';
import { defaultBackend } from '../backend/registry.js';
import { architectureFor } from '../models/architectures.js';
import type { RawConfig } from '../models/arch/hf-config.js';
import type { ModelConfig } from '../models/config.js';
import { HookedTransformer } from '../models/transformer.js';
import type { WeightSource } from '../models/weight-reader.js';
import { Rng, full, randn, zeros } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../util/errors.js';

/** How one checkpoint tensor starts. */
export type InitKind = 'normal' | 'residual-out' | 'zeros' | 'ones';

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: InitKind;
}

/** Every tensor a freshly saved HF model of this family has, with its HF name and shape. */
export function checkpointTensors(raw: RawConfig): TensorSpec[] {
  const config = architectureFor(raw.model_type).config(raw);
  switch (config.family) {
    case 'gpt2': return gpt2Tensors(config);
    case 'llama': return llamaTensors(config);
    default:
      throw new ArgumentError(`checkpointTensors: model_type ${JSON.stringify(raw.model_type)} cannot be initialised here; supported: gpt2, llama`);
  }
}

function gpt2Tensors(c: ModelConfig): TensorSpec[] {
  const d = c.dModel;
  const specs: TensorSpec[] = [
    { name: 'transformer.wte.weight', shape: [c.dVocab, d], init: 'normal' },
    { name: 'transformer.wpe.weight', shape: [c.nCtx, d], init: 'normal' },
  ];
  for (let l = 0; l < c.nLayers; l++) {
    const p = `transformer.h.${l}.`;
    specs.push(
      { name: `${p}ln_1.weight`, shape: [d], init: 'ones' },
      { name: `${p}ln_1.bias`, shape: [d], init: 'zeros' },
      // Conv1D stores [in, out].
      { name: `${p}attn.c_attn.weight`, shape: [d, 3 * d], init: 'normal' },
      { name: `${p}attn.c_attn.bias`, shape: [3 * d], init: 'zeros' },
      { name: `${p}attn.c_proj.weight`, shape: [d, d], init: 'residual-out' },
      { name: `${p}attn.c_proj.bias`, shape: [d], init: 'zeros' },
      { name: `${p}ln_2.weight`, shape: [d], init: 'ones' },
      { name: `${p}ln_2.bias`, shape: [d], init: 'zeros' },
      { name: `${p}mlp.c_fc.weight`, shape: [d, c.dMlp], init: 'normal' },
      { name: `${p}mlp.c_fc.bias`, shape: [c.dMlp], init: 'zeros' },
      { name: `${p}mlp.c_proj.weight`, shape: [c.dMlp, d], init: 'residual-out' },
      { name: `${p}mlp.c_proj.bias`, shape: [d], init: 'zeros' },
    );
  }
  specs.push({ name: 'transformer.ln_f.weight', shape: [d], init: 'ones' }, { name: 'transformer.ln_f.bias', shape: [d], init: 'zeros' });
  if (!c.tiedEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.dVocab, d], init: 'normal' });
  return specs;
}

function llamaTensors(c: ModelConfig): TensorSpec[] {
  const d = c.dModel;
  const qDim = c.nHeads * c.dHead;
  const kvDim = c.nKvHeads * c.dHead;
  const specs: TensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [c.dVocab, d], init: 'normal' }];
  const linear = (name: string, inF: number, outF: number, bias: boolean, init: InitKind = 'normal'): TensorSpec[] => [
    { name: `${name}.weight`, shape: [outF, inF], init },
    ...(bias ? [{ name: `${name}.bias`, shape: [outF], init: 'zeros' as const }] : []),
  ];
  for (let l = 0; l < c.nLayers; l++) {
    const p = `model.layers.${l}.`;
    specs.push(
      { name: `${p}input_layernorm.weight`, shape: [d], init: 'ones' },
      ...linear(`${p}self_attn.q_proj`, d, qDim, c.qkvBias),
      ...linear(`${p}self_attn.k_proj`, d, kvDim, c.qkvBias),
      ...linear(`${p}self_attn.v_proj`, d, kvDim, c.qkvBias),
      ...linear(`${p}self_attn.o_proj`, qDim, d, c.attnOutBias, 'residual-out'),
      { name: `${p}post_attention_layernorm.weight`, shape: [d], init: 'ones' },
      ...linear(`${p}mlp.gate_proj`, d, c.dMlp, c.mlpBias),
      ...linear(`${p}mlp.up_proj`, d, c.dMlp, c.mlpBias),
      ...linear(`${p}mlp.down_proj`, c.dMlp, d, c.mlpBias, 'residual-out'),
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [d], init: 'ones' });
  if (!c.tiedEmbeddings) specs.push({ name: 'lm_head.weight', shape: [c.dVocab, d], init: 'normal' });
  return specs;
}

export interface InitOptions {
  seed: number;
  backend?: Backend;
  /** Standard deviation of 'normal' tensors (HF's initializer_range). Default 0.02. */
  std?: number;
}

/** A model with fresh seeded weights; equal seeds give bit-identical weights on every backend. The caller owns it. */
export function initModel(raw: RawConfig, options: InitOptions): HookedTransformer {
  const backend = options.backend ?? defaultBackend();
  const architecture = architectureFor(raw.model_type);
  const config = architecture.config(raw);
  const std = options.std ?? 0.02;
  const rng = new Rng(options.seed);
  const tensors = new Map<string, Tensor>();
  for (const spec of checkpointTensors(raw)) {
    tensors.set(spec.name, initTensor(spec, std / (spec.init === 'residual-out' ? Math.sqrt(2 * config.nLayers) : 1), rng, backend));
  }
  const source: WeightSource = {
    names: [...tensors.keys()],
    description: `fresh ${String(raw.model_type)} weights`,
    get: (name) => tensors.get(name) as Tensor,
  };
  try {
    return new HookedTransformer(config, architecture.params(source, config));
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
}

function initTensor(spec: TensorSpec, std: number, rng: Rng, backend: Backend): Tensor {
  switch (spec.init) {
    case 'normal': case 'residual-out': return randn(spec.shape, { rng, std, backend });
    case 'zeros': return zeros(spec.shape, { backend });
    case 'ones': return full(spec.shape, 1, { backend });
    default: return spec.init satisfies never;
  }
}

/**
 * Sinusoidal position embeddings (Vaswani et al. 2017) scaled to the std of the other weights: a
 * starting point for learned positions in which the dot product of two positions depends on
 * their offset, so heads that attend by relative position (previous-token heads) can form early.
 */
export function sinusoidalPositions(nCtx: number, dModel: number, std = 0.02): Float32Array {
  const out = new Float32Array(nCtx * dModel);
  // sin and cos each have variance 1/2 over positions: scale them to variance std².
  const scale = std * Math.SQRT2;
  for (let p = 0; p < nCtx; p++) {
    for (let i = 0; i < dModel; i += 2) {
      const angle = p / 10000 ** (i / dModel);
      out[p * dModel + i] = scale * Math.sin(angle);
      if (i + 1 < dModel) out[p * dModel + i + 1] = scale * Math.cos(angle);
    }
  }
  return out;
}
