// The API: one handler per endpoint of protocol.ts, each a pure async function
// (session, request, { signal, onProgress }) → response over a session's loaded models. No
// Node and no DOM: the HTTP server (src/server) and the browser's Web Worker both call these.

import { ApiError, toApiError } from './errors.js';
import { dla } from './handlers/dla.js';
import { generate } from './handlers/generate.js';
import { lens } from './handlers/lens.js';
import { models, tokenize } from './handlers/models.js';
import { patch } from './handlers/patch.js';
import { run } from './handlers/run.js';
import { ENDPOINTS, type EndpointName, type Endpoints } from './protocol.js';
import type { ApiSession, HandlerContext } from './session.js';

export * from './protocol.js';
export type { ApiSession, HandlerContext, ModelHandle } from './session.js';
export { ApiError, toApiError, checkAborted } from './errors.js';
export { encodeFloat32, decodeFloat32, bytesToBase64, base64ToBytes } from './encoding.js';

export type Handler<N extends EndpointName> =
  (session: ApiSession, request: Endpoints[N]['request'], context?: HandlerContext) => Promise<Endpoints[N]['response']>;

export const handlers: { readonly [N in EndpointName]: Handler<N> } = { models, tokenize, run, lens, dla, patch, generate };

export function isEndpoint(name: string): name is EndpointName {
  return (ENDPOINTS as readonly string[]).includes(name);
}

/**
 * Runs endpoint `name` on an untrusted request (parsed JSON). Every failure is an ApiError:
 * an unknown endpoint is 'not_found', bad fields 'bad_request', and so on (see toApiError).
 */
export async function handle(session: ApiSession, name: string, request: unknown, context: HandlerContext = {}): Promise<unknown> {
  if (!isEndpoint(name)) throw new ApiError('not_found', `no endpoint '${name}'; endpoints: ${ENDPOINTS.join(', ')}`);
  const handler = handlers[name] as (session: ApiSession, request: unknown, context?: HandlerContext) => Promise<unknown>;
  try {
    return await handler(session, request, context);
  } catch (err) {
    throw toApiError(err);
  }
}
