// Reading request fields from untrusted JSON: each reader checks one field's type and range and
// throws a 400 ApiError naming the field, the value and what was expected. Unknown fields are
// rejected too (with the closest known name), so a typo ("topk") is not silently ignored.

import { closestMatches } from '../index.js';
import { badRequest } from './errors.js';

export type Fields = Readonly<Record<string, unknown>>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** `value` as a plain object with only `allowed` keys; `field` names it in messages ('' for the body). */
export function objectOf(value: unknown, field: string, allowed: readonly string[]): Fields {
  const where = field === '' ? 'the request body' : field;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(field || undefined, `${where} must be a JSON object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const close = closestMatches(key, allowed);
    const path = field === '' ? key : `${field}.${key}`;
    throw badRequest(path, `unknown field '${path}'${close.length ? `; did you mean '${close[0]}'?` : ''} (fields: ${allowed.join(', ')})`);
  }
  return value as Fields;
}

function path(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

export function optionalString(fields: Fields, key: string, prefix = ''): string | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(path(prefix, key), `${path(prefix, key)} must be a string, got ${describe(value)}`);
  return value;
}

export function requiredString(fields: Fields, key: string, prefix = ''): string {
  const value = optionalString(fields, key, prefix);
  if (value === undefined || value === '') throw badRequest(path(prefix, key), `${path(prefix, key)} is required (a non-empty string)`);
  return value;
}

export function optionalBoolean(fields: Fields, key: string, fallback: boolean, prefix = ''): boolean {
  const value = fields[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw badRequest(path(prefix, key), `${path(prefix, key)} must be true or false, got ${describe(value)}`);
  return value;
}

/** A finite number in [min, max] (either bound may be omitted), or `fallback` when absent. */
export function optionalNumber<T extends number | undefined>(fields: Fields, key: string, fallback: T,
  range: { min?: number; max?: number; integer?: boolean } = {}, prefix = ''): number | T {
  const value = fields[key];
  if (value === undefined) return fallback;
  const name = path(prefix, key);
  const { min = -Infinity, max = Infinity, integer = false } = range;
  const ok = typeof value === 'number' && Number.isFinite(value) && (!integer || Number.isInteger(value)) && value >= min && value <= max;
  if (!ok) {
    const bounds = min === -Infinity && max === Infinity ? '' : ` in ${min === -Infinity ? '' : min}..${max === Infinity ? '' : max}`;
    throw badRequest(name, `${name} must be ${integer ? 'an integer' : 'a number'}${bounds}, got ${describe(value)}`);
  }
  return value;
}

export function optionalInteger<T extends number | undefined>(fields: Fields, key: string, fallback: T,
  range: { min?: number; max?: number } = {}, prefix = ''): number | T {
  return optionalNumber(fields, key, fallback, { ...range, integer: true }, prefix);
}

/** One of `choices`, or `fallback` when absent. */
export function optionalChoice<C extends string>(fields: Fields, key: string, choices: readonly C[], fallback: C, prefix = ''): C {
  const value = fields[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    const name = path(prefix, key);
    throw badRequest(name, `${name} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${describe(value)}`);
  }
  return value as C;
}

/** A non-empty array of distinct `choices`, or `fallback` when absent. */
export function optionalChoiceList<C extends string>(fields: Fields, key: string, choices: readonly C[], fallback: readonly C[]): C[] {
  const value = fields[key];
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value) || value.length === 0) throw badRequest(key, `${key} must be a non-empty array of ${choices.join(', ')}, got ${describe(value)}`);
  return value.map((item, i) => {
    if (typeof item !== 'string' || !(choices as readonly string[]).includes(item)) {
      throw badRequest(`${key}[${i}]`, `${key}[${i}] must be one of ${choices.join(', ')}, got ${describe(item)}`);
    }
    if (value.indexOf(item) !== i) throw badRequest(`${key}[${i}]`, `${key} lists '${item}' twice`);
    return item as C;
  });
}
