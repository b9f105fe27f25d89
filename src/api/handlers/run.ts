// run: one forward pass over a prompt — the tokens, the top next tokens at each position, every
// head's attention pattern, and head-detection scores (previous-token, duplicate-token,
// induction) on the prompt or on repeated random tokens.

import {
  HEAD_KINDS, headScores, repeatedRandomTokens, tidy, type ActivationCache, type HookedTransformer, type Tensor,
} from '../../index.js';
import { encodeFloat32 } from '../encoding.js';
import { ApiError, badRequest } from '../errors.js';
import { objectOf, optionalBoolean, optionalChoice, optionalInteger, type Fields } from '../fields.js';
import { MAX_ATTENTION_VALUES, type EncodedArray, type HeadScores, type RunRequest, type RunResponse, type TokenPrediction } from '../protocol.js';
import type { ApiSession, HandlerContext, ModelHandle } from '../session.js';
import { PROMPT_KEYS, jsonNumber, modelSummary, promptIds, tokenInfos, withModel } from '../tokens.js';

const KEYS = ['model', ...PROMPT_KEYS, 'topK', 'predictions', 'attention', 'attentionLayers', 'headScores', 'random', 'excludeBos', 'excludeCurrentToken'];

function patternNames(model: HookedTransformer): string[] {
  return Array.from({ length: model.config.nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
}

/** logits [1, n, d_vocab] → the top k of each of its n positions. */
function predictions(logits: Tensor, positions: readonly number[], k: number, handle: ModelHandle): RunResponse['predictions'] {
  return tidy(() => {
    const top = logits.topk(k, -1);
    const probs = logits.softmax(-1).gather(-1, top.indices);
    const ids = top.indices.toArray();
    const logitValues = top.values.toArray();
    const probValues = probs.toArray();
    return positions.map((position, p) => {
      const slice = (values: ArrayLike<number>) => Array.from({ length: k }, (_, j) => values[p * k + j]);
      const tokens = tokenInfos(slice(ids), handle.tokenizer);
      const probRow = slice(probValues);
      const logitRow = slice(logitValues);
      const top: TokenPrediction[] = tokens.map((t, j) => ({ ...t, prob: probRow[j], logit: logitRow[j] }));
      return { position, top };
    });
  });
}

/** The chosen layers' patterns of row 0, as one [layer, head, query, key] array. */
function attentionArray(model: HookedTransformer, cache: ActivationCache, layers: readonly number[], n: number): EncodedArray {
  const block = model.config.nHeads * n * n;
  const data = new Float32Array(layers.length * block);
  layers.forEach((layer, i) => data.set(cache.get(`blocks.${layer}.attn.hook_pattern`).toArray().subarray(0, block), i * block));
  return encodeFloat32(data, [layers.length, model.config.nHeads, n, n], ['layer', 'head', 'query', 'key']);
}

/** attentionLayers: distinct layer indices (default all), small enough together to send. */
function attentionLayers(model: HookedTransformer, fields: Fields, n: number): number[] {
  const { nLayers, nHeads } = model.config;
  const value = fields.attentionLayers;
  let layers: number[];
  if (value === undefined) {
    layers = Array.from({ length: nLayers }, (_, l) => l);
  } else {
    if (!Array.isArray(value)) throw badRequest('attentionLayers', `attentionLayers must be an array of layer indices (0..${nLayers - 1})`);
    layers = value.map((layer, i) => {
      if (!Number.isInteger(layer) || layer < 0 || layer >= nLayers || value.indexOf(layer) !== i) {
        throw badRequest(`attentionLayers[${i}]`, `attentionLayers[${i}] must be a layer index in 0..${nLayers - 1}, each once; got ${JSON.stringify(layer)}`);
      }
      return layer as number;
    });
  }
  const values = layers.length * nHeads * n * n;
  if (values > MAX_ATTENTION_VALUES) {
    throw new ApiError('too_large', `attention of ${layers.length} layers × ${nHeads} heads × ${n}² positions is ${values} values (limit ${MAX_ATTENTION_VALUES}); choose fewer attentionLayers or a shorter prompt`, 'attentionLayers');
  }
  return layers;
}

function scoreHeads(model: HookedTransformer, cache: ActivationCache, rows: number[][], source: HeadScores['source'],
  options: { excludeBos: boolean; excludeCurrentToken: boolean }): HeadScores {
  const { nLayers, nHeads } = model.config;
  const scores = {} as HeadScores['scores'];
  for (const kind of HEAD_KINDS) {
    const t = headScores(model, cache, rows, kind, options);
    const data = t.toArray();
    t.dispose();
    scores[kind] = Array.from({ length: nLayers }, (_, l) => Array.from(data.subarray(l * nHeads, (l + 1) * nHeads), jsonNumber));
  }
  return { source, rows, scores };
}

function randomRows(model: HookedTransformer, fields: Fields): number[][] {
  const random = fields.random === undefined ? {} : objectOf(fields.random, 'random', ['seqLen', 'batch', 'seed']);
  const bos = model.config.bosTokenId === null ? 0 : 1;
  const seqLen = optionalInteger(random, 'seqLen', 20, { min: 1, max: Math.floor((model.config.nCtx - bos) / 2) }, 'random');
  const batch = optionalInteger(random, 'batch', 4, { min: 1, max: 16 }, 'random');
  const seed = optionalInteger(random, 'seed', 0, { min: 0 }, 'random');
  return repeatedRandomTokens(model, { length: seqLen, batch, seed });
}

function runOn(handle: ModelHandle, fields: Fields, session: ApiSession): RunResponse {
  const { model, tokenizer } = handle;
  const ids = promptIds(fields, '', handle, session.limits);
  const k = optionalInteger(fields, 'topK', 5, { min: 1, max: Math.min(session.limits.maxTopK, model.config.dVocab) });
  const which = optionalChoice(fields, 'predictions', ['all', 'last'] as const, 'all');
  const wantAttention = optionalBoolean(fields, 'attention', true);
  const scoreSource = optionalChoice(fields, 'headScores', ['prompt', 'random', 'none'] as const, 'prompt');
  if (fields.random !== undefined && scoreSource !== 'random') throw badRequest('random', "random applies to headScores: 'random' only");
  const options = { excludeBos: optionalBoolean(fields, 'excludeBos', false), excludeCurrentToken: optionalBoolean(fields, 'excludeCurrentToken', false) };
  const random = scoreSource === 'random' ? randomRows(model, fields) : null;
  if (!wantAttention && fields.attentionLayers !== undefined) throw badRequest('attentionLayers', 'attentionLayers applies with attention: true only');
  const layers = wantAttention ? attentionLayers(model, fields, ids.length) : null;

  // Head scores need at least two tokens; a one-token prompt gets none.
  const scoreOnPrompt = scoreSource === 'prompt' && ids.length >= 2;
  const names = scoreOnPrompt ? patternNames(model) : (layers ?? []).map((l) => `blocks.${l}.attn.hook_pattern`);
  const { logits, cache } = model.runWithCache([ids], { names, logitPositions: which === 'last' ? 'last' : 'all' });
  let response: RunResponse;
  try {
    const positions = which === 'last' ? [ids.length - 1] : ids.map((_, p) => p);
    response = {
      model: modelSummary(handle),
      tokens: tokenInfos(ids, tokenizer),
      predictions: predictions(logits, positions, k, handle),
      attention: layers === null ? null : attentionArray(model, cache, layers, ids.length),
      attentionLayers: layers,
      headScores: scoreOnPrompt ? scoreHeads(model, cache, [ids], 'prompt', options) : null,
    };
  } finally {
    logits.dispose();
    cache.dispose();
  }
  if (random !== null) {
    const probe = model.runWithCache(random, { names: patternNames(model), logitPositions: 'last' });
    try {
      response.headScores = scoreHeads(model, probe.cache, random, 'random', options);
    } finally {
      probe.logits.dispose();
      probe.cache.dispose();
    }
  }
  return response;
}

export async function run(session: ApiSession, request: RunRequest, context: HandlerContext = {}): Promise<RunResponse> {
  const fields = objectOf(request, '', KEYS);
  return withModel(session, fields, context, (handle) => runOn(handle, fields, session));
}
