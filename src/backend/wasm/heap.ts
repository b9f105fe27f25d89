// The wasm memory and its allocator. Every Storage of the wasm backend is a 64-byte-aligned block
// of one WebAssembly.Memory, so kernels (on any thread) address it by byte offset and TS code
// reads it through typed-array views.
//
// Allocation: freed blocks go to per-size-class free lists and are reused (a pool); otherwise a
// bump pointer advances, growing the memory when needed. Size classes trade waste for reuse:
//   ≤ 1 KiB       exact multiples of 64 B
//   ≤ 1 MiB       8 classes per power of two (≤ 12.5% waste)
//   > 1 MiB       multiples of 64 KiB (< 6% waste, typically < 1% for weights); a freed big block
//                 also serves a later request up to 1/8 smaller than itself.

import { ArgumentError, BackendError, UseAfterFreeError } from '../../util/errors.js';
import type { DataArray, DType, Storage } from '../types.js';
import type { WasmMemory } from './wasm-api.js';

export const ALIGNMENT = 64;
const PAGE_BYTES = 65536;
const SMALL_LIMIT = 1024;
const BIG_LIMIT = 1 << 20;
const BIG_GRANULE = 65536;

const ELEMENT_BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** The block size that serves a request of `bytes`. */
export function sizeClass(bytes: number): number {
  if (bytes <= SMALL_LIMIT) return Math.max(ALIGNMENT, roundUp(bytes, ALIGNMENT));
  if (bytes <= BIG_LIMIT) {
    const step = 2 ** (Math.ceil(Math.log2(bytes)) - 4); // an eighth of the enclosing power of two
    return roundUp(bytes, step);
  }
  return roundUp(bytes, BIG_GRANULE);
}

export class WasmStorage implements Storage {
  readonly backend = 'wasm' as const;
  /** Set by free(); any later use throws. */
  freed = false;
  private view: DataArray | null = null;
  private viewGeneration = -1;

  constructor(
    readonly heap: Heap,
    readonly dtype: DType,
    readonly length: number,
    /** Byte offset in the wasm memory (what kernels take as a pointer). */
    readonly byteOffset: number,
    /** Size of the block backing it (its size class). */
    readonly blockBytes: number,
  ) {}

  get data(): DataArray {
    if (this.freed) throw new UseAfterFreeError(`wasm storage of ${this.length} ${this.dtype} used after free()`);
    if (this.viewGeneration !== this.heap.generation) {
      this.view = this.heap.view(this.dtype, this.byteOffset, this.length);
      this.viewGeneration = this.heap.generation;
    }
    return this.view as DataArray;
  }
}

interface Block {
  offset: number;
  bytes: number;
}

export interface HeapStats {
  liveBuffers: number;
  liveBytes: number;
  /** Bytes held by the pool (freed blocks awaiting reuse). */
  pooledBytes: number;
  /** Bytes of wasm memory in use by the allocator: bump pointer minus heap start. */
  reservedBytes: number;
}

export class Heap {
  /** Bumped whenever the memory grows, so storages know to re-create their views. */
  generation = 0;
  private buffer: ArrayBufferLike;
  /** All of memory as bytes, for zero-filling without a view per allocation. */
  private bytes: Uint8Array;
  private top: number;
  private readonly start: number;
  private readonly freeLists = new Map<number, number[]>();
  /** Freed blocks above BIG_LIMIT, as [offset, bytes], for best-fit reuse across size classes. */
  private readonly bigFree: Array<[number, number]> = [];
  private pooledBytes = 0;
  private liveBuffers = 0;
  private liveBytes = 0;

  constructor(readonly memory: WasmMemory, heapBase: number) {
    this.start = roundUp(heapBase, ALIGNMENT);
    this.top = this.start;
    this.buffer = memory.buffer;
    this.bytes = new Uint8Array(this.buffer);
  }

  /** A zero-filled storage; `internal` blocks (stacks, scratch) are not counted as live buffers. */
  alloc(dtype: DType, length: number, internal = false): WasmStorage {
    if (!Number.isInteger(length) || length < 0) {
      throw new ArgumentError(`alloc length ${length}: expected a non-negative integer`);
    }
    const elementBytes = ELEMENT_BYTES[dtype];
    if (elementBytes === undefined) throw new ArgumentError(`alloc dtype '${dtype}': expected float32, float64 or int32`);
    const bytes = length * elementBytes;
    const blockBytes = sizeClass(bytes);
    const reused = this.takeFromPool(blockBytes);
    let storage: WasmStorage;
    if (reused) {
      // Memory past the bump pointer is zero from memory.grow; reused blocks are not.
      this.bytes.fill(0, reused.offset, reused.offset + bytes);
      storage = new WasmStorage(this, dtype, length, reused.offset, reused.bytes);
    } else {
      storage = new WasmStorage(this, dtype, length, this.bump(blockBytes), blockBytes);
    }
    if (!internal) {
      this.liveBuffers++;
      this.liveBytes += bytes;
    }
    return storage;
  }

  free(storage: Storage, internal = false): void {
    if (!(storage instanceof WasmStorage) || storage.heap !== this) {
      throw new ArgumentError(`free: a storage of backend '${storage.backend}' that this wasm backend did not allocate`);
    }
    if (storage.freed) throw new UseAfterFreeError(`wasm storage of ${storage.length} ${storage.dtype} freed twice`);
    storage.freed = true;
    if (!internal) {
      this.liveBuffers--;
      this.liveBytes -= storage.length * ELEMENT_BYTES[storage.dtype];
    }
    this.pooledBytes += storage.blockBytes;
    if (storage.blockBytes > BIG_LIMIT) {
      this.bigFree.push([storage.byteOffset, storage.blockBytes]);
      return;
    }
    let list = this.freeLists.get(storage.blockBytes);
    if (!list) this.freeLists.set(storage.blockBytes, (list = []));
    list.push(storage.byteOffset);
  }

  stats(): HeapStats {
    return {
      liveBuffers: this.liveBuffers,
      liveBytes: this.liveBytes,
      pooledBytes: this.pooledBytes,
      reservedBytes: this.top - this.start,
    };
  }

  /** A typed-array view of `length` elements at byteOffset, on the current buffer. */
  view(dtype: DType, byteOffset: number, length: number): DataArray {
    const buffer = this.buffer;
    switch (dtype) {
      case 'float32': return new Float32Array(buffer, byteOffset, length);
      case 'float64': return new Float64Array(buffer, byteOffset, length);
      case 'int32': return new Int32Array(buffer, byteOffset, length);
      default: throw new ArgumentError(`dtype '${dtype satisfies never}': expected float32, float64 or int32`);
    }
  }

  private takeFromPool(blockBytes: number): Block | null {
    if (blockBytes > BIG_LIMIT) return this.takeBig(blockBytes);
    const offset = this.freeLists.get(blockBytes)?.pop();
    if (offset === undefined) return null;
    this.pooledBytes -= blockBytes;
    return { offset, bytes: blockBytes };
  }

  /**
   * The smallest freed big block that fits and wastes at most 1/8 of itself. Blocks are not split:
   * the storage keeps the block's real size, so free() returns all of it.
   */
  private takeBig(blockBytes: number): Block | null {
    let best = -1;
    for (let i = 0; i < this.bigFree.length; i++) {
      const size = this.bigFree[i][1];
      if (size >= blockBytes && size - blockBytes <= size / 8 && (best < 0 || size < this.bigFree[best][1])) best = i;
    }
    if (best < 0) return null;
    const [offset, size] = this.bigFree[best];
    this.bigFree.splice(best, 1);
    this.pooledBytes -= size;
    return { offset, bytes: size };
  }

  private bump(blockBytes: number): number {
    const offset = this.top;
    const end = offset + blockBytes;
    if (end > this.buffer.byteLength) this.grow(end);
    this.top = end;
    return offset;
  }

  /** Grows the memory to hold `end` bytes, by at least 1/8 of its size so growth is amortised. */
  private grow(end: number): void {
    const currentPages = this.buffer.byteLength / PAGE_BYTES;
    const neededPages = Math.ceil(end / PAGE_BYTES) - currentPages;
    const maximumPages = 65536;
    const pages = Math.min(Math.max(neededPages, Math.ceil(currentPages / 8)), maximumPages - currentPages);
    try {
      if (pages < neededPages) throw new RangeError('over the 4 GiB limit of wasm32');
      this.memory.grow(pages);
    } catch (err) {
      const stats = this.stats();
      throw new BackendError(`wasm memory cannot grow to ${end} bytes (${(err as Error).message}); ` +
        `${stats.liveBytes} bytes live in ${stats.liveBuffers} buffers, ${stats.pooledBytes} bytes pooled`);
    }
    this.buffer = this.memory.buffer;
    this.bytes = new Uint8Array(this.buffer);
    this.generation++;
  }
}
