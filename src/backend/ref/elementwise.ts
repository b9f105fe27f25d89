// Elementwise kernels: unary, binary (already broadcast by the tensor layer), scalar, where.
// Each op is one loop over a strided row, with the op switch outside the loop.

import type { BinaryOp, DataArray, Storage, UnaryOp, View } from '../types.js';
import { erf, geluErf, geluErfGrad, geluTanh, geluTanhGrad, sigmoid, silu, siluGrad } from './scalar-math.js';
import { denseLayout, StridedRows, type StridedLayout } from './strided.js';

/** out[o + i] = op(x[xo + i*xs]) for i < n. */
function unaryRow(op: UnaryOp, x: DataArray, xo: number, xs: number, out: DataArray, o: number, n: number): void {
  let i = 0;
  switch (op) {
    case 'neg': for (; i < n; i++) out[o + i] = -x[xo + i * xs]; return;
    case 'abs': for (; i < n; i++) out[o + i] = Math.abs(x[xo + i * xs]); return;
    case 'sign': for (; i < n; i++) out[o + i] = Math.sign(x[xo + i * xs]); return;
    case 'square': for (; i < n; i++) { const v = x[xo + i * xs]; out[o + i] = v * v; } return;
    case 'sqrt': for (; i < n; i++) out[o + i] = Math.sqrt(x[xo + i * xs]); return;
    case 'rsqrt': for (; i < n; i++) out[o + i] = 1 / Math.sqrt(x[xo + i * xs]); return;
    case 'reciprocal': for (; i < n; i++) out[o + i] = 1 / x[xo + i * xs]; return;
    case 'exp': for (; i < n; i++) out[o + i] = Math.exp(x[xo + i * xs]); return;
    case 'log': for (; i < n; i++) out[o + i] = Math.log(x[xo + i * xs]); return;
    case 'sin': for (; i < n; i++) out[o + i] = Math.sin(x[xo + i * xs]); return;
    case 'cos': for (; i < n; i++) out[o + i] = Math.cos(x[xo + i * xs]); return;
    case 'tanh': for (; i < n; i++) out[o + i] = Math.tanh(x[xo + i * xs]); return;
    case 'erf': for (; i < n; i++) out[o + i] = erf(x[xo + i * xs]); return;
    case 'sigmoid': for (; i < n; i++) out[o + i] = sigmoid(x[xo + i * xs]); return;
    // x > 0 ? x : 0 keeps NaN as NaN (Math.max would too, but also turns -0 into 0).
    case 'relu': for (; i < n; i++) { const v = x[xo + i * xs]; out[o + i] = v > 0 ? v : v !== v ? v : 0; } return;
    case 'silu': for (; i < n; i++) out[o + i] = silu(x[xo + i * xs]); return;
    case 'gelu_erf': for (; i < n; i++) out[o + i] = geluErf(x[xo + i * xs]); return;
    case 'gelu_tanh': for (; i < n; i++) out[o + i] = geluTanh(x[xo + i * xs]); return;
    case 'step': for (; i < n; i++) out[o + i] = x[xo + i * xs] > 0 ? 1 : 0; return;
    case 'silu_grad': for (; i < n; i++) out[o + i] = siluGrad(x[xo + i * xs]); return;
    case 'gelu_erf_grad': for (; i < n; i++) out[o + i] = geluErfGrad(x[xo + i * xs]); return;
    case 'gelu_tanh_grad': for (; i < n; i++) out[o + i] = geluTanhGrad(x[xo + i * xs]); return;
    default: op satisfies never;
  }
}

/** out[o + i] = a[ao + i*as] op b[bo + i*bs] for i < n. */
function binaryRow(op: BinaryOp, a: DataArray, ao: number, as: number, b: DataArray, bo: number, bs: number,
  out: DataArray, o: number, n: number): void {
  let i = 0;
  switch (op) {
    case 'add': for (; i < n; i++) out[o + i] = a[ao + i * as] + b[bo + i * bs]; return;
    case 'sub': for (; i < n; i++) out[o + i] = a[ao + i * as] - b[bo + i * bs]; return;
    case 'mul': for (; i < n; i++) out[o + i] = a[ao + i * as] * b[bo + i * bs]; return;
    case 'div': for (; i < n; i++) out[o + i] = a[ao + i * as] / b[bo + i * bs]; return;
    case 'pow': for (; i < n; i++) out[o + i] = Math.pow(a[ao + i * as], b[bo + i * bs]); return;
    // Math.max/min propagate NaN, as torch.maximum/minimum do.
    case 'max': for (; i < n; i++) out[o + i] = Math.max(a[ao + i * as], b[bo + i * bs]); return;
    case 'min': for (; i < n; i++) out[o + i] = Math.min(a[ao + i * as], b[bo + i * bs]); return;
    case 'eq': for (; i < n; i++) out[o + i] = a[ao + i * as] === b[bo + i * bs] ? 1 : 0; return;
    case 'ne': for (; i < n; i++) out[o + i] = a[ao + i * as] !== b[bo + i * bs] ? 1 : 0; return;
    case 'lt': for (; i < n; i++) out[o + i] = a[ao + i * as] < b[bo + i * bs] ? 1 : 0; return;
    case 'le': for (; i < n; i++) out[o + i] = a[ao + i * as] <= b[bo + i * bs] ? 1 : 0; return;
    case 'gt': for (; i < n; i++) out[o + i] = a[ao + i * as] > b[bo + i * bs] ? 1 : 0; return;
    case 'ge': for (; i < n; i++) out[o + i] = a[ao + i * as] >= b[bo + i * bs] ? 1 : 0; return;
    default: op satisfies never;
  }
}

export function unary(op: UnaryOp, x: View, out: Storage): void {
  const rows = new StridedRows(x.shape, [x, denseLayout(x.shape)]);
  const src = x.storage.data;
  const dst = out.data;
  const xs = rows.rowStrides[0];
  for (let r = 0; r < rows.rowCount; r++) {
    unaryRow(op, src, rows.offsets[0], xs, dst, rows.offsets[1], rows.rowLength);
    rows.next();
  }
}

function binaryStrided(op: BinaryOp, shape: readonly number[], a: DataArray, aLayout: StridedLayout,
  b: DataArray, bLayout: StridedLayout, out: Storage): void {
  const rows = new StridedRows(shape, [aLayout, bLayout, denseLayout(shape)]);
  const dst = out.data;
  const as = rows.rowStrides[0];
  const bs = rows.rowStrides[1];
  for (let r = 0; r < rows.rowCount; r++) {
    binaryRow(op, a, rows.offsets[0], as, b, rows.offsets[1], bs, dst, rows.offsets[2], rows.rowLength);
    rows.next();
  }
}

export function binary(op: BinaryOp, a: View, b: View, out: Storage): void {
  binaryStrided(op, a.shape, a.storage.data, a, b.storage.data, b, out);
}

/** The scalar is rounded to the tensor's dtype first, as torch does for a Python number. */
export function binaryScalar(op: BinaryOp, x: View, scalar: number, scalarOnLeft: boolean, out: Storage): void {
  const scalarArray = x.storage.dtype === 'float32' ? new Float32Array([scalar])
    : x.storage.dtype === 'int32' ? new Int32Array([scalar]) : new Float64Array([scalar]);
  const scalarLayout: StridedLayout = { offset: 0, strides: x.shape.map(() => 0) };
  if (scalarOnLeft) binaryStrided(op, x.shape, scalarArray, scalarLayout, x.storage.data, x, out);
  else binaryStrided(op, x.shape, x.storage.data, x, scalarArray, scalarLayout, out);
}

export function where(cond: View, a: View, b: View, out: Storage): void {
  const rows = new StridedRows(cond.shape, [cond, a, b, denseLayout(cond.shape)]);
  const c = cond.storage.data;
  const av = a.storage.data;
  const bv = b.storage.data;
  const dst = out.data;
  const cs = rows.rowStrides[0];
  const as = rows.rowStrides[1];
  const bs = rows.rowStrides[2];
  const n = rows.rowLength;
  for (let r = 0; r < rows.rowCount; r++) {
    const co = rows.offsets[0];
    const ao = rows.offsets[1];
    const bo = rows.offsets[2];
    const o = rows.offsets[3];
    for (let i = 0; i < n; i++) dst[o + i] = c[co + i * cs] !== 0 ? av[ao + i * as] : bv[bo + i * bs];
    rows.next();
  }
}
