// The contract between the TS side and csrc/wasm: exported kernel names, op codes, and the layout
// of the control block through which the calling thread hands a kernel call to the workers.
// Op code order must match the enums in csrc/wasm/elementwise.c and rows.c.

import type { BinaryOp, UnaryOp } from '../types.js';
import type { WasmGlobal, WasmMemory, WasmModule } from './wasm-api.js';

/** Every kernel export takes (tid, nthreads, ...args); worker threads call them by this index. */
export const KERNEL_NAMES = ['matmul', 'binary', 'unary', 'softmax', 'layer_norm', 'rms_norm', 'reduce_axis'] as const;
export type KernelName = (typeof KERNEL_NAMES)[number];

/** Longest argument list after (tid, nthreads); the control block has this many slots. */
export const MAX_KERNEL_ARGS = 20;

export type KernelFunction = (tid: number, nthreads: number, ...args: number[]) => void;

export interface KernelExports {
  readonly __stack_pointer: WasmGlobal;
  readonly __heap_base: WasmGlobal;
  readonly matmul_scratch_floats: () => number;
}

export const BINARY_CODES: Partial<Record<BinaryOp, number>> = {
  add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, eq: 6, ne: 7, lt: 8, le: 9, gt: 10, ge: 11,
};

/** Unary ops with a SIMD kernel; the others (sin, cos) run in the TS reference code. */
export const UNARY_CODES: Partial<Record<UnaryOp, number>> = {
  neg: 0, abs: 1, sign: 2, square: 3, sqrt: 4, rsqrt: 5, reciprocal: 6, exp: 7, log: 8, tanh: 9, erf: 10,
  sigmoid: 11, relu: 12, silu: 13, gelu_erf: 14, gelu_tanh: 15, step: 16, silu_grad: 17, gelu_erf_grad: 18,
  gelu_tanh_grad: 19,
};

export const REDUCE_CODES = { sum: 0, max: 1, min: 2 } as const;

/**
 * Control block: Int32 slots, then MAX_KERNEL_ARGS float64 argument slots at ARGS_BYTE_OFFSET.
 * The caller publishes a call by storing a new CALL word (workers wait on it) and waits on PENDING
 * (workers count it down). The CALL word packs a call counter with the call's thread count
 * (callWord below), so a worker reads both in one atomic load: read separately, a worker woken
 * late could pair one call's counter with the next call's thread count.
 */
export const CONTROL = {
  CALL: 0,
  PENDING: 1,
  KERNEL: 2,
  STOP: 4,
  READY: 5,
  /** Set by a worker whose kernel call threw (a trap): the caller reports it. */
  ERROR: 6,
  ARGS_BYTE_OFFSET: 64,
  BYTES: 64 + 8 * MAX_KERNEL_ARGS,
} as const;

const THREAD_BITS = 4;
/** Most threads a pool can have: the thread count must fit in the CALL word's low bits. */
export const MAX_POOL_THREADS = (1 << THREAD_BITS) - 1;

/** The CALL word of call number `counter` on `nthreads` threads (nthreads < 16). */
export function callWord(counter: number, nthreads: number): number {
  return ((counter & 0x7ffffff) << THREAD_BITS) | nthreads;
}

export function callThreads(word: number): number {
  return word & ((1 << THREAD_BITS) - 1);
}

/** What a worker needs to join: posted once at start (structured-cloneable in Node and browsers). */
export interface WorkerInit {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  readonly tid: number;
  /** Byte offset of the control block. */
  readonly control: number;
  /** Top of this worker's own stack region (stacks grow down). */
  readonly stackTop: number;
  /** The CALL word when the worker was created: the first call it must answer is the next one. */
  readonly callWord: number;
  /** Spin iterations on CALL after a call before sleeping in Atomics.wait. */
  readonly spin: number;
}
