import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  openSafetensors, openSafetensorsBytes, serializeSafetensors, writeSafetensors, SAFETENSORS_DTYPES, DTYPE_BYTES,
  type EncodableArray, type SafetensorsDType, type TensorToWrite,
} from '../../src/io/safetensors.js';
import { DTypeError, ShapeError, ArgumentError } from '../../src/util/errors.js';
import { localFixtures, makeTempDir } from './fixture-paths.js';

const fixtures = join(localFixtures, 'safetensors');

/** Everything in a file as writer input, half floats and I64 via their decoded (lossless here) values. */
function tensorsOf(bytes: Uint8Array): Record<string, TensorToWrite> {
  const source = openSafetensorsBytes(bytes);
  const out: Record<string, TensorToWrite> = {};
  for (const name of source.names()) {
    const { dtype, shape, data } = source.readSync(name);
    out[name] = { dtype, shape, data: data.slice() };
  }
  return out;
}

test('writer output is byte-identical to Hugging Face safetensors for the same tensors', async () => {
  const golden = new Uint8Array(readFileSync(join(fixtures, 'golden.safetensors')));
  const tensors = tensorsOf(golden);
  assert.ok(Object.keys(tensors).includes('naïve 東京'));
  assert.deepEqual(serializeSafetensors(tensors, { format: 'pt' }), golden);
  const { dir, cleanup } = makeTempDir('golden');
  try {
    const path = join(dir, 'out.safetensors');
    await writeSafetensors(path, tensors, { format: 'pt' });
    assert.deepEqual(new Uint8Array(readFileSync(path)), golden);
    assert.deepEqual(readdirSync(dir), ['out.safetensors']);
  } finally {
    cleanup();
  }
});

test('F16 and BF16 encoding rounds exactly as numpy and torch do (ties, subnormals, overflow, NaN)', async () => {
  const file = await openSafetensors(join(fixtures, 'dtypes.safetensors'));
  try {
    for (const half of ['F16', 'BF16'] as const) {
      const name = half.toLowerCase();
      const source = (await file.read(`${name}_f32_source`)).data as Float32Array;
      const encoded = serializeSafetensors({ x: { dtype: half, shape: [source.length], data: source } });
      const ours = openSafetensorsBytes(encoded).readBytesSync('x');
      const theirs = await file.readBytes(name);
      const ourBits = new Uint16Array(ours.slice().buffer);
      const theirBits = new Uint16Array(theirs.buffer, theirs.byteOffset, theirs.byteLength / 2);
      for (let i = 0; i < source.length; i++) {
        // Any NaN encoding is a NaN (torch itself writes 0x7fc0 or 0xffff depending on the code path).
        const nanBits = half === 'F16' ? (b: number) => (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0
          : (b: number) => (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0;
        if (Number.isNaN(source[i]) && nanBits(ourBits[i]) && nanBits(theirBits[i])) continue;
        if (ourBits[i] !== theirBits[i]) {
          assert.fail(`${half} of ${source[i]} (index ${i}): ours 0x${ourBits[i].toString(16)}, reference 0x${theirBits[i].toString(16)}`);
        }
      }
    }
  } finally {
    await file.close();
  }
});

function randomData(dtype: SafetensorsDType, count: number, random: () => number): EncodableArray {
  switch (dtype) {
    case 'F64': return Float64Array.from({ length: count }, () => random() * 2 - 1);
    case 'F32': case 'F16': case 'BF16': return Float32Array.from({ length: count }, () => (random() * 2 - 1) * 100);
    case 'I64': return BigInt64Array.from({ length: count }, () => BigInt(Math.floor((random() - 0.5) * 2 ** 31)));
    case 'I32': return Int32Array.from({ length: count }, () => Math.floor((random() - 0.5) * 2 ** 32));
    case 'I16': return Int16Array.from({ length: count }, () => Math.floor((random() - 0.5) * 2 ** 16));
    case 'I8': return Int8Array.from({ length: count }, () => Math.floor((random() - 0.5) * 256));
    case 'U8': return Uint8Array.from({ length: count }, () => Math.floor(random() * 256));
    case 'BOOL': return Uint8Array.from({ length: count }, () => (random() < 0.5 ? 1 : 0));
    default: return dtype satisfies never;
  }
}

test('round trip: every dtype, odd sizes, through the file reader', async () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const shapes = [[1], [3], [17], [65], [1023], [3, 17], [0], [], [1, 1, 65]];
  const tensors: Record<string, TensorToWrite> = {};
  for (const dtype of SAFETENSORS_DTYPES) {
    for (const shape of shapes) {
      const count = shape.reduce((a, b) => a * b, 1);
      tensors[`${dtype}.${shape.join('x')}`] = { dtype, shape, data: randomData(dtype, count, random) };
    }
  }
  const { dir, cleanup } = makeTempDir('roundtrip');
  try {
    const path = join(dir, 'all.safetensors');
    await writeSafetensors(path, tensors, { note: 'round trip', '0': 'integer-like key' });
    const file = await openSafetensors(path);
    assert.deepEqual(file.metadata, { note: 'round trip', '0': 'integer-like key' });
    assert.deepEqual(file.names().sort(), Object.keys(tensors).sort());
    for (const [name, written] of Object.entries(tensors)) {
      const read = await file.read(name);
      assert.equal(read.dtype, written.dtype);
      assert.deepEqual(read.shape, written.shape);
      const expected = written.dtype === 'I64' ? [...(written.data as BigInt64Array)].map(Number)
        : written.dtype === 'F16' || written.dtype === 'BF16' ? null : Array.from(written.data as ArrayLike<number>);
      if (expected) assert.deepEqual([...read.data], expected, name);
      // Each tensor starts aligned to its element size, so typed-array views need no copy.
      const info = file.info(name);
      assert.equal(info.begin % DTYPE_BYTES[info.dtype], 0, `${name} begins at ${info.begin}`);
    }
    await file.close();
  } finally {
    cleanup();
  }
});

test('half-precision round trip is within half an ulp: |x - f16(x)| <= |x| * 2^-11, bf16 2^-8', () => {
  const values = Float32Array.from({ length: 1023 }, (_, i) => Math.sin(i * 1.7) * 10 ** ((i % 9) - 4));
  for (const [dtype, relative] of [['F16', 2 ** -11], ['BF16', 2 ** -8]] as const) {
    const read = openSafetensorsBytes(serializeSafetensors({ x: { dtype, shape: [1023], data: values } })).readSync('x').data;
    for (let i = 0; i < values.length; i++) {
      const tolerance = Math.abs(values[i]) * relative + (dtype === 'F16' ? 2 ** -25 : 0);
      assert.ok(Math.abs(read[i] - values[i]) <= tolerance, `${dtype} ${values[i]} → ${read[i]}`);
    }
  }
});

test('bad writer input: shape/data mismatch, wrong array type, reserved name — and nothing half-written', async () => {
  const { dir, cleanup } = makeTempDir('atomic');
  try {
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'previous contents');
    const good = { dtype: 'F32' as const, shape: [2], data: new Float32Array(2) };
    await assert.rejects(writeSafetensors(path, { a: good, b: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }),
      (e: Error) => e instanceof ShapeError && /'b'/.test(e.message) && /\[3\]/.test(e.message));
    // The wrong array type is found only while encoding, after the header and earlier tensors are written.
    const big = { dtype: 'F32' as const, shape: [1 << 16], data: new Float32Array(1 << 16) };
    await assert.rejects(writeSafetensors(path, { a: big, z: { dtype: 'I32', shape: [2], data: new Float32Array(2) } }),
      (e: Error) => e instanceof DTypeError && /'z'/.test(e.message) && /Float32Array/.test(e.message));
    assert.throws(() => serializeSafetensors({ __metadata__: good }), ArgumentError);
    assert.throws(() => serializeSafetensors({ a: { dtype: 'F8' as SafetensorsDType, shape: [2], data: new Float32Array(2) } }), ArgumentError);
    assert.equal(readFileSync(path, 'utf8'), 'previous contents');
    assert.deepEqual(readdirSync(dir), ['model.safetensors']);
  } finally {
    cleanup();
  }
});

function pythonWithSafetensors(): string | undefined {
  for (const python of [process.env.DISSECT_PYTHON, 'python3'].filter(Boolean) as string[]) {
    const probe = spawnSync(python, ['-c', 'import safetensors, numpy'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  return undefined;
}

const python = pythonWithSafetensors();

test('Python safetensors reads our files (runs when python3 has safetensors+numpy, or DISSECT_PYTHON)', { skip: !python && 'no python with safetensors' }, async () => {
  const { dir, cleanup } = makeTempDir('python');
  try {
    const path = join(dir, 'ours.safetensors');
    const tensors = tensorsOf(new Uint8Array(readFileSync(join(fixtures, 'dtypes.safetensors'))));
    delete tensors.bf16; delete tensors.bf16_f32_source; delete tensors.bf16_as_f32; // numpy has no bfloat16
    await writeSafetensors(path, tensors, { format: 'np' });
    const script = `
import json, sys
import numpy as np
from safetensors.numpy import load_file
from safetensors import safe_open
t = load_file(sys.argv[1])
with safe_open(sys.argv[1], 'np') as f: meta = f.metadata()
finite_sum = lambda v: float(v.astype('float64')[np.isfinite(v.astype('float64'))].sum())
print(json.dumps({'meta': meta, 'tensors': {k: {'shape': list(v.shape), 'sum': finite_sum(v)} for k, v in t.items()}}))`;
    const run = spawnSync(python as string, ['-c', script, path], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { meta: Record<string, string>; tensors: Record<string, { shape: number[]; sum: number }> };
    assert.deepEqual(report.meta, { format: 'np' });
    const ours = await openSafetensors(path);
    for (const name of ours.names()) {
      const { shape, data } = await ours.read(name);
      assert.deepEqual(report.tensors[name].shape, shape, name);
      let sum = 0;
      for (const v of data) if (Number.isFinite(v)) sum += v;
      assert.ok(Math.abs(report.tensors[name].sum - sum) <= 1e-6 * Math.max(1, Math.abs(sum)), name);
    }
    await ours.close();
  } finally {
    cleanup();
  }
});
