// The server transport: POST <base>api/<endpoint> to `dissect serve`, reading progress from its
// newline-delimited JSON stream (Accept: application/x-ndjson; see src/api/protocol.ts).

import type { ApiErrorBody, EndpointName, ModelId, StreamLine } from '../../api/protocol.js';
import type { ModelOrigin } from '../protocol.js';
import { ApiCallError, type CallOptions, type DissectClient, type Request, type Response } from './client.js';

export class HttpClient implements DissectClient {
  readonly kind = 'server' as const;

  /** `apiBase`: the absolute URL that endpoint names are appended to (".../api/"). */
  constructor(readonly apiBase: string) {}

  get description(): string {
    return `dissect serve · ${new URL(this.apiBase).host}`;
  }

  async call<N extends EndpointName>(endpoint: N, request: Request<N>, options: CallOptions = {}): Promise<Response<N>> {
    let response: globalThis.Response;
    try {
      response = await fetch(new URL(endpoint, this.apiBase), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: options.onProgress ? 'application/x-ndjson' : 'application/json' },
        body: JSON.stringify(request),
        signal: options.signal,
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw new ApiCallError('aborted', 'the request was aborted');
      throw new ApiCallError('internal', `cannot reach the server at ${this.apiBase}: ${(err as Error).message}`);
    }
    const type = response.headers.get('Content-Type') ?? '';
    if (!type.includes('ndjson')) {
      const body = await response.json().catch(() => null) as ApiErrorBody | Response<N> | null;
      if (!response.ok || body === null || (typeof body === 'object' && 'error' in body)) throw errorOf(body, response.status);
      return body as Response<N>;
    }
    return this.readStream<Response<N>>(response, options);
  }

  async openModel(id: ModelId, _label: string, origin: ModelOrigin | null, options: CallOptions = {}): Promise<void> {
    if (origin) throw new ApiCallError('bad_request', 'a local folder or hub repo opens in the browser, not on the server');
    // The server loads a model on its first request; a one-token tokenize makes that happen now.
    options.onProgress?.({ stage: 'loading on the server', done: 0, total: 1 });
    await this.call('tokenize', { model: id, text: ' ' }, { signal: options.signal });
    options.onProgress?.({ stage: 'loading on the server', done: 1, total: 1 });
  }

  dispose(): void {}

  private async readStream<R>(response: globalThis.Response, options: CallOptions): Promise<R> {
    const reader = (response.body as ReadableStream<BufferSource>).pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    for (;;) {
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw new ApiCallError('aborted', 'the request was aborted');
        throw err;
      }
      if (chunk.done) break;
      buffered += chunk.value;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (text === '') continue;
        const line = JSON.parse(text) as StreamLine<R>;
        if ('progress' in line) options.onProgress?.(line.progress);
        else if ('result' in line) return line.result;
        else throw errorOf(line, response.status);
      }
    }
    throw new ApiCallError('internal', 'the server closed the stream without a result');
  }
}

function errorOf(body: unknown, status: number): ApiCallError {
  const error = (body as ApiErrorBody | null)?.error;
  if (error && typeof error.message === 'string') return new ApiCallError(error.type, error.message, error.field);
  return new ApiCallError('internal', `the server answered HTTP ${status} without an error message`);
}
