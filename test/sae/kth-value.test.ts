// The per-row k-th largest value (heap for small k, quickselect for large k) equals the k-th entry
// of the row sorted in descending order, for random rows with ties, sorted and reversed rows, in
// float32 and float64, for every k.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/tensor/index.js';
import { kthLargestPerRow } from '../../src/sae/kth-value.js';
import { ArgumentError } from '../../src/util/errors.js';

function reference(row: ArrayLike<number>, k: number): number {
  return Array.from(row).sort((a, b) => b - a)[k - 1];
}

test('k-th largest per row equals the sorted reference for every k', () => {
  const rng = new Rng(5);
  for (const n of [1, 2, 7, 33, 100]) {
    const rows = 4;
    const kinds = [
      Float32Array.from({ length: rows * n }, () => Math.round(rng.normal() * 4) / 2), // many ties
      Float64Array.from({ length: rows * n }, () => rng.normal()),
      Float32Array.from({ length: rows * n }, (_, i) => i % n), // each row sorted ascending
      Float32Array.from({ length: rows * n }, (_, i) => n - (i % n)), // descending
    ];
    for (const data of kinds) {
      for (let k = 1; k <= n; k++) {
        const got = kthLargestPerRow(data, rows, n, k);
        assert.equal(got instanceof Float64Array, data instanceof Float64Array, 'keeps the precision');
        for (let r = 0; r < rows; r++) {
          const want = reference(data.subarray(r * n, (r + 1) * n), k);
          assert.ok(got[r] === want, `n ${n} k ${k} row ${r}: ${got[r]} vs ${want}`);
        }
      }
    }
  }
  assert.throws(() => kthLargestPerRow(new Float32Array(4), 1, 4, 5), ArgumentError);
});
