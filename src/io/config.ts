// config.json of a Hugging Face model, parsed into a typed raw object. No mapping to our
// ModelConfig here (models/arch does that); we only check the file is what it claims to be and
// that the fields every architecture reads have sane types, so mistakes surface with the file
// name and field. Browser-safe: only readHFConfig touches Node, through a dynamic import.

import { FormatError, IOError } from '../util/errors.js';
import { describe, isJsonObject } from './json-values.js';

/** The raw fields as HF writes them (names kept). Only model_type is required; the rest vary by family. */
export interface HFConfig {
  model_type: string;
  architectures?: string[];
  vocab_size?: number;
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  num_key_value_heads?: number;
  intermediate_size?: number;
  max_position_embeddings?: number;
  head_dim?: number;
  // GPT-2 names
  n_embd?: number;
  n_layer?: number;
  n_head?: number;
  n_positions?: number;
  n_inner?: number | null;
  layer_norm_epsilon?: number;
  layer_norm_eps?: number;
  rms_norm_eps?: number;
  rope_theta?: number;
  rotary_pct?: number;
  hidden_act?: string;
  activation_function?: string;
  tie_word_embeddings?: boolean;
  bos_token_id?: number | number[] | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
  torch_dtype?: string;
  dtype?: string;
  rope_scaling?: Record<string, unknown> | null;
  /** transformers ≥ 5 groups rope_theta, rope_type and partial_rotary_factor here. */
  rope_parameters?: Record<string, unknown> | null;
  [field: string]: unknown;
}

const POSITIVE_INTEGERS = [
  'vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'intermediate_size',
  'max_position_embeddings', 'head_dim', 'n_embd', 'n_layer', 'n_head', 'n_positions', 'n_inner',
] as const;
const POSITIVE_NUMBERS = ['layer_norm_epsilon', 'layer_norm_eps', 'rms_norm_eps', 'rope_theta', 'rotary_pct'] as const;
const STRINGS = ['hidden_act', 'activation_function', 'torch_dtype', 'dtype'] as const;
const TOKEN_IDS = ['bos_token_id', 'eos_token_id', 'pad_token_id'] as const;

/** Validate a parsed config.json; `label` (a path) names it in errors. Null values mean "unset", as in HF. */
export function parseHFConfig(json: unknown, label = 'config.json'): HFConfig {
  if (!isJsonObject(json)) throw new FormatError(`${label}: expected a JSON object, got ${describe(json)}`);
  const bad = (field: string, expected: string) =>
    new FormatError(`${label}: "${field}" must be ${expected}, got ${describe(json[field])}`);
  if (typeof json.model_type !== 'string' || json.model_type === '') {
    throw bad('model_type', 'a non-empty string naming the architecture (e.g. "gpt2", "llama")');
  }
  const present = (field: string) => json[field] !== undefined && json[field] !== null;
  if (present('architectures') && !(Array.isArray(json.architectures) && json.architectures.every((a) => typeof a === 'string'))) {
    throw bad('architectures', 'an array of class names');
  }
  for (const field of POSITIVE_INTEGERS) {
    if (present(field) && !(Number.isSafeInteger(json[field]) && (json[field] as number) > 0)) throw bad(field, 'a positive integer');
  }
  for (const field of POSITIVE_NUMBERS) {
    if (present(field) && !(typeof json[field] === 'number' && Number.isFinite(json[field]) && (json[field] as number) > 0)) {
      throw bad(field, 'a positive number');
    }
  }
  for (const field of STRINGS) if (present(field) && typeof json[field] !== 'string') throw bad(field, 'a string');
  for (const field of TOKEN_IDS) {
    const value = json[field];
    const isId = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
    if (present(field) && !(isId(value) || (Array.isArray(value) && value.every(isId)))) throw bad(field, 'a token id or a list of them');
  }
  if (present('tie_word_embeddings') && typeof json.tie_word_embeddings !== 'boolean') throw bad('tie_word_embeddings', 'true or false');
  for (const field of ['rope_scaling', 'rope_parameters']) {
    if (present(field) && !isJsonObject(json[field])) throw bad(field, 'an object or null');
  }
  return json as HFConfig;
}

/** Read and validate `config.json` (a file path, or a folder holding it). Node only. */
export async function readHFConfig(path: string): Promise<HFConfig> {
  const { readFile, stat } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const isFolder = await stat(path).then((s) => s.isDirectory(), () => false);
  const file = isFolder ? join(path, 'config.json') : path;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new IOError(`cannot read model config '${file}': ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  return parseHFConfig(json, file);
}
