// Reductions over an axis, a list of axes or everything (keepdim option), scans and topk. The
// kernels reduce one axis of a dense [outer, n, inner] layout; a run of adjacent axes is one
// such axis, so a multi-axis reduction is one kernel call per run of adjacent axes.

import type { ReduceOp } from '../../backend/types.js';
import { ArgumentError } from '../../util/errors.js';
import { needsGrad, record } from '../autograd.js';
import { contiguousStrides, normalizeAxes, normalizeAxis, sameShape, type Shape } from '../shape.js';
import { Tensor, allocTensor, viewTensor, type Axes } from '../tensor.js';
import { assertFloat, denseInput, releaseTemp } from './common.js';
import { scatterAlongAxis } from './indexing.js';

export interface KeepDim {
  keepdim?: boolean;
}

export interface VarOptions extends KeepDim {
  /** Subtracted from the element count in the denominator: 1 (default) is Bessel's correction, 0 the population variance. */
  correction?: number;
}

function product(shape: Shape, from: number, to: number): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= shape[i];
  return p;
}

/** Runs of consecutive axes, last run first: [0, 2, 3] -> [[2, 3], [0, 0]] as [first, last]. */
function axisRuns(axes: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === a - 1) last[1] = a;
    else runs.push([a, a]);
  }
  return runs.reverse();
}

/** Kernel reduction of sorted axes, result in keepdim shape, no autograd. */
function reduceKept(op: ReduceOp, x: Tensor, axes: readonly number[]): Tensor {
  let current = denseInput(x);
  if (axes.length === 0 && current === x) {
    current = allocTensor(x.backend, x.dtype, x.shape);
    x.backend.copy(x, current);
  }
  for (const [first, last] of axisRuns(axes)) {
    const shape = current.shape;
    const layout = { outer: product(shape, 0, first), n: product(shape, first, last + 1), inner: product(shape, last + 1, shape.length) };
    const outShape = shape.map((d, i) => (i >= first && i <= last ? 1 : d));
    const dtype = op === 'argmax' || op === 'argmin' ? 'int32' : x.dtype;
    const out = allocTensor(x.backend, dtype, outShape);
    x.backend.reduce(op, current.storage, layout, out.storage);
    releaseTemp(current, x);
    current = out;
  }
  return current;
}

/** The keepdim-shaped tensor `kept` with the reduced axes dropped (same buffer). */
function dropAxes(kept: Tensor, axes: readonly number[], keepdim: boolean): Tensor {
  if (keepdim) return kept;
  const shape = kept.shape.filter((_, i) => !axes.includes(i));
  const out = viewTensor(kept, shape, contiguousStrides(shape), 0);
  kept.dispose();
  return out;
}

function keptShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

export function sum(x: Tensor, axes: Axes | undefined, options?: KeepDim): Tensor {
  x.assertLive('sum');
  const ax = normalizeAxes(axes, x.ndim, 'sum');
  const out = dropAxes(reduceKept('sum', x, ax), ax, options?.keepdim ?? false);
  if (needsGrad(x)) {
    const inShape = x.shape;
    const kShape = keptShape(inShape, ax);
    record('sum', out, [x], (g) => [g.reshape(kShape).expand(inShape)]);
  }
  return out;
}

export function mean(x: Tensor, axes: Axes | undefined, options?: KeepDim): Tensor {
  x.assertLive('mean');
  assertFloat(x, 'mean');
  const ax = normalizeAxes(axes, x.ndim, 'mean');
  const count = ax.reduce((p, a) => p * x.shape[a], 1);
  const total = sum(x, ax, options);
  const out = total.div(count);
  total.dispose();
  return out;
}

/** max, min and logsumexp (all differentiable). */
export function reduceOp(op: 'max' | 'min' | 'logsumexp', x: Tensor, axes: Axes | undefined, options?: KeepDim): Tensor {
  x.assertLive(op);
  if (op === 'logsumexp') assertFloat(x, op);
  const ax = normalizeAxes(axes, x.ndim, op);
  const out = dropAxes(reduceKept(op, x, ax), ax, options?.keepdim ?? false);
  if (needsGrad(x)) {
    const kShape = keptShape(x.shape, ax);
    record(op, out, [x], (g, [input, y]) => {
      const gKept = g.reshape(kShape);
      const yKept = y.reshape(kShape);
      if (op === 'logsumexp') return [gKept.mul(input.sub(yKept).exp())];
      // Ties share the gradient evenly (as torch.amax does).
      const winners = input.eq(yKept);
      return [gKept.mul(winners).div(winners.sum(ax, { keepdim: true }))];
    }, [x, out]);
  }
  return out;
}

/** int32 index of the max/min along one axis, or over all elements flattened when axis is null. */
export function argReduce(op: 'argmax' | 'argmin', x: Tensor, axis: number | null | undefined, options?: KeepDim): Tensor {
  x.assertLive(op);
  const ax = axis === null || axis === undefined ? normalizeAxes(null, x.ndim, op) : [normalizeAxis(axis, x.ndim, op)];
  if (ax.length === 0) return allocTensor(x.backend, 'int32', []); // a 0-d tensor's only index
  return dropAxes(reduceKept(op, x, ax), ax, options?.keepdim ?? false);
}

export function variance(x: Tensor, axes: Axes | undefined, options?: VarOptions): Tensor {
  x.assertLive('var');
  assertFloat(x, 'var');
  const ax = normalizeAxes(axes, x.ndim, 'var');
  const count = ax.reduce((p, a) => p * x.shape[a], 1);
  const correction = options?.correction ?? 1;
  const mu = mean(x, ax, { keepdim: true });
  const centered = x.sub(mu);
  const squares = centered.square();
  const total = sum(squares, ax, options);
  const out = total.div(Math.max(0, count - correction));
  for (const t of [mu, centered, squares, total]) t.dispose();
  return out;
}

export function cumsum(x: Tensor, axis: number, reverse: boolean): Tensor {
  x.assertLive('cumsum');
  const a = normalizeAxis(axis, x.ndim, 'cumsum');
  const dense = denseInput(x);
  const out = allocTensor(x.backend, x.dtype, x.shape);
  const layout = { outer: product(x.shape, 0, a), n: x.shape[a], inner: product(x.shape, a + 1, x.ndim) };
  x.backend.cumsum(dense.storage, layout, reverse, out.storage);
  releaseTemp(dense, x);
  if (needsGrad(x)) record('cumsum', out, [x], (g) => [g.cumsum(a, { reverse: !reverse })]);
  return out;
}

/** The k largest (or smallest) entries along axis, sorted; ties keep the lower index first. */
export function topk(x: Tensor, k: number, axis: number, largest: boolean): { values: Tensor; indices: Tensor } {
  x.assertLive('topk');
  const a = normalizeAxis(axis, x.ndim, 'topk');
  const n = x.shape[a];
  if (!Number.isInteger(k) || k < 1 || k > n) throw new ArgumentError(`topk: k = ${k} must be an integer in [1, ${n}] for axis ${a} of size ${n}`);
  const last = x.ndim - 1;
  const moved = a === last ? x : x.transpose(a, last);
  const dense = denseInput(moved);
  const outShape = moved.shape.map((d, i) => (i === last ? k : d));
  const values = allocTensor(x.backend, x.dtype, outShape);
  const indices = allocTensor(x.backend, 'int32', outShape);
  x.backend.topk(dense.storage, x.size / n, n, k, largest, values.storage, indices.storage);
  releaseTemp(dense, moved);
  if (moved !== x) moved.dispose();
  const result = a === last ? { values, indices } : { values: values.transpose(a, last), indices: indices.transpose(a, last) };
  if (result.values !== values) {
    values.dispose();
    indices.dispose();
  }
  if (needsGrad(x)) {
    const inShape = x.shape;
    record('topk', result.values, [x], (g, [ids]) => [scatterAlongAxis(g, a, ids, inShape)], [result.indices]);
  }
  return result;
}

/** Sums g over the axes that broadcasting expanded, giving a tensor of `shape` (g itself if equal). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const summed = sum(g, axes, { keepdim: true });
  const out = summed.reshape(shape);
  summed.dispose();
  return out;
}
