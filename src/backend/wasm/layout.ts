// Folding strided views into the [rows, cols] form the elementwise kernels take: size-1 axes are
// dropped and adjacent axes merged wherever every operand allows it, so a contiguous tensor is one
// row, `x + bias` is [tokens, d] with the bias's row stride 0, and `x * rstd[..., None]` is
// [tokens, d] with rstd's column stride 0.

import type { Storage, View } from '../types.js';
import { WasmStorage, type Heap } from './heap.js';
import { UseAfterFreeError } from '../../util/errors.js';

/** One operand in the kernels' terms: element (r, c) at byte pointer + 4*(r*rowStride + c*colStride). */
export interface RowOperand {
  pointer: number;
  rowStride: number;
  colStride: number;
}

/** A call of a [rows, cols] kernel: one per slice of the leading axes that did not merge. */
export interface RowSlice {
  operands: RowOperand[];
  /** Element offset of this slice in the dense output. */
  outOffset: number;
}

export interface RowLayout {
  rows: number;
  cols: number;
  slices: RowSlice[];
}

/**
 * The storage as a float32 storage of `heap` that we can hand to kernels, or null if it is not one
 * (another dtype, another backend, or another wasm backend's memory).
 */
export function float32Storage(heap: Heap, storage: Storage): WasmStorage | null {
  if (!(storage instanceof WasmStorage) || storage.dtype !== 'float32' || storage.heap !== heap) return null;
  if (storage.freed) throw new UseAfterFreeError(`wasm storage of ${storage.length} float32 used after free()`);
  return storage;
}

/** Merged sizes and per-operand strides (size-1 axes dropped). */
function mergeAxes(shape: readonly number[], views: readonly View[]): { sizes: number[]; strides: number[][] } {
  const sizes: number[] = [];
  const strides: number[][] = views.map(() => []);
  for (let axis = 0; axis < shape.length; axis++) {
    const size = shape[axis];
    if (size === 1) continue;
    const last = sizes.length - 1;
    if (last >= 0 && views.every((view, k) => strides[k][last] === view.strides[axis] * size)) {
      sizes[last] *= size;
      views.forEach((view, k) => (strides[k][last] = view.strides[axis]));
    } else {
      sizes.push(size);
      views.forEach((view, k) => strides[k].push(view.strides[axis]));
    }
  }
  return { sizes, strides };
}

/** At most this many kernel calls per op; beyond it, the TS reference loops are as good. */
const MAX_SLICES = 4096;

/**
 * The [rows, cols] layout of float32 views of `shape`, or null when a view is not a float32 wasm
 * storage, an operand's innermost stride is neither 0 nor 1, or the op would take too many slices.
 */
export function rowLayout(heap: Heap, shape: readonly number[], views: readonly View[]): RowLayout | null {
  const storages = views.map((view) => float32Storage(heap, view.storage));
  if (storages.some((s) => s === null)) return null;
  const { sizes, strides } = mergeAxes(shape, views);
  while (sizes.length < 2) {
    sizes.unshift(1);
    strides.forEach((s) => s.unshift(0));
  }
  const axes = sizes.length;
  const rows = sizes[axes - 2];
  const cols = sizes[axes - 1];
  if (strides.some((s) => s[axes - 1] !== 0 && s[axes - 1] !== 1)) return null;
  const leading = sizes.slice(0, axes - 2);
  const sliceCount = leading.reduce((a, b) => a * b, 1);
  if (sliceCount > MAX_SLICES || sliceCount === 0) return null;
  const slices: RowSlice[] = [];
  const index = new Array<number>(leading.length).fill(0);
  for (let slice = 0; slice < sliceCount; slice++) {
    const operands = views.map((view, k) => {
      let offset = view.offset;
      for (let axis = 0; axis < leading.length; axis++) offset += index[axis] * strides[k][axis];
      return {
        pointer: (storages[k] as WasmStorage).byteOffset + 4 * offset,
        rowStride: strides[k][axes - 2],
        colStride: strides[k][axes - 1],
      };
    });
    slices.push({ operands, outOffset: slice * rows * cols });
    for (let axis = leading.length - 1; axis >= 0; axis--) {
      if (++index[axis] < leading[axis]) break;
      index[axis] = 0;
    }
  }
  return { rows, cols, slices };
}
