// Gather and scatter-add along the middle axis of dense [outer, n, inner] tensors.

import type { AxisLayout, Storage } from '../types.js';

/** out [outer, ids.length, inner] = x [outer, n, inner] at ids along n. */
export function indexSelect(x: Storage, layout: AxisLayout, ids: Storage, out: Storage): void {
  const { outer, n, inner } = layout;
  const src = x.data;
  const dst = out.data;
  const idData = ids.data;
  const count = ids.length;
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < count; t++) {
      const from = (o * n + idData[t]) * inner;
      const to = (o * count + t) * inner;
      for (let i = 0; i < inner; i++) dst[to + i] = src[from + i];
    }
  }
}

/** out [outer, n, inner] += src [outer, ids.length, inner] at ids along n; repeated ids add up. */
export function indexAdd(src: Storage, layout: AxisLayout, ids: Storage, out: Storage): void {
  const { outer, n, inner } = layout;
  const from = src.data;
  const dst = out.data;
  const idData = ids.data;
  const count = ids.length;
  for (let o = 0; o < outer; o++) {
    for (let t = 0; t < count; t++) {
      const to = (o * n + idData[t]) * inner;
      const at = (o * count + t) * inner;
      for (let i = 0; i < inner; i++) dst[to + i] += from[at + i];
    }
  }
}
