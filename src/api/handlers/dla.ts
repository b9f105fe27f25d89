// dla: direct logit attribution — what each component (embeddings, every layer's attention and
// MLP output) and each attention head writes directly into the target's logit, or into the logit
// difference target − distractor, at one position.

import {
  decomposeResid, dispose, logitAttrs, stackHeadResults, tidy, type ActivationCache, type HookedTransformer, type LogitTarget,
  type Tensor,
} from '../../index.js';
import { objectOf, optionalBoolean, optionalInteger, type Fields } from '../fields.js';
import type { DlaRequest, DlaResponse } from '../protocol.js';
import type { ApiSession, HandlerContext, ModelHandle } from '../session.js';
import { badRequest } from '../errors.js';
import { PROMPT_KEYS, modelSummary, promptIds, singleToken, tokenInfos, withModel } from '../tokens.js';

const KEYS = ['model', ...PROMPT_KEYS, 'target', 'distractor', 'position', 'heads'];

/** What the attributions read from a run: embeddings, block outputs, head outputs and ln_final's scale. */
const CACHED = /^(hook_embed|hook_pos_embed|blocks\.\d+\.(hook_attn_out|hook_mlp_out|attn\.hook_z)|ln_final\.hook_scale)$/;

function attribute(model: HookedTransformer, cache: ActivationCache, stack: Tensor, target: LogitTarget, pos: number): { values: number[]; constant: number } {
  const result = logitAttrs(model, cache, stack, target, { pos });
  try {
    return { values: Array.from(result.attributions.toArray()), constant: result.constant.item() };
  } finally {
    dispose(result);
  }
}

function dlaOn(handle: ModelHandle, fields: Fields, session: ApiSession): DlaResponse {
  const { model, tokenizer } = handle;
  const c = model.config;
  const ids = promptIds(fields, '', handle, session.limits);
  const target = singleToken(fields, 'target', handle);
  if (target === undefined) throw badRequest('target', 'target is required: the token whose logit to attribute (its text, e.g. " Mary", or its id)');
  const distractor = singleToken(fields, 'distractor', handle);
  const position = optionalInteger(fields, 'position', -1, { min: -ids.length, max: ids.length - 1 });
  const pos = position < 0 ? position + ids.length : position;
  const wantHeads = optionalBoolean(fields, 'heads', true);
  const logitTarget: LogitTarget = distractor === undefined ? target : { token: target, against: distractor };

  const { logits, cache } = model.runWithCache([ids], { names: CACHED });
  try {
    const modelLogit = tidy(() => {
      const row = logits.select(1, pos).reshape(-1).toArray();
      return row[target] - (distractor === undefined ? 0 : row[distractor]);
    });
    const decomposed = decomposeResid(model, cache, { pos });
    let components: { values: number[]; constant: number };
    try {
      components = attribute(model, cache, decomposed.stack, logitTarget, pos);
    } finally {
      decomposed.stack.dispose();
    }
    let heads: number[][] | null = null;
    if (wantHeads) {
      const perHead = stackHeadResults(model, cache, { pos });
      try {
        const values = attribute(model, cache, perHead.stack, logitTarget, pos).values;
        heads = Array.from({ length: c.nLayers }, (_, l) => values.slice(l * c.nHeads, (l + 1) * c.nHeads));
      } finally {
        dispose(perHead);
      }
    }
    return {
      model: modelSummary(handle),
      tokens: tokenInfos(ids, tokenizer),
      position: pos,
      target: tokenInfos([target], tokenizer)[0],
      distractor: distractor === undefined ? null : tokenInfos([distractor], tokenizer)[0],
      components: decomposed.labels.map((label, i) => ({ label, value: components.values[i] })),
      constant: components.constant,
      total: components.values.reduce((a, b) => a + b, 0) + components.constant,
      modelLogit,
      heads,
    };
  } finally {
    logits.dispose();
    cache.dispose();
  }
}

export async function dla(session: ApiSession, request: DlaRequest, context: HandlerContext = {}): Promise<DlaResponse> {
  const fields = objectOf(request, '', KEYS);
  return withModel(session, fields, context, (handle) => dlaOn(handle, fields, session));
}
