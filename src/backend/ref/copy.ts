// Strided copy with dtype cast, and fill. Typed-array stores do the cast: float→int32 truncates
// toward zero (as torch's .to(int32) does), float64→float32 rounds to nearest.

import type { Storage, View } from '../types.js';
import { StridedRows } from './strided.js';

export function copy(src: View, dst: View): void {
  const rows = new StridedRows(src.shape, [src, dst]);
  const from = src.storage.data;
  const to = dst.storage.data;
  const ss = rows.rowStrides[0];
  const ds = rows.rowStrides[1];
  const n = rows.rowLength;
  for (let r = 0; r < rows.rowCount; r++) {
    const so = rows.offsets[0];
    const d = rows.offsets[1];
    if (ss === 1 && ds === 1 && from.constructor === to.constructor) {
      to.set(from.subarray(so, so + n), d);
    } else {
      for (let i = 0; i < n; i++) to[d + i * ds] = from[so + i * ss];
    }
    rows.next();
  }
}

export function fill(dst: Storage, value: number, offset: number, length: number): void {
  dst.data.fill(value, offset, offset + length);
}
