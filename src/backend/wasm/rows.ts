// The TS half of the row kernels (softmax, layer norm, RMS norm, reductions): float32 wasm
// storages go to csrc/wasm/rows.c, everything else returns false for the reference code.

import type { AxisLayout, CausalMask, ReduceOp, Storage } from '../types.js';
import { REDUCE_CODES } from './abi.js';
import { float32Storage } from './layout.js';
import type { Heap } from './heap.js';
import type { ThreadPool } from './thread-pool.js';

/** Row kernels do ~10-30 flops per element (exp, two passes): split above this many per thread. */
const ELEMENTS_PER_THREAD = 8192;

/** Byte pointer of an optional float32 storage: 0 (NULL) when absent, -1 when not a float32 one. */
function optionalPointer(heap: Heap, storage: Storage | null): number {
  if (!storage) return 0;
  return float32Storage(heap, storage)?.byteOffset ?? -1;
}

export function runSoftmax(pool: ThreadPool, x: Storage, rows: number, n: number, log: boolean,
  causal: CausalMask | null, out: Storage): boolean {
  const xs = float32Storage(pool.heap, x);
  const outs = float32Storage(pool.heap, out);
  if (!xs || !outs) return false;
  pool.run('softmax', pool.threadsFor(rows * n, ELEMENTS_PER_THREAD),
    [xs.byteOffset, rows, n, log ? 1 : 0, causal?.queryLen ?? 0, causal?.offset ?? 0, outs.byteOffset]);
  return true;
}

export function runLayerNorm(pool: ThreadPool, x: Storage, rows: number, d: number, weight: Storage | null,
  bias: Storage | null, eps: number, out: Storage, mean: Storage | null, rstd: Storage | null): boolean {
  const xs = float32Storage(pool.heap, x);
  const outs = float32Storage(pool.heap, out);
  const pointers = [weight, bias, mean, rstd].map((s) => optionalPointer(pool.heap, s));
  if (!xs || !outs || pointers.includes(-1)) return false;
  const [weightPointer, biasPointer, meanPointer, rstdPointer] = pointers;
  pool.run('layer_norm', pool.threadsFor(rows * d, ELEMENTS_PER_THREAD),
    [xs.byteOffset, rows, d, weightPointer, biasPointer, eps, outs.byteOffset, meanPointer, rstdPointer]);
  return true;
}

export function runRmsNorm(pool: ThreadPool, x: Storage, rows: number, d: number, weight: Storage | null,
  weightOffset: number, eps: number, out: Storage, rstd: Storage | null): boolean {
  const xs = float32Storage(pool.heap, x);
  const outs = float32Storage(pool.heap, out);
  const [weightPointer, rstdPointer] = [weight, rstd].map((s) => optionalPointer(pool.heap, s));
  if (!xs || !outs || weightPointer === -1 || rstdPointer === -1) return false;
  pool.run('rms_norm', pool.threadsFor(rows * d, ELEMENTS_PER_THREAD),
    [xs.byteOffset, rows, d, weightPointer, weightOffset, eps, outs.byteOffset, rstdPointer]);
  return true;
}

export function runReduce(pool: ThreadPool, op: ReduceOp, x: Storage, layout: AxisLayout, out: Storage): boolean {
  const xs = float32Storage(pool.heap, x);
  const outs = float32Storage(pool.heap, out);
  if (!xs || !outs || layout.n === 0 || !(op in REDUCE_CODES)) return false;
  const { outer, n, inner } = layout;
  pool.run('reduce_axis', pool.threadsFor(outer * n * inner, 4 * ELEMENTS_PER_THREAD),
    [REDUCE_CODES[op as keyof typeof REDUCE_CODES], xs.byteOffset, outer, n, inner, outs.byteOffset]);
  return true;
}
