// The wasm backend's public face. Importing this module registers it: in Node the factory loads
// kernels.wasm synchronously from beside this file. In a browser (inside a Web Worker) call
// `await initWasmBackend(url)` first; it compiles the kernels, starts the workers, waits for them
// and registers the ready backend.

import { BackendError } from '../../util/errors.js';
import { registerBackend } from '../registry.js';
import { WasmBackend, type WasmBackendOptions } from './backend.js';
import { compileKernels, compileKernelsSync } from './module.js';
import { browserPlatform } from './platform-browser.js';
import { isNode, nodePlatform, readKernelsSync } from './platform-node.js';
import { sharedMemoryAvailable } from './platform.js';

/** Where the kernels live after a build (scripts/copy-assets.mjs puts it next to this module). */
export const KERNELS_URL = new URL('./kernels.wasm', import.meta.url);

let nodeKernelBytes: Uint8Array | null = null;

/** A new wasm backend, created synchronously (Node). Each instance has its own memory and threads. */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend {
  if (!isNode()) {
    throw new BackendError('the wasm backend must be started with `await initWasmBackend(url)` outside Node');
  }
  nodeKernelBytes ??= readKernelsSync(KERNELS_URL);
  return new WasmBackend(compileKernelsSync(nodeKernelBytes, sharedMemoryAvailable()), nodePlatform, options);
}

/**
 * Starts the wasm backend from the kernels' bytes or URL (any host; the browser path), waits for
 * its worker threads, and registers it as the 'wasm' backend.
 */
export async function initWasmBackend(source: URL | string | Uint8Array = KERNELS_URL,
  options: WasmBackendOptions = {}): Promise<WasmBackend> {
  let bytes: Uint8Array;
  if (source instanceof Uint8Array) {
    bytes = source;
  } else if (isNode()) {
    bytes = readKernelsSync(new URL(source));
  } else {
    const response = await fetch(source);
    if (!response.ok) throw new BackendError(`cannot fetch the wasm kernels from ${source}: HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  }
  const kernels = await compileKernels(bytes, sharedMemoryAvailable());
  const backend = new WasmBackend(kernels, isNode() ? nodePlatform : browserPlatform, options);
  await backend.whenReady();
  registerBackend('wasm', () => backend);
  return backend;
}

registerBackend('wasm', (options) => createWasmBackend(options));

export { WasmBackend, type WasmBackendOptions } from './backend.js';
export type { HeapStats } from './heap.js';
