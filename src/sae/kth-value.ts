// The k-th largest value of each row, with a size-k min-heap (about n comparisons per row; a
// quickselect for large k) instead of a top-k sort: TopK SAEs only need the per-row threshold
// "the k-th largest pre-activation" to mask [tokens, d_sae] at once, and the backends' topk sorts
// rows for k > 32, which made AuxK (k = d_in/2 = 64) the most expensive part of a training step.

import { tensor, type Tensor } from '../tensor/index.js';
import { ArgumentError } from '../util/errors.js';

/** Restores the min-heap property of heap[0..size) below slot i. */
function siftDown(heap: Float32Array | Float64Array, size: number, i: number): void {
  const value = heap[i];
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && heap[child + 1] < heap[child]) child++;
    if (heap[child] >= value) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = value;
}

/**
 * The k-th largest of data[base..base+n): a min-heap of the k largest seen so far, whose root is
 * the answer. Most values of a row lose to the root at once, so a row costs about n comparisons.
 */
function kthOfRow(data: Float32Array | Float64Array, base: number, n: number, k: number, heap: Float32Array | Float64Array): number {
  for (let j = 0; j < k; j++) heap[j] = data[base + j];
  for (let i = (k >> 1) - 1; i >= 0; i--) siftDown(heap, k, i);
  for (let j = k; j < n; j++) {
    const v = data[base + j];
    if (v > heap[0]) {
      heap[0] = v;
      siftDown(heap, k, 0);
    }
  }
  return heap[0];
}

/** Hoare's quickselect (median-of-three pivot): rearranges scratch so scratch[target] is what a sort would put there. */
function quickselect(scratch: Float32Array | Float64Array, target: number): number {
  let lo = 0;
  let hi = scratch.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const a = scratch[lo];
    const b = scratch[mid];
    const c = scratch[hi];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (scratch[i] < pivot) i++;
      while (scratch[j] > pivot) j--;
      if (i <= j) {
        const t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return scratch[target];
}

/** The k-th largest value of each row of a dense row-major [rows, n] array (NaN-free). */
export function kthLargestPerRow(data: Float32Array | Float64Array, rows: number, n: number, k: number): Float32Array | Float64Array {
  if (!Number.isInteger(k) || k < 1 || k > n) throw new ArgumentError(`kthLargestPerRow: k = ${k} must be an integer in [1, ${n}]`);
  const wide = data instanceof Float64Array;
  const out = wide ? new Float64Array(rows) : new Float32Array(rows);
  if (k * 16 > n) {
    // A large k (BatchTopK's k·tokens over the whole batch): expected-linear selection on a copy.
    const scratch = wide ? new Float64Array(n) : new Float32Array(n);
    for (let r = 0; r < rows; r++) {
      scratch.set(data.subarray(r * n, (r + 1) * n));
      out[r] = quickselect(scratch, n - k);
    }
    return out;
  }
  const heap = wide ? new Float64Array(k) : new Float32Array(k);
  for (let r = 0; r < rows; r++) out[r] = kthOfRow(data, r * n, n, k, heap);
  return out;
}

/** [..., 1]: the k-th largest entry along the last axis of x (no gradient), same dtype and backend. */
export function kthLargest(x: Tensor, k: number): Tensor {
  const n = x.shape[x.ndim - 1];
  const rows = x.size / n;
  const values = kthLargestPerRow(x.toArray() as Float32Array | Float64Array, rows, n, k);
  return tensor(values, [...x.shape.slice(0, -1), 1], { dtype: x.dtype, backend: x.backend });
}
