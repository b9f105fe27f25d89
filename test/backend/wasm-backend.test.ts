// The wasm backend as a whole: registration and options, the SIMD paths really being taken,
// the unshared-memory fallback, worker failure reporting, and worker threads that neither keep a
// process alive nor outlive dispose().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createBackend, registerBackend, registeredBackends } from '../../src/backend/registry.js';
import type { View } from '../../src/backend/types.js';
import { ArgumentError, BackendError } from '../../src/util/errors.js';
import { WasmBackend } from '../../src/backend/wasm/backend.js';
import { compileKernelsSync, withUnsharedMemory } from '../../src/backend/wasm/module.js';
import { KERNELS_URL, createWasmBackend, initWasmBackend } from '../../src/backend/wasm/index.js';
import { nodePlatform, threadsFromEnv } from '../../src/backend/wasm/platform-node.js';
import { ThreadPool } from '../../src/backend/wasm/thread-pool.js';
import type { KernelName } from '../../src/backend/wasm/abi.js';

function dense(storage: View['storage'], shape: number[]): View {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  return { storage, offset: 0, shape, strides };
}

test('the wasm backend registers itself and takes a thread count', () => {
  assert.ok(registeredBackends().includes('wasm'));
  const backend = createBackend('wasm', { threads: 2 });
  try {
    assert.equal(backend.name, 'wasm');
    assert.equal(backend.threads, 2);
  } finally {
    backend.dispose();
  }
  for (const threads of [0, 1.5, 16]) assert.throws(() => createWasmBackend({ threads }), ArgumentError);
});

test('float32 calls in the common layouts run the SIMD kernels, not the fallback', () => {
  const calls: KernelName[] = [];
  const original = ThreadPool.prototype.run;
  ThreadPool.prototype.run = function (this: ThreadPool, kernel, nthreads, args) {
    calls.push(kernel);
    original.call(this, kernel, nthreads, args);
  };
  const backend = createWasmBackend({ threads: 1 });
  try {
    const x = backend.alloc('float32', 6 * 8);
    const bias = backend.alloc('float32', 8);
    const out = backend.alloc('float32', 6 * 8);
    const expectKernels = (kernels: KernelName[], run: () => void): void => {
      calls.length = 0;
      run();
      assert.deepEqual(calls, kernels);
    };
    const expectKernel = (kernel: KernelName, run: () => void): void => expectKernels([kernel], run);
    expectKernel('binary', () => backend.binary('add', dense(x, [6, 8]), { storage: bias, offset: 0, shape: [6, 8], strides: [0, 1] }, out));
    expectKernel('binary', () => backend.binaryScalar('mul', dense(x, [6, 8]), 0.125, false, out));
    expectKernel('unary', () => backend.unary('gelu_tanh', dense(x, [2, 3, 8]), out));
    expectKernel('softmax', () => backend.softmax(x, 6, 8, false, { queryLen: 6, offset: 0 }, out));
    expectKernel('layer_norm', () => backend.layerNorm(x, 6, 8, bias, bias, 1e-5, out, null, null));
    expectKernel('rms_norm', () => backend.rmsNorm(x, 6, 8, bias, 0, 1e-6, out, null));
    expectKernel('reduce_axis', () => backend.reduce('sum', x, { outer: 6, n: 8, inner: 1 }, bias));
    expectKernel('matmul', () => backend.matmul({ storage: x, offset: 0, batchStride: 0, rowStride: 8, colStride: 1 },
      { storage: x, offset: 0, batchStride: 0, rowStride: 1, colStride: 8 }, 1, 6, 8, 6, out, false));
    // A transposed input (inner stride 6) is left to the reference code.
    expectKernels([], () => backend.unary('exp', { storage: x, offset: 0, shape: [8, 6], strides: [1, 8] }, out));
  } finally {
    ThreadPool.prototype.run = original;
    backend.dispose();
  }
});

test('without SharedArrayBuffer the same binary runs single-threaded on an unshared memory', async () => {
  const bytes = new Uint8Array(readFileSync(fileURLToPath(KERNELS_URL)));
  const patched = withUnsharedMemory(bytes);
  assert.equal(patched.length, bytes.length);
  const backend = new WasmBackend(compileKernelsSync(bytes, false), nodePlatform, { threads: 4 });
  try {
    assert.equal(backend.threads, 1);
    const x = backend.alloc('float32', 5);
    x.data.set([0, 1, -1, 2, -2]);
    const out = backend.alloc('float32', 5);
    backend.unary('exp', dense(x, [5]), out);
    assert.ok(!(out.data.buffer instanceof SharedArrayBuffer));
    for (let i = 0; i < 5; i++) assert.ok(Math.abs(out.data[i] - Math.exp(x.data[i])) < 1e-6 * Math.exp(x.data[i]));
    // Growing an unshared memory detaches its old buffer: every view must follow.
    const big = backend.alloc('float32', 8_000_000);
    big.data[7_999_999] = 3;
    backend.binaryScalar('mul', dense(x, [5]), 2, false, out);
    assert.deepEqual(Array.from(out.data), [0, 2, -2, 4, -4]);
    assert.equal(big.data[7_999_999], 3);
    await backend.whenReady();
  } finally {
    backend.dispose();
  }
});

test('a trap on a worker thread is reported as BackendError, and the pool keeps working', () => {
  const backend = createWasmBackend({ threads: 2, splitAlways: true });
  try {
    const pool = (backend as unknown as { pool: ThreadPool }).pool;
    const out = backend.alloc('float32', 1 << 16);
    const outPointer = (out as unknown as { byteOffset: number }).byteOffset;
    // Column split of one row of 65536: thread 0 reads the last 128 KiB of memory, thread 1 past its end.
    const memoryBytes = pool.heap.memory.buffer.byteLength;
    assert.throws(() => pool.run('unary', 2, [0, 1, 1 << 16, memoryBytes - (1 << 17), 0, outPointer]), BackendError);
    const x = backend.alloc('float32', 1 << 16);
    x.data.fill(2);
    backend.unary('square', dense(x, [1 << 16]), out);
    assert.ok(out.data.every((v) => v === 4));
  } finally {
    backend.dispose();
  }
});

test('DISSECT_THREADS sets the default thread count and rejects nonsense', () => {
  const saved = process.env.DISSECT_THREADS;
  try {
    process.env.DISSECT_THREADS = '3';
    assert.equal(threadsFromEnv(), 3);
    assert.equal(nodePlatform.defaultThreads(), 3);
    process.env.DISSECT_THREADS = 'many';
    assert.throws(() => threadsFromEnv(), ArgumentError);
    delete process.env.DISSECT_THREADS;
    assert.equal(threadsFromEnv(), null);
    assert.ok(nodePlatform.defaultThreads() >= 1 && nodePlatform.defaultThreads() <= 8);
  } finally {
    if (saved === undefined) delete process.env.DISSECT_THREADS;
    else process.env.DISSECT_THREADS = saved;
  }
});

test('worker threads do not keep a process alive (no dispose needed to exit)', () => {
  const moduleUrl = new URL('../../src/backend/wasm/index.js', import.meta.url).href;
  const script = `
    import { createWasmBackend } from ${JSON.stringify(moduleUrl)};
    const backend = createWasmBackend({ threads: 2, splitAlways: true });
    const x = backend.alloc('float32', 64);
    x.data.fill(1);
    const out = backend.alloc('float32', 64);
    backend.unary('exp', { storage: x, offset: 0, shape: [64], strides: [1] }, out);
    console.log(backend.threads, out.data[63].toFixed(4));
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, encoding: 'utf8' });
  assert.equal(result.status, 0, `exit ${result.status} signal ${result.signal}: ${result.stderr}`);
  assert.equal(result.stdout.trim(), '2 2.7183');
});

test('a binary without the shared memory import is rejected with BackendError', () => {
  assert.throws(() => compileKernelsSync(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]), false), BackendError);
});

test('initWasmBackend (the browser-style async start) waits for its workers and registers the backend', async () => {
  const bytes = new Uint8Array(readFileSync(fileURLToPath(KERNELS_URL)));
  const backend = await initWasmBackend(bytes, { threads: 2 });
  try {
    assert.equal(createBackend('wasm'), backend);
    const x = backend.alloc('float32', 1 << 16);
    x.data.fill(3);
    const out = backend.alloc('float32', 1 << 16);
    backend.unary('square', dense(x, [1 << 16]), out);
    assert.ok(out.data.every((v) => v === 9));
  } finally {
    backend.dispose();
    registerBackend('wasm', (options) => createWasmBackend(options));
  }
});
