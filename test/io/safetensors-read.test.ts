import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, openSafetensorsBytes, openCheckpoint, openSafetensorsIndex } from '../../src/io/safetensors.js';
import { float16BitsToNumber } from '../../src/io/safetensors-dtypes.js';
import { ArgumentError, FormatError, IOError, UseAfterFreeError } from '../../src/util/errors.js';
import { localFixtures, makeTempDir, sharedFixtures } from './fixture-paths.js';

const dtypesFile = join(localFixtures, 'safetensors', 'dtypes.safetensors');

/** Bitwise float equality (NaN == NaN, -0 != +0): the decoders must be exact. */
function assertSameFloats(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

test('reference.safetensors written by HF: names, dtypes and shapes match reference.json', async () => {
  for (const model of ['gpt2-tiny', 'pythia-tiny', 'llama-tiny']) {
    const folder = join(sharedFixtures, model);
    const expected = JSON.parse(readFileSync(join(folder, 'reference.json'), 'utf8')) as { tensors: Record<string, number[]> };
    const file = await openSafetensors(join(folder, 'reference.safetensors'));
    try {
      assert.deepEqual(file.names().sort(), Object.keys(expected.tensors).sort());
      for (const [name, shape] of Object.entries(expected.tensors)) {
        assert.deepEqual(file.info(name).shape, shape, `${model} ${name}`);
      }
      const ids = await file.read('input_ids');
      assert.equal(ids.dtype, 'I32');
      assert.ok(ids.data instanceof Int32Array);
      assert.deepEqual(ids.shape, [2, 12]);
      const logits = await file.read('logits');
      assert.ok(logits.data instanceof Float32Array);
      assert.equal(logits.data.length, logits.shape.reduce((a, b) => a * b, 1));
      assert.ok(logits.data.every(Number.isFinite));
    } finally {
      await file.close();
    }
  }
});

test('file reader and in-memory reader give identical tensors for a real checkpoint', async () => {
  const path = join(sharedFixtures, 'gpt2-tiny', 'model.safetensors');
  const file = await openSafetensors(path);
  const memory = openSafetensorsBytes(new Uint8Array(readFileSync(path)), path);
  try {
    assert.deepEqual(file.names(), memory.names());
    assert.deepEqual(file.metadata, { format: 'pt' });
    assert.deepEqual(file.info('transformer.wte.weight').shape, [50257, 64]);
    for (const name of file.names()) {
      const [a, b] = [await file.read(name), memory.readSync(name)];
      assert.deepEqual(a.shape, b.shape);
      assertSameFloats(a.data, b.data, name);
    }
  } finally {
    await file.close();
  }
});

test('F16 and BF16 decode exactly as numpy/torch widen them', async () => {
  const file = await openSafetensors(dtypesFile);
  try {
    for (const half of ['f16', 'bf16']) {
      const decoded = await file.read(half);
      assert.equal(decoded.dtype, half.toUpperCase());
      assert.ok(decoded.data instanceof Float32Array);
      assertSameFloats(decoded.data, (await file.read(`${half}_as_f32`)).data, half);
    }
  } finally {
    await file.close();
  }
});

test('the F16 lookup table agrees with a direct formula for all 65536 bit patterns', () => {
  // Independent of the table: build each value from sign/exponent/mantissa by scaling a float32.
  const view = new DataView(new ArrayBuffer(4));
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits >> 15, exponent = (bits >> 10) & 31, mantissa = bits & 1023;
    let expected: number;
    if (exponent === 31) expected = mantissa ? NaN : (sign ? -Infinity : Infinity);
    else if (exponent === 0) expected = (sign ? -1 : 1) * (mantissa / 1024) * Math.pow(2, -14);
    else {
      // Assemble the float32 bit pattern: same sign, exponent rebiased 15 → 127, mantissa shifted.
      view.setUint32(0, (sign << 31) | ((exponent - 15 + 127) << 23) | (mantissa << 13));
      expected = view.getFloat32(0);
    }
    if (!Object.is(float16BitsToNumber(bits), expected)) assert.fail(`bits 0x${bits.toString(16)}: ${float16BitsToNumber(bits)} vs ${expected}`);
  }
});

test('integer, bool, f64, scalar and empty tensors decode with the right types and shapes', async () => {
  const file = await openSafetensors(dtypesFile);
  try {
    const ids = await file.read('i64_ids');
    assert.ok(ids.data instanceof Int32Array);
    assert.deepEqual([...ids.data], [0, 1, 50256, 2147483647, -2147483648, 7, 3, 11]);
    assert.ok((await file.read('f64')).data instanceof Float64Array);
    assert.ok((await file.read('i16')).data instanceof Int16Array);
    assert.ok((await file.read('i8')).data instanceof Int8Array);
    assert.ok((await file.read('u8')).data instanceof Uint8Array);
    assert.deepEqual([...(await file.read('bool')).data], [1, 0, 1]);
    const scalar = await file.read('scalar');
    assert.deepEqual(scalar.shape, []);
    assert.deepEqual([...scalar.data], [3.5]);
    const empty = await file.read('empty');
    assert.deepEqual(empty.shape, [0, 4]);
    assert.equal(empty.data.length, 0);
    assert.deepEqual(file.metadata, { format: 'pt', purpose: 'dtype fixtures' });
  } finally {
    await file.close();
  }
});

test('I64 values outside int32 raise FormatError naming the tensor and value', async () => {
  const file = await openSafetensors(join(localFixtures, 'safetensors', 'i64-out-of-range.safetensors'));
  try {
    await assert.rejects(file.read('too_big'), (e: Error) => e instanceof FormatError && /too_big/.test(e.message) && /2147483648/.test(e.message));
    const raw = await file.readBytes('too_big');
    assert.equal(raw.byteLength, 16);
  } finally {
    await file.close();
  }
});

test('misaligned in-memory buffers still decode (copy path)', async () => {
  const bytes = readFileSync(dtypesFile);
  const shifted = new Uint8Array(bytes.byteLength + 1);
  shifted.set(bytes, 1);
  const aligned = openSafetensorsBytes(new Uint8Array(bytes));
  const misaligned = openSafetensorsBytes(shifted.subarray(1));
  for (const name of aligned.names()) {
    assertSameFloats(misaligned.readSync(name).data, aligned.readSync(name).data, name);
  }
});

test('missing tensor: ArgumentError suggests close names; missing file: IOError; read after close: UseAfterFreeError', async () => {
  const file = await openSafetensors(join(sharedFixtures, 'gpt2-tiny', 'model.safetensors'));
  assert.throws(() => file.info('transformer.wte.weights'), (e: Error) => e instanceof ArgumentError && /transformer\.wte\.weight'/.test(e.message));
  await file.close();
  await file.close();
  await assert.rejects(file.read('transformer.wte.weight'), UseAfterFreeError);
  await assert.rejects(openSafetensors('/nonexistent/model.safetensors'), (e: Error) => e instanceof IOError && /nonexistent/.test(e.message));
});

test('a file truncated after opening gives IOError on read, not garbage', async () => {
  const { dir, cleanup } = makeTempDir('trunc');
  try {
    const path = join(dir, 'm.safetensors');
    const bytes = readFileSync(join(sharedFixtures, 'llama-tiny', 'model.safetensors'));
    writeFileSync(path, bytes);
    const file = await openSafetensors(path);
    writeFileSync(path, bytes.subarray(0, 5000));
    await assert.rejects(file.read('model.norm.weight'), IOError);
    await file.close();
  } finally {
    cleanup();
  }
});

test('reading one tensor costs about that tensor in memory, not the file', async () => {
  const path = join(sharedFixtures, 'gpt2-tiny', 'model.safetensors'); // 13 MB, mostly wte
  const file = await openSafetensors(path);
  try {
    const before = process.memoryUsage().arrayBuffers;
    const small = await file.read('transformer.h.0.ln_1.weight');
    const afterSmall = process.memoryUsage().arrayBuffers;
    assert.ok(afterSmall - before < 1 << 20, `small read grew arrayBuffers by ${afterSmall - before}`);
    const big = await file.read('transformer.wte.weight');
    const grown = process.memoryUsage().arrayBuffers - afterSmall;
    const tensorBytes = big.data.byteLength;
    assert.ok(grown < tensorBytes * 1.2 + (1 << 20), `reading a ${tensorBytes}-byte tensor grew arrayBuffers by ${grown}`);
    assert.equal(small.data.length, 64);
  } finally {
    await file.close();
  }
});

test('sharded checkpoint: one source over both shards; openCheckpoint picks index or single file', async () => {
  const folder = join(localFixtures, 'safetensors', 'sharded');
  const sharded = await openSafetensorsIndex(join(folder, 'model.safetensors.index.json'));
  try {
    assert.deepEqual(sharded.names().sort(), ['embed.weight', 'layer.0.bias', 'layer.0.weight']);
    assert.deepEqual([...(await sharded.read('embed.weight')).data], Array.from({ length: 20 }, (_, i) => i));
    assert.deepEqual([...(await sharded.read('layer.0.bias')).data], [1, 2, 3, 4]);
    assert.equal(sharded.metadata.format, 'pt');
    assert.throws(() => sharded.info('layer.1.weight'), ArgumentError);
  } finally {
    await sharded.close();
  }
  const viaFolder = await openCheckpoint(folder);
  assert.equal(viaFolder.names().length, 3);
  await viaFolder.close();
  const single = await openCheckpoint(join(sharedFixtures, 'llama-tiny'));
  assert.ok(single.has('lm_head.weight'));
  await single.close();
  await assert.rejects(openCheckpoint(localFixtures), IOError);
});

test('sharded index errors: bad JSON, shard missing a mapped tensor, shard path escaping the folder', async () => {
  const { dir, cleanup } = makeTempDir('shard');
  try {
    const shardBytes = readFileSync(join(localFixtures, 'safetensors', 'sharded', 'model-00001-of-00002.safetensors'));
    writeFileSync(join(dir, 'a.safetensors'), shardBytes);
    const index = join(dir, 'model.safetensors.index.json');
    writeFileSync(index, '{"weight_map": ');
    await assert.rejects(openSafetensorsIndex(index), FormatError);
    writeFileSync(index, JSON.stringify({ weight_map: { 'embed.weight': 'a.safetensors', 'other': 'a.safetensors' } }));
    await assert.rejects(openSafetensorsIndex(index), (e: Error) => e instanceof FormatError && /'other'/.test(e.message));
    writeFileSync(index, JSON.stringify({ weight_map: { 'embed.weight': '../a.safetensors' } }));
    await assert.rejects(openSafetensorsIndex(index), FormatError);
    writeFileSync(index, JSON.stringify({ weight_map: { 'embed.weight': 'missing.safetensors' } }));
    await assert.rejects(openSafetensorsIndex(index), IOError);
  } finally {
    cleanup();
  }
});
