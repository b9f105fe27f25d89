// Strict validation of a safetensors header (https://huggingface.co/docs/safetensors): 8 bytes of
// little-endian u64 header length, a UTF-8 JSON object, then the data section. We accept exactly
// what the reference Rust implementation accepts (tensors must tile the data section with no gaps
// and no trailing bytes), so a file we read is a file Python can read, and every offset we later
// use is known to be in bounds. Pure (no Node APIs).

import { FormatError, fmtShape } from '../util/errors.js';
import { describe, isJsonObject } from './json-values.js';
import { DTYPE_BYTES, SAFETENSORS_DTYPES, isSafetensorsDType, type SafetensorsDType } from './safetensors-dtypes.js';

/** The reference implementation's cap; a larger header is a corrupt or hostile file. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range inside the data section (not the file): [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** In data order (ascending offsets). */
  tensors: TensorInfo[];
  byName: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** File offset of the data section: 8 + header length. */
  dataStart: number;
}

/** Validate the 8-byte length prefix against the file size; returns the JSON header's byte length. */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, label: string): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    throw new FormatError(`${label}: file is ${fileSize} bytes, too short for the 8-byte safetensors header length`);
  }
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new FormatError(`${label}: header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  }
  if (Number(length) > fileSize - 8) {
    throw new FormatError(`${label}: header length ${length} runs past the end of the ${fileSize}-byte file`);
  }
  return Number(length);
}

/** Parse and validate the JSON header; `dataLength` is the size of the data section in bytes. */
export function parseHeader(headerBytes: Uint8Array, dataLength: number, label: string): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new FormatError(`${label}: header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${label}: header is not valid JSON (${(error as Error).message})`);
  }
  if (!isJsonObject(json)) {
    throw new FormatError(`${label}: header must be a JSON object, got ${describe(json)}`);
  }
  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === '__metadata__') metadata = parseMetadata(entry, label);
    else tensors.push(parseEntry(name, entry, label));
  }
  checkTiling(tensors, dataLength, label);
  return { tensors, byName: new Map(tensors.map((t) => [t.name, t])), metadata, dataStart: 8 + headerBytes.byteLength };
}

function parseMetadata(entry: unknown, label: string): Record<string, string> {
  if (entry === null) return {};
  if (!isJsonObject(entry)) throw new FormatError(`${label}: __metadata__ must be an object of strings, got ${describe(entry)}`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== 'string') {
      throw new FormatError(`${label}: __metadata__['${key}'] must be a string, got ${describe(value)}`);
    }
    out[key] = value;
  }
  return out;
}

function parseEntry(name: string, entry: unknown, label: string): TensorInfo {
  const where = `${label}: tensor '${name}'`;
  if (!isJsonObject(entry)) throw new FormatError(`${where}: entry must be an object, got ${describe(entry)}`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (!isSafetensorsDType(dtype)) {
    throw new FormatError(`${where}: unsupported dtype ${describe(dtype)}; expected one of ${SAFETENSORS_DTYPES.join(', ')}`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeSafeInteger)) {
    throw new FormatError(`${where}: shape must be an array of non-negative integers, got ${describe(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeSafeInteger)) {
    throw new FormatError(`${where}: data_offsets must be [begin, end] non-negative integers, got ${describe(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new FormatError(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  const expectedBytes = byteLengthOf(shape as number[], dtype);
  if (expectedBytes !== end - begin) {
    throw new FormatError(`${where}: shape ${fmtShape(shape as number[])} × ${dtype} (${DTYPE_BYTES[dtype]} bytes) needs ` +
      `${expectedBytes ?? 'more than 2^53'} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Bytes needed for a shape, or undefined when it is not a safe integer. */
function byteLengthOf(shape: number[], dtype: SafetensorsDType): number | undefined {
  let bytes = DTYPE_BYTES[dtype];
  for (const dim of shape) {
    bytes *= dim;
    if (!Number.isSafeInteger(bytes)) return undefined;
  }
  return bytes;
}

/** The tensors must cover [0, dataLength) exactly, in some order, without gaps or overlaps. */
function checkTiling(tensors: TensorInfo[], dataLength: number, label: string): void {
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorInfo | undefined;
  for (const tensor of tensors) {
    if (tensor.begin < covered) {
      throw new FormatError(`${label}: tensor '${tensor.name}' data_offsets [${tensor.begin}, ${tensor.end}] overlap ` +
        `tensor '${previous?.name}' which ends at ${covered}`);
    }
    if (tensor.begin > covered) {
      throw new FormatError(`${label}: tensor '${tensor.name}' begins at ${tensor.begin} but the data before it ends at ` +
        `${covered} (safetensors allows no gaps)`);
    }
    if (tensor.end > dataLength) {
      throw new FormatError(`${label}: tensor '${tensor.name}' data_offsets [${tensor.begin}, ${tensor.end}] run past ` +
        `the ${dataLength}-byte data section`);
    }
    covered = tensor.end;
    previous = tensor;
  }
  if (covered !== dataLength) {
    throw new FormatError(`${label}: tensors cover ${covered} bytes but the data section holds ${dataLength} ` +
      `(truncated header or trailing bytes)`);
  }
}

function isNonNegativeSafeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
