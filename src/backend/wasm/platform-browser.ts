// The browser side of the platform seam (see platform.ts): module Web Workers. The wasm backend
// runs in a Web Worker itself (a page's main thread may not block in Atomics.wait), so its
// kernel workers are nested workers. Written without DOM types.

import { BackendError } from '../../util/errors.js';
import type { WorkerInit } from './abi.js';
import { MAX_THREADS, type WasmPlatform, type WorkerHandle } from './platform.js';

interface BrowserWorker {
  postMessage(message: unknown): void;
  terminate(): void;
}

interface BrowserScope {
  navigator?: { hardwareConcurrency?: number };
  Worker?: new (url: URL, options: { type: 'module' }) => BrowserWorker;
  WorkerGlobalScope?: unknown;
}

const scope = globalThis as unknown as BrowserScope;

export const browserPlatform: WasmPlatform = {
  defaultThreads(): number {
    return Math.max(1, Math.min(scope.navigator?.hardwareConcurrency ?? 1, MAX_THREADS));
  },
  canBlock(): boolean {
    return scope.WorkerGlobalScope !== undefined;
  },
  startWorker(init: WorkerInit): WorkerHandle {
    const WorkerClass = scope.Worker;
    if (!WorkerClass) throw new BackendError('the wasm backend needs Web Workers for threads >= 2, and this scope has no Worker');
    // Written as `new Worker(new URL(..., import.meta.url))` so bundlers find and emit the file.
    const worker = new WorkerClass(new URL('./worker-browser.js', import.meta.url), { type: 'module' });
    worker.postMessage(init);
    return worker;
  },
};
