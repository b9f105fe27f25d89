// Which strided layouts the native elementwise kernels read directly. Anything else (transposed or
// gapped views) goes to the ref kernels, which handle every stride.

import type { View } from '../types.js';

/** True when dims [from, to) of the view are dense row-major among themselves (size-1 dims ignored). */
function denseRange(view: View, from: number, to: number): boolean {
  let expected = 1;
  for (let axis = to - 1; axis >= from; axis--) {
    const size = view.shape[axis];
    if (size !== 1 && view.strides[axis] !== expected) return false;
    expected *= size;
  }
  return true;
}

/** True when dims [from, to) all repeat one element (stride 0 or size 1). */
function broadcastRange(view: View, from: number, to: number): boolean {
  for (let axis = from; axis < to; axis++) {
    if (view.shape[axis] !== 1 && view.strides[axis] !== 0) return false;
  }
  return true;
}

/** Dense row-major from its offset: the kernels can read it as one flat run. */
export function isDense(view: View): boolean {
  return denseRange(view, 0, view.shape.length);
}

/** How an operand is read for element (r, j) of [rows, n]; values match Broadcast in native/src/kernels.h. */
export const BroadcastMode = {
  /** [r * n + j] */
  Full: 0,
  /** [j]: one row read again for every r */
  Row: 1,
  /** [r]: one value per row */
  Column: 2,
} as const;
export type BroadcastMode = (typeof BroadcastMode)[keyof typeof BroadcastMode];

/** Both operands of a binary op read as [rows, n] with one broadcast mode each. */
export interface BinaryPlan {
  readonly rows: number;
  readonly n: number;
  readonly aMode: BroadcastMode;
  readonly bMode: BroadcastMode;
}

function modeAt(view: View, split: number): BroadcastMode | null {
  const rank = view.shape.length;
  if (isDense(view)) return BroadcastMode.Full;
  // Row: the trailing dims [split, rank) are one dense row read again for every leading index.
  if (broadcastRange(view, 0, split) && denseRange(view, split, rank)) return BroadcastMode.Row;
  // Column: one value per leading index, repeated along the trailing dims.
  if (broadcastRange(view, split, rank) && denseRange(view, 0, split)) return BroadcastMode.Column;
  return null;
}

/**
 * How to run a (broadcast) binary op natively, or null if an operand has a layout the kernel does
 * not read. Shapes are equal (already broadcast). The first split that works gives the longest
 * inner run, which is what the vector loop wants.
 */
export function binaryPlan(a: View, b: View): BinaryPlan | null {
  const shape = a.shape;
  const rank = shape.length;
  let rows = 1;
  for (let split = 0; split <= rank; split++) {
    if (split > 0) rows *= shape[split - 1];
    const aMode = modeAt(a, split);
    if (aMode === null) continue;
    const bMode = modeAt(b, split);
    if (bMode === null) continue;
    let n = 1;
    for (let axis = split; axis < rank; axis++) n *= shape[axis];
    return { rows, n, aMode, bMode };
  }
  return null;
}
