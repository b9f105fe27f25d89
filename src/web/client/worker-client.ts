// The in-page transport: API calls go to the model worker (src/web/worker.ts) by postMessage, with
// progress and cancellation keyed by call id.

import type { EndpointName, ModelId, Progress } from '../../api/protocol.js';
import type { FromWorker, ModelOrigin, ToWorker, WorkerReady } from '../protocol.js';
import { ApiCallError, type CallOptions, type DissectClient, type Request, type Response } from './client.js';

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  onProgress?: (progress: Progress) => void;
}

export class WorkerClient implements DissectClient {
  readonly kind = 'browser' as const;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(private readonly worker: Worker, readonly ready: WorkerReady) {
    worker.onmessage = (event: MessageEvent<FromWorker>) => this.receive(event.data);
  }

  /** Starts the worker and its wasm backend; `threads` defaults to the cores (1 without cross-origin isolation). */
  static async start(threads?: number): Promise<WorkerClient> {
    const worker = new Worker(new URL('../worker.ts', import.meta.url), { type: 'module', name: 'dissect-model' });
    const ready = await new Promise<WorkerReady>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        if (event.data.type === 'ready') resolve(event.data.ready);
        else if (event.data.type === 'failed') reject(new Error(event.data.message));
      };
      worker.onerror = (event) => reject(new Error(`the model worker failed to start: ${event.message}`));
      worker.postMessage({ type: 'init', threads } satisfies ToWorker);
    });
    return new WorkerClient(worker, ready);
  }

  get description(): string {
    const threads = `${this.ready.threads} thread${this.ready.threads === 1 ? '' : 's'}`;
    return `this browser · wasm · ${threads}${this.ready.crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}`;
  }

  call<N extends EndpointName>(endpoint: N, request: Request<N>, options: CallOptions = {}): Promise<Response<N>> {
    return this.send((id) => ({ type: 'call', id, endpoint, request }), options) as Promise<Response<N>>;
  }

  async openModel(id: ModelId, label: string, origin: ModelOrigin | null, options: CallOptions = {}): Promise<void> {
    if (!origin) throw new ApiCallError('bad_request', `the browser needs to know where the files of '${id}' are`);
    await this.send((callId) => ({ type: 'open', id: callId, modelId: id, label, origin }), options);
  }

  dispose(): void {
    this.worker.terminate();
    for (const pending of this.pending.values()) pending.reject(new ApiCallError('aborted', 'the model worker was stopped'));
    this.pending.clear();
  }

  private send(message: (id: number) => ToWorker, options: CallOptions): Promise<unknown> {
    const id = this.nextId++;
    const { signal, onProgress } = options;
    if (signal?.aborted) return Promise.reject(new ApiCallError('aborted', 'the request was aborted'));
    return new Promise((resolve, reject) => {
      const onAbort = () => this.worker.postMessage({ type: 'abort', id } satisfies ToWorker);
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (result) => (done(), resolve(result)),
        reject: (error) => (done(), reject(error)),
        onProgress,
      });
      this.worker.postMessage(message(id));
    });
  }

  private receive(message: FromWorker): void {
    if (message.type === 'ready' || message.type === 'failed') return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === 'progress') {
      pending.onProgress?.(message.progress);
      return;
    }
    this.pending.delete(message.id);
    if (message.type === 'result') pending.resolve(message.result);
    else pending.reject(new ApiCallError(message.error.type, message.error.message, message.error.field));
  }
}
