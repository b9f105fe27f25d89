// Reading tensors back to JS: dense typed arrays, nested arrays and a torch-like printout.
// Every backend's buffers are host typed arrays, so reading is a strided walk on the CPU.

import type { DataArray } from '../backend/types.js';
import type { Tensor } from './tensor.js';

export type NestedArray = number | NestedArray[];

/** Dense row-major copy of t's elements. */
export function readDense(t: Tensor, op: string): DataArray {
  t.assertLive(op);
  const data = t.storage.data;
  if (t.isContiguous()) return data.slice(t.offset, t.offset + t.size);
  const out = new (data.constructor as { new (n: number): DataArray })(t.size);
  const ndim = t.ndim;
  const { shape, strides } = t;
  const counter = new Array<number>(ndim).fill(0);
  let src = t.offset;
  for (let i = 0; i < t.size; i++) {
    out[i] = data[src];
    for (let d = ndim - 1; d >= 0; d--) {
      if (++counter[d] < shape[d]) {
        src += strides[d];
        break;
      }
      counter[d] = 0;
      src -= strides[d] * (shape[d] - 1);
    }
  }
  return out;
}

export function toNested(t: Tensor): NestedArray {
  const flat = readDense(t, 'toNested');
  if (t.ndim === 0) return flat[0];
  let pos = 0;
  const build = (axis: number): NestedArray[] => {
    const out: NestedArray[] = [];
    for (let i = 0; i < t.shape[axis]; i++) out.push(axis === t.ndim - 1 ? flat[pos++] : build(axis + 1));
    return out;
  };
  return build(0);
}

const EDGE_ITEMS = 3;
const MAX_FULL = 1000;

/** `tensor([[1.0000, 2.0000], ...], dtype=float32, shape=[2, 2])`, eliding the middle of large tensors. */
export function formatTensor(t: Tensor): string {
  if (t.isDisposed) return `tensor(<disposed>, shape=[${t.shape.join(', ')}])`;
  const flat = readDense(t, 'toString');
  const elide = t.size > MAX_FULL;
  const fmt = t.dtype === 'int32' ? (v: number) => String(v) : (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
  const strides: number[] = [];
  let stride = 1;
  for (let i = t.ndim - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= t.shape[i];
  }
  const render = (axis: number, base: number, indent: string): string => {
    if (axis === t.ndim) return fmt(flat[base]);
    const n = t.shape[axis];
    const items: string[] = [];
    for (let i = 0; i < n; i++) {
      if (elide && n > 2 * EDGE_ITEMS && i === EDGE_ITEMS) {
        items.push('...');
        i = n - EDGE_ITEMS - 1;
        continue;
      }
      items.push(render(axis + 1, base + i * strides[axis], indent + ' '));
    }
    const sep = axis === t.ndim - 1 ? ', ' : `,\n${indent} `;
    return `[${items.join(sep)}]`;
  };
  const grad = t.gradFn !== null ? `, grad_fn=${t.gradFn.op}` : t.requiresGrad ? ', requires_grad=true' : '';
  return `tensor(${render(0, 0, '       ')}, dtype=${t.dtype}, shape=[${t.shape.join(', ')}]${grad})`;
}
