// The wasm allocator: alignment, zero-fill, reuse through the pool, size classes, growth of the
// memory (views follow it), double free and use after free, live counts.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, BackendError, UseAfterFreeError } from '../../src/util/errors.js';
import { ALIGNMENT, sizeClass, type WasmStorage } from '../../src/backend/wasm/heap.js';
import { createWasmBackend } from '../../src/backend/wasm/index.js';
import { storageOf } from './ref-helpers.js';

const backend = createWasmBackend({ threads: 1 });
after(() => backend.dispose());

function offsetOf(storage: unknown): number {
  return (storage as WasmStorage).byteOffset;
}

test('storages are 64-byte aligned and zero-filled, also when a freed block is reused', () => {
  const lengths = [0, 1, 3, 17, 65, 1023, 100_000];
  for (const length of lengths) {
    const first = backend.alloc('float32', length);
    assert.equal(offsetOf(first) % ALIGNMENT, 0, `alignment of ${length} floats`);
    first.data.fill(7);
    backend.free(first);
    const second = backend.alloc('float32', length);
    assert.equal(offsetOf(second), offsetOf(first), `block of ${length} floats reused`);
    assert.ok(second.data.every((v) => v === 0), `reused block of ${length} floats is zeroed`);
    assert.equal(second.data.length, length);
    backend.free(second);
  }
});

test('dtypes share the pool by byte size: a freed float64 block serves int32', () => {
  const a = backend.alloc('float64', 100);
  a.data.fill(1.5);
  backend.free(a);
  const b = backend.alloc('int32', 200);
  assert.equal(offsetOf(b), offsetOf(a));
  assert.ok(b.data instanceof Int32Array && b.data.every((v) => v === 0));
  backend.free(b);
});

test('size classes: exact 64 B steps to 1 KiB, ≤ 12.5% waste to 1 MiB, 64 KiB steps beyond', () => {
  for (let bytes = 1; bytes <= 1024; bytes += 37) assert.equal(sizeClass(bytes), Math.ceil(bytes / 64) * 64);
  for (let bytes = 1025; bytes <= 1 << 20; bytes = Math.floor(bytes * 1.37)) {
    const size = sizeClass(bytes);
    assert.ok(size >= bytes && size <= bytes * 1.125 + 64, `${bytes} → ${size}`);
    assert.equal(size % 64, 0);
  }
  for (const bytes of [(1 << 20) + 1, 9_437_184 + 4, 154_389_504]) {
    const size = sizeClass(bytes);
    assert.ok(size >= bytes && size - bytes < 65536 && size % 65536 === 0, `${bytes} → ${size}`);
  }
});

test('a freed big block serves a slightly smaller request, not a much smaller one', () => {
  const big = backend.alloc('float32', 2_500_000); // 10 MB
  backend.free(big);
  const small = backend.alloc('float32', 1_000_000); // would waste more than 1/8
  assert.notEqual(offsetOf(small), offsetOf(big));
  const close = backend.alloc('float32', 2_400_000);
  assert.equal(offsetOf(close), offsetOf(big));
  assert.ok(close.data.every((v) => v === 0));
  backend.free(small);
  backend.free(close);
});

test('the memory grows on demand and existing storages keep their values', () => {
  const early = backend.alloc('float32', 1000);
  early.data.set([1, 2, 3]);
  const before = backend.heapStats().reservedBytes;
  const huge = backend.alloc('float32', 16_000_000); // 64 MB: more than the memory holds so far
  assert.ok(backend.heapStats().reservedBytes >= before + 64_000_000);
  huge.data[huge.length - 1] = 42;
  assert.deepEqual(Array.from(early.data.subarray(0, 4)), [1, 2, 3, 0]);
  assert.equal(huge.data[huge.length - 1], 42);
  backend.free(huge);
  backend.free(early);
});

test('live counts follow alloc and free; internal blocks (stacks, scratch) are not counted', () => {
  const fresh = createWasmBackend({ threads: 2 });
  try {
    assert.equal(fresh.liveBuffers(), 0);
    assert.equal(fresh.liveBytes(), 0);
    const a = fresh.alloc('float32', 10);
    const b = fresh.alloc('float64', 3);
    assert.equal(fresh.liveBuffers(), 2);
    assert.equal(fresh.liveBytes(), 40 + 24);
    fresh.free(a);
    assert.equal(fresh.liveBuffers(), 1);
    assert.equal(fresh.liveBytes(), 24);
    fresh.free(b);
    assert.equal(fresh.liveBuffers(), 0);
    assert.equal(fresh.liveBytes(), 0);
    assert.ok(fresh.heapStats().pooledBytes >= 64 + 64);
  } finally {
    fresh.dispose();
  }
});

test('double free and use after free throw UseAfterFreeError; foreign storages ArgumentError', () => {
  const storage = backend.alloc('float32', 4);
  backend.free(storage);
  assert.throws(() => backend.free(storage), UseAfterFreeError);
  assert.throws(() => storage.data, UseAfterFreeError);
  assert.throws(() => backend.unary('exp', { storage, offset: 0, shape: [4], strides: [1] }, backend.alloc('float32', 4)),
    UseAfterFreeError);
  assert.throws(() => backend.free(storageOf('float32', 4)), ArgumentError);
  const other = createWasmBackend({ threads: 1 });
  try {
    assert.throws(() => backend.free(other.alloc('float32', 4)), ArgumentError);
  } finally {
    other.dispose();
  }
  assert.throws(() => backend.alloc('float32', -1), ArgumentError);
  assert.throws(() => backend.alloc('float32', 1.5), ArgumentError);
});

test('a request beyond the 4 GiB of wasm32 throws BackendError naming the sizes', () => {
  assert.throws(() => backend.alloc('float64', 2 ** 30), (err: unknown) =>
    err instanceof BackendError && /cannot grow to \d+ bytes/.test(err.message));
});

test('a disposed backend refuses to allocate', () => {
  const disposable = createWasmBackend({ threads: 2 });
  disposable.dispose();
  assert.throws(() => disposable.alloc('float32', 1), UseAfterFreeError);
  disposable.dispose(); // idempotent
});
