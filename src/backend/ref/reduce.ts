// Reductions and scans over the middle axis of a dense [outer, n, inner] tensor. Accumulators are
// float64 whatever the data's dtype. Loops run over inner innermost, so memory is read in order.

import type { AxisLayout, ReduceOp, Storage } from '../types.js';

function sumInto(x: Float32Array | Float64Array | Int32Array, base: number, n: number, inner: number,
  acc: Float64Array): void {
  if (inner === 1) {
    // Reducing the last axis: a scalar accumulator, no inner loop.
    let sum = 0;
    for (let j = 0; j < n; j++) sum += x[base + j];
    acc[0] = sum;
    return;
  }
  acc.fill(0);
  for (let j = 0; j < n; j++) {
    const row = base + j * inner;
    for (let i = 0; i < inner; i++) acc[i] += x[row + i];
  }
}

/**
 * Running max (or min) and its first index per inner position. NaN wins and stays (torch
 * propagates NaN through max/min and argmax points at the first NaN); ties keep the lower index.
 */
function extremeInto(x: Float32Array | Float64Array | Int32Array, base: number, n: number, inner: number,
  largest: boolean, best: Float64Array, bestIndex: Int32Array): void {
  for (let i = 0; i < inner; i++) {
    best[i] = x[base + i];
    bestIndex[i] = 0;
  }
  for (let j = 1; j < n; j++) {
    const row = base + j * inner;
    for (let i = 0; i < inner; i++) {
      const v = x[row + i];
      const current = best[i];
      if (current !== current) continue;
      if ((largest ? v > current : v < current) || v !== v) {
        best[i] = v;
        bestIndex[i] = j;
      }
    }
  }
}

/** log Σ exp, shifted by the max; all -Infinity gives -Infinity, any +Infinity gives +Infinity. */
function logSumExpInto(x: Float32Array | Float64Array | Int32Array, base: number, n: number, inner: number,
  max: Float64Array, maxIndex: Int32Array, acc: Float64Array): void {
  extremeInto(x, base, n, inner, true, max, maxIndex);
  acc.fill(0);
  for (let j = 0; j < n; j++) {
    const row = base + j * inner;
    for (let i = 0; i < inner; i++) acc[i] += Math.exp(x[row + i] - max[i]);
  }
  for (let i = 0; i < inner; i++) {
    const m = max[i];
    acc[i] = m === Infinity || m === -Infinity || m !== m ? m : m + Math.log(acc[i]);
  }
}

export function reduce(op: ReduceOp, x: Storage, layout: AxisLayout, out: Storage): void {
  const { outer, n, inner } = layout;
  const src = x.data;
  const dst = out.data;
  const acc = new Float64Array(inner);
  const index = new Int32Array(inner);
  const max = op === 'logsumexp' ? new Float64Array(inner) : acc;
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    switch (op) {
      case 'sum': sumInto(src, base, n, inner, acc); break;
      case 'max': case 'argmax': extremeInto(src, base, n, inner, true, acc, index); break;
      case 'min': case 'argmin': extremeInto(src, base, n, inner, false, acc, index); break;
      case 'logsumexp': logSumExpInto(src, base, n, inner, max, index, acc); break;
      default: op satisfies never;
    }
    dst.set(op === 'argmax' || op === 'argmin' ? index : acc, o * inner);
  }
}

export function cumsum(x: Storage, layout: AxisLayout, reverse: boolean, out: Storage): void {
  const { outer, n, inner } = layout;
  const src = x.data;
  const dst = out.data;
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    acc.fill(0);
    for (let step = 0; step < n; step++) {
      const row = base + (reverse ? n - 1 - step : step) * inner;
      for (let i = 0; i < inner; i++) {
        acc[i] += src[row + i];
        dst[row + i] = acc[i];
      }
    }
  }
}
