// Top-k along the last axis of dense [rows, n]. Sorted best first; equal values keep the lower
// index first; NaN counts as larger than every number (as in torch.topk).

import type { DataArray, Storage } from '../types.js';

/** Above this k a full sort of the row beats insertion into a sorted buffer of k. */
const INSERTION_MAX_K = 32;

/** Whether value a (at index ia) ranks before value b (at index ib). */
function ranksBefore(a: number, ia: number, b: number, ib: number, largest: boolean): boolean {
  const aNaN = a !== a;
  const bNaN = b !== b;
  if (aNaN || bNaN) {
    if (aNaN && bNaN) return ia < ib;
    return largest ? aNaN : bNaN;
  }
  if (a === b) return ia < ib;
  return largest ? a > b : a < b;
}

/** Keeps the best k seen so far, sorted, in bestValues/bestIndex: O(n·k), no allocation. */
function topkByInsertion(x: DataArray, base: number, n: number, k: number, largest: boolean,
  bestValues: Float64Array, bestIndex: Int32Array): void {
  let filled = 0;
  for (let j = 0; j < n; j++) {
    const v = x[base + j];
    // Indices arrive in increasing order, so a tie with the current worst never displaces it.
    if (filled === k && !ranksBefore(v, j, bestValues[k - 1], bestIndex[k - 1], largest)) continue;
    let slot = filled < k ? filled++ : k - 1;
    while (slot > 0 && ranksBefore(v, j, bestValues[slot - 1], bestIndex[slot - 1], largest)) {
      bestValues[slot] = bestValues[slot - 1];
      bestIndex[slot] = bestIndex[slot - 1];
      slot--;
    }
    bestValues[slot] = v;
    bestIndex[slot] = j;
  }
}

function topkBySort(x: DataArray, base: number, n: number, k: number, largest: boolean,
  bestValues: Float64Array, bestIndex: Int32Array): void {
  const order = new Int32Array(n);
  for (let j = 0; j < n; j++) order[j] = j;
  order.sort((a, b) => (ranksBefore(x[base + a], a, x[base + b], b, largest) ? -1 : 1));
  for (let j = 0; j < k; j++) {
    bestIndex[j] = order[j];
    bestValues[j] = x[base + order[j]];
  }
}

export function topk(x: Storage, rows: number, n: number, k: number, largest: boolean,
  values: Storage, indices: Storage): void {
  const src = x.data;
  const valueOut = values.data;
  const indexOut = indices.data;
  const bestValues = new Float64Array(k);
  const bestIndex = new Int32Array(k);
  if (k === 0) return;
  for (let r = 0; r < rows; r++) {
    if (k <= INSERTION_MAX_K) topkByInsertion(src, r * n, n, k, largest, bestValues, bestIndex);
    else topkBySort(src, r * n, n, k, largest, bestValues, bestIndex);
    valueOut.set(bestValues, r * k);
    indexOut.set(bestIndex, r * k);
  }
}
