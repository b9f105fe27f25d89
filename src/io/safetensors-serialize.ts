// Safetensors layout for writing, byte-compatible with Hugging Face's Rust writer: tensors sorted by
// dtype (widest-aligned first, in the reference's dtype order) then name, so every tensor starts
// aligned to its element size; header JSON with `__metadata__` first, then tensors in data order,
// padded with spaces to a multiple of 8. Pure (no Node APIs): the browser serializes to a Uint8Array.

import { ArgumentError, ShapeError, fmtShape } from '../util/errors.js';
import { DTYPE_BYTES, encodeTensorBytes, isSafetensorsDType, SAFETENSORS_DTYPES, type EncodableArray, type SafetensorsDType } from './safetensors-dtypes.js';

export interface TensorToWrite {
  dtype: SafetensorsDType;
  shape: readonly number[];
  /** Values in row-major order; see encodeTensorBytes for the array type each dtype takes. */
  data: EncodableArray;
}

export interface SafetensorsPlan {
  /** The 8-byte length prefix and the padded JSON header. */
  header: Uint8Array;
  /** Tensors in data order; encode() produces exactly byteLength bytes. */
  entries: { name: string; byteLength: number; encode: () => Uint8Array }[];
  totalBytes: number;
}

/** The reference writer's data order: its dtype enum order, descending (I64 before F64 is its quirk). */
const WRITE_ORDER: readonly SafetensorsDType[] = ['I64', 'F64', 'F32', 'I32', 'BF16', 'F16', 'I16', 'I8', 'U8', 'BOOL'];

const utf8 = new TextEncoder();

/** Rust orders names by UTF-8 bytes; JS `<` compares UTF-16 units, which differs above U+FFFF. */
function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Validate tensors and metadata and lay out the file; tensor data is encoded lazily, one at a time. */
export function planSafetensors(tensors: Readonly<Record<string, TensorToWrite>>, metadata?: Readonly<Record<string, string>>): SafetensorsPlan {
  const named = Object.entries(tensors).map(([name, tensor]) => ({ name, tensor, byteLength: checkTensor(name, tensor) }));
  named.sort((a, b) => WRITE_ORDER.indexOf(a.tensor.dtype) - WRITE_ORDER.indexOf(b.tensor.dtype) || compareUtf8(a.name, b.name));
  const fields: string[] = [];
  if (metadata !== undefined) fields.push(`"__metadata__":${jsonObject(Object.entries(checkMetadata(metadata)))}`);
  let offset = 0;
  for (const { name, tensor, byteLength } of named) {
    const info = { dtype: tensor.dtype, shape: [...tensor.shape], data_offsets: [offset, offset + byteLength] };
    fields.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset += byteLength;
  }
  let json = `{${fields.join(',')}}`;
  const jsonBytes = utf8.encode(json).byteLength;
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8);
  const encoded = utf8.encode(json);
  const header = new Uint8Array(8 + encoded.byteLength);
  new DataView(header.buffer).setBigUint64(0, BigInt(encoded.byteLength), true);
  header.set(encoded, 8);
  const entries = named.map(({ name, tensor, byteLength }) => ({
    name, byteLength, encode: () => encodeTensorBytes(tensor.data, tensor.dtype, `tensor '${name}'`),
  }));
  return { header, entries, totalBytes: header.byteLength + offset };
}

/** The whole file in memory (browser downloads, tests). */
export function serializeSafetensors(tensors: Readonly<Record<string, TensorToWrite>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  const plan = planSafetensors(tensors, metadata);
  const out = new Uint8Array(plan.totalBytes);
  out.set(plan.header, 0);
  let offset = plan.header.byteLength;
  for (const entry of plan.entries) {
    out.set(entry.encode(), offset);
    offset += entry.byteLength;
  }
  return out;
}

function jsonObject(entries: [string, string][]): string {
  // Built by hand: a JS object would move integer-like keys ("0", "1") to the front.
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

/** Checks one tensor and returns its byte length. */
function checkTensor(name: string, tensor: TensorToWrite): number {
  if (name === '' || name === '__metadata__') throw new ArgumentError(`tensor name ${JSON.stringify(name)} is reserved or empty`);
  if (!isSafetensorsDType(tensor.dtype)) {
    throw new ArgumentError(`tensor '${name}': dtype ${JSON.stringify(tensor.dtype)} is not one of ${SAFETENSORS_DTYPES.join(', ')}`);
  }
  if (!Array.isArray(tensor.shape) || !tensor.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(`tensor '${name}': shape must be non-negative integers, got ${JSON.stringify(tensor.shape)}`);
  }
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  if (tensor.data.length !== count) {
    throw new ShapeError(`tensor '${name}': shape ${fmtShape(tensor.shape)} holds ${count} elements but data has ${tensor.data.length}`);
  }
  return count * DTYPE_BYTES[tensor.dtype];
}

function checkMetadata(metadata: Readonly<Record<string, string>>): Record<string, string> {
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new ArgumentError(`metadata['${key}'] must be a string, got ${typeof value}`);
  }
  return { ...metadata };
}
