// The native backend's memory (pool, zero-fill, double free, live counts, unsupported dtypes), its
// options and lifecycle, and its registration: the factory's BackendError and one-time notice when
// the addon is missing. Memory and registration tests run without the addon; the rest skip.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { after, describe, test } from 'node:test';
import { NativeBackend } from '../../src/backend/native/backend.js';
import { StoragePool } from '../../src/backend/native/storage.js';
import { ArgumentError, DTypeError, UseAfterFreeError } from '../../src/util/errors.js';
import { nativeSkipReason } from './native-helpers.js';
import { storageOf } from './ref-helpers.js';

const skip = nativeSkipReason();

describe('native storage pool', () => {
  test('alloc zero-fills, also when it reuses a freed array of the same dtype and length', () => {
    const pool = new StoragePool();
    const first = pool.alloc('float32', 17);
    assert.deepEqual(Array.from(first.data), new Array(17).fill(0));
    first.data.fill(3);
    const array = first.data;
    pool.free(first);
    const second = pool.alloc('float32', 17);
    assert.equal(second.data, array, 'the freed array is reused');
    assert.deepEqual(Array.from(second.data), new Array(17).fill(0));
    assert.notEqual(pool.alloc('int32', 17).data, array, 'int32 never gets a float32 array');
    assert.ok(pool.alloc('int32', 3).data instanceof Int32Array);
  });

  test('liveBuffers and liveBytes count allocations until they are freed', () => {
    const pool = new StoragePool();
    const a = pool.alloc('float32', 10);
    const b = pool.alloc('int32', 3);
    assert.equal(pool.liveBuffers(), 2);
    assert.equal(pool.liveBytes(), 52);
    pool.free(a);
    assert.equal(pool.liveBuffers(), 1);
    assert.equal(pool.liveBytes(), 12);
    pool.free(b);
    assert.equal(pool.liveBuffers(), 0);
    assert.equal(pool.liveBytes(), 0);
  });

  test('double free and use after free throw UseAfterFreeError', () => {
    const pool = new StoragePool();
    const s = pool.alloc('float32', 4);
    pool.free(s);
    assert.throws(() => pool.free(s), UseAfterFreeError);
    assert.throws(() => s.data, UseAfterFreeError);
  });

  test('float64 is refused with a DTypeError naming it; bad lengths and foreign storages are refused', () => {
    const pool = new StoragePool();
    assert.throws(() => pool.alloc('float64', 4), (err: Error) => err instanceof DTypeError && /float64/.test(err.message));
    assert.throws(() => pool.alloc('float32', -1), ArgumentError);
    assert.throws(() => pool.alloc('float32', 1.5), ArgumentError);
    assert.throws(() => pool.free(storageOf('float32', 4)), ArgumentError);
    assert.throws(() => new StoragePool().free(pool.alloc('float32', 2)), ArgumentError);
  });

  test('freed arrays beyond the byte cap are dropped, not pooled', () => {
    const pool = new StoragePool(64);
    const big = pool.alloc('float32', 32); // 128 bytes > 64
    const array = big.data;
    pool.free(big);
    assert.notEqual(pool.alloc('float32', 32).data, array);
    const small = pool.alloc('float32', 8); // 32 bytes fit
    const smallArray = small.data;
    pool.free(small);
    assert.equal(pool.alloc('float32', 8).data, smallArray);
  });
});

/** Runs `code` (an ES module body) in a fresh Node with extra env, returning its stdout. */
function runIsolated(code: string, env: Record<string, string>): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
}

describe('native backend registration', () => {
  test('without the addon the factory throws BackendError and notices it once', () => {
    const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const output = runIsolated(`
      const { getBackend } = await import(${module('../../src/backend/registry.js')});
      const { setNoticeHandler } = await import(${module('../../src/util/log.js')});
      await import(${module('../../src/backend/native/index.js')});
      const notices = [];
      setNoticeHandler((message) => notices.push(message));
      const errors = [];
      for (let i = 0; i < 2; i++) {
        try { getBackend('native'); } catch (err) { errors.push({ name: err.name, message: err.message }); }
      }
      process.stdout.write(JSON.stringify({ notices, errors }));
    `, { DISSECT_NATIVE_ADDON: '/nonexistent/dissect_native.node' });
    const { notices, errors } = JSON.parse(output) as { notices: string[]; errors: Array<{ name: string; message: string }> };
    assert.equal(errors.length, 2);
    for (const err of errors) {
      assert.equal(err.name, 'BackendError');
      assert.match(err.message, /\/nonexistent\/dissect_native\.node/);
    }
    assert.equal(notices.length, 1, `one notice, got ${JSON.stringify(notices)}`);
    assert.match(notices[0], /native backend unavailable .*using wasm/);
  });

  test('with the addon built, the registry hands out a working native backend', { skip }, () => {
    const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
    const output = runIsolated(`
      const { getBackend } = await import(${module('../../src/backend/registry.js')});
      await import(${module('../../src/backend/native/index.js')});
      const backend = getBackend('native');
      process.stdout.write(JSON.stringify({ name: backend.name, threads: backend.threads }));
      backend.dispose();
    `, { DISSECT_THREADS: '3' });
    assert.deepEqual(JSON.parse(output), { name: 'native', threads: 3 });
  });
});

describe('native backend options and lifecycle', { skip }, () => {
  const created: NativeBackend[] = [];
  const make = (threads?: number) => {
    const backend = new NativeBackend(threads === undefined ? {} : { threads });
    created.push(backend);
    return backend;
  };
  after(() => created.forEach((backend) => backend.dispose()));

  test('threads: option, else DISSECT_THREADS, else the core count capped at 8', () => {
    const saved = process.env.DISSECT_THREADS;
    try {
      delete process.env.DISSECT_THREADS;
      assert.equal(make().threads, Math.min(availableParallelism(), 8));
      process.env.DISSECT_THREADS = '5';
      assert.equal(make().threads, 5);
      assert.equal(make(2).threads, 2);
      process.env.DISSECT_THREADS = 'many';
      assert.throws(() => make(), (err: Error) => err instanceof ArgumentError && /DISSECT_THREADS='many'/.test(err.message));
    } finally {
      if (saved === undefined) delete process.env.DISSECT_THREADS;
      else process.env.DISSECT_THREADS = saved;
    }
    assert.throws(() => make(0), ArgumentError);
    assert.throws(() => make(2.5), ArgumentError);
  });

  test('kernels leave no live buffers behind; dispose ends the backend', () => {
    const backend = new NativeBackend({ threads: 2 });
    const baseline = backend.liveBuffers();
    const a = backend.alloc('float32', 6);
    a.data.set([1, 2, 3, 4, 5, 6]);
    const out = backend.alloc('float32', 4);
    const view = { storage: a, offset: 0, batchStride: 0, rowStride: 3, colStride: 1 };
    const bt = { storage: a, offset: 0, batchStride: 0, rowStride: 1, colStride: 3 }; // aᵀ
    backend.matmul(view, bt, 1, 2, 3, 2, out, false);
    assert.deepEqual(Array.from(out.data), [14, 32, 32, 77]);
    backend.free(a);
    backend.free(out);
    assert.equal(backend.liveBuffers(), baseline);
    assert.equal(backend.liveBytes(), 0);
    assert.throws(() => backend.alloc('float64', 2), DTypeError);
    backend.dispose();
    assert.throws(() => backend.alloc('float32', 2), UseAfterFreeError);
    const orphan = storageOf('float32', 4);
    assert.throws(() => backend.unary('exp', { storage: orphan, offset: 0, shape: [4], strides: [1] }, orphan),
      UseAfterFreeError);
    backend.dispose(); // idempotent
  });

  test('the addon rejects out-of-bounds ranges instead of reading past an array', () => {
    const backend = make(1);
    const x = storageOf('float32', 4);
    const out = backend.alloc('float32', 8);
    assert.throws(() => backend.unary('exp', { storage: x, offset: 0, shape: [8], strides: [1] }, out), RangeError);
    const a = { storage: x, offset: 0, batchStride: 0, rowStride: 2, colStride: 1 };
    assert.throws(() => backend.matmul(a, a, 1, 3, 2, 2, out, false), RangeError);
  });
});
