// LayerNorm and RMSNorm over dense rows. Statistics use float64 accumulators for float32 data too:
// a float32 running sum over d=4096 loses digits that the backward pass then amplifies.

import type { Storage } from '../types.js';

export function layerNorm(x: Storage, rows: number, d: number, weight: Storage | null, bias: Storage | null,
  eps: number, out: Storage, mean: Storage | null, rstd: Storage | null): void {
  const src = x.data;
  const dst = out.data;
  const w = weight?.data ?? null;
  const b = bias?.data ?? null;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    let sum = 0;
    for (let i = 0; i < d; i++) sum += src[base + i];
    const rowMean = sum / d;
    // Two-pass, biased variance (divide by d), as torch/HF LayerNorm.
    let squares = 0;
    for (let i = 0; i < d; i++) {
      const centred = src[base + i] - rowMean;
      squares += centred * centred;
    }
    const rowRstd = 1 / Math.sqrt(squares / d + eps);
    for (let i = 0; i < d; i++) {
      let v = (src[base + i] - rowMean) * rowRstd;
      if (w) v *= w[i];
      if (b) v += b[i];
      dst[base + i] = v;
    }
    if (mean) mean.data[r] = rowMean;
    if (rstd) rstd.data[r] = rowRstd;
  }
}

/** With weight null the scale is 1 whatever weightOffset is (there is no weight to offset). */
export function rmsNorm(x: Storage, rows: number, d: number, weight: Storage | null, weightOffset: number,
  eps: number, out: Storage, rstd: Storage | null): void {
  const src = x.data;
  const dst = out.data;
  const w = weight?.data ?? null;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    let squares = 0;
    for (let i = 0; i < d; i++) squares += src[base + i] * src[base + i];
    const rowRstd = 1 / Math.sqrt(squares / d + eps);
    if (w) {
      for (let i = 0; i < d; i++) dst[base + i] = src[base + i] * rowRstd * (weightOffset + w[i]);
    } else {
      for (let i = 0; i < d; i++) dst[base + i] = src[base + i] * rowRstd;
    }
    if (rstd) rstd.data[r] = rowRstd;
  }
}
