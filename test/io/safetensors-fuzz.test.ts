// Property tests: whatever bytes arrive, the reader either parses them (and then every tensor
// reads) or throws FormatError — never another exception, a hang, or a huge allocation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { openSafetensorsBytes, SAFETENSORS_DTYPES } from '../../src/io/safetensors.js';
import { FormatError } from '../../src/util/errors.js';
import { localFixtures } from './fixture-paths.js';

const golden = new Uint8Array(readFileSync(join(localFixtures, 'safetensors', 'golden.safetensors')));

/** Parse and read everything; returns 'ok' or 'format-error', rethrows anything else. */
function parseAndReadAll(bytes: Uint8Array): 'ok' | 'format-error' {
  const arrayBuffersBefore = process.memoryUsage().arrayBuffers;
  try {
    const source = openSafetensorsBytes(bytes, 'fuzz');
    for (const name of source.names()) {
      const tensor = source.readSync(name);
      assert.equal(tensor.data.length, tensor.shape.reduce((a, b) => a * b, 1));
    }
    return 'ok';
  } catch (error) {
    if (error instanceof FormatError) return 'format-error';
    throw error;
  } finally {
    // Decoding may widen (F16 → F32, 2×) but must never allocate far beyond the input.
    const grown = process.memoryUsage().arrayBuffers - arrayBuffersBefore;
    assert.ok(grown < bytes.byteLength * 4 + (1 << 20), `parsing ${bytes.byteLength} bytes allocated ${grown}`);
  }
}

function withHeader(header: string, data: Uint8Array, declared?: bigint): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

test('random bytes: parse or FormatError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    parseAndReadAll(bytes);
  }), { numRuns: 2000 });
});

test('random length prefixes (including 2^64-1) with a real body: parse or FormatError', () => {
  const body = golden.subarray(8);
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (declared) => {
    const bytes = golden.slice();
    new DataView(bytes.buffer).setBigUint64(0, declared, true);
    assert.equal(bytes.byteLength, 8 + body.byteLength);
    parseAndReadAll(bytes);
  }), { numRuns: 500 });
});

const jsonValue = fc.oneof(
  fc.integer({ min: -5, max: 1 << 20 }), fc.double(), fc.string({ maxLength: 8 }), fc.constant(null), fc.boolean(),
  fc.array(fc.integer({ min: -2, max: 64 }), { maxLength: 4 }),
);

const entryArbitrary = fc.record({
  dtype: fc.oneof(fc.constantFrom(...SAFETENSORS_DTYPES), fc.constantFrom('F8_E4M3', 'U16', 'f32', ''), jsonValue),
  shape: fc.oneof(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 4 }), jsonValue),
  data_offsets: fc.oneof(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 600 })), jsonValue),
}, { requiredKeys: [] });

test('structured random headers: parse or FormatError, and every parsed tensor reads', () => {
  const header = fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constant('__metadata__')), fc.oneof(entryArbitrary, jsonValue), { maxKeys: 6 });
  fc.assert(fc.property(header, fc.integer({ min: 0, max: 600 }), (object, dataLength) => {
    parseAndReadAll(withHeader(JSON.stringify(object), new Uint8Array(dataLength)));
  }), { numRuns: 2000 });
});

test('self-consistent random headers parse', () => {
  // Build valid files from random tensors, so the property is not vacuous: these must all be 'ok'.
  const tensor = fc.record({ dtype: fc.constantFrom(...SAFETENSORS_DTYPES), shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }) });
  fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }).filter((s) => s !== '__metadata__'), tensor, { maxKeys: 5 }), (tensors) => {
    const header: Record<string, unknown> = {};
    let offset = 0;
    for (const [name, { dtype, shape }] of Object.entries(tensors)) {
      const bytes = shape.reduce((a, b) => a * b, 1) * { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I16: 2, I8: 1, U8: 1, BOOL: 1 }[dtype];
      header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    // All-zero data keeps I64 in int32 range.
    assert.equal(parseAndReadAll(withHeader(JSON.stringify(header), new Uint8Array(offset))), 'ok');
  }), { numRuns: 500 });
});

test('mutations of a real file (byte flips, truncation, insertion): parse or FormatError', () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(golden.byteLength - 1), value: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(golden.byteLength) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(golden.byteLength), value: fc.integer({ min: 0, max: 255 }) }),
  );
  fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
    let bytes = golden.slice();
    for (const m of mutations) {
      const at = Math.min(m.at, bytes.byteLength);
      if (m.kind === 'flip' && at < bytes.byteLength) bytes[at] = m.value;
      if (m.kind === 'truncate') bytes = bytes.slice(0, at);
      if (m.kind === 'insert') bytes = Uint8Array.from([...bytes.subarray(0, at), m.value, ...bytes.subarray(at)]);
    }
    parseAndReadAll(bytes);
  }), { numRuns: 2000 });
});
