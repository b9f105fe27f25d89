// The model worker: starts the wasm backend (threads when the page is cross-origin isolated, else
// one), opens models from browser-side origins and answers API calls with the same handlers
// `dissect serve` runs (src/api). Calls run one at a time, in order: they share one wasm heap and
// one loaded model, and a model switch must not free weights under a running call.

import { initWasmBackend, setDefaultBackend } from '../index.js';
import { handlers } from '../api/index.js';
import { toApiError } from '../api/errors.js';
import type { EndpointName, Progress } from '../api/protocol.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { BrowserSession } from './worker/browser-session.js';

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  crossOriginIsolated: boolean;
}

const scope = self as unknown as WorkerScope;
const session = new BrowserSession();
const controllers = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

async function start(threads: number | undefined): Promise<void> {
  try {
    const backend = await initWasmBackend(undefined, threads === undefined ? {} : { threads });
    setDefaultBackend('wasm');
    scope.postMessage({ type: 'ready', ready: { threads: backend.threads, crossOriginIsolated: scope.crossOriginIsolated } });
  } catch (err) {
    scope.postMessage({ type: 'failed', message: `the wasm backend did not start: ${(err as Error).message}` });
    throw err;
  }
}

type Job = Extract<ToWorker, { type: 'open' | 'call' }>;

async function handle(message: Job, signal: AbortSignal): Promise<unknown> {
  const onProgress = (progress: Progress) => scope.postMessage({ type: 'progress', id: message.id, progress });
  if (message.type === 'open') {
    session.register(message.modelId, message.label, message.origin);
    const { model } = await session.open(message.modelId, onProgress);
    return { id: message.modelId, dModel: model.config.dModel, nLayers: model.config.nLayers };
  }
  const handler = handlers[message.endpoint as EndpointName] as (s: BrowserSession, r: unknown, c: object) => Promise<unknown>;
  return handler(session, message.request, { signal, onProgress });
}

function enqueue(message: Job): void {
  const controller = new AbortController();
  controllers.set(message.id, controller);
  queue = queue.then(async () => {
    try {
      if (controller.signal.aborted) throw new DOMException('aborted before it started', 'AbortError');
      const result = await handle(message, controller.signal);
      scope.postMessage({ type: 'result', id: message.id, result });
    } catch (err) {
      scope.postMessage({ type: 'error', id: message.id, error: toApiError(err).toBody().error });
    } finally {
      controllers.delete(message.id);
    }
  });
}

let started: Promise<void> | null = null;
scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === 'init') {
    started ??= start(message.threads);
  } else if (message.type === 'abort') {
    controllers.get(message.id)?.abort();
  } else {
    started ??= start(undefined);
    void started.then(() => enqueue(message), () => {
      scope.postMessage({ type: 'error', id: message.id, error: { type: 'internal', message: 'the wasm backend did not start' } });
    });
  }
};
