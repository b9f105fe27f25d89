// Batched matmul with numpy semantics: 1-D operands act as a row / column vector, batch axes
// broadcast. Transposed operands (mT views) reach the kernel as strides, without a copy.

import type { MatrixView } from '../../backend/types.js';
import { ShapeError, fmtShape } from '../../util/errors.js';
import { needsGrad, record } from '../autograd.js';
import { broadcastShapes, broadcastStrides, type Shape } from '../shape.js';
import { Tensor, allocTensor } from '../tensor.js';
import { assertFloat, assertSameBackend, assertSameDType } from './common.js';
import { sumToShape } from './reduce.js';

/**
 * One operand as the kernel's MatrixView: the matrix axes need a unit stride on one side (and a
 * leading dimension that covers the other), the batch axes one uniform stride. Otherwise a
 * dense copy of the (broadcast) operand is made and returned as `temp` for the caller to free.
 */
function matrixView(t: Tensor, batchShape: Shape): { view: MatrixView; temp: Tensor | null } {
  const nd = t.ndim;
  const rows = t.shape[nd - 2];
  const cols = t.shape[nd - 1];
  let rs = t.strides[nd - 2];
  let cs = t.strides[nd - 1];
  // A single row or column has no meaningful stride along it; pick the one the kernel accepts.
  if (rows === 1) rs = cs === 1 ? cols : 1;
  if (cols === 1) cs = rs === 1 ? rows : 1;
  const matrixOk = (cs === 1 && rs >= cols) || (rs === 1 && cs >= rows);
  const batchStrides = broadcastStrides(t.shape.slice(0, nd - 2), t.strides.slice(0, nd - 2), batchShape, 'matmul');
  let batchStride: number | null = 0;
  let previous = -1;
  for (let i = 0; i < batchShape.length; i++) {
    if (batchShape[i] === 1) continue;
    if (previous >= 0 && batchStrides[previous] !== batchStrides[i] * batchShape[i]) batchStride = null;
    previous = i;
  }
  if (batchStride !== null && previous >= 0) batchStride = batchStrides[previous];
  if (matrixOk && batchStride !== null) {
    return { view: { storage: t.storage, offset: t.offset, batchStride, rowStride: rs, colStride: cs }, temp: null };
  }
  const full = [...batchShape, rows, cols];
  const temp = allocTensor(t.backend, t.dtype, full);
  t.backend.copy({ storage: t.storage, offset: t.offset, shape: full, strides: broadcastStrides(t.shape, t.strides, full, 'matmul') }, temp);
  return { view: { storage: temp.storage, offset: 0, batchStride: rows * cols, rowStride: cols, colStride: 1 }, temp };
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  a.assertLive('matmul');
  b.assertLive('matmul');
  assertSameBackend(a, b, 'matmul');
  assertSameDType(a, b, 'matmul');
  assertFloat(a, 'matmul');
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError(`matmul: operands must have at least one axis, got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  if (a.ndim === 1 || b.ndim === 1) return matmulVectors(a, b);
  const m = a.shape[a.ndim - 2];
  const k = a.shape[a.ndim - 1];
  const n = b.shape[b.ndim - 1];
  if (b.shape[b.ndim - 2] !== k) {
    throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(a.shape)} @ ${fmtShape(b.shape)} (${k} vs ${b.shape[b.ndim - 2]})`);
  }
  let batchShape: Shape;
  try {
    batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
  } catch {
    throw new ShapeError(`matmul: batch axes of ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be broadcast together`);
  }
  const out = allocTensor(a.backend, a.dtype, [...batchShape, m, n]);
  const batch = batchShape.reduce((p, d) => p * d, 1);
  if (out.size > 0 && k > 0) {
    const av = matrixView(a, batchShape);
    const bv = matrixView(b, batchShape);
    a.backend.matmul(av.view, bv.view, batch, m, k, n, out.storage, false);
    av.temp?.dispose();
    bv.temp?.dispose();
  }
  if (needsGrad(a, b)) {
    const aShape = a.shape;
    const bShape = b.shape;
    record('matmul', out, [a, b], (g, [sa, sb], needs) => [
      needs[0] ? sumToShape(g.matmul(sb.mT), aShape) : null,
      needs[1] ? sumToShape(sa.mT.matmul(g), bShape) : null,
    ], [a, b]);
  }
  return out;
}

/** A vector on the left is a [1, k] row, on the right a [k, 1] column; that axis is dropped after. */
function matmulVectors(a: Tensor, b: Tensor): Tensor {
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(-1) : b;
  const product = matmul(a2, b2);
  const drop = [...(a.ndim === 1 ? [product.ndim - 2] : []), ...(b.ndim === 1 ? [product.ndim - 1] : [])];
  const out = product.squeeze(drop);
  for (const t of [a2, b2, product]) if (t !== a && t !== b) t.dispose();
  return out;
}
