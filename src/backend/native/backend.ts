// The native backend: float32 kernels in the N-API addon (AVX2/FMA, a persistent thread pool),
// everything else (int32 data, unusual strides, rarely hot kernels) delegated to the ref kernels
// on the same typed arrays.

import { availableParallelism } from 'node:os';
import { ArgumentError, UseAfterFreeError } from '../../util/errors.js';
import { refKernels } from '../ref/kernels.js';
import {
  BINARY_OPS, UNARY_OPS, type AxisLayout, type Backend, type BinaryOp, type CausalMask, type DType,
  type MatrixView, type ReduceOp, type Storage, type UnaryOp, type View,
} from '../types.js';
import { loadAddon, type NativeAddon, type NativePool } from './addon.js';
import { binaryPlan, isDense } from './layouts.js';
import { StoragePool } from './storage.js';

export interface NativeBackendOptions {
  /** Threads for the kernels, the calling thread included. Default: DISSECT_THREADS, else min(cores, 8). */
  threads?: number;
  /** Bytes of freed buffers kept for reuse. */
  poolCapBytes?: number;
}

const MAX_DEFAULT_THREADS = 8;

function resolveThreads(requested: number | undefined): number {
  const fromEnv = process.env.DISSECT_THREADS;
  const threads = requested ?? (fromEnv ? Number(fromEnv) : Math.min(availableParallelism(), MAX_DEFAULT_THREADS));
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    const source = requested !== undefined ? 'threads option' : `DISSECT_THREADS='${fromEnv}'`;
    throw new ArgumentError(`${source}: expected an integer from 1 to 256, got ${threads}`);
  }
  return threads;
}

/** Op name → index in the addon's enums (the order of UNARY_OPS / BINARY_OPS). */
function indexOf<T extends string>(names: readonly T[]): Record<T, number> {
  return Object.fromEntries(names.map((name, i) => [name, i])) as Record<T, number>;
}
const UNARY_INDEX = indexOf(UNARY_OPS);
const BINARY_INDEX = indexOf(BINARY_OPS);
const REDUCE_INDEX: Partial<Record<ReduceOp, number>> = { sum: 0, max: 1, min: 2 };

function isFloat32(storage: Storage): boolean {
  return storage.dtype === 'float32';
}

/** Float32 data of a storage already known to be float32. */
function f32(storage: Storage): Float32Array {
  return storage.data as Float32Array;
}

/** The addon reads matrices whose rows or columns are contiguous, from float32 storage. */
function nativeMatrix(view: MatrixView): boolean {
  return isFloat32(view.storage) && (view.rowStride === 1 || view.colStride === 1);
}

export class NativeBackend implements Backend {
  readonly name = 'native' as const;
  readonly threads: number;

  readonly copy = refKernels.copy;
  readonly fill = refKernels.fill;
  readonly where = refKernels.where;
  readonly cumsum = refKernels.cumsum;
  readonly topk = refKernels.topk;
  readonly rotary = refKernels.rotary;
  readonly indexSelect = refKernels.indexSelect;
  readonly indexAdd = refKernels.indexAdd;

  private readonly addon: NativeAddon;
  private readonly storages: StoragePool;
  private nativePool: NativePool | null;

  /** Throws BackendError when the addon is missing or the CPU lacks AVX2/FMA. */
  constructor(options: NativeBackendOptions = {}) {
    this.threads = resolveThreads(options.threads);
    this.addon = loadAddon();
    this.storages = new StoragePool(options.poolCapBytes);
    this.nativePool = this.addon.createPool(this.threads);
  }

  private get pool(): NativePool {
    if (!this.nativePool) throw new UseAfterFreeError('the native backend was used after dispose()');
    return this.nativePool;
  }

  // ---- memory ----
  alloc(dtype: DType, length: number): Storage {
    if (!this.nativePool) throw new UseAfterFreeError('the native backend was used after dispose()');
    return this.storages.alloc(dtype, length);
  }

  free(storage: Storage): void {
    this.storages.free(storage);
  }

  liveBuffers(): number {
    return this.storages.liveBuffers();
  }

  liveBytes(): number {
    return this.storages.liveBytes();
  }

  dispose(): void {
    if (this.nativePool) this.addon.destroyPool(this.nativePool);
    this.nativePool = null;
    this.storages.clear();
  }

  // ---- elementwise ----
  unary(op: UnaryOp, x: View, out: Storage): void {
    if (isFloat32(x.storage) && isFloat32(out) && isDense(x)) {
      this.addon.unary(this.pool, UNARY_INDEX[op], f32(x.storage), x.offset, out.length, f32(out));
    } else {
      refKernels.unary(op, x, out);
    }
  }

  binary(op: BinaryOp, a: View, b: View, out: Storage): void {
    const plan = isFloat32(a.storage) && isFloat32(b.storage) && isFloat32(out) ? binaryPlan(a, b) : null;
    if (plan) {
      this.addon.binary(this.pool, BINARY_INDEX[op], f32(a.storage), a.offset, plan.aMode, f32(b.storage), b.offset,
        plan.bMode, plan.rows, plan.n, f32(out));
    } else {
      refKernels.binary(op, a, b, out);
    }
  }

  binaryScalar(op: BinaryOp, x: View, scalar: number, scalarOnLeft: boolean, out: Storage): void {
    if (isFloat32(x.storage) && isFloat32(out) && isDense(x)) {
      this.addon.binaryScalar(this.pool, BINARY_INDEX[op], f32(x.storage), x.offset, scalar, scalarOnLeft, out.length,
        f32(out));
    } else {
      refKernels.binaryScalar(op, x, scalar, scalarOnLeft, out);
    }
  }

  // ---- reductions ----
  reduce(op: ReduceOp, x: Storage, layout: AxisLayout, out: Storage): void {
    const index = REDUCE_INDEX[op];
    if (index !== undefined && isFloat32(x) && isFloat32(out) && layout.n > 0) {
      this.addon.reduce(this.pool, index, f32(x), layout.outer, layout.n, layout.inner, f32(out));
    } else {
      refKernels.reduce(op, x, layout, out);
    }
  }

  // ---- fused neural-net primitives ----
  softmax(x: Storage, rows: number, n: number, log: boolean, causal: CausalMask | null, out: Storage): void {
    if (isFloat32(x) && isFloat32(out)) {
      this.addon.softmax(this.pool, f32(x), rows, n, log, causal ? causal.queryLen : 0, causal ? causal.offset : 0,
        f32(out));
    } else {
      refKernels.softmax(x, rows, n, log, causal, out);
    }
  }

  layerNorm(x: Storage, rows: number, d: number, weight: Storage | null, bias: Storage | null, eps: number,
    out: Storage, mean: Storage | null, rstd: Storage | null): void {
    const all = [x, weight, bias, out, mean, rstd];
    if (all.every((s) => s === null || isFloat32(s))) {
      this.addon.layerNorm(this.pool, f32(x), rows, d, weight && f32(weight), bias && f32(bias), eps, f32(out),
        mean && f32(mean), rstd && f32(rstd));
    } else {
      refKernels.layerNorm(x, rows, d, weight, bias, eps, out, mean, rstd);
    }
  }

  rmsNorm(x: Storage, rows: number, d: number, weight: Storage | null, weightOffset: number, eps: number,
    out: Storage, rstd: Storage | null): void {
    const all = [x, weight, out, rstd];
    if (all.every((s) => s === null || isFloat32(s))) {
      this.addon.rmsNorm(this.pool, f32(x), rows, d, weight && f32(weight), weightOffset, eps, f32(out),
        rstd && f32(rstd));
    } else {
      refKernels.rmsNorm(x, rows, d, weight, weightOffset, eps, out, rstd);
    }
  }

  // ---- linear algebra ----
  matmul(a: MatrixView, b: MatrixView, batch: number, m: number, k: number, n: number, out: Storage,
    accumulate: boolean): void {
    if (nativeMatrix(a) && nativeMatrix(b) && isFloat32(out)) {
      this.addon.matmul(this.pool, f32(a.storage), a.offset, a.batchStride, a.rowStride, a.colStride,
        f32(b.storage), b.offset, b.batchStride, b.rowStride, b.colStride, batch, m, k, n, f32(out), accumulate);
    } else {
      refKernels.matmul(a, b, batch, m, k, n, out, accumulate);
    }
  }
}
