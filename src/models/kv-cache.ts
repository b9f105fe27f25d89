// Keys and values of past positions, per layer, so generation runs each new token through the
// model once instead of re-running the whole prefix. Keys are stored after rotary, as HF does.

import { concat, keep, noGrad, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';

export class KVCache {
  private readonly keys: (Tensor | null)[];
  private readonly values: (Tensor | null)[];
  /** Padding mask of every position seen so far, per batch row (1 real, 0 padding). */
  mask: number[][] | null = null;

  constructor(readonly nLayers: number) {
    this.keys = new Array(nLayers).fill(null);
    this.values = new Array(nLayers).fill(null);
  }

  /** Batch size of what is cached, or null while empty. */
  get batch(): number | null {
    const k = this.keys[0];
    return k === null ? null : k.shape[0];
  }

  /** Positions cached so far. */
  get length(): number {
    const k = this.keys[0];
    return k === null ? 0 : k.shape[1];
  }

  /**
   * Appends this step's k and v ([batch, pos, kvHeads, dHead]) for `layer` and returns the full
   * ones. The cache owns what it stores (kept out of the forward pass's tidy).
   */
  append(layer: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const pastK = this.keys[layer];
    const pastV = this.values[layer];
    const fullK = keep(pastK === null ? k.contiguous() : concat([pastK, k], 1));
    const fullV = keep(pastV === null ? v.contiguous() : concat([pastV, v], 1));
    pastK?.dispose();
    pastV?.dispose();
    this.keys[layer] = fullK;
    this.values[layer] = fullV;
    return { k: fullK, v: fullV };
  }

  /**
   * @internal Undoes a forward pass that failed part-way (a hook threw after some layers had
   * appended): every layer goes back to `length` positions and the mask to `mask`.
   */
  truncate(length: number, mask: number[][] | null): void {
    for (const store of [this.keys, this.values]) {
      for (let l = 0; l < this.nLayers; l++) {
        const t = store[l];
        if (t === null || t.shape[1] <= length) continue;
        store[l] = length === 0 ? null : keep(tidy(() => noGrad(() => t.narrow(1, 0, length).clone())));
        t.dispose();
      }
    }
    this.mask = mask;
  }

  dispose(): void {
    for (let l = 0; l < this.nLayers; l++) {
      this.keys[l]?.dispose();
      this.values[l]?.dispose();
      this.keys[l] = null;
      this.values[l] = null;
    }
    this.mask = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
