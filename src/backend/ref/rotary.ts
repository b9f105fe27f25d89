// Rotary position embedding on dense [batch, pos, heads, headDim] with per-(batch, pos) angles.

import type { RotaryLayout, Storage } from '../types.js';

/**
 * Each pair (first, second) rotates by the angle of its frequency: first' = first·cos − second·sin,
 * second' = second·cos + first·sin. Both are read before either is written, so out may be x.
 */
export function rotary(x: Storage, batch: number, pos: number, heads: number, headDim: number,
  rotaryDim: number, cos: Storage, sin: Storage, layout: RotaryLayout, inverse: boolean, out: Storage): void {
  const src = x.data;
  const dst = out.data;
  const cosData = cos.data;
  const sinData = sin.data;
  const half = rotaryDim / 2;
  // 'half' pairs i with i + half (GPT-NeoX, Llama); 'interleaved' pairs 2i with 2i + 1 (GPT-J).
  const partnerOffset = layout === 'half' ? half : 1;
  const pairStride = layout === 'half' ? 1 : 2;
  const sinSign = inverse ? -1 : 1;
  for (let row = 0; row < batch * pos; row++) {
    const angleBase = row * half;
    for (let h = 0; h < heads; h++) {
      const base = (row * heads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const c = cosData[angleBase + i];
        const s = sinSign * sinData[angleBase + i];
        const first = base + i * pairStride;
        const second = first + partnerOffset;
        const a = src[first];
        const b = src[second];
        dst[first] = a * c - b * s;
        dst[second] = b * c + a * s;
      }
      for (let i = rotaryDim; i < headDim; i++) dst[base + i] = src[base + i];
    }
  }
}
