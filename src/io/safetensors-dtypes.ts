// The safetensors dtypes we read and write, their sizes, and the conversions between stored bytes
// and JS typed arrays. Pure (no Node APIs) so the browser can use it. Safetensors data is
// little-endian, as is every host we run on (x86, ARM in LE mode, wasm), so typed arrays can view
// the bytes directly.

import { DTypeError, FormatError } from '../util/errors.js';

export const SAFETENSORS_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL'] as const;
export type SafetensorsDType = (typeof SAFETENSORS_DTYPES)[number];

export const DTYPE_BYTES: Readonly<Record<SafetensorsDType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export function isSafetensorsDType(name: unknown): name is SafetensorsDType {
  return typeof name === 'string' && (SAFETENSORS_DTYPES as readonly string[]).includes(name);
}

/**
 * What `decodeTensorBytes` returns per stored dtype: half floats widen to Float32Array (our
 * compute dtype), I64 narrows to Int32Array (token ids, positions) after a range check, BOOL is 0/1
 * bytes.
 */
export type DecodedArray = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/**
 * Turn a tensor's raw little-endian bytes into a typed array. `bytes` is consumed: when its
 * ArrayBuffer offset is aligned, F32/F64/I32/I16/I8/U8/BOOL results view the same memory (no copy).
 * `where` names the tensor for error messages.
 */
export function decodeTensorBytes(bytes: Uint8Array, dtype: SafetensorsDType, where: string): DecodedArray {
  const count = bytes.byteLength / DTYPE_BYTES[dtype];
  switch (dtype) {
    case 'F64': return viewOrCopy(bytes, Float64Array, count);
    case 'F32': return viewOrCopy(bytes, Float32Array, count);
    case 'I32': return viewOrCopy(bytes, Int32Array, count);
    case 'I16': return viewOrCopy(bytes, Int16Array, count);
    case 'I8': return new Int8Array(bytes.buffer, bytes.byteOffset, count);
    case 'U8': case 'BOOL': return bytes;
    case 'F16': return float16BitsToFloat32(viewOrCopy(bytes, Uint16Array, count));
    case 'BF16': return bfloat16BitsToFloat32(viewOrCopy(bytes, Uint16Array, count));
    case 'I64': return int64ToInt32Checked(viewOrCopy(bytes, BigInt64Array, count), where);
    default: return dtype satisfies never;
  }
}

type TypedArrayClass<T> = { new(buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

function viewOrCopy<T>(bytes: Uint8Array, Kind: TypedArrayClass<T>, count: number): T {
  if (bytes.byteOffset % Kind.BYTES_PER_ELEMENT === 0) return new Kind(bytes.buffer, bytes.byteOffset, count);
  // Misaligned (an in-memory file whose tensor starts at an odd offset): copy into fresh memory.
  return new Kind(bytes.slice().buffer, 0, count);
}

function int64ToInt32Checked(values: BigInt64Array, where: string): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v > 2147483647n || v < -2147483648n) {
      throw new FormatError(`${where}: I64 value ${v} at flat index ${i} does not fit in int32 ` +
        `(I64 tensors are read as ids/positions, range [-2^31, 2^31-1])`);
    }
    out[i] = Number(v);
  }
  return out;
}

let float16Table: Float32Array | undefined;

/** All 65536 half-precision values, built once (256 KiB): decoding becomes one lookup per element. */
function float16Lookup(): Float32Array {
  if (float16Table) return float16Table;
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) table[bits] = float16BitsToNumber(bits);
  float16Table = table;
  return table;
}

/** IEEE 754 binary16 → number, exactly (every half value is representable in float32). */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const table = float16Lookup();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

export function bfloat16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  // bfloat16 is the top half of a float32.
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i] << 16;
  return out;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** float32 → bfloat16 bits, round to nearest even; every NaN becomes 0x7fc0 (as torch does). */
export function float32ToBfloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    scratchF32[0] = values[i];
    const bits = scratchU32[0];
    if ((bits & 0x7fffffff) > 0x7f800000) { out[i] = 0x7fc0; continue; }
    out[i] = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** float32 → binary16 bits, round to nearest even, overflow to ±Inf, subnormals kept (numpy's rule). */
export function float32ToFloat16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    scratchF32[0] = values[i];
    out[i] = float32BitsToFloat16Bits(scratchU32[0]);
  }
  return out;
}

function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  // NaN keeps its top payload bits (forced non-zero so it stays NaN), as numpy does.
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : (mantissa >>> 13) || 1);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 31) return sign | 0x7c00;
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // below half the smallest subnormal: rounds to ±0
    const full = mantissa | 0x800000; // restore the implicit leading 1
    const shift = 14 - halfExponent;
    return sign | roundShiftRightEven(full, shift);
  }
  // A carry out of the mantissa bumps the exponent, and into Inf at the top: both correct.
  return sign | ((halfExponent << 10) + roundShiftRightEven(mantissa, 13));
}

function roundShiftRightEven(value: number, shift: number): number {
  const kept = value >>> shift;
  const remainder = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (remainder > half || (remainder === half && (kept & 1) === 1)) return kept + 1;
  return kept;
}

/** The typed array a writer accepts for each dtype; F16/BF16 also accept raw Uint16Array bits. */
export type EncodableArray = DecodedArray | Uint16Array | BigInt64Array;

/** Encode values for storage as `dtype`, little-endian. `where` names the tensor in errors. */
export function encodeTensorBytes(data: EncodableArray, dtype: SafetensorsDType, where: string): Uint8Array {
  const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const expect = (ok: boolean, accepted: string) => {
    if (!ok) throw new DTypeError(`${where}: cannot store a ${data.constructor.name} as ${dtype}; pass ${accepted}`);
  };
  switch (dtype) {
    case 'F64': expect(data instanceof Float64Array, 'a Float64Array'); return bytesOf(data);
    case 'F32': expect(data instanceof Float32Array, 'a Float32Array'); return bytesOf(data);
    case 'I32': expect(data instanceof Int32Array, 'an Int32Array'); return bytesOf(data);
    case 'I16': expect(data instanceof Int16Array, 'an Int16Array'); return bytesOf(data);
    case 'I8': expect(data instanceof Int8Array, 'an Int8Array'); return bytesOf(data);
    case 'U8': case 'BOOL': expect(data instanceof Uint8Array, 'a Uint8Array'); return bytesOf(data);
    case 'F16': case 'BF16': {
      expect(data instanceof Float32Array || data instanceof Uint16Array, 'a Float32Array or Uint16Array bits');
      if (data instanceof Uint16Array) return bytesOf(data);
      return bytesOf(dtype === 'F16' ? float32ToFloat16Bits(data as Float32Array) : float32ToBfloat16Bits(data as Float32Array));
    }
    case 'I64': {
      expect(data instanceof BigInt64Array || data instanceof Int32Array, 'a BigInt64Array or Int32Array');
      if (data instanceof BigInt64Array) return bytesOf(data);
      return bytesOf(BigInt64Array.from(data as Int32Array, (v) => BigInt(v)));
    }
    default: return dtype satisfies never;
  }
}
