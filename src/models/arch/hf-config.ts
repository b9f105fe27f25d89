// Typed reads of Hugging Face config.json fields, with errors that name the field and the file's
// model_type. HF configs changed shape across versions (rope_theta moved into rope_parameters in
// transformers 5), so readers accept every spelling we know of.

import { ArgumentError } from '../../util/errors.js';
import type { RopeScaling } from '../config.js';

export type RawConfig = Record<string, unknown>;

function describe(raw: RawConfig): string {
  return `config.json (model_type ${JSON.stringify(raw.model_type)})`;
}

export function requireInt(raw: RawConfig, ...keys: string[]): number {
  for (const key of keys) {
    const value = raw[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      throw new ArgumentError(`${describe(raw)}: ${key} must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
    return value;
  }
  throw new ArgumentError(`${describe(raw)}: missing ${keys.join(' / ')}`);
}

export function optionalInt(raw: RawConfig, key: string, fallback: number): number {
  return raw[key] === undefined || raw[key] === null ? fallback : requireInt(raw, key);
}

export function optionalNumber(raw: RawConfig, key: string, fallback: number): number {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ArgumentError(`${describe(raw)}: ${key} must be a number, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function optionalBool(raw: RawConfig, key: string, fallback: boolean): boolean {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') {
    throw new ArgumentError(`${describe(raw)}: ${key} must be true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function optionalString(raw: RawConfig, key: string, fallback: string): string {
  const value = raw[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') {
    throw new ArgumentError(`${describe(raw)}: ${key} must be a string, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A token id field that may be a number, a list (first is used) or null. */
export function tokenId(raw: RawConfig, key: string): number | null {
  const value = raw[key];
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (Array.isArray(value) && typeof value[0] === 'number') return value[0];
  return null;
}

function ropeParameters(raw: RawConfig): RawConfig {
  const params = raw.rope_parameters;
  return params && typeof params === 'object' ? (params as RawConfig) : {};
}

/** rope_theta: top level (transformers ≤ 4), rope_parameters (5), or NeoX's rotary_emb_base. */
export function ropeTheta(raw: RawConfig, fallback = 10000): number {
  const params = ropeParameters(raw);
  if (typeof params.rope_theta === 'number') return params.rope_theta;
  if (typeof raw.rope_theta === 'number') return raw.rope_theta;
  if (typeof raw.rotary_emb_base === 'number') return raw.rotary_emb_base;
  return fallback;
}

/** Fraction of each head that rotates: NeoX's rotary_pct or rope_parameters.partial_rotary_factor. */
export function partialRotaryFactor(raw: RawConfig, fallback: number): number {
  const params = ropeParameters(raw);
  if (typeof params.partial_rotary_factor === 'number') return params.partial_rotary_factor;
  if (typeof raw.partial_rotary_factor === 'number') return raw.partial_rotary_factor;
  if (typeof raw.rotary_pct === 'number') return raw.rotary_pct;
  return fallback;
}

/** rope_scaling (≤ 4) or rope_parameters (5): default/none, linear, llama3. Others are refused. */
export function ropeScaling(raw: RawConfig): RopeScaling | null {
  const source = (raw.rope_scaling && typeof raw.rope_scaling === 'object')
    ? (raw.rope_scaling as RawConfig) : ropeParameters(raw);
  const type = source.rope_type ?? source.type;
  if (type === undefined || type === null || type === 'default') return null;
  const factor = typeof source.factor === 'number' ? source.factor : NaN;
  if (type === 'linear' && factor > 0) return { type: 'linear', factor };
  if (type === 'llama3' && factor > 0) {
    return {
      type: 'llama3',
      factor,
      lowFreqFactor: optionalNumber(source, 'low_freq_factor', 1),
      highFreqFactor: optionalNumber(source, 'high_freq_factor', 4),
      originalMaxPositionEmbeddings: optionalInt(source, 'original_max_position_embeddings', 8192),
    };
  }
  throw new ArgumentError(`${describe(raw)}: rope scaling ${JSON.stringify(type)} is not supported; supported: default, linear, llama3`);
}
