// Batching token rows for analyses that scan a dataset: a forward pass needs rectangular input, so
// rows are grouped by length and each group is cut into batches (no padding, so no attention mask
// and no position shift to reason about).

import { ArgumentError } from '../util/errors.js';

/** Row indices grouped by row length, then cut into batches of at most batchSize. */
export function batchesByLength(rows: readonly (readonly number[])[], batchSize: number, what: string): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`${what}: batchSize must be a positive integer, got ${batchSize}`);
  if (rows.length === 0) throw new ArgumentError(`${what}: no token rows given`);
  const byLength = new Map<number, number[]>();
  rows.forEach((row, i) => {
    if (row.length === 0) throw new ArgumentError(`${what}: row ${i} is empty`);
    const group = byLength.get(row.length);
    if (group) group.push(i);
    else byLength.set(row.length, [i]);
  });
  const batches: number[][] = [];
  for (const indices of byLength.values()) {
    for (let i = 0; i < indices.length; i += batchSize) batches.push(indices.slice(i, i + batchSize));
  }
  return batches;
}
