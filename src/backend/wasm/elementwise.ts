// The TS half of the elementwise kernels: decide whether a call fits the SIMD kernels
// (float32, a [rows, cols] layout, an op with a kernel) and marshal it. Each function returns
// false when it did not run, and the backend then runs the reference code.

import type { BinaryOp, Storage, UnaryOp, View } from '../types.js';
import { BINARY_CODES, UNARY_CODES } from './abi.js';
import type { WasmStorage } from './heap.js';
import { float32Storage, rowLayout } from './layout.js';
import type { ThreadPool } from './thread-pool.js';

/**
 * Elements per thread below which extra threads cost more than they save (waking a worker is
 * ~1 µs when it is spinning; a cheap op streams ~1-2 elements per ns).
 */
const CHEAP_ELEMENTS_PER_THREAD = 32768;
/** Transcendental ops cost ~10x more per element. */
const COSTLY_ELEMENTS_PER_THREAD = 4096;
const CHEAP_UNARY: ReadonlySet<UnaryOp> = new Set(['neg', 'abs', 'sign', 'square', 'relu', 'step']);

const COMPARISONS: ReadonlySet<BinaryOp> = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

export function runUnary(pool: ThreadPool, op: UnaryOp, x: View, out: Storage): boolean {
  const code = UNARY_CODES[op];
  const outStorage = float32Storage(pool.heap, out);
  if (code === undefined || !outStorage) return false;
  const layout = rowLayout(pool.heap, x.shape, [x]);
  if (!layout || layout.slices.some((s) => s.operands[0].colStride !== 1)) return false;
  const { rows, cols } = layout;
  const perThread = CHEAP_UNARY.has(op) ? CHEAP_ELEMENTS_PER_THREAD : COSTLY_ELEMENTS_PER_THREAD;
  const nthreads = pool.threadsFor(rows * cols, perThread);
  for (const { operands: [xs], outOffset } of layout.slices) {
    pool.run('unary', nthreads, [code, rows, cols, xs.pointer, xs.rowStride, outStorage.byteOffset + 4 * outOffset]);
  }
  return true;
}

export function runBinary(pool: ThreadPool, op: BinaryOp, a: View, b: View, out: Storage): boolean {
  const code = BINARY_CODES[op];
  const outStorage = float32Storage(pool.heap, out);
  if (code === undefined || !outStorage) return false;
  const layout = rowLayout(pool.heap, a.shape, [a, b]);
  if (!layout) return false;
  const { rows, cols } = layout;
  const nthreads = pool.threadsFor(rows * cols, CHEAP_ELEMENTS_PER_THREAD);
  for (const { operands: [as, bs], outOffset } of layout.slices) {
    pool.run('binary', nthreads, [code, rows, cols, as.pointer, as.rowStride, as.colStride,
      bs.pointer, bs.rowStride, bs.colStride, outStorage.byteOffset + 4 * outOffset]);
  }
  return true;
}

/**
 * x op scalar through the binary kernel: the scalar goes into a one-element slot of wasm memory
 * that the kernel reads as a fully broadcast operand.
 */
export function runBinaryScalar(pool: ThreadPool, scalarSlot: WasmStorage, op: BinaryOp, x: View, scalar: number,
  scalarOnLeft: boolean, out: Storage): boolean {
  const usable = float32Storage(pool.heap, out) && float32Storage(pool.heap, x.storage);
  if (BINARY_CODES[op] === undefined || !usable) return false;
  // The kernel sees float32(scalar); a comparison with a scalar that float32 cannot hold exactly
  // would then differ from the reference (x == 0.1 is false for every float32 x).
  if (COMPARISONS.has(op) && Math.fround(scalar) !== scalar && !Number.isNaN(scalar)) return false;
  scalarSlot.data[0] = scalar;
  const scalarView: View = { storage: scalarSlot, offset: 0, shape: x.shape, strides: x.shape.map(() => 0) };
  return scalarOnLeft ? runBinary(pool, op, scalarView, x, out) : runBinary(pool, op, x, scalarView, out);
}
