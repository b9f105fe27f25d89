// A TensorSource is anything that holds named tensors and hands them out one at a time: a
// safetensors file on disk, one in memory (browser), or a sharded checkpoint. Returns typed arrays
// plus metadata, not Tensors: the model loader wraps them. Pure (no Node APIs).

import { ArgumentError, ShapeError } from '../util/errors.js';
import { closestMatches } from '../util/closest.js';
import type { DecodedArray, SafetensorsDType } from './safetensors-dtypes.js';
import type { TensorInfo } from './safetensors-header.js';

export interface LoadedTensor {
  name: string;
  /** The dtype stored in the file (the data may be widened: F16/BF16 → Float32Array, I64 → Int32Array). */
  dtype: SafetensorsDType;
  shape: number[];
  data: DecodedArray;
}

export interface TensorSource {
  /** A file path or other name used in error messages. */
  readonly label: string;
  /** The `__metadata__` strings (merged over shards for a sharded checkpoint). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensor names in storage order. */
  names(): string[];
  has(name: string): boolean;
  /** Dtype, shape and byte range of one tensor; throws ArgumentError (with close names) when absent. */
  info(name: string): TensorInfo;
  /** Read and decode one tensor; only its bytes are read. */
  read(name: string): Promise<LoadedTensor>;
  /** The tensor's raw little-endian bytes as stored, undecoded. */
  readBytes(name: string): Promise<Uint8Array>;
  /**
   * The raw bytes straight into `target` (exactly the tensor's byte length), e.g. a backend
   * buffer: loading float32 weights then needs no second copy of each tensor.
   */
  readBytesInto(name: string, target: Uint8Array): Promise<void>;
  /** Release file handles; later reads throw. Idempotent. */
  close(): Promise<void>;
}

export function missingTensorError(name: string, available: readonly string[], label: string): ArgumentError {
  const near = closestMatches(name, available);
  const hint = near.length > 0 ? `; did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : '';
  return new ArgumentError(`${label}: no tensor named '${name}' (it holds ${available.length} tensors)${hint}`);
}

/** readBytesInto's target must hold exactly the tensor's bytes. */
export function checkTargetLength(name: string, target: Uint8Array, byteLength: number, label: string): void {
  if (target.byteLength !== byteLength) {
    throw new ShapeError(`${label}: tensor '${name}' has ${byteLength} bytes; the target buffer has ${target.byteLength}`);
  }
}
