// The Node side of the platform seam (see platform.ts). Node built-ins are reached through
// process.getBuiltinModule rather than `import`, so that this file (and everything importing it)
// still loads in a browser bundle, where it is simply never used.

import { ArgumentError, BackendError } from '../../util/errors.js';
import type { WorkerInit } from './abi.js';
import { MAX_THREADS, type WasmPlatform, type WorkerHandle } from './platform.js';

interface NodeProcess {
  versions?: { node?: string };
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

type NodeFs = typeof import('node:fs');
type NodeOs = typeof import('node:os');
type NodeUrl = typeof import('node:url');
type NodeWorkerThreads = typeof import('node:worker_threads');

function nodeProcess(): NodeProcess | undefined {
  return (globalThis as { process?: NodeProcess }).process;
}

export function isNode(): boolean {
  return typeof nodeProcess()?.versions?.node === 'string';
}

function builtin<T>(id: string): T {
  const getBuiltinModule = nodeProcess()?.getBuiltinModule;
  if (!getBuiltinModule) {
    throw new BackendError(`the wasm backend needs Node >= 20.16 (process.getBuiltinModule); this is Node ${nodeProcess()?.versions?.node}`);
  }
  return getBuiltinModule(id) as T;
}

/** DISSECT_THREADS as a positive integer, or null when unset. */
export function threadsFromEnv(): number | null {
  const value = nodeProcess()?.env?.DISSECT_THREADS;
  if (value === undefined || value === '') return null;
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new ArgumentError(`DISSECT_THREADS='${value}': expected a positive integer`);
  }
  return threads;
}

/** The kernels' bytes from the .wasm file next to this module. */
export function readKernelsSync(url: URL): Uint8Array {
  const fs = builtin<NodeFs>('node:fs');
  const { fileURLToPath } = builtin<NodeUrl>('node:url');
  const path = fileURLToPath(url);
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw new BackendError(`cannot read the wasm kernels at ${path}: ${(err as Error).message} (run npm run build)`);
  }
}

export const nodePlatform: WasmPlatform = {
  defaultThreads(): number {
    const os = builtin<NodeOs>('node:os');
    return threadsFromEnv() ?? Math.min(os.availableParallelism(), MAX_THREADS);
  },
  canBlock(): boolean {
    return true;
  },
  startWorker(init: WorkerInit): WorkerHandle {
    const { Worker } = builtin<NodeWorkerThreads>('node:worker_threads');
    // Workers inherit the parent's execArgv, where --input-type (node -e / stdin scripts) would
    // stop a file-based worker from starting.
    const execArgv = (nodeProcess() as { execArgv?: string[] }).execArgv?.filter((arg) => !arg.startsWith('--input-type'));
    const worker = new Worker(new URL('./worker-node.js', import.meta.url), { workerData: init, execArgv });
    // A worker parked in Atomics.wait must not keep the process alive.
    worker.unref();
    // A worker that fails to start never reports ready, and the first parallel call says so
    // (ThreadPool.waitUntilReady); without a listener the 'error' event would crash the process.
    let failure: string | null = null;
    worker.on('error', (err: Error) => (failure = err.message));
    return { terminate: () => void worker.terminate(), failure: () => failure };
  },
};
