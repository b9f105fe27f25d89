// Shape arithmetic shared by every op: strides, axis normalisation, broadcasting and the
// view-compatibility test behind reshape. Pure functions on number arrays; no tensors here.

import { ArgumentError, IndexError, ShapeError, fmtShape } from '../util/errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (let i = 0; i < shape.length; i++) size *= shape[i];
  return size;
}

/** Row-major strides of a dense tensor of this shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

/** True when the layout is row-major dense (strides of size-1 axes do not matter). */
export function isRowMajor(shape: Shape, strides: Shape): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const dim = shape[i];
    if (dim !== 1 && strides[i] !== expected) return dim === 0;
    expected *= dim;
  }
  return true;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Validates a shape given by a user: non-negative integers. */
export function checkShape(shape: Shape, op: string): void {
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new ShapeError(`${op}: shape ${fmtShape(shape)} must contain non-negative integers`);
    }
  }
}

/** Maps a possibly negative axis onto [0, ndim); IndexError names the allowed range. */
export function normalizeAxis(axis: number, ndim: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    const range = ndim === 0 ? 'none (the tensor is 0-d)' : `[${-ndim}, ${ndim - 1}]`;
    throw new IndexError(`${op}: axis ${axis} out of range for a ${ndim}-d tensor; allowed ${range}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Axes as a sorted list without repeats; undefined/null means every axis. */
export function normalizeAxes(axes: number | readonly number[] | null | undefined, ndim: number, op: string): number[] {
  if (axes === undefined || axes === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = list.map((a) => normalizeAxis(a, ndim, op)).sort((x, y) => x - y);
  for (let i = 1; i < out.length; i++) {
    if (out[i] === out[i - 1]) throw new ArgumentError(`${op}: axis ${out[i]} repeated in [${list.join(', ')}]`);
  }
  return out;
}

/** numpy broadcasting of two shapes; ShapeError names both. */
export function broadcastShapes(a: Shape, b: Shape, op: string): Shape {
  if (sameShape(a, b)) return a;
  const ndim = Math.max(a.length, b.length);
  const out = new Array<number>(ndim);
  for (let i = 0; i < ndim; i++) {
    const da = i < ndim - a.length ? 1 : a[i - (ndim - a.length)];
    const db = i < ndim - b.length ? 1 : b[i - (ndim - b.length)];
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together (axis ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a tensor of (shape, strides) as if it had `target` shape (0 on broadcast axes). */
export function broadcastStrides(shape: Shape, strides: Shape, target: Shape, op: string): number[] {
  const lead = target.length - shape.length;
  if (lead < 0) throw new ShapeError(`${op}: cannot broadcast ${fmtShape(shape)} to ${fmtShape(target)} (fewer axes)`);
  const out = new Array<number>(target.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const dim = shape[i];
    if (dim === target[lead + i]) out[lead + i] = dim === 1 ? 0 : strides[i];
    else if (dim !== 1) throw new ShapeError(`${op}: cannot broadcast ${fmtShape(shape)} to ${fmtShape(target)} (axis ${i}: ${dim} vs ${target[lead + i]})`);
  }
  return out;
}

/**
 * Strides that let a tensor of (oldShape, oldStrides) be read as newShape without copying, or
 * null when the memory layout does not allow it (PyTorch's computeStride, same sizes assumed).
 */
export function viewStrides(oldShape: Shape, oldStrides: Shape, newShape: Shape): number[] | null {
  if (oldShape.length === 0 || sizeOf(oldShape) === 0) return contiguousStrides(newShape);
  const newStrides = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBaseStride = oldStrides[oldStrides.length - 1];
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d];
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkBaseStride)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBaseStride;
        viewNumel *= newShape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBaseStride = oldStrides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? newStrides : null;
}

/** Resolves one -1 in a reshape target; ShapeError names both shapes when sizes differ. */
export function inferShape(shape: Shape, target: Shape, op: string): number[] {
  const size = sizeOf(shape);
  const out = [...target];
  const unknown = out.indexOf(-1);
  if (unknown >= 0 && out.indexOf(-1, unknown + 1) >= 0) {
    throw new ShapeError(`${op}: at most one -1 allowed in ${fmtShape(target)}`);
  }
  for (let i = 0; i < out.length; i++) {
    if (i !== unknown && (!Number.isInteger(out[i]) || out[i] < 0)) {
      throw new ShapeError(`${op}: target shape ${fmtShape(target)} must contain non-negative integers or one -1`);
    }
  }
  if (unknown >= 0) {
    const known = sizeOf(out.filter((_, i) => i !== unknown));
    if (known === 0 || size % known !== 0) {
      throw new ShapeError(`${op}: cannot reshape ${fmtShape(shape)} (size ${size}) to ${fmtShape(target)}`);
    }
    out[unknown] = size / known;
  }
  if (sizeOf(out) !== size) {
    throw new ShapeError(`${op}: cannot reshape ${fmtShape(shape)} (size ${size}) to ${fmtShape(target)} (size ${sizeOf(out)})`);
  }
  return out;
}
