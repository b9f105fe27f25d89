// Native storages are plain Float32Array / Int32Array in ordinary ArrayBuffers: the addon reads
// their memory in place (napi_get_typedarray_info), so nothing is copied in or out. Freed arrays go
// to a pool keyed by (dtype, length) for reuse, up to a byte cap.

import { ArgumentError, DTypeError, UseAfterFreeError } from '../../util/errors.js';
import type { BackendName, DType, Storage } from '../types.js';

export type NativeDType = 'float32' | 'int32';
export type NativeArray = Float32Array | Int32Array;

export class NativeStorage implements Storage {
  readonly backend: BackendName = 'native';
  private array: NativeArray | null;

  constructor(readonly dtype: NativeDType, readonly length: number, array: NativeArray,
    readonly owner: StoragePool) {
    this.array = array;
  }

  get data(): NativeArray {
    if (!this.array) throw new UseAfterFreeError(`native storage (${this.dtype}, ${this.length} elements) was used after free`);
    return this.array;
  }

  get freed(): boolean {
    return this.array === null;
  }

  /** Hands the array back for pooling; later access to `data` throws. */
  release(): NativeArray {
    const array = this.data;
    this.array = null;
    return array;
  }
}

/** Freed arrays kept for reuse are capped so a burst of large temporaries cannot pin memory. */
export const DEFAULT_POOL_CAP_BYTES = 256 * 1024 * 1024;

function checkDType(dtype: DType): NativeDType {
  if (dtype === 'float32' || dtype === 'int32') return dtype;
  throw new DTypeError(`the native backend stores float32 and int32, not ${dtype} (use the ref backend for ${dtype})`);
}

/** Allocation, freeing and the reuse pool of one native backend. */
export class StoragePool {
  // Key: length * 2 + (int32 ? 1 : 0), a number so lookups allocate nothing.
  private readonly buckets = new Map<number, NativeArray[]>();
  private pooledBytes = 0;
  private live = 0;
  private liveByteCount = 0;

  constructor(private readonly capBytes = DEFAULT_POOL_CAP_BYTES) {}

  alloc(dtype: DType, length: number): NativeStorage {
    const nativeDType = checkDType(dtype);
    if (!Number.isInteger(length) || length < 0) {
      throw new ArgumentError(`alloc length must be a non-negative integer, got ${length}`);
    }
    const pooled = this.buckets.get(length * 2 + (nativeDType === 'int32' ? 1 : 0))?.pop();
    let array: NativeArray;
    if (pooled) {
      this.pooledBytes -= pooled.byteLength;
      pooled.fill(0);
      array = pooled;
    } else {
      array = nativeDType === 'float32' ? new Float32Array(length) : new Int32Array(length);
    }
    this.live++;
    this.liveByteCount += array.byteLength;
    return new NativeStorage(nativeDType, length, array, this);
  }

  free(storage: Storage): void {
    if (!(storage instanceof NativeStorage) || storage.owner !== this) {
      throw new ArgumentError(`this native backend cannot free a storage it did not allocate (backend '${storage.backend}')`);
    }
    if (storage.freed) {
      throw new UseAfterFreeError(`native storage (${storage.dtype}, ${storage.length} elements) was freed twice`);
    }
    const array = storage.release();
    this.live--;
    this.liveByteCount -= array.byteLength;
    if (this.pooledBytes + array.byteLength > this.capBytes) return;
    const key = storage.length * 2 + (storage.dtype === 'int32' ? 1 : 0);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = [];
      this.buckets.set(key, bucket);
    }
    bucket.push(array);
    this.pooledBytes += array.byteLength;
  }

  liveBuffers(): number {
    return this.live;
  }

  liveBytes(): number {
    return this.liveByteCount;
  }

  /** Drops every pooled array (live storages stay valid). */
  clear(): void {
    this.buckets.clear();
    this.pooledBytes = 0;
  }
}
