// Checks and helpers every op family shares. Kept tiny: they run on the hot path of every op.

import { ArgumentError, DTypeError } from '../../util/errors.js';
import type { Tensor } from '../tensor.js';
import { allocTensor } from '../tensor.js';

export function assertSameBackend(a: Tensor, b: Tensor, op: string): void {
  if (a.backend !== b.backend) {
    throw new ArgumentError(`${op}: operands live on different backends ('${a.backend.name}' and '${b.backend.name}'); move one with toBackend()`);
  }
}

export function assertSameDType(a: Tensor, b: Tensor, op: string): void {
  if (a.dtype !== b.dtype) {
    throw new DTypeError(`${op}: operands have different dtypes (${a.dtype} and ${b.dtype}); convert one with toType()`);
  }
}

export function assertFloat(t: Tensor, op: string): void {
  if (t.dtype === 'int32') throw new DTypeError(`${op}: needs a float tensor (float32 or float64), got int32; convert with toType('float32')`);
}

export function assertInt32(t: Tensor, op: string, what: string): void {
  if (t.dtype !== 'int32') throw new DTypeError(`${op}: ${what} must be int32, got ${t.dtype}`);
}

/** True when t can be handed to a kernel that takes a dense Storage from offset 0. */
export function isDense(t: Tensor): boolean {
  return t.offset === 0 && t.isContiguous();
}

/**
 * t itself when it is dense from offset 0, else a dense copy. The caller disposes the result
 * when it is not t (see `releaseTemp`). No autograd: callers record their own node.
 */
export function denseInput(t: Tensor): Tensor {
  if (isDense(t)) return t;
  const out = allocTensor(t.backend, t.dtype, t.shape);
  t.backend.copy(t, out);
  return out;
}

export function releaseTemp(temp: Tensor, original: Tensor): void {
  if (temp !== original) temp.dispose();
}
