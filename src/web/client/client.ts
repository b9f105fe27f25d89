// One interface for the UI to reach the API, with two transports: the model worker in this page
// (worker-client.ts: the wasm backend, no server needed) and `dissect serve` over HTTP
// (http-client.ts). Views call `client.call('lens', request)` and never know which one answers.

import type { ApiErrorType, EndpointName, Endpoints, ModelId, Progress } from '../../api/protocol.js';
import type { ModelOrigin } from '../protocol.js';

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

export type Request<N extends EndpointName> = Endpoints[N]['request'];
export type Response<N extends EndpointName> = Endpoints[N]['response'];

export interface DissectClient {
  /** 'browser': models run in this page's worker; 'server': in `dissect serve`. */
  readonly kind: 'browser' | 'server';
  /** Where models run, for the status line ("this browser · wasm · 4 threads"). */
  readonly description: string;
  call<N extends EndpointName>(endpoint: N, request: Request<N>, options?: CallOptions): Promise<Response<N>>;
  /**
   * Makes a model ready before the first analysis, reporting progress: the worker downloads and
   * builds it; the server loads it on this first request. Local folders and hub repos (origin)
   * only open in the browser.
   */
  openModel(id: ModelId, label: string, origin: ModelOrigin | null, options?: CallOptions): Promise<void>;
  dispose(): void;
}

/** An API error as the UI shows it: the protocol's type and message, and the field at fault. */
export class ApiCallError extends Error {
  override readonly name = 'ApiCallError';

  constructor(readonly type: ApiErrorType, message: string, readonly field?: string) {
    super(message);
  }
}

export function isAbort(err: unknown): boolean {
  return (err instanceof ApiCallError && err.type === 'aborted') || (err instanceof Error && err.name === 'AbortError');
}
