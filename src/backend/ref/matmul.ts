// Batched matmul on strided operands: the oracle for the fast GEMMs and the CPU fallback.
// Sums run in float64 for float32 data too, so the oracle is more exact than what it checks.

import type { DataArray, MatrixView, Storage } from '../types.js';

/** Output rows (or columns) computed together, so each element read from memory feeds four sums. */
const ROW_BLOCK = 4;

/**
 * i-k-j: rows i..i+3 of a scale each row of b into float64 row accumulators, so b is read in
 * memory order once per block of four output rows.
 */
function matmulRowsOfB(a: DataArray, aBase: number, a0: MatrixView, b: DataArray, bBase: number,
  b0: MatrixView, m: number, k: number, n: number, out: DataArray, outBase: number, accumulate: boolean,
  acc: Float64Array): void {
  const { rowStride: ar, colStride: ac } = a0;
  for (let i = 0; i < m; i += ROW_BLOCK) {
    const rowsHere = Math.min(ROW_BLOCK, m - i);
    acc.fill(0);
    const aRow = aBase + i * ar;
    for (let p = 0; p < k; p++) {
      const bRow = bBase + p * b0.rowStride;
      const aAt = aRow + p * ac;
      if (rowsHere === ROW_BLOCK) {
        const s0 = a[aAt];
        const s1 = a[aAt + ar];
        const s2 = a[aAt + 2 * ar];
        const s3 = a[aAt + 3 * ar];
        for (let j = 0; j < n; j++) {
          const v = b[bRow + j];
          acc[j] += s0 * v;
          acc[n + j] += s1 * v;
          acc[2 * n + j] += s2 * v;
          acc[3 * n + j] += s3 * v;
        }
      } else {
        for (let r = 0; r < rowsHere; r++) {
          const scale = a[aAt + r * ar];
          const accRow = r * n;
          for (let j = 0; j < n; j++) acc[accRow + j] += scale * b[bRow + j];
        }
      }
    }
    const o = outBase + i * n;
    const count = rowsHere * n;
    if (accumulate) for (let j = 0; j < count; j++) out[o + j] += acc[j];
    else for (let j = 0; j < count; j++) out[o + j] = acc[j];
  }
}

/**
 * i-j-k dot products, four columns of b at a time (each element of a feeds four sums): for b
 * stored transposed (rowStride 1), where its columns are contiguous.
 */
function matmulDots(a: DataArray, aBase: number, a0: MatrixView, b: DataArray, bBase: number,
  b0: MatrixView, m: number, k: number, n: number, out: DataArray, outBase: number, accumulate: boolean,
  sums: Float64Array): void {
  const { rowStride: ar, colStride: ac } = a0;
  const { rowStride: br, colStride: bc } = b0;
  for (let i = 0; i < m; i++) {
    const aRow = aBase + i * ar;
    const o = outBase + i * n;
    for (let j = 0; j < n; j += ROW_BLOCK) {
      const colsHere = Math.min(ROW_BLOCK, n - j);
      const bCol = bBase + j * bc;
      if (colsHere === ROW_BLOCK) {
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let p = 0; p < k; p++) {
          const v = a[aRow + p * ac];
          const bAt = bCol + p * br;
          s0 += v * b[bAt];
          s1 += v * b[bAt + bc];
          s2 += v * b[bAt + 2 * bc];
          s3 += v * b[bAt + 3 * bc];
        }
        sums[0] = s0;
        sums[1] = s1;
        sums[2] = s2;
        sums[3] = s3;
      } else {
        for (let c = 0; c < colsHere; c++) {
          let sum = 0;
          for (let p = 0; p < k; p++) sum += a[aRow + p * ac] * b[bCol + c * bc + p * br];
          sums[c] = sum;
        }
      }
      for (let c = 0; c < colsHere; c++) out[o + j + c] = accumulate ? out[o + j + c] + sums[c] : sums[c];
    }
  }
}

export function matmul(a: MatrixView, b: MatrixView, batch: number, m: number, k: number, n: number,
  out: Storage, accumulate: boolean): void {
  const aData = a.storage.data;
  const bData = b.storage.data;
  const dst = out.data;
  const acc = b.colStride === 1 ? new Float64Array(ROW_BLOCK * n) : null;
  const sums = new Float64Array(ROW_BLOCK);
  for (let t = 0; t < batch; t++) {
    const aBase = a.offset + t * a.batchStride;
    const bBase = b.offset + t * b.batchStride;
    const outBase = t * m * n;
    if (acc) matmulRowsOfB(aData, aBase, a, bData, bBase, b, m, k, n, dst, outBase, accumulate, acc);
    else matmulDots(aData, aBase, a, bData, bBase, b, m, k, n, dst, outBase, accumulate, sums);
  }
}
