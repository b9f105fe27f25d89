// models and tokenize: what a client asks before any analysis — which models there are, and
// which tokens a prompt becomes (exactly the tokens every other endpoint would use).

import { objectOf } from '../fields.js';
import {
  BROWSER_MODEL_LIMIT_BYTES, type ModelsRequest, type ModelsResponse, type TokenizeRequest, type TokenizeResponse,
} from '../protocol.js';
import type { ApiSession, HandlerContext } from '../session.js';
import { PROMPT_KEYS, modelSummary, promptIds, tokenInfos, withModel } from '../tokens.js';

export async function models(session: ApiSession, request: ModelsRequest = {}, context: HandlerContext = {}): Promise<ModelsResponse> {
  objectOf(request ?? {}, '', []);
  return {
    models: await session.listModels(context.signal),
    defaultModel: session.defaultModel(),
    browserLimitBytes: BROWSER_MODEL_LIMIT_BYTES,
    limits: { ...session.limits },
  };
}

export async function tokenize(session: ApiSession, request: TokenizeRequest, context: HandlerContext = {}): Promise<TokenizeResponse> {
  const fields = objectOf(request, '', ['model', ...PROMPT_KEYS]);
  return withModel(session, fields, context, (handle) => ({
    model: modelSummary(handle),
    tokens: tokenInfos(promptIds(fields, '', handle, session.limits), handle.tokenizer),
  }));
}
