// The ref backend: plain typed arrays and the plain-TS kernels. Slow, exact, and the oracle.

import { ArgumentError, UseAfterFreeError } from '../../util/errors.js';
import type { Backend, BackendName, DataArray, DType, Storage } from '../types.js';
import { refKernels } from './kernels.js';

const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

function newArray(dtype: DType, length: number): DataArray {
  switch (dtype) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
    case 'int32': return new Int32Array(length);
    default: return dtype satisfies never;
  }
}

class RefStorage implements Storage {
  readonly backend: BackendName = 'ref';
  private array: DataArray | null;

  constructor(readonly dtype: DType, readonly length: number, array: DataArray, readonly owner: RefBackend) {
    this.array = array;
  }

  get data(): DataArray {
    if (!this.array) throw new UseAfterFreeError(`ref storage (${this.dtype}, ${this.length} elements) was used after free`);
    return this.array;
  }

  get freed(): boolean {
    return this.array === null;
  }

  /** Hands the array back for pooling; later access to `data` throws. */
  release(): DataArray {
    const array = this.data;
    this.array = null;
    return array;
  }
}

/** Freed arrays kept for reuse are capped so a burst of large temporaries cannot pin memory. */
const DEFAULT_POOL_CAP_BYTES = 256 * 1024 * 1024;

export class RefBackend implements Backend {
  readonly name = 'ref' as const;
  readonly threads = 1;

  readonly copy = refKernels.copy;
  readonly fill = refKernels.fill;
  readonly unary = refKernels.unary;
  readonly binary = refKernels.binary;
  readonly binaryScalar = refKernels.binaryScalar;
  readonly where = refKernels.where;
  readonly reduce = refKernels.reduce;
  readonly cumsum = refKernels.cumsum;
  readonly topk = refKernels.topk;
  readonly softmax = refKernels.softmax;
  readonly layerNorm = refKernels.layerNorm;
  readonly rmsNorm = refKernels.rmsNorm;
  readonly rotary = refKernels.rotary;
  readonly matmul = refKernels.matmul;
  readonly indexSelect = refKernels.indexSelect;
  readonly indexAdd = refKernels.indexAdd;

  private readonly pool = new Map<string, DataArray[]>();
  private pooledBytes = 0;
  private live = 0;
  private liveByteCount = 0;
  private disposed = false;

  constructor(private readonly poolCapBytes = DEFAULT_POOL_CAP_BYTES) {}

  alloc(dtype: DType, length: number): Storage {
    if (this.disposed) throw new UseAfterFreeError('the ref backend was used after dispose()');
    if (!Number.isInteger(length) || length < 0) {
      throw new ArgumentError(`alloc length must be a non-negative integer, got ${length}`);
    }
    const bytes = length * BYTES_PER_ELEMENT[dtype];
    const pooled = this.pool.get(`${dtype}:${length}`)?.pop();
    let array: DataArray;
    if (pooled) {
      this.pooledBytes -= bytes;
      pooled.fill(0);
      array = pooled;
    } else {
      array = newArray(dtype, length);
    }
    this.live++;
    this.liveByteCount += bytes;
    return new RefStorage(dtype, length, array, this);
  }

  free(storage: Storage): void {
    if (!(storage instanceof RefStorage) || storage.owner !== this) {
      throw new ArgumentError(`this ref backend cannot free a storage it did not allocate (backend '${storage.backend}')`);
    }
    if (storage.freed) {
      throw new UseAfterFreeError(`ref storage (${storage.dtype}, ${storage.length} elements) was freed twice`);
    }
    const array = storage.release();
    const bytes = array.byteLength;
    this.live--;
    this.liveByteCount -= bytes;
    if (this.disposed || this.pooledBytes + bytes > this.poolCapBytes) return;
    const key = `${storage.dtype}:${storage.length}`;
    let bucket = this.pool.get(key);
    if (!bucket) {
      bucket = [];
      this.pool.set(key, bucket);
    }
    bucket.push(array);
    this.pooledBytes += bytes;
  }

  liveBuffers(): number {
    return this.live;
  }

  liveBytes(): number {
    return this.liveByteCount;
  }

  /** Bytes held by freed buffers waiting for reuse (for tests of the pool cap). */
  pooledByteCount(): number {
    return this.pooledBytes;
  }

  dispose(): void {
    this.pool.clear();
    this.pooledBytes = 0;
    this.disposed = true;
  }
}
