// Runs kernel calls on N threads: the calling thread is thread 0 and N-1 workers each run their
// own instance of the kernels on the same shared memory. A call is published through a control
// block in that memory (kernel index + arguments), the workers are woken with Atomics.notify,
// everyone computes its share, and the caller waits with Atomics.wait until the count of
// unfinished workers reaches zero. No messages, no promises: a call is synchronous.

import { BackendError } from '../../util/errors.js';
import {
  CONTROL, KERNEL_NAMES, MAX_KERNEL_ARGS, callWord, type KernelFunction, type KernelName, type WorkerInit,
} from './abi.js';
import type { Heap, WasmStorage } from './heap.js';
import type { WasmPlatform, WorkerHandle } from './platform.js';
import type { WasmInstance, WasmModule } from './wasm-api.js';

const STACK_BYTES = 65536;
/**
 * Spin iterations before sleeping in Atomics.wait, for idle workers and for the caller waiting on
 * them. An Atomics.load loop runs ~7 ns per iteration in V8, so this is ~150 µs: it bridges the
 * gaps between the kernel calls of a forward pass (waking from Atomics.wait costs 20-30 µs)
 * without burning a core for long after the last call.
 */
export const DEFAULT_SPIN = 20_000;

export class ThreadPool {
  private readonly kernels: Record<KernelName, KernelFunction>;
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  private readonly workers: WorkerHandle[] = [];
  private readonly internal: WasmStorage[] = [];
  private ready = false;
  private calls = 0;

  constructor(
    instance: WasmInstance,
    module: WasmModule,
    readonly heap: Heap,
    platform: WasmPlatform,
    /** Total threads, the caller included. */
    readonly threads: number,
    spin = DEFAULT_SPIN,
    /** Split every call across all threads, however small (tests of the split logic). */
    private readonly splitAlways = false,
  ) {
    const exports = instance.exports as Record<string, KernelFunction>;
    this.kernels = Object.fromEntries(KERNEL_NAMES.map((name) => [name, exports[name]])) as Record<KernelName, KernelFunction>;
    const block = this.allocInternal(CONTROL.BYTES);
    this.control = new Int32Array(heap.memory.buffer, block.byteOffset, CONTROL.ARGS_BYTE_OFFSET / 4);
    this.args = new Float64Array(heap.memory.buffer, block.byteOffset + CONTROL.ARGS_BYTE_OFFSET, MAX_KERNEL_ARGS);
    for (let tid = 1; tid < threads; tid++) {
      const stack = this.allocInternal(STACK_BYTES);
      const init: WorkerInit = {
        module, memory: heap.memory, tid, control: block.byteOffset, stackTop: stack.byteOffset + STACK_BYTES,
        callWord: this.control[CONTROL.CALL], spin,
      };
      this.workers.push(platform.startWorker(init));
    }
    this.ready = threads === 1;
  }

  /** How many threads a call with `work` units should use, given the work worth one thread. */
  threadsFor(work: number, workPerThread: number): number {
    if (this.splitAlways) return this.threads;
    return Math.max(1, Math.min(this.threads, Math.floor(work / workPerThread)));
  }

  /**
   * Runs `kernel(tid, nthreads, ...args)` on threads 0..nthreads-1 and returns when all are done.
   * nthreads 1 is a plain call on this thread.
   */
  run(kernel: KernelName, nthreads: number, args: readonly number[]): void {
    const fn = this.kernels[kernel];
    if (nthreads <= 1 || this.threads === 1) {
      fn(0, 1, ...args);
      return;
    }
    if (!this.ready) this.waitUntilReady();
    const control = this.control;
    const threads = Math.min(nthreads, this.threads);
    this.args.set(args);
    control[CONTROL.KERNEL] = KERNEL_NAMES.indexOf(kernel);
    Atomics.store(control, CONTROL.PENDING, threads - 1);
    Atomics.store(control, CONTROL.CALL, callWord(++this.calls, threads));
    Atomics.notify(control, CONTROL.CALL);
    let workerFailed = false;
    try {
      fn(0, threads, ...args);
    } finally {
      // Even when thread 0 throws, the workers are still writing: wait for them before returning.
      this.waitForWorkers();
      workerFailed = Atomics.exchange(control, CONTROL.ERROR, 0) !== 0;
    }
    if (workerFailed) throw new BackendError(`wasm kernel '${kernel}' failed on a worker thread`);
  }

  /** Resolves once every worker has instantiated the kernels (the async path for browsers). */
  async whenReady(): Promise<void> {
    // (With no workers the memory may be unshared, and this.control detached by a grow.)
    while (this.workers.length > 0 && Atomics.load(this.control, CONTROL.READY) < this.workers.length) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    this.ready = true;
  }

  dispose(): void {
    if (this.workers.length > 0) {
      Atomics.store(this.control, CONTROL.STOP, 1);
      Atomics.store(this.control, CONTROL.CALL, callWord(++this.calls, 0));
      Atomics.notify(this.control, CONTROL.CALL);
      for (const worker of this.workers) worker.terminate();
      this.workers.length = 0;
    }
    for (const storage of this.internal) this.heap.free(storage, true);
    this.internal.length = 0;
  }

  /** An internal block (not counted as a live buffer); freed by dispose(). */
  allocInternal(bytes: number): WasmStorage {
    const storage = this.heap.alloc('float32', Math.ceil(bytes / 4), true);
    this.internal.push(storage);
    return storage;
  }

  private waitForWorkers(): void {
    const control = this.control;
    for (let spin = 0; spin < DEFAULT_SPIN && Atomics.load(control, CONTROL.PENDING) !== 0; spin++);
    for (;;) {
      const pending = Atomics.load(control, CONTROL.PENDING);
      if (pending === 0) return;
      Atomics.wait(control, CONTROL.PENDING, pending);
    }
  }

  /** Workers start in the background; the first parallel call waits for them (Node). */
  private waitUntilReady(): void {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = Atomics.load(this.control, CONTROL.READY);
      if (ready >= this.workers.length) break;
      if (Date.now() > deadline) {
        const failures = this.workers.map((worker) => worker.failure?.()).filter((f) => f);
        throw new BackendError(`wasm worker threads did not start within 30 s (${ready} of ${this.workers.length} ready)` +
          (failures.length ? `: ${failures[0]}` : ''));
      }
      Atomics.wait(this.control, CONTROL.READY, ready, 100);
    }
    this.ready = true;
  }
}
