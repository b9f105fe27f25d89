// Rotary position embedding tables: cos/sin of position × inverse frequency, computed the way
// Hugging Face does it (float32 inverse frequencies base^(-2i/d), float32 products) so that our
// angles agree with theirs bit for bit in most entries, including the 'linear' and 'llama3'
// frequency scalings.

import { tensor } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Backend } from '../backend/types.js';

export type RopeScalingSpec =
  | { type: 'linear'; factor: number }
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };

const f32 = Math.fround;

/** inv_freq[i] = 1 / base^(2i / rotaryDim), i < rotaryDim/2, then scaled as the config says. */
export function inverseFrequencies(rotaryDim: number, base: number, scaling: RopeScalingSpec | null): Float64Array {
  const half = rotaryDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = f32(1 / f32(Math.pow(base, f32((2 * i) / rotaryDim))));
  if (scaling?.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] = f32(inv[i] / scaling.factor);
  } else if (scaling?.type === 'llama3') {
    const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: oldLen } = scaling;
    const lowFreqWavelen = oldLen / lowFreqFactor;
    const highFreqWavelen = oldLen / highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowFreqWavelen) {
        inv[i] = f32(inv[i] / factor);
      } else if (wavelen >= highFreqWavelen) {
        const smooth = (oldLen / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        inv[i] = f32((1 - smooth) * (inv[i] / factor) + smooth * inv[i]);
      }
    }
  }
  return inv;
}

/** cos and sin, each [batch, pos, rotaryDim/2], for integer positions [batch][pos]. */
export function rotaryTables(positions: readonly (readonly number[])[], invFreq: Float64Array, backend: Backend): { cos: Tensor; sin: Tensor } {
  const batch = positions.length;
  const pos = batch > 0 ? positions[0].length : 0;
  const half = invFreq.length;
  const cos = new Float32Array(batch * pos * half);
  const sin = new Float32Array(batch * pos * half);
  let o = 0;
  for (let b = 0; b < batch; b++) {
    const row = positions[b];
    for (let p = 0; p < pos; p++) {
      const t = row[p];
      for (let i = 0; i < half; i++, o++) {
        const angle = f32(t * invFreq[i]);
        cos[o] = Math.cos(angle);
        sin[o] = Math.sin(angle);
      }
    }
  }
  return {
    cos: tensor(cos, [batch, pos, half], { backend }),
    sin: tensor(sin, [batch, pos, half], { backend }),
  };
}
