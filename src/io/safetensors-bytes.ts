// Safetensors held in memory: a fetched ArrayBuffer in the browser, or a buffer in tests. Pure
// (no Node APIs).

import { UseAfterFreeError } from '../util/errors.js';
import { decodeTensorBytes } from './safetensors-dtypes.js';
import { HeaderBackedSource } from './header-source.js';
import { parseHeader, readHeaderLength, type SafetensorsHeader } from './safetensors-header.js';
import { checkTargetLength, type LoadedTensor, type TensorSource } from './tensor-source.js';

/**
 * Validate the header of an in-memory safetensors file and give access to its tensors. F32 (and
 * other aligned) results are views into `bytes`, so writes to them show in `bytes`; half floats
 * and I64 are decoded into new arrays.
 */
export function openSafetensorsBytes(bytes: Uint8Array, label = '<memory>'): SafetensorsBytes {
  const headerLength = readHeaderLength(bytes.subarray(0, 8), bytes.byteLength, label);
  const header = parseHeader(bytes.subarray(8, 8 + headerLength), bytes.byteLength - 8 - headerLength, label);
  return new SafetensorsBytes(bytes, header, label);
}

export class SafetensorsBytes extends HeaderBackedSource implements TensorSource {
  private bytes: Uint8Array | undefined;

  constructor(bytes: Uint8Array, header: SafetensorsHeader, label: string) {
    super(header, label);
    this.bytes = bytes;
  }

  readBytesSync(name: string): Uint8Array {
    const info = this.info(name);
    if (!this.bytes) throw new UseAfterFreeError(`${this.label}: read of '${name}' after close()`);
    const start = this.header.dataStart + info.begin;
    return this.bytes.subarray(start, start + info.end - info.begin);
  }

  readSync(name: string): LoadedTensor {
    const info = this.info(name);
    const data = decodeTensorBytes(this.readBytesSync(name), info.dtype, `${this.label}: tensor '${name}'`);
    return { name, dtype: info.dtype, shape: [...info.shape], data };
  }

  async read(name: string): Promise<LoadedTensor> {
    return this.readSync(name);
  }

  async readBytes(name: string): Promise<Uint8Array> {
    return this.readBytesSync(name);
  }

  async readBytesInto(name: string, target: Uint8Array): Promise<void> {
    const bytes = this.readBytesSync(name);
    checkTargetLength(name, target, bytes.byteLength, this.label);
    target.set(bytes);
  }

  async close(): Promise<void> {
    this.bytes = undefined;
  }
}
