import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, openSafetensorsBytes, MAX_HEADER_BYTES } from '../../src/io/safetensors.js';
import { FormatError } from '../../src/util/errors.js';
import { makeTempDir } from './fixture-paths.js';

/** A file with the given header text and `dataLength` zero bytes of data; `declaredLength` overrides the prefix. */
function craft(header: string, dataLength: number, declaredLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.byteLength + dataLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  return out;
}

const entry = (dtype: unknown, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

function rejects(bytes: Uint8Array, ...patterns: RegExp[]): void {
  assert.throws(() => openSafetensorsBytes(bytes, 'bad.safetensors'), (error: Error) => {
    assert.ok(error instanceof FormatError, `expected FormatError, got ${error.name}: ${error.message}`);
    assert.match(error.message, /bad\.safetensors/);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

test('length prefix: too short, beyond the file, beyond the cap', () => {
  rejects(new Uint8Array(5), /too short/);
  rejects(craft('{"a":1}', 0, 3n), /not valid JSON/);
  rejects(craft('{}', 0, 100n), /past the end/);
  rejects(craft('{}', 0, BigInt(MAX_HEADER_BYTES) + 1n), /exceeds/);
  rejects(craft('{}', 0, 0xffffffffffffffffn), /exceeds/);
});

test('header must be UTF-8 JSON object', () => {
  const invalidUtf8 = craft('{"a"}', 0);
  invalidUtf8[9] = 0xff;
  rejects(invalidUtf8, /UTF-8/);
  rejects(craft('[1, 2]', 0), /object/, /\[1,2\]/);
  rejects(craft('null', 0), /object/);
  rejects(craft('"x"', 0), /object/);
});

test('each entry: dtype known, shape non-negative integers, offsets a pair matching the size', () => {
  const one = (e: unknown, dataLength: number) => craft(JSON.stringify({ w: e }), dataLength);
  rejects(one(entry('F8_E4M3', [2], [0, 2]), 2), /'w'/, /F8_E4M3/, /BF16/);
  rejects(one(entry('f32', [1], [0, 4]), 4), /"f32"/);
  rejects(one(entry('F32', [-1], [0, 4]), 4), /shape/, /-1/);
  rejects(one(entry('F32', [1.5], [0, 4]), 4), /shape/, /1\.5/);
  rejects(one(entry('F32', '4', [0, 4]), 4), /shape/);
  rejects(one(entry('F32', [1], [0]), 4), /data_offsets/);
  rejects(one(entry('F32', [1], [0, 4, 8]), 8), /data_offsets/);
  rejects(one(entry('F32', [1], [4, 0]), 4), /end before/);
  rejects(one(entry('F32', [2], [0, 4]), 8), /needs 8 bytes/, /hold 4/);
  rejects(one(entry('F32', [2 ** 40, 2 ** 40], [0, 4]), 4), /more than 2\^53/);
  rejects(one(entry('F32', [1], [0, 1e300]), 4), /data_offsets/);
  rejects(one('tensor', 0), /entry must be an object/);
  rejects(one(entry('F32', [1], [0, 4]), 2), /run past|covers/);
});

test('tensors must tile the data section: overlaps, gaps and trailing bytes are rejected', () => {
  const two = (a: number[], b: number[], dataLength: number) =>
    craft(JSON.stringify({ a: entry('U8', [a[1] - a[0]], a), b: entry('U8', [b[1] - b[0]], b) }), dataLength);
  rejects(two([0, 4], [2, 6], 6), /overlap/, /'a'/);
  rejects(two([0, 2], [3, 5], 5), /gap/, /'b'/);
  rejects(two([0, 2], [2, 4], 6), /cover 4 bytes/, /holds 6/);
  assert.deepEqual(openSafetensorsBytes(two([2, 4], [0, 2], 4)).names(), ['b', 'a']);
});

test('__metadata__ must map strings to strings; null is allowed', () => {
  rejects(craft('{"__metadata__":{"format":1}}', 0), /__metadata__\['format'\]/, /1/);
  rejects(craft('{"__metadata__":["x"]}', 0), /__metadata__/);
  assert.deepEqual(openSafetensorsBytes(craft('{"__metadata__":null}', 0)).metadata, {});
  assert.deepEqual(openSafetensorsBytes(craft('{"__metadata__":{"a":"b"}}  ', 0)).metadata, { a: 'b' });
});

test('accepted oddities the reference also accepts: empty file, scalar, zero-size, extra fields, odd names', () => {
  assert.deepEqual(openSafetensorsBytes(craft('{}', 0)).names(), []);
  const file = openSafetensorsBytes(craft(JSON.stringify({
    s: entry('F32', [], [0, 4]), z: { ...entry('F32', [0, 3], [4, 4]), extra: true }, ['__proto__']: entry('U8', [1], [4, 5]),
  }), 5));
  assert.deepEqual(file.info('s').shape, []);
  assert.deepEqual(file.info('z').shape, [0, 3]);
  assert.deepEqual(file.info('__proto__').shape, [1]);
});

test('error messages stay short even for huge hostile values', () => {
  const long = 'x'.repeat(100_000);
  assert.throws(() => openSafetensorsBytes(craft(JSON.stringify({ w: entry(long, [1], [0, 1]) }), 1)),
    (e: Error) => e instanceof FormatError && e.message.length < 400);
});

test('the file reader applies the same validation and names the path', async () => {
  const { dir, cleanup } = makeTempDir('validate');
  try {
    const path = join(dir, 'broken.safetensors');
    writeFileSync(path, craft(JSON.stringify({ w: entry('F32', [3], [0, 12]) }), 8));
    await assert.rejects(openSafetensors(path), (e: Error) => e instanceof FormatError && e.message.includes(path));
    writeFileSync(path, new Uint8Array(3));
    await assert.rejects(openSafetensors(path), (e: Error) => e instanceof FormatError && /too short/.test(e.message));
  } finally {
    cleanup();
  }
});
