// Lazy safetensors reader for Node: opening reads only the header; each tensor read is one
// positioned read of exactly its bytes into fresh memory, so peak memory is about the tensor
// itself, never the file.

import { open, type FileHandle } from 'node:fs/promises';
import { IOError, UseAfterFreeError } from '../util/errors.js';
import { decodeTensorBytes } from './safetensors-dtypes.js';
import { HeaderBackedSource } from './header-source.js';
import { parseHeader, readHeaderLength, type SafetensorsHeader } from './safetensors-header.js';
import { checkTargetLength, type LoadedTensor, type TensorSource } from './tensor-source.js';

/** Open a .safetensors file and validate its header. Close it (or `await using`) when done. */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new IOError(`cannot open safetensors file '${path}': ${(error as Error).message}`);
  }
  try {
    const { size } = await handle.stat();
    const prefix = await readExactly(handle, 0, Math.min(8, size), path);
    const headerLength = readHeaderLength(prefix, size, path);
    const headerBytes = await readExactly(handle, 8, headerLength, path);
    const header = parseHeader(headerBytes, size - 8 - headerLength, path);
    return new SafetensorsFile(handle, header, path);
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export class SafetensorsFile extends HeaderBackedSource implements TensorSource {
  private handle: FileHandle | undefined;

  constructor(handle: FileHandle, header: SafetensorsHeader, label: string) {
    super(header, label);
    this.handle = handle;
  }

  async readBytes(name: string): Promise<Uint8Array> {
    const info = this.info(name);
    if (!this.handle) throw new UseAfterFreeError(`${this.label}: read of '${name}' after close()`);
    return readExactly(this.handle, this.header.dataStart + info.begin, info.end - info.begin, this.label);
  }

  async readBytesInto(name: string, target: Uint8Array): Promise<void> {
    const info = this.info(name);
    if (!this.handle) throw new UseAfterFreeError(`${this.label}: read of '${name}' after close()`);
    checkTargetLength(name, target, info.end - info.begin, this.label);
    await readExactlyInto(this.handle, this.header.dataStart + info.begin, target, this.label);
  }

  async read(name: string): Promise<LoadedTensor> {
    const info = this.info(name);
    const bytes = await this.readBytes(name);
    const data = decodeTensorBytes(bytes, info.dtype, `${this.label}: tensor '${name}'`);
    return { name, dtype: info.dtype, shape: [...info.shape], data };
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Node caps one read at 2 GiB; larger tensors are read in pieces into the same buffer. */
const MAX_READ_BYTES = 1 << 30;

/** Read `length` bytes at `position` into a new 8-byte-aligned buffer, or throw IOError if the file is shorter. */
async function readExactly(handle: FileHandle, position: number, length: number, label: string): Promise<Uint8Array> {
  const out = new Uint8Array(new ArrayBuffer(length));
  await readExactlyInto(handle, position, out, label);
  return out;
}

async function readExactlyInto(handle: FileHandle, position: number, out: Uint8Array, label: string): Promise<void> {
  const length = out.byteLength;
  let filled = 0;
  while (filled < length) {
    const chunk = Math.min(length - filled, MAX_READ_BYTES);
    const { bytesRead } = await handle.read(out, filled, chunk, position + filled);
    if (bytesRead === 0) {
      throw new IOError(`${label}: file ended after ${position + filled} bytes while reading ${length} bytes at ${position} ` +
        `(was it truncated or changed while open?)`);
    }
    filled += bytesRead;
  }
}
