// generate: continue a prompt, and with a steering vector (the contrast of two prompts' residual
// streams at a layer, as analysis/steering.ts) also continue it steered — same sampling settings
// and seed — so the two texts compare side by side.

import {
  contrastVector, generate as generateTokens, samplingPlan, steeringHook, type GenerateOptions, type Hook,
} from '../../index.js';
import { badRequest, checkAborted } from '../errors.js';
import { objectOf, optionalBoolean, optionalChoice, optionalInteger, optionalNumber, type Fields } from '../fields.js';
import type { GenerateRequest, GenerateResponse, Generation, ResidualPoint } from '../protocol.js';
import type { ApiSession, HandlerContext, ModelHandle } from '../session.js';
import { PROMPT_KEYS, decodeIds, modelSummary, nestedPromptIds, promptIds, tokenInfos, withModel } from '../tokens.js';

const KEYS = ['model', ...PROMPT_KEYS, 'maxNewTokens', 'temperature', 'topK', 'topP', 'seed', 'stopAtEos', 'steering'];
const STEERING_KEYS = ['positive', 'negative', 'layer', 'point', 'coefficient'];
const POINTS: readonly ResidualPoint[] = ['resid_pre', 'resid_mid', 'resid_post'];

interface Steering {
  hook: Hook;
  summary: NonNullable<GenerateResponse['steering']>;
}

function steeringFor(handle: ModelHandle, fields: Fields, session: ApiSession): Steering | null {
  if (fields.steering === undefined) return null;
  const spec = objectOf(fields.steering, 'steering', STEERING_KEYS);
  const { model } = handle;
  const layer = optionalInteger(spec, 'layer', undefined, { min: 0, max: model.config.nLayers - 1 }, 'steering');
  if (layer === undefined) throw badRequest('steering.layer', `steering.layer is required (an integer in 0..${model.config.nLayers - 1})`);
  const point = optionalChoice(spec, 'point', POINTS, 'resid_pre', 'steering');
  const coefficient = optionalNumber(spec, 'coefficient', 1, {}, 'steering');
  const positive = nestedPromptIds(spec, 'positive', 'steering.positive', handle, session.limits);
  const negative = nestedPromptIds(spec, 'negative', 'steering.negative', handle, session.limits);
  const vector = contrastVector(model, { layer, point, positive: [positive], negative: [negative] });
  try {
    const values = Float32Array.from(vector.toArray());
    return {
      hook: steeringHook(model, values, { layer, point, coefficient }),
      summary: { layer, point, coefficient, vectorNorm: Math.sqrt(values.reduce((sum, v) => sum + v * v, 0)) },
    };
  } finally {
    vector.dispose();
  }
}

async function generateOn(handle: ModelHandle, fields: Fields, session: ApiSession, context: HandlerContext): Promise<GenerateResponse> {
  const { model, tokenizer } = handle;
  const ids = promptIds(fields, '', handle, session.limits);
  const maxNewTokens = optionalInteger(fields, 'maxNewTokens', 20, { min: 1, max: session.limits.maxNewTokens });
  const sampling = {
    temperature: optionalNumber(fields, 'temperature', undefined, { min: 0 }),
    topK: optionalInteger(fields, 'topK', undefined, { min: 1 }),
    topP: optionalNumber(fields, 'topP', undefined, { min: 0 }),
  };
  samplingPlan(sampling); // its ArgumentErrors (topP of 0...) become 400s
  const seed = optionalInteger(fields, 'seed', 0, { min: 0 });
  const eos = tokenizer?.eosTokenId ?? model.config.eosTokenId;
  const stopTokenIds = optionalBoolean(fields, 'stopAtEos', false) && eos !== null && eos !== undefined ? [eos] : [];
  const steering = steeringFor(handle, fields, session);
  const total = maxNewTokens * (steering === null ? 1 : 2);

  const once = async (stage: 'unsteered' | 'steered', offset: number, hooks: Hook[]): Promise<Generation> => {
    checkAborted(context.signal);
    const options: GenerateOptions = {
      ...sampling, maxNewTokens, seed, stopTokenIds, hooks, signal: context.signal,
      onToken: (token) => context.onProgress?.({ stage, done: offset + token.step + 1, total }),
    };
    const result = await generateTokens(model, ids, options);
    const tokens = result.tokens[0];
    return { ids: tokens, text: decodeIds(tokens, tokenizer), finishReason: result.finishReasons[0] };
  };
  const unsteered = await once('unsteered', 0, []);
  const steered = steering === null ? null : await once('steered', maxNewTokens, [steering.hook]);
  return {
    model: modelSummary(handle),
    promptTokens: tokenInfos(ids, tokenizer),
    unsteered,
    steered,
    steering: steering?.summary ?? null,
  };
}

export async function generate(session: ApiSession, request: GenerateRequest, context: HandlerContext = {}): Promise<GenerateResponse> {
  const fields = objectOf(request, '', KEYS);
  return withModel(session, fields, context, (handle) => generateOn(handle, fields, session, context));
}
