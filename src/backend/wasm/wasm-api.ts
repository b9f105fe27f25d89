// The slice of the WebAssembly JS API this backend uses, typed here because TypeScript declares
// WebAssembly only in its DOM and WebWorker libs, which Node code must not pull in. Every host we
// run on (Node, browsers, their workers) has the global; we just give it types.

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}

/** Opaque compiled module: cloneable to workers with postMessage / workerData. */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmGlobal {
  value: number;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  compile(bytes: Uint8Array): Promise<WasmModule>;
}

export const wasmApi: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** An instance of the kernels on `memory`. */
export function instantiate(module: WasmModule, memory: WasmMemory): WasmInstance {
  return new wasmApi.Instance(module, { env: { memory } });
}
