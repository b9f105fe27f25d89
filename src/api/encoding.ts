// EncodedArray: a float32 array as base64 of its little-endian bytes — a third of the size of the
// same numbers as JSON text, and decoded without parsing. Hand-written base64 because Node's
// Buffer does not exist in browsers and btoa needs a binary string built first.

import { ArgumentError } from '../index.js';
import type { EncodedArray } from './protocol.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE_OF = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE_OF[ALPHABET.charCodeAt(i)] = i;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const chunk = 3 * 4096;
  for (let start = 0; start < bytes.length; start += chunk) {
    const end = Math.min(start + chunk, bytes.length);
    const codes: number[] = [];
    for (let i = start; i < end; i += 3) {
      const b0 = bytes[i];
      const b1 = i + 1 < end ? bytes[i + 1] : 0;
      const b2 = i + 2 < end ? bytes[i + 2] : 0;
      const n = (b0 << 16) | (b1 << 8) | b2;
      codes.push(ALPHABET.charCodeAt(n >> 18), ALPHABET.charCodeAt((n >> 12) & 63),
        i + 1 < end ? ALPHABET.charCodeAt((n >> 6) & 63) : 61, i + 2 < end ? ALPHABET.charCodeAt(n & 63) : 61);
    }
    parts.push(String.fromCharCode(...codes));
  }
  return parts.join('');
}

export function base64ToBytes(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new ArgumentError(`base64 text must have a length divisible by 4, got ${text.length}`);
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = new Uint8Array((text.length / 4) * 3 - padding);
  let out = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const code = text.charCodeAt(i + j);
      const value = code === 61 && i + j >= text.length - padding ? 0 : code < 128 ? VALUE_OF[code] : -1;
      if (value < 0) throw new ArgumentError(`invalid base64 character ${JSON.stringify(text[i + j])} at offset ${i + j}`);
      n = (n << 6) | value;
    }
    if (out < bytes.length) bytes[out++] = n >> 16;
    if (out < bytes.length) bytes[out++] = (n >> 8) & 255;
    if (out < bytes.length) bytes[out++] = n & 255;
  }
  return bytes;
}

/** Encodes `data` (length = product of `shape`) with its axis names. */
export function encodeFloat32(data: Float32Array, shape: readonly number[], axes: readonly string[]): EncodedArray {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length || shape.length !== axes.length) {
    throw new ArgumentError(`encodeFloat32: ${data.length} values do not fill shape [${shape.join(', ')}] with axes [${axes.join(', ')}]`);
  }
  const bytes = new Uint8Array(data.length * 4);
  if (LITTLE_ENDIAN) {
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } else {
    const view = new DataView(bytes.buffer);
    data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  }
  return { dtype: 'float32', shape: [...shape], axes: [...axes], data: bytesToBase64(bytes) };
}

/** The values of an EncodedArray (row-major, see its shape). */
export function decodeFloat32(encoded: EncodedArray): Float32Array {
  if (encoded.dtype !== 'float32') throw new ArgumentError(`decodeFloat32: dtype must be 'float32', got ${JSON.stringify(encoded.dtype)}`);
  const bytes = base64ToBytes(encoded.data);
  const size = encoded.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== size * 4) throw new ArgumentError(`decodeFloat32: ${bytes.length} bytes for shape [${encoded.shape.join(', ')}] (expected ${size * 4})`);
  if (LITTLE_ENDIAN) return new Float32Array(bytes.buffer, 0, size);
  const view = new DataView(bytes.buffer);
  return Float32Array.from({ length: size }, (_, i) => view.getFloat32(i * 4, true));
}
