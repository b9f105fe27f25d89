// Indexing: indexSelect (embeddings), gather / scatter along an axis, functional and in-place
// region patching (activation patching's core), concat and stack.

import type { View } from '../../backend/types.js';
import { ArgumentError, GradError, IndexError, ShapeError, fmtShape } from '../../util/errors.js';
import { gradState, needsGrad, noGrad, record } from '../autograd.js';
import { broadcastStrides, contiguousStrides, normalizeAxis, sameShape, type Shape } from '../shape.js';
import { SharedStorage } from '../storage.js';
import { Tensor, allocTensor, type IndexSpec } from '../tensor.js';
import { assertInt32, assertSameBackend, assertSameDType, denseInput, releaseTemp } from './common.js';
import { scalarLike } from './elementwise.js';
import { sumToShape } from './reduce.js';
import { indexLayout } from './views.js';

function product(shape: Shape, from: number, to: number): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= shape[i];
  return p;
}

/** Checks ids on the host before any kernel sees them: an out-of-range id would read garbage. */
function checkIds(ids: Tensor, n: number, op: string): void {
  const values = ids.toArray();
  for (let i = 0; i < values.length; i++) {
    const id = values[i];
    if (id < 0 || id >= n) throw new IndexError(`${op}: id ${id} (at flat position ${i}) out of range; allowed [0, ${n - 1}]`);
  }
}

function checkIdsOperand(x: Tensor, ids: Tensor, op: string): void {
  x.assertLive(op);
  ids.assertLive(op);
  assertInt32(ids, op, 'ids');
  assertSameBackend(x, ids, op);
}

/** A new tensor on `like`'s backend wrapping int32 values. */
function int32Tensor(like: Tensor, values: Int32Array, shape: Shape): Tensor {
  const storage = like.backend.alloc('int32', values.length);
  storage.data.set(values);
  return new Tensor(new SharedStorage(like.backend, storage), shape, contiguousStrides(shape), 0);
}

export function indexSelect(x: Tensor, axis: number, ids: Tensor): Tensor {
  checkIdsOperand(x, ids, 'indexSelect');
  const a = normalizeAxis(axis, x.ndim, 'indexSelect');
  checkIds(ids, x.shape[a], 'indexSelect');
  const layout = { outer: product(x.shape, 0, a), n: x.shape[a], inner: product(x.shape, a + 1, x.ndim) };
  const outShape = [...x.shape.slice(0, a), ...ids.shape, ...x.shape.slice(a + 1)];
  const out = allocTensor(x.backend, x.dtype, outShape);
  const dense = denseInput(x);
  const denseIds = denseInput(ids);
  x.backend.indexSelect(dense.storage, layout, denseIds.storage, out.storage);
  releaseTemp(dense, x);
  if (needsGrad(x)) {
    const inShape = x.shape;
    record('indexSelect', out, [x], (g, [savedIds]) => {
      const grad = allocTensor(g.backend, g.dtype, inShape);
      const denseG = denseInput(g);
      g.backend.indexAdd(denseG.storage, layout, savedIds.storage, grad.storage);
      releaseTemp(denseG, g);
      return [grad];
    }, [denseIds]);
  }
  releaseTemp(denseIds, ids);
  return out;
}

/** Flat positions in dense x of x[..., ids[p], ...] along axis, for every position p of ids. */
function flatIdsAlongAxis(xShape: Shape, axis: number, ids: Tensor, op: string): Tensor {
  if (ids.ndim !== xShape.length) throw new ShapeError(`${op}: ids shape ${fmtShape(ids.shape)} must have as many axes as x's ${fmtShape(xShape)}`);
  for (let d = 0; d < xShape.length; d++) {
    if (d !== axis && ids.shape[d] > xShape[d]) {
      throw new ShapeError(`${op}: ids shape ${fmtShape(ids.shape)} exceeds x's ${fmtShape(xShape)} on axis ${d}`);
    }
  }
  checkIds(ids, xShape[axis], op);
  const values = ids.toArray();
  const xStrides = contiguousStrides(xShape);
  const flat = new Int32Array(values.length);
  const counter = new Array<number>(ids.ndim).fill(0);
  for (let p = 0; p < values.length; p++) {
    let pos = 0;
    for (let d = 0; d < counter.length; d++) pos += (d === axis ? values[p] : counter[d]) * xStrides[d];
    flat[p] = pos;
    for (let d = counter.length - 1; d >= 0 && ++counter[d] === ids.shape[d]; d--) counter[d] = 0;
  }
  return int32Tensor(ids, flat, [values.length]);
}

/** torch.gather: out (ids.shape)[..., j, ...] = x[..., ids[..., j, ...], ...] along axis. */
export function gather(x: Tensor, axis: number, ids: Tensor): Tensor {
  checkIdsOperand(x, ids, 'gather');
  const a = normalizeAxis(axis, x.ndim, 'gather');
  const flat = flatIdsAlongAxis(x.shape, a, ids, 'gather');
  const out = allocTensor(x.backend, x.dtype, ids.shape);
  const dense = denseInput(x);
  x.backend.indexSelect(dense.storage, { outer: 1, n: x.size, inner: 1 }, flat.storage, out.storage);
  releaseTemp(dense, x);
  flat.dispose();
  if (needsGrad(x)) {
    const inShape = x.shape;
    record('gather', out, [x], (g, [savedIds]) => [scatterAlongAxis(g, a, savedIds, inShape)], [ids]);
  }
  return out;
}

/** The adjoint of gather: zeros of `shape` with g added at ids along axis (repeats add). */
export function scatterAlongAxis(g: Tensor, axis: number, ids: Tensor, shape: Shape): Tensor {
  const flat = flatIdsAlongAxis(shape, axis, ids, 'scatter');
  const out = allocTensor(g.backend, g.dtype, shape);
  const denseG = denseInput(g);
  g.backend.indexAdd(denseG.storage, { outer: 1, n: out.size, inner: 1 }, flat.storage, out.storage);
  releaseTemp(denseG, g);
  flat.dispose();
  return out;
}

/** The value to write into a region as a View broadcast to the region's shape. */
function regionSource(target: Tensor, value: Tensor, region: { shape: Shape }, op: string, allowCast: boolean): View {
  value.assertLive(op);
  assertSameBackend(target, value, op);
  if (!allowCast) assertSameDType(target, value, op);
  try {
    return { storage: value.storage, offset: value.offset, shape: region.shape, strides: broadcastStrides(value.shape, value.strides, region.shape, op) };
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new ShapeError(`${op}: value of shape ${fmtShape(value.shape)} cannot be broadcast to the indexed region of shape ${fmtShape(region.shape)}`);
  }
}

/** A copy of x whose region x.index(...specs) holds value (broadcast). Differentiable w.r.t. x and value. */
export function indexPut(x: Tensor, specs: readonly IndexSpec[], value: Tensor | number): Tensor {
  x.assertLive('indexPut');
  const v = typeof value === 'number' ? scalarLike(x, value) : value;
  const out = allocTensor(x.backend, x.dtype, x.shape);
  const region = indexLayout(out, specs, 'indexPut');
  const source = regionSource(x, v, region, 'indexPut', false);
  x.backend.copy(x, out);
  x.backend.copy(source, { storage: out.storage, ...region });
  if (needsGrad(x, v)) {
    const valueShape = v.shape;
    const kept = specs.map((s) => (Array.isArray(s) ? [...s] : s)) as IndexSpec[];
    record('indexPut', out, [x, v], (g, _saved, needs) => [
      needs[0] ? noGrad(() => indexPut(g, kept, 0)) : null,
      needs[1] ? sumToShape(g.index(...kept), valueShape) : null,
    ]);
  }
  if (v !== value) v.dispose();
  return out;
}

/** In place: x.index(...specs) = value (broadcast, cast to x's dtype). Refused while autograd would need x or value. */
export function setIndex(x: Tensor, specs: readonly IndexSpec[], value: Tensor | number): void {
  x.assertLive('setIndex_');
  if (gradState.enabled && (x.requiresGrad || (typeof value !== 'number' && value.requiresGrad))) {
    throw new GradError('setIndex_/copy_: in-place writes are not differentiable; use indexPut, or run under noGrad');
  }
  const region = indexLayout(x, specs, 'setIndex_');
  let v = typeof value === 'number' ? scalarLike(x, value) : value;
  // The copy kernel allows overlapping source and destination only when identical: copy first.
  if (v.storage === x.storage) v = v.clone();
  x.backend.copy(regionSource(x, v, region, 'setIndex_', true), { storage: x.storage, ...region });
  x.shared.version++;
  if (v !== value) v.dispose();
}

export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  if (tensors.length === 0) throw new ArgumentError('concat: needs at least one tensor, got an empty list');
  const first = tensors[0];
  for (const t of tensors) t.assertLive('concat');
  const a = normalizeAxis(axis, first.ndim, 'concat');
  let total = 0;
  for (const t of tensors) {
    assertSameBackend(first, t, 'concat');
    assertSameDType(first, t, 'concat');
    const compatible = t.ndim === first.ndim && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!compatible) throw new ShapeError(`concat: shapes ${fmtShape(first.shape)} and ${fmtShape(t.shape)} differ outside axis ${a}`);
    total += t.shape[a];
  }
  const shape = first.shape.map((d, i) => (i === a ? total : d));
  const out = allocTensor(first.backend, first.dtype, shape);
  const starts: number[] = [];
  let start = 0;
  for (const t of tensors) {
    starts.push(start);
    first.backend.copy(t, { storage: out.storage, offset: start * out.strides[a], shape: t.shape, strides: out.strides });
    start += t.shape[a];
  }
  if (tensors.some((t) => needsGrad(t))) {
    const lengths = tensors.map((t) => t.shape[a]);
    record('concat', out, tensors, (g, _saved, needs) => starts.map((s, i) => (needs[i] ? g.narrow(a, s, lengths[i]) : null)));
  }
  return out;
}

export function stack(tensors: readonly Tensor[], axis: number): Tensor {
  if (tensors.length === 0) throw new ArgumentError('stack: needs at least one tensor, got an empty list');
  const first = tensors[0];
  for (const t of tensors) {
    t.assertLive('stack');
    if (!sameShape(t.shape, first.shape)) throw new ShapeError(`stack: shapes ${fmtShape(first.shape)} and ${fmtShape(t.shape)} differ`);
  }
  const a = normalizeAxis(axis, first.ndim + 1, 'stack');
  const expanded = tensors.map((t) => t.unsqueeze(a));
  const out = concat(expanded, a);
  for (const t of expanded) t.dispose();
  return out;
}
