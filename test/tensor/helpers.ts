// Shared test helpers for the tensor layer: the finite-difference gradient checker used by every
// op's gradient test, plain-JS reference computations over flat arrays, and tensor factories on
// the ref backend (float64 for gradient checks).

import assert from 'node:assert/strict';
import '../../src/backend/ref/index.js';
import { getBackend } from '../../src/backend/registry.js';
import type { DType } from '../../src/backend/types.js';
import { Rng, Tensor, grad, noGrad, tensor, tidy } from '../../src/tensor/index.js';

export const ref = getBackend('ref');

/** A random tensor on ref from a seed (values ~ N(0, 1) unless shifted). */
export function rnd(shape: readonly number[], seed: number, dtype: DType = 'float64', shift = 0): Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'float64' ? new Float64Array(size) : new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = rng.normal() + shift;
  return tensor(data, shape, { dtype, backend: ref });
}

/** Like rnd but strictly positive (for log, sqrt, pow bases, divisors). */
export function positive(shape: readonly number[], seed: number, dtype: DType = 'float64'): Tensor {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: size }, () => 0.5 + 1.5 * rng.next());
  return tensor(dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), shape, { dtype, backend: ref });
}

export function f64(data: readonly number[] | number, shape?: readonly number[]): Tensor {
  const values = typeof data === 'number' ? [data] : data;
  return tensor(Float64Array.from(values), shape ?? (typeof data === 'number' ? [] : [values.length]), { backend: ref });
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    const err = Math.abs(a - e);
    if (!(err <= tol * (1 + Math.abs(e)))) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${err.toExponential(2)} > tol ${tol})`);
    }
  }
}

/** Row-major multi-indices of a shape. */
export function* indices(shape: readonly number[]): Generator<number[]> {
  const size = shape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let n = 0; n < size; n++) {
    yield [...idx];
    for (let d = shape.length - 1; d >= 0 && ++idx[d] === shape[d]; d--) idx[d] = 0;
  }
}

export function flatIndex(shape: readonly number[], idx: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + idx[d];
  return flat;
}

/** Reference numpy broadcasting of f over two flat arrays. */
export function refBroadcast(a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[],
  f: (x: number, y: number) => number): { values: number[]; shape: number[] } {
  const nd = Math.max(aShape.length, bShape.length);
  const pad = (s: readonly number[]) => [...new Array(nd - s.length).fill(1), ...s];
  const pa = pad(aShape);
  const pb = pad(bShape);
  const shape = pa.map((d, i) => Math.max(d, pb[i]));
  const values: number[] = [];
  for (const idx of indices(shape)) {
    const ia = flatIndex(pa, idx.map((v, i) => (pa[i] === 1 ? 0 : v)));
    const ib = flatIndex(pb, idx.map((v, i) => (pb[i] === 1 ? 0 : v)));
    values.push(f(a[ia], b[ib]));
  }
  return { values, shape };
}

/** Reference reduction of a flat array over `axes` (keepdim shape returned). */
export function refReduce(x: ArrayLike<number>, shape: readonly number[], axes: readonly number[],
  init: number, f: (acc: number, v: number) => number): { values: number[]; shape: number[] } {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const values = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(init);
  for (const idx of indices(shape)) {
    const o = flatIndex(outShape, idx.map((v, i) => (axes.includes(i) ? 0 : v)));
    values[o] = f(values[o], x[flatIndex(shape, idx)]);
  }
  return { values, shape: outShape };
}

export interface CheckGradOptions {
  eps?: number;
  tol?: number;
  /** Indices of the inputs to check (default all). */
  wrt?: readonly number[];
  seed?: number;
}

/**
 * Compares autograd's gradient of sum(fn(...inputs) * W) (W a fixed random projection, so no
 * error can hide in a symmetric sum) with central finite differences, element by element.
 * Inputs are float64 tensors on ref; any layout (views included) is perturbed in place.
 */
export function checkGrad(fn: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: CheckGradOptions = {}): void {
  const eps = options.eps ?? 1e-6;
  const tol = options.tol ?? 1e-6;
  const wrt = options.wrt ?? inputs.map((_, i) => i);
  for (const x of inputs) assert.equal(x.dtype, 'float64', 'checkGrad needs float64 inputs');
  const outShape = noGrad(() => tidy(() => fn(...inputs).shape));
  const weights = rnd(outShape, options.seed ?? 12345);
  const loss = (...xs: Tensor[]) => fn(...xs).mul(weights).sum();
  const analytic = grad(loss, inputs);
  for (const i of wrt) {
    const x = inputs[i];
    const g = analytic[i];
    assert.deepEqual(g.shape, x.shape, `gradient ${i} has shape [${g.shape}] for input [${x.shape}]`);
    const computed = g.toArray();
    const numeric: number[] = [];
    const data = x.storage.data;
    for (const idx of indices(x.shape)) {
      const pos = x.offset + idx.reduce((acc, v, d) => acc + v * x.strides[d], 0);
      const original = data[pos];
      data[pos] = original + eps;
      const plus = noGrad(() => tidy(() => loss(...inputs).item()));
      data[pos] = original - eps;
      const minus = noGrad(() => tidy(() => loss(...inputs).item()));
      data[pos] = original;
      numeric.push((plus - minus) / (2 * eps));
    }
    assertClose(computed, numeric, tol, `d/d input ${i}`);
  }
  for (const g of analytic) g.dispose();
  weights.dispose();
}
