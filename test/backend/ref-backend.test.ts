// RefBackend memory management: zeroed allocation, pooling, double free, live counts, registry.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefBackend } from '../../src/backend/ref/index.js';
import { getBackend, registeredBackends } from '../../src/backend/registry.js';
import { ArgumentError, UseAfterFreeError } from '../../src/util/errors.js';

test('alloc returns zero-filled storages of the right dtype and length', () => {
  const backend = new RefBackend();
  for (const [dtype, type] of [['float32', Float32Array], ['float64', Float64Array], ['int32', Int32Array]] as const) {
    const storage = backend.alloc(dtype, 17);
    assert.equal(storage.dtype, dtype);
    assert.equal(storage.length, 17);
    assert.equal(storage.backend, 'ref');
    assert.ok(storage.data instanceof type);
    assert.deepEqual(Array.from(storage.data), new Array(17).fill(0));
  }
});

test('freed buffers are reused zeroed; freed storages cannot be used or freed again', () => {
  const backend = new RefBackend();
  const first = backend.alloc('float32', 5);
  const array = first.data;
  array.fill(3);
  backend.free(first);
  assert.throws(() => first.data, UseAfterFreeError);
  assert.throws(() => backend.free(first), UseAfterFreeError);
  const second = backend.alloc('float32', 5);
  assert.equal(second.data, array, 'the pooled array is reused');
  assert.deepEqual(Array.from(second.data), [0, 0, 0, 0, 0]);
  assert.notEqual(backend.alloc('float64', 5).data.buffer, array.buffer, 'pools are keyed by dtype');
});

test('liveBuffers and liveBytes count allocations not yet freed', () => {
  const backend = new RefBackend();
  const a = backend.alloc('float64', 10);
  const b = backend.alloc('int32', 3);
  assert.equal(backend.liveBuffers(), 2);
  assert.equal(backend.liveBytes(), 80 + 12);
  backend.free(a);
  assert.equal(backend.liveBuffers(), 1);
  assert.equal(backend.liveBytes(), 12);
  backend.free(b);
  assert.equal(backend.liveBuffers(), 0);
  assert.equal(backend.liveBytes(), 0);
});

test('the pool keeps at most its cap in bytes', () => {
  const backend = new RefBackend(1000);
  const storages = Array.from({ length: 5 }, () => backend.alloc('float64', 50)); // 400 bytes each
  for (const storage of storages) backend.free(storage);
  assert.equal(backend.pooledByteCount(), 800);
  backend.dispose();
  assert.equal(backend.pooledByteCount(), 0);
  assert.throws(() => backend.alloc('float32', 1), UseAfterFreeError);
});

test('the ref backend registers itself and runs kernels on its own storages', () => {
  assert.ok(registeredBackends().includes('ref'));
  const backend = getBackend('ref');
  assert.equal(backend.name, 'ref');
  assert.equal(backend.threads, 1);
  const x = backend.alloc('float64', 3);
  x.data.set([1, 2, 3]);
  const out = backend.alloc('float64', 1);
  backend.reduce('sum', x, { outer: 1, n: 3, inner: 1 }, out);
  assert.equal(out.data[0], 6);
  backend.free(x);
  backend.free(out);
});

test('free rejects storages from another backend instance', () => {
  const one = new RefBackend();
  const other = new RefBackend();
  const storage = one.alloc('float32', 2);
  assert.throws(() => other.free(storage), ArgumentError);
  one.free(storage);
});
