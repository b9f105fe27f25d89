// Test helpers for the ref kernels: seeded random data, plain Storage objects (not RefStorage, so
// the tests also prove the kernels need nothing beyond the Storage fields), random strided views,
// and naive element access by multi-index.

import assert from 'node:assert/strict';
import type { DataArray, DType, Storage, View } from '../../src/backend/types.js';

/** mulberry32: small, seeded, good enough for test data. */
export function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function arrayOf(dtype: DType, values: ArrayLike<number> | number): DataArray {
  switch (dtype) {
    case 'float32': return typeof values === 'number' ? new Float32Array(values) : Float32Array.from(values);
    case 'float64': return typeof values === 'number' ? new Float64Array(values) : Float64Array.from(values);
    case 'int32': return typeof values === 'number' ? new Int32Array(values) : Int32Array.from(values);
  }
}

/** A bare Storage: exactly the interface fields. */
export function storageOf(dtype: DType, values: ArrayLike<number> | number): Storage {
  const data = arrayOf(dtype, values);
  return { dtype, length: data.length, data, backend: 'ref' };
}

export function randomStorage(rand: () => number, dtype: DType, length: number, scale = 2): Storage {
  const values = new Array<number>(length);
  for (let i = 0; i < length; i++) values[i] = (rand() * 2 - 1) * scale;
  return storageOf(dtype, values);
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function denseView(storage: Storage, shape: readonly number[]): View {
  const strides: number[] = [];
  let step = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = step;
    step *= shape[i];
  }
  return { storage, offset: 0, shape, strides };
}

/** Calls fn with every multi-index of shape in row-major order. */
export function forEachIndex(shape: readonly number[], fn: (index: number[], flat: number) => void): void {
  const total = numel(shape);
  const index = shape.map(() => 0);
  for (let flat = 0; flat < total; flat++) {
    fn(index, flat);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
}

export function viewAt(view: View, index: readonly number[]): number {
  let position = view.offset;
  for (let axis = 0; axis < index.length; axis++) position += index[axis] * view.strides[axis];
  return view.storage.data[position];
}

/** The view's elements in row-major order, read one multi-index at a time. */
export function materialize(view: View): number[] {
  const values: number[] = [];
  forEachIndex(view.shape, (index) => values.push(viewAt(view, index)));
  return values;
}

export interface ViewOptions {
  /** Allow stride-0 axes (read-only inputs only). */
  broadcast?: boolean;
}

/**
 * A view of `shape` with a random memory layout: axes permuted in memory, gaps between rows, a
 * nonzero offset, and (with broadcast) some axes of stride 0. Filled with random values.
 */
export function randomView(rand: () => number, dtype: DType, shape: readonly number[],
  options: ViewOptions = {}): View {
  const order = shape.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const strides = shape.map(() => 0);
  let step = 1;
  // order[last] is the fastest-varying axis in memory.
  for (let i = order.length - 1; i >= 0; i--) {
    const axis = order[i];
    if (options.broadcast && shape[axis] > 1 && rand() < 0.3) continue;
    strides[axis] = step;
    step *= shape[axis] + (rand() < 0.3 ? 1 : 0);
  }
  const offset = Math.floor(rand() * 5);
  const storage = randomStorage(rand, dtype, offset + step);
  return { storage, offset, shape, strides };
}

export function randomShape(rand: () => number, rank: number, sizes = [1, 2, 3, 5, 17]): number[] {
  return Array.from({ length: rank }, () => sizes[Math.floor(rand() * sizes.length)]);
}

/** |actual - expected| <= atol + rtol·|expected| elementwise; NaN matches NaN; infinities exactly. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number,
  what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    // Messages are built only on failure: these loops run over ~1e5 elements.
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) assert.fail(`${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    const tolerance = atol + rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= tolerance)) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (tolerance ${tolerance})`);
  }
}

/** Tolerances for a result computed in float64 and stored in dtype. */
export function tolerance(dtype: DType): { rtol: number; atol: number } {
  return dtype === 'float32' ? { rtol: 2e-6, atol: 1e-6 } : { rtol: 1e-12, atol: 1e-13 };
}
