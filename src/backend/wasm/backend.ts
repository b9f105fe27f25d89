// The wasm backend: storages live in one WebAssembly.Memory (shared with the worker threads), and
// float32 kernels with a SIMD128 implementation run in C (csrc/wasm). Everything else — other
// dtypes, layouts the kernels do not take, and the kernels we have not accelerated (where, cumsum,
// topk, rotary, indexing) — runs the reference TS code on the same typed-array views, which is
// correct for any Storage.

import { ArgumentError, UseAfterFreeError } from '../../util/errors.js';
import { refKernels } from '../ref/kernels.js';
import type {
  AxisLayout, Backend, BinaryOp, CausalMask, DType, MatrixView, ReduceOp, Storage, UnaryOp, View,
} from '../types.js';
import { MAX_POOL_THREADS, type KernelExports } from './abi.js';
import { runBinary, runBinaryScalar, runUnary } from './elementwise.js';
import { Heap, WasmStorage, type HeapStats } from './heap.js';
import { MatmulRunner } from './matmul.js';
import type { KernelModule } from './module.js';
import type { WasmPlatform } from './platform.js';
import { runLayerNorm, runReduce, runRmsNorm, runSoftmax } from './rows.js';
import { ThreadPool } from './thread-pool.js';
import { instantiate } from './wasm-api.js';

export interface WasmBackendOptions {
  /** Threads including the caller's; default platform.defaultThreads(). 1 starts no workers. */
  threads?: number;
  /** Spin iterations of idle workers before they sleep (see ThreadPool). */
  spin?: number;
  /** Split every kernel call across all threads, however small: for tests of the split logic. */
  splitAlways?: boolean;
}

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly threads: number;

  readonly copy = refKernels.copy;
  readonly fill = refKernels.fill;
  readonly where = refKernels.where;
  readonly cumsum = refKernels.cumsum;
  readonly topk = refKernels.topk;
  readonly rotary = refKernels.rotary;
  readonly indexSelect = refKernels.indexSelect;
  readonly indexAdd = refKernels.indexAdd;

  private readonly heap: Heap;
  private readonly pool: ThreadPool;
  private readonly matmuls: MatmulRunner;
  private readonly scalarSlot: WasmStorage;
  private disposed = false;

  /** `kernels` must be compiled for shared memory to use more than one thread (see module.ts). */
  constructor(kernels: KernelModule, platform: WasmPlatform, options: WasmBackendOptions = {}) {
    const instance = instantiate(kernels.module, kernels.memory);
    const exports = instance.exports as unknown as KernelExports;
    const wanted = options.threads ?? platform.defaultThreads();
    if (!Number.isInteger(wanted) || wanted < 1 || wanted > MAX_POOL_THREADS) {
      throw new ArgumentError(`wasm backend threads ${wanted}: expected an integer from 1 to ${MAX_POOL_THREADS}`);
    }
    this.threads = kernels.shared && platform.canBlock() ? wanted : 1;
    this.heap = new Heap(kernels.memory, exports.__heap_base.value as number);
    this.pool = new ThreadPool(instance, kernels.module, this.heap, platform, this.threads, options.spin,
      options.splitAlways);
    this.matmuls = new MatmulRunner(this.pool, exports.matmul_scratch_floats());
    this.scalarSlot = this.pool.allocInternal(4);
  }

  /** Resolves when every worker thread is up (browsers must await this before the first call). */
  whenReady(): Promise<void> {
    return this.pool.whenReady();
  }

  // ---- memory ----

  alloc(dtype: DType, length: number): Storage {
    this.checkLive();
    return this.heap.alloc(dtype, length);
  }

  free(storage: Storage): void {
    this.heap.free(storage);
  }

  liveBuffers(): number {
    return this.heap.stats().liveBuffers;
  }

  liveBytes(): number {
    return this.heap.stats().liveBytes;
  }

  /** Allocator state, for tests and memory reports. */
  heapStats(): HeapStats {
    return this.heap.stats();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.dispose();
  }

  // ---- kernels: the SIMD path where it applies, else the reference code ----

  unary(op: UnaryOp, x: View, out: Storage): void {
    if (!runUnary(this.pool, op, x, out)) refKernels.unary(op, x, out);
  }

  binary(op: BinaryOp, a: View, b: View, out: Storage): void {
    if (!runBinary(this.pool, op, a, b, out)) refKernels.binary(op, a, b, out);
  }

  binaryScalar(op: BinaryOp, x: View, scalar: number, scalarOnLeft: boolean, out: Storage): void {
    if (!runBinaryScalar(this.pool, this.scalarSlot, op, x, scalar, scalarOnLeft, out)) {
      refKernels.binaryScalar(op, x, scalar, scalarOnLeft, out);
    }
  }

  reduce(op: ReduceOp, x: Storage, layout: AxisLayout, out: Storage): void {
    if (!runReduce(this.pool, op, x, layout, out)) refKernels.reduce(op, x, layout, out);
  }

  softmax(x: Storage, rows: number, n: number, log: boolean, causal: CausalMask | null, out: Storage): void {
    if (!runSoftmax(this.pool, x, rows, n, log, causal, out)) refKernels.softmax(x, rows, n, log, causal, out);
  }

  layerNorm(x: Storage, rows: number, d: number, weight: Storage | null, bias: Storage | null, eps: number,
    out: Storage, mean: Storage | null, rstd: Storage | null): void {
    if (!runLayerNorm(this.pool, x, rows, d, weight, bias, eps, out, mean, rstd)) {
      refKernels.layerNorm(x, rows, d, weight, bias, eps, out, mean, rstd);
    }
  }

  rmsNorm(x: Storage, rows: number, d: number, weight: Storage | null, weightOffset: number, eps: number,
    out: Storage, rstd: Storage | null): void {
    if (!runRmsNorm(this.pool, x, rows, d, weight, weightOffset, eps, out, rstd)) {
      refKernels.rmsNorm(x, rows, d, weight, weightOffset, eps, out, rstd);
    }
  }

  matmul(a: MatrixView, b: MatrixView, batch: number, m: number, k: number, n: number, out: Storage,
    accumulate: boolean): void {
    if (!this.matmuls.run(a, b, batch, m, k, n, out, accumulate)) {
      refKernels.matmul(a, b, batch, m, k, n, out, accumulate);
    }
  }

  private checkLive(): void {
    if (this.disposed) throw new UseAfterFreeError('the wasm backend was used after dispose()');
  }
}
