// Test helpers for the wasm backend: backends with 1, 2 and 3 threads (the last two split every
// call, however small, so the thread-split code runs on test-sized inputs), and copies of plain
// test storages into wasm memory so one random input feeds both the wasm kernel and the ref oracle.

import type { Backend, MatrixView, Storage, View } from '../../src/backend/types.js';
import { createWasmBackend, type WasmBackend } from '../../src/backend/wasm/index.js';

export interface LabelledBackend {
  label: string;
  backend: WasmBackend;
}

/** Single-threaded, 2 threads, and 3 threads (uneven splits; no spinning, as 3 > cores here). */
export function wasmBackends(): LabelledBackend[] {
  return [
    { label: '1 thread', backend: createWasmBackend({ threads: 1 }) },
    { label: '2 threads', backend: createWasmBackend({ threads: 2, splitAlways: true }) },
    { label: '3 threads', backend: createWasmBackend({ threads: 3, splitAlways: true, spin: 0 }) },
  ];
}

export function disposeAll(backends: readonly LabelledBackend[]): void {
  for (const { backend } of backends) backend.dispose();
}

/** A storage of `backend` holding the same values. */
export function copyTo(backend: Backend, storage: Storage): Storage {
  const copy = backend.alloc(storage.dtype, storage.length);
  copy.data.set(storage.data);
  return copy;
}

export function viewOn(backend: Backend, view: View): View {
  return { ...view, storage: copyTo(backend, view.storage) };
}

export function matrixOn(backend: Backend, view: MatrixView): MatrixView {
  return { ...view, storage: copyTo(backend, view.storage) };
}
