// Views: new tensors over the same buffer with another shape/strides/offset (no copy), plus the
// copies that go with them (contiguous, clone, toType). Gradients flow back through every view.

import type { Backend, DType } from '../../backend/types.js';
import { ArgumentError, DTypeError, IndexError, ShapeError, fmtShape } from '../../util/errors.js';
import { needsGrad, noGrad, record, type BackwardFn } from '../autograd.js';
import {
  broadcastStrides, checkShape, contiguousStrides, inferShape, normalizeAxis, viewStrides, type Shape,
} from '../shape.js';
import { SharedStorage } from '../storage.js';
import { Tensor, allocTensor, viewTensor, type IndexSpec } from '../tensor.js';
import { sumToShape } from './reduce.js';

// Each view records its node only when grad is needed, so no closure is built on the no-grad path.
function reshapeRule(inShape: Shape): BackwardFn {
  return (g) => [g.reshape(inShape)];
}

export function item(t: Tensor): number {
  t.assertLive('item');
  if (t.size !== 1) throw new ShapeError(`item: needs a tensor with one element, got shape ${fmtShape(t.shape)}`);
  return t.storage.data[t.offset];
}

export function detach(x: Tensor): Tensor {
  x.assertLive('detach');
  return viewTensor(x, x.shape, x.strides, x.offset);
}

export function reshape(x: Tensor, target: Shape): Tensor {
  x.assertLive('reshape');
  const shape = inferShape(x.shape, target, 'reshape');
  const strides = viewStrides(x.shape, x.strides, shape);
  if (strides !== null) {
    const out = viewTensor(x, shape, strides, x.offset);
    if (needsGrad(x)) record('reshape', out, [x], reshapeRule(x.shape));
    return out;
  }
  const dense = contiguous(x);
  const out = viewTensor(dense, shape, contiguousStrides(shape), 0);
  if (needsGrad(dense)) record('reshape', out, [dense], reshapeRule(x.shape));
  dense.dispose();
  return out;
}

export function flatten(x: Tensor, startAxis: number, endAxis: number): Tensor {
  x.assertLive('flatten');
  if (x.ndim === 0) return reshape(x, [1]);
  const start = normalizeAxis(startAxis, x.ndim, 'flatten');
  const end = normalizeAxis(endAxis, x.ndim, 'flatten');
  if (start > end) throw new ArgumentError(`flatten: start axis ${startAxis} comes after end axis ${endAxis}`);
  const merged = x.shape.slice(start, end + 1).reduce((a, b) => a * b, 1);
  return reshape(x, [...x.shape.slice(0, start), merged, ...x.shape.slice(end + 1)]);
}

export function permute(x: Tensor, axes: readonly number[]): Tensor {
  x.assertLive('permute');
  if (axes.length !== x.ndim) throw new ArgumentError(`permute: got ${axes.length} axes [${axes.join(', ')}] for a ${x.ndim}-d tensor`);
  const perm = axes.map((a) => normalizeAxis(a, x.ndim, 'permute'));
  if (new Set(perm).size !== perm.length) throw new ArgumentError(`permute: axes [${axes.join(', ')}] repeat an axis`);
  const out = viewTensor(x, perm.map((p) => x.shape[p]), perm.map((p) => x.strides[p]), x.offset);
  if (needsGrad(x)) {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    record('permute', out, [x], (g) => [g.permute(inverse)]);
  }
  return out;
}

export function transpose(x: Tensor, axisA: number, axisB: number): Tensor {
  x.assertLive('transpose');
  const a = normalizeAxis(axisA, x.ndim, 'transpose');
  const b = normalizeAxis(axisB, x.ndim, 'transpose');
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, perm);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  x.assertLive('unsqueeze');
  const at = normalizeAxis(axis, x.ndim + 1, 'unsqueeze');
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(at, 0, 1);
  strides.splice(at, 0, at < x.ndim ? x.strides[at] * x.shape[at] : 1);
  const out = viewTensor(x, shape, strides, x.offset);
  if (needsGrad(x)) record('unsqueeze', out, [x], reshapeRule(x.shape));
  return out;
}

export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  x.assertLive('squeeze');
  let drop: number[];
  if (axes === undefined) {
    drop = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  } else {
    drop = (typeof axes === 'number' ? [axes] : axes).map((a) => normalizeAxis(a, x.ndim, 'squeeze'));
    for (const a of drop) {
      if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of shape ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`);
    }
  }
  const keepAxis = (_: number, i: number) => !drop.includes(i);
  const out = viewTensor(x, x.shape.filter(keepAxis), x.strides.filter(keepAxis), x.offset);
  if (needsGrad(x)) record('squeeze', out, [x], reshapeRule(x.shape));
  return out;
}

export function expand(x: Tensor, target: Shape): Tensor {
  x.assertLive('expand');
  const lead = target.length - x.ndim;
  const shape = target.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  checkShape(shape, 'expand');
  const strides = broadcastStrides(x.shape, x.strides, shape, 'expand');
  const out = viewTensor(x, shape, strides, x.offset);
  if (needsGrad(x)) {
    const inShape = x.shape;
    record('expand', out, [x], (g) => [sumToShape(g, inShape)]);
  }
  return out;
}

/** Layout of x.index(...specs); exported for indexPut, which patches exactly this region. */
export function indexLayout(x: Tensor, specs: readonly IndexSpec[], op: string): { shape: number[]; strides: number[]; offset: number } {
  if (specs.length > x.ndim) throw new IndexError(`${op}: ${specs.length} index specs for a ${x.ndim}-d tensor of shape ${fmtShape(x.shape)}`);
  const shape: number[] = [];
  const strides: number[] = [];
  let offset = x.offset;
  for (let axis = 0; axis < x.ndim; axis++) {
    const spec = axis < specs.length ? specs[axis] : null;
    const n = x.shape[axis];
    const stride = x.strides[axis];
    if (spec === null || spec === undefined) {
      shape.push(n);
      strides.push(stride);
    } else if (typeof spec === 'number') {
      if (!Number.isInteger(spec) || spec < -n || spec >= n) {
        throw new IndexError(`${op}: index ${spec} out of range for axis ${axis} of size ${n}; allowed [${-n}, ${n - 1}]`);
      }
      offset += (spec < 0 ? spec + n : spec) * stride;
    } else {
      const step = spec[2] ?? 1;
      if (!Number.isInteger(step) || step < 1) throw new ArgumentError(`${op}: slice step ${step} on axis ${axis} must be an integer >= 1`);
      const clampEnd = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
      const start = clampEnd(spec[0] ?? 0);
      const end = clampEnd(spec[1] ?? n);
      if (!Number.isInteger(start) || !Number.isInteger(end)) throw new ArgumentError(`${op}: slice [${spec.join(', ')}] on axis ${axis} needs integers`);
      const length = Math.max(0, Math.ceil((end - start) / step));
      if (length > 0) offset += start * stride;
      shape.push(length);
      strides.push(stride * step);
    }
  }
  return { shape, strides, offset };
}

/** Gradient of a strided region: zeros of the input's shape with g written into the same region. */
function regionBackward(inShape: Shape, region: (base: Tensor) => Tensor): BackwardFn {
  return (g) => {
    const out = allocTensor(g.backend, g.dtype, inShape);
    const target = region(out);
    g.backend.copy(g, target);
    target.dispose();
    return [out];
  };
}

export function index(x: Tensor, specs: readonly IndexSpec[]): Tensor {
  x.assertLive('index');
  const layout = indexLayout(x, specs, 'index');
  const out = viewTensor(x, layout.shape, layout.strides, layout.offset);
  if (needsGrad(x)) {
    const copied = specs.map((s) => (Array.isArray(s) ? [...s] : s)) as IndexSpec[];
    record('index', out, [x], regionBackward(x.shape, (base) => noGrad(() => index(base, copied))));
  }
  return out;
}

export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  x.assertLive('narrow');
  const a = normalizeAxis(axis, x.ndim, 'narrow');
  const n = x.shape[a];
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > n) {
    throw new IndexError(`narrow: start ${start} + length ${length} out of range for axis ${a} of size ${n}; need 0 <= start <= start + length <= ${n}`);
  }
  const shape = [...x.shape];
  shape[a] = length;
  const out = viewTensor(x, shape, x.strides, x.offset + start * x.strides[a]);
  if (needsGrad(x)) record('narrow', out, [x], regionBackward(x.shape, (base) => noGrad(() => narrow(base, a, start, length))));
  return out;
}

export function select(x: Tensor, axis: number, i: number): Tensor {
  x.assertLive('select');
  const a = normalizeAxis(axis, x.ndim, 'select');
  const specs: IndexSpec[] = x.shape.map((_, k) => (k === a ? i : null));
  return index(x, specs);
}

const identityRule: BackwardFn = (g) => [g];

/** Consecutive narrow views along axis of the given sizes (one number: equal pieces, the last may be shorter). */
export function split(x: Tensor, sizes: number | readonly number[], axis: number): Tensor[] {
  x.assertLive('split');
  const a = normalizeAxis(axis, x.ndim, 'split');
  const n = x.shape[a];
  let pieces: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes < 1) throw new ArgumentError(`split: piece size ${sizes} must be a positive integer`);
    pieces = Array.from({ length: Math.max(1, Math.ceil(n / sizes)) }, (_, i) => Math.min(sizes, n - i * sizes));
  } else {
    pieces = [...sizes];
    const total = pieces.reduce((p, d) => p + d, 0);
    if (total !== n || pieces.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new ShapeError(`split: sizes [${pieces.join(', ')}] must be non-negative integers summing to ${n} (axis ${a} of ${fmtShape(x.shape)})`);
    }
  }
  let start = 0;
  return pieces.map((length) => {
    const piece = narrow(x, a, start, length);
    start += length;
    return piece;
  });
}

/** n pieces along axis (torch.chunk: each ceil(size / n), the last possibly shorter). */
export function chunk(x: Tensor, n: number, axis: number): Tensor[] {
  x.assertLive('chunk');
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`chunk: number of chunks ${n} must be a positive integer`);
  const size = x.shape[normalizeAxis(axis, x.ndim, 'chunk')];
  return split(x, Math.max(1, Math.ceil(size / n)), axis);
}

/** Dense copy (no autograd). */
function denseCopy(x: Tensor, dtype: DType): Tensor {
  const out = allocTensor(x.backend, dtype, x.shape);
  x.backend.copy(x, out);
  return out;
}

export function contiguous(x: Tensor): Tensor {
  x.assertLive('contiguous');
  const out = x.isContiguous() ? viewTensor(x, x.shape, x.strides, x.offset) : denseCopy(x, x.dtype);
  if (needsGrad(x)) record('contiguous', out, [x], identityRule);
  return out;
}

export function clone(x: Tensor): Tensor {
  x.assertLive('clone');
  const out = denseCopy(x, x.dtype);
  if (needsGrad(x)) record('clone', out, [x], identityRule);
  return out;
}

export function toType(x: Tensor, dtype: DType): Tensor {
  x.assertLive('toType');
  if (dtype === x.dtype) {
    const alias = viewTensor(x, x.shape, x.strides, x.offset);
    if (needsGrad(x)) record('toType', alias, [x], identityRule);
    return alias;
  }
  if (dtype === 'float64' && x.backend.name !== 'ref') {
    throw new DTypeError(`toType: float64 is only supported on the ref backend, this tensor is on '${x.backend.name}'`);
  }
  const out = denseCopy(x, dtype);
  const from = x.dtype;
  if (dtype !== 'int32' && needsGrad(x)) record('toType', out, [x], (g) => [g.toType(from)]);
  return out;
}

export function toBackend(x: Tensor, backend: Backend): Tensor {
  x.assertLive('toBackend');
  if (x.dtype === 'float64' && backend.name !== 'ref') {
    throw new DTypeError(`toBackend: float64 is only supported on the ref backend, not '${backend.name}'`);
  }
  const storage = backend.alloc(x.dtype, x.size);
  storage.data.set(x.toArray());
  return new Tensor(new SharedStorage(backend, storage), x.shape, contiguousStrides(x.shape), 0);
}
