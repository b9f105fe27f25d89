// Prompts and single tokens from a request (text or ids, checked against the model and the
// limits), how tokens read in responses, and lending a model to a handler for its duration.

import type { HookedTransformer, Tokenizer } from '../index.js';
import { ApiError, badRequest, checkAborted } from './errors.js';
import { objectOf, optionalBoolean, requiredString, type Fields } from './fields.js';
import type { ApiLimits, ModelSummary, TokenInfo } from './protocol.js';
import type { ApiSession, HandlerContext, ModelHandle } from './session.js';

export const PROMPT_KEYS = ['text', 'ids', 'bos'] as const;

/** Whether the tokenizer has a token for `id` (a model's embedding can be larger than its tokenizer's vocabulary). */
function knows(tokenizer: Tokenizer, id: number): boolean {
  return id < tokenizer.vocabSize && tokenizer.idToToken(id) !== undefined;
}

/** How each id reads: the tokenizer's string, or '#id' for ids it lacks (and without a tokenizer). */
export function tokenInfos(ids: readonly number[], tokenizer: Tokenizer | null): TokenInfo[] {
  if (tokenizer === null) return ids.map((id) => ({ id, text: `#${id}` }));
  const known = ids.filter((id) => knows(tokenizer, id));
  const strings = tokenizer.tokenStrings(known);
  let next = 0;
  return ids.map((id) => ({ id, text: knows(tokenizer, id) ? strings[next++] : `#${id}` }));
}

/** Text of generated ids; ids the tokenizer lacks show as '#id'. */
export function decodeIds(ids: readonly number[], tokenizer: Tokenizer | null): string {
  if (tokenizer === null) return ids.map((id) => `#${id}`).join('');
  let text = '';
  let run: number[] = [];
  const flush = () => {
    if (run.length) text += tokenizer.decode(run, { skipSpecialTokens: true });
    run = [];
  };
  for (const id of ids) {
    if (knows(tokenizer, id)) {
      run.push(id);
    } else {
      flush();
      text += `#${id}`;
    }
  }
  flush();
  return text;
}

export function modelSummary(handle: ModelHandle): ModelSummary {
  const c = handle.model.config;
  return {
    id: handle.id, modelType: handle.modelType, nLayers: c.nLayers, nHeads: c.nHeads, nKvHeads: c.nKvHeads,
    dModel: c.dModel, dHead: c.dHead, dVocab: c.dVocab, nCtx: c.nCtx, hasTokenizer: handle.tokenizer !== null,
  };
}

function checkId(id: unknown, field: string, model: HookedTransformer): number {
  const vocab = model.config.dVocab;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocab) {
    throw badRequest(field, `${field}: ${JSON.stringify(id)} is not a token id of this model (an integer in 0..${vocab - 1})`);
  }
  return id;
}

/**
 * The token ids of a PromptSpec at `field` (e.g. 'clean'; '' when its keys sit in the request
 * itself). Too long a text or prompt is a 413; everything else wrong is a 400.
 */
export function promptIds(spec: Fields, field: string, handle: ModelHandle, limits: ApiLimits): number[] {
  const at = (key: string) => (field === '' ? key : `${field}.${key}`);
  const { model, tokenizer } = handle;
  const hasText = spec.text !== undefined;
  if (hasText === (spec.ids !== undefined)) throw badRequest(field || 'text', `give exactly one of ${at('text')} and ${at('ids')}`);
  const maxTokens = Math.min(limits.maxPromptTokens, model.config.nCtx);
  let ids: number[];
  if (hasText) {
    const text = requiredString(spec, 'text', field);
    if (text.length > limits.maxPromptChars) {
      throw new ApiError('too_large', `${at('text')} has ${text.length} characters; the limit is ${limits.maxPromptChars}`, at('text'));
    }
    if (tokenizer === null) throw badRequest(at('text'), `model '${handle.id}' has no tokenizer; give ${at('ids')} instead`);
    ids = tokenizer.encode(text);
    if (optionalBoolean(spec, 'bos', false, field)) {
      const bos = model.config.bosTokenId;
      if (bos === null || bos === undefined) throw badRequest(at('bos'), `model '${handle.id}' names no BOS token in its config`);
      if (ids[0] !== bos) ids.unshift(bos);
    }
  } else {
    if (!Array.isArray(spec.ids)) throw badRequest(at('ids'), `${at('ids')} must be an array of token ids`);
    if (spec.ids.length > maxTokens) {
      throw new ApiError('too_large', `${at('ids')} has ${spec.ids.length} tokens; the limit is ${maxTokens}`, at('ids'));
    }
    if (spec.bos !== undefined) throw badRequest(at('bos'), `${at('bos')} applies to text only; ids are taken as given`);
    ids = spec.ids.map((id, i) => checkId(id, `${at('ids')}[${i}]`, model));
  }
  if (ids.length === 0) throw badRequest(at(hasText ? 'text' : 'ids'), `${at(hasText ? 'text' : 'ids')} has no tokens`);
  if (ids.length > maxTokens) {
    throw new ApiError('too_large', `${field || 'the prompt'} is ${ids.length} tokens; the limit is ${maxTokens}${maxTokens === model.config.nCtx ? " (the model's context)" : ''}`, at('text'));
  }
  return ids;
}

/** A PromptSpec nested at `field` (clean, corrupted, steering.positive...). */
export function nestedPromptIds(parent: Fields, field: string, path: string, handle: ModelHandle, limits: ApiLimits): number[] {
  return promptIds(objectOf(parent[field], path, PROMPT_KEYS), path, handle, limits);
}

/** A TokenSpec: text that is exactly one token, or an id. Undefined when absent. */
export function singleToken(fields: Fields, key: string, handle: ModelHandle): number | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value === 'number') return checkId(value, key, handle.model);
  if (typeof value !== 'string' || value === '') throw badRequest(key, `${key} must be a token: one token's text (e.g. " Mary") or its id`);
  if (handle.tokenizer === null) throw badRequest(key, `model '${handle.id}' has no tokenizer; give ${key} as a token id`);
  const ids = handle.tokenizer.encode(value, { addSpecialTokens: false });
  if (ids.length !== 1) {
    const pieces = ids.length ? ` (${tokenInfos(ids, handle.tokenizer).map((t) => JSON.stringify(t.text)).join(' + ')})` : '';
    throw badRequest(key, `${key} ${JSON.stringify(value)} is ${ids.length} tokens${pieces}; give text that is one token (mind the leading space) or an id`);
  }
  return ids[0];
}

/** Lends the request's model to `fn` and returns the loan afterwards, whatever happens. */
export async function withModel<T>(session: ApiSession, fields: Fields, context: HandlerContext, fn: (handle: ModelHandle) => T | Promise<T>): Promise<T> {
  const id = requiredString(fields, 'model');
  checkAborted(context.signal);
  const handle = await session.acquireModel(id, context.signal);
  try {
    checkAborted(context.signal);
    return await fn(handle);
  } finally {
    handle.release();
  }
}

/** A number for JSON: NaN and ±Infinity become null (JSON has no such values). */
export function jsonNumber(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}
