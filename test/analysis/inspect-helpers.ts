// Shared pieces of the analysis tests: fixture models on the ref backend (loaded once per file),
// plain-JS reference maths over flat arrays, and the live-buffer check.

import assert from 'node:assert/strict';
import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import type { HookedTransformer } from '../../src/models/transformer.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { FIXTURES, fixtureTokens, loadFixture } from '../models/helpers.js';

export { assertClose, maxAbsDiff, TestRng, assertThrowsWith } from '../models/helpers.js';
export const ref = getBackend('ref');
export { FIXTURES };

const loaded = new Map<string, Promise<{ model: HookedTransformer; tokens: number[][] }>>();

/** A fixture model on ref and its reference token rows, loaded once per test process. */
export function fixture(name: string): Promise<{ model: HookedTransformer; tokens: number[][] }> {
  let entry = loaded.get(name);
  if (entry === undefined) {
    entry = Promise.all([loadFixture(name, ref), fixtureTokens(name)]).then(([model, tokens]) => ({ model, tokens }));
    loaded.set(name, entry);
  }
  return entry;
}

/** Largest |x| of an array (for relative tolerances). */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Sum of a [n, ...rest] tensor over its first axis, in float64. */
export function sumFirstAxis(t: Tensor): Float64Array {
  const data = t.toArray();
  const inner = t.size / t.shape[0];
  const out = new Float64Array(inner);
  for (let i = 0; i < t.shape[0]; i++) for (let j = 0; j < inner; j++) out[j] += data[i * inner + j];
  return out;
}

/** Asserts fn leaves the ref backend's live buffer count where it found it. */
export function assertNoLeak(what: string, fn: () => void): void {
  const before = ref.liveBuffers();
  fn();
  assert.equal(ref.liveBuffers(), before, `${what}: live buffers before ${before}, after ${ref.liveBuffers()}`);
}

/** Row-major [rows, cols] matrix product in float64: a [n, k] · b [k, m]. */
export function matmulF64(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      if (x === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += x * b[p * m + j];
    }
  }
  return out;
}
