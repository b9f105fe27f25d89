// The seam between the wasm backend and its host. Everything the backend needs from the
// environment goes through this interface: platform-node.ts implements it with node:fs,
// node:os and node:worker_threads; platform-browser.ts with Web Workers. Nothing else in this
// folder touches a host API beyond WebAssembly, SharedArrayBuffer and Atomics.

import type { WorkerInit } from './abi.js';

export interface WorkerHandle {
  terminate(): void;
  /** Why the worker died, where the host has told us (only between blocking calls). */
  failure?(): string | null;
}

export interface WasmPlatform {
  /** Threads when the caller does not choose: min(cores, 8), or DISSECT_THREADS where set. */
  defaultThreads(): number;
  /** Can this thread block in Atomics.wait? (Not a browser's main thread.) */
  canBlock(): boolean;
  /** Starts a worker that runs runWorkerLoop(init). It must not keep the process alive. */
  startWorker(init: WorkerInit): WorkerHandle;
}

/** Most threads we ever start: beyond this the kernels' splits get too thin to pay for themselves. */
export const MAX_THREADS = 8;

/** Shared memory needs SharedArrayBuffer, which browsers only give cross-origin-isolated pages. */
export function sharedMemoryAvailable(): boolean {
  const scope = globalThis as { crossOriginIsolated?: boolean };
  return typeof SharedArrayBuffer !== 'undefined' && scope.crossOriginIsolated !== false;
}
