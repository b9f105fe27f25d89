// model_type (config.json) → the architecture that maps its config and weights. Adding a family
// means adding one file in arch/ and one row here.

import { ArgumentError } from '../util/errors.js';
import { closestMatches } from '../util/closest.js';
import type { ModelConfig } from './config.js';
import type { TransformerParams } from './params.js';
import type { WeightSource } from './weight-reader.js';
import { gpt2Config } from './arch/gpt2-config.js';
import { gpt2Params } from './arch/gpt2.js';
import type { RawConfig } from './arch/hf-config.js';
import { llamaLikeConfig } from './arch/llama-config.js';
import { llamaParams } from './arch/llama.js';
import { neoxConfig } from './arch/neox-config.js';
import { neoxParams } from './arch/neox.js';

export interface Architecture {
  readonly modelType: string;
  config(raw: RawConfig): ModelConfig;
  params(source: WeightSource, config: ModelConfig): TransformerParams;
}

const ARCHITECTURES: readonly Architecture[] = [
  { modelType: 'gpt2', config: gpt2Config, params: gpt2Params },
  { modelType: 'gpt_neox', config: neoxConfig, params: neoxParams },
  { modelType: 'llama', config: (raw) => llamaLikeConfig(raw, 'llama'), params: llamaParams },
  { modelType: 'mistral', config: (raw) => llamaLikeConfig(raw, 'mistral'), params: llamaParams },
  { modelType: 'qwen2', config: (raw) => llamaLikeConfig(raw, 'qwen2'), params: llamaParams },
  { modelType: 'gemma', config: (raw) => llamaLikeConfig(raw, 'gemma'), params: llamaParams },
];

export const SUPPORTED_MODEL_TYPES: readonly string[] = ARCHITECTURES.map((a) => a.modelType);

export class UnsupportedArchitectureError extends ArgumentError {
  override name = 'UnsupportedArchitectureError';
}

export function architectureFor(modelType: unknown): Architecture {
  const found = ARCHITECTURES.find((a) => a.modelType === modelType);
  if (found) return found;
  const close = typeof modelType === 'string' ? closestMatches(modelType, SUPPORTED_MODEL_TYPES) : [];
  throw new UnsupportedArchitectureError(
    `model_type ${JSON.stringify(modelType)} is not supported; supported: ${SUPPORTED_MODEL_TYPES.join(', ')}`
    + (close.length ? ` (did you mean ${close.join(' or ')}?)` : ''));
}

/** The normalised config for an HF config.json object. */
export function configFromHF(raw: RawConfig): ModelConfig {
  return architectureFor(raw.model_type).config(raw);
}
