// Compiling the kernels and creating the memory they run on.
//
// kernels.wasm imports a *shared* memory (it is linked with --shared-memory). Where
// SharedArrayBuffer is unavailable (a page that is not cross-origin isolated) we flip the
// import's "shared" flag in the binary and run single-threaded on an ordinary memory: the kernels
// use no atomic instructions, so the same code is valid on both.

import { BackendError } from '../../util/errors.js';
import { wasmApi, type WasmMemory, type WasmModule } from './wasm-api.js';

const MAX_PAGES = 65536; // 4 GiB, the wasm32 limit
const INITIAL_PAGES = 32; // 2 MiB: the linker's stack and a first stretch of heap
const IMPORT_SECTION = 2;
const MEMORY_IMPORT = 2;
const LIMITS_SHARED_WITH_MAX = 0x03;
const LIMITS_WITH_MAX = 0x01;

/** Reads an unsigned LEB128 at `pos`; returns [value, position after it]. */
function readLeb(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [value, pos];
  }
}

/** A copy of the module bytes whose memory import is not shared. */
export function withUnsharedMemory(bytes: Uint8Array): Uint8Array {
  const patched = bytes.slice();
  let pos = 8; // magic + version
  while (pos < patched.length) {
    const id = patched[pos];
    const [size, contentStart] = readLeb(patched, pos + 1);
    if (id === IMPORT_SECTION) {
      let [count, p] = readLeb(patched, contentStart);
      for (; count > 0; count--) {
        let length: number;
        [length, p] = readLeb(patched, p); // module name
        p += length;
        [length, p] = readLeb(patched, p); // field name
        p += length;
        const kind = patched[p++];
        if (kind === MEMORY_IMPORT) {
          if (patched[p] !== LIMITS_SHARED_WITH_MAX) break;
          patched[p] = LIMITS_WITH_MAX;
          return patched;
        }
        throw new BackendError(`kernels.wasm: unexpected import of kind ${kind} (expected only the memory)`);
      }
    }
    pos = contentStart + size;
  }
  throw new BackendError('kernels.wasm: no shared memory import found to patch');
}

/** Compiled kernels plus a fresh memory for one backend instance. */
export interface KernelModule {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly shared: boolean;
}

function createMemory(shared: boolean): WasmMemory {
  try {
    return new wasmApi.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared });
  } catch (err) {
    // A 32-bit browser cannot reserve 4 GiB of address space for a shared memory; 1 GiB it can.
    if (!shared) throw err;
    return new wasmApi.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES / 4, shared });
  }
}

/**
 * Compiled modules by source bytes and sharedness. Reusing one keeps V8's optimised (tiered-up)
 * code across backend instances instead of starting each new backend in the baseline compiler.
 */
const compiled = new WeakMap<Uint8Array, Map<boolean, WasmModule>>();

function cachedModule(bytes: Uint8Array, shared: boolean): WasmModule | undefined {
  return compiled.get(bytes)?.get(shared);
}

function remember(bytes: Uint8Array, shared: boolean, module: WasmModule): WasmModule {
  let byShared = compiled.get(bytes);
  if (!byShared) compiled.set(bytes, (byShared = new Map()));
  byShared.set(shared, module);
  return module;
}

/** Compiles synchronously (Node, or a browser worker). */
export function compileKernelsSync(bytes: Uint8Array, shared: boolean): KernelModule {
  const module = cachedModule(bytes, shared) ??
    remember(bytes, shared, new wasmApi.Module(shared ? bytes : withUnsharedMemory(bytes)));
  return { module, memory: createMemory(shared), shared };
}

export async function compileKernels(bytes: Uint8Array, shared: boolean): Promise<KernelModule> {
  const module = cachedModule(bytes, shared) ??
    remember(bytes, shared, await wasmApi.compile(shared ? bytes : withUnsharedMemory(bytes)));
  return { module, memory: createMemory(shared), shared };
}
