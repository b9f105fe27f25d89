// The body of a worker thread, shared by the Node and browser entry points (worker-node.ts,
// worker-browser.ts): instantiate the kernels on the shared memory, then serve kernel calls
// from the control block until told to stop. Pure WebAssembly + Atomics, so it runs anywhere.

import {
  CONTROL, KERNEL_NAMES, MAX_KERNEL_ARGS, callThreads, type KernelExports, type KernelFunction, type WorkerInit,
} from './abi.js';
import { instantiate } from './wasm-api.js';

export function runWorkerLoop(init: WorkerInit): void {
  const instance = instantiate(init.module, init.memory);
  const exports = instance.exports as unknown as KernelExports & Record<string, KernelFunction>;
  // Each instance has its own __stack_pointer global, initialised to thread 0's stack: move it.
  exports.__stack_pointer.value = init.stackTop;
  const kernels = KERNEL_NAMES.map((name) => exports[name]);
  // The control block sits below any later growth, so views on today's buffer stay valid.
  const control = new Int32Array(init.memory.buffer, init.control, CONTROL.ARGS_BYTE_OFFSET / 4);
  const args = new Float64Array(init.memory.buffer, init.control + CONTROL.ARGS_BYTE_OFFSET, MAX_KERNEL_ARGS);
  const tid = init.tid;

  Atomics.add(control, CONTROL.READY, 1);
  Atomics.notify(control, CONTROL.READY);

  let seen = init.callWord;
  for (;;) {
    // Spin a little before sleeping: kernel calls come in bursts, and waking from Atomics.wait
    // costs 20-30 µs while a spinning worker answers in well under one.
    for (let i = 0; i < init.spin && Atomics.load(control, CONTROL.CALL) === seen; i++);
    while (Atomics.load(control, CONTROL.CALL) === seen) Atomics.wait(control, CONTROL.CALL, seen);
    seen = Atomics.load(control, CONTROL.CALL);
    if (Atomics.load(control, CONTROL.STOP) !== 0) return;
    // The caller waits for every thread below nthreads, so this call's arguments stay put until
    // we are done; threads above it skip the call.
    const nthreads = callThreads(seen);
    if (tid >= nthreads) continue;
    try {
      kernels[control[CONTROL.KERNEL]](tid, nthreads, args[0], args[1], args[2], args[3], args[4], args[5], args[6],
        args[7], args[8], args[9], args[10], args[11], args[12], args[13], args[14], args[15], args[16], args[17],
        args[18], args[19]);
    } catch {
      // Keep serving: the caller sees the flag and throws on its own thread.
      Atomics.store(control, CONTROL.ERROR, 1);
    } finally {
      if (Atomics.sub(control, CONTROL.PENDING, 1) === 1) Atomics.notify(control, CONTROL.PENDING);
    }
  }
}
