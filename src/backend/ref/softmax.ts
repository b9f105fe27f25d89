// Softmax and log-softmax over dense rows, max-subtracted, with an optional causal mask.

import type { CausalMask, Storage } from '../types.js';

export function softmax(x: Storage, rows: number, n: number, log: boolean, causal: CausalMask | null,
  out: Storage): void {
  const src = x.data;
  const dst = out.data;
  // exp(x - max) kept in float64 between the sum and the scaling (one exp per element, and no
  // extra rounding to float32 in between).
  const shifted = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    // Keys j < kept survive the mask: j <= query + offset.
    const kept = causal ? Math.max(0, Math.min(n, (r % causal.queryLen) + causal.offset + 1)) : n;
    let max = -Infinity;
    for (let j = 0; j < kept; j++) {
      const v = src[base + j];
      if (v > max || v !== v) max = v;
      if (max !== max) break;
    }
    // A row whose every kept entry is -Infinity (or that keeps none) has no mass anywhere: we
    // define it as all-masked (0, log -Infinity) instead of torch's 0/0 = NaN.
    if (max === -Infinity) {
      dst.fill(log ? -Infinity : 0, base, base + n);
      continue;
    }
    let total = 0;
    for (let j = 0; j < kept; j++) {
      shifted[j] = Math.exp(src[base + j] - max);
      total += shifted[j];
    }
    if (log) {
      const logTotal = Math.log(total);
      for (let j = 0; j < kept; j++) dst[base + j] = src[base + j] - max - logTotal;
    } else {
      const scale = 1 / total;
      for (let j = 0; j < kept; j++) dst[base + j] = shifted[j] * scale;
    }
    dst.fill(log ? -Infinity : 0, base + kept, base + n);
  }
}
