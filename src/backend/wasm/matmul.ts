// The TS half of the GEMM (csrc/wasm/gemm.c, gemv.c): float32 operands go to the kernel, which
// handles plain and transposed layouts, any leading dimension and batch stride 0 itself.

import type { MatrixView, Storage } from '../types.js';
import { float32Storage } from './layout.js';
import type { ThreadPool } from './thread-pool.js';

/**
 * Flops per thread below which splitting does not pay: ~25 µs of work on one core, against ~1 µs
 * to hand a call to a spinning worker (and ~30 µs to one asleep in Atomics.wait).
 */
const FLOPS_PER_THREAD = 1 << 20;

export class MatmulRunner {
  private scratchPointer = 0;
  private readonly scratchFloats: number;

  constructor(private readonly pool: ThreadPool, scratchFloatsPerThread: number) {
    this.scratchFloats = scratchFloatsPerThread;
  }

  run(a: MatrixView, b: MatrixView, batch: number, m: number, k: number, n: number, out: Storage,
    accumulate: boolean): boolean {
    const as = float32Storage(this.pool.heap, a.storage);
    const bs = float32Storage(this.pool.heap, b.storage);
    const outs = float32Storage(this.pool.heap, out);
    if (!as || !bs || !outs) return false;
    const flops = 2 * batch * m * n * k;
    const nthreads = this.pool.threadsFor(flops, FLOPS_PER_THREAD);
    this.pool.run('matmul', nthreads, [
      as.byteOffset + 4 * a.offset, a.batchStride, a.rowStride, a.colStride,
      bs.byteOffset + 4 * b.offset, b.batchStride, b.rowStride, b.colStride,
      outs.byteOffset, batch, m, k, n, accumulate ? 1 : 0, this.scratch(), this.scratchFloats,
    ]);
    return true;
  }

  /** Packing buffers for every thread, allocated on first use (about 1 MiB per thread). */
  private scratch(): number {
    if (this.scratchPointer === 0) {
      this.scratchPointer = this.pool.allocInternal(4 * this.scratchFloats * this.pool.threads).byteOffset;
    }
    return this.scratchPointer;
  }
}
