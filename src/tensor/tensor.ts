// The Tensor: a strided view (shape, strides, offset) of a refcounted backend buffer, plus the
// autograd links. Every op returns a new Tensor object, even when it shares the input's buffer,
// so each Tensor has exactly one owner who disposes it (or a `tidy` that does).
//
// The methods are thin: each forwards to the op family that implements it (ops/*.ts).

import type { Backend, DType, Storage, View } from '../backend/types.js';
import { DTypeError, UseAfterFreeError } from '../util/errors.js';
import { backward, retainGrad, unrefNode, type BackwardOptions, type GradNode } from './autograd.js';
import { formatTensor, readDense, toNested, type NestedArray } from './format.js';
import * as ew from './ops/elementwise.js';
import * as idx from './ops/indexing.js';
import { matmul } from './ops/matmul.js';
import * as nn from './ops/nn.js';
import * as red from './ops/reduce.js';
import * as vw from './ops/views.js';
import { isRowMajor, sizeOf, type Shape } from './shape.js';
import { trackTensor } from './scope.js';
import { SharedStorage } from './storage.js';

export type Axes = number | readonly number[] | null;
/** One axis of `index`: a number selects (drops the axis), [start, end?, step?] slices, null keeps it whole. */
export type IndexSpec = number | null | readonly [start: number, end?: number | null, step?: number];
export type GeluApproximation = 'none' | 'tanh';

export class Tensor implements View {
  readonly shape: Shape;
  readonly strides: Shape;
  readonly offset: number;
  readonly dtype: DType;
  readonly backend: Backend;
  /** The backend buffer (shared by views). Read it only through the tensor's strides and offset. */
  readonly storage: Storage;
  /** @internal Reference-counted owner of `storage`. */
  readonly shared: SharedStorage;
  readonly size: number;
  requiresGrad = false;
  /** Gradient accumulated by `backward` (leaves, and non-leaves after `retainGrad()`); owned by this tensor. */
  grad: Tensor | null = null;
  /** @internal The autograd node that produced this tensor (null for leaves and untracked values). */
  gradFn: GradNode | null = null;
  /** Set by `keep()`: no tidy disposes this tensor. */
  kept = false;
  private disposed = false;
  private readonly rowMajor: boolean;

  /** @internal Use the creation functions (tensor, zeros, ...) instead. */
  constructor(shared: SharedStorage, shape: Shape, strides: Shape, offset: number, track = true) {
    this.shared = shared;
    this.storage = shared.storage;
    this.backend = shared.backend;
    this.dtype = shared.storage.dtype;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.size = sizeOf(shape);
    this.rowMajor = isRowMajor(shape, strides);
    shared.retain();
    if (track) trackTensor(this);
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Row-major dense layout (any offset). */
  isContiguous(): boolean {
    return this.rowMajor;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Throws UseAfterFreeError naming the op if this tensor was disposed. */
  assertLive(op: string): void {
    if (this.disposed) throw new UseAfterFreeError(`${op}: tensor of shape [${this.shape.join(', ')}] was disposed`);
  }

  /** Releases this tensor's buffer reference, its autograd graph reference and its `.grad`. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.shared.release();
    if (this.gradFn !== null) {
      unrefNode(this.gradFn);
      this.gradFn = null;
    }
    if (this.grad !== null) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- reading ----
  /** Dense row-major copy as the dtype's typed array. */
  toArray(): Float32Array | Float64Array | Int32Array { return readDense(this, 'toArray'); }
  item(): number { return vw.item(this); }
  toNested(): NestedArray { return toNested(this); }
  toString(): string { return formatTensor(this); }

  // ---- autograd ----
  /** Marks a float leaf as requiring gradients (returns this, for chaining). */
  requiresGrad_(flag = true): this {
    this.assertLive('requiresGrad_');
    if (flag && this.dtype === 'int32') throw new DTypeError('requiresGrad_: only float tensors can require gradients, got int32');
    this.requiresGrad = flag;
    return this;
  }
  /** Keeps `.grad` for this non-leaf tensor during backward. */
  retainGrad(): this { retainGrad(this); return this; }
  /** Accumulates d(this)/d(leaf) into each leaf's `.grad`; seed defaults to 1 for a one-element tensor. */
  backward(seed?: Tensor | BackwardOptions, options?: BackwardOptions): void {
    if (seed instanceof Tensor || seed === undefined) backward(this, seed, options);
    else backward(this, undefined, seed);
  }
  /** Same data, no gradient history. */
  detach(): Tensor { return vw.detach(this); }

  // ---- views (no copy) and copies ----
  reshape(...shape: number[] | [readonly number[]]): Tensor { return vw.reshape(this, shapeArg(shape)); }
  view(...shape: number[] | [readonly number[]]): Tensor { return vw.reshape(this, shapeArg(shape)); }
  flatten(startAxis = 0, endAxis = -1): Tensor { return vw.flatten(this, startAxis, endAxis); }
  transpose(axisA: number, axisB: number): Tensor { return vw.transpose(this, axisA, axisB); }
  permute(...axes: number[] | [readonly number[]]): Tensor { return vw.permute(this, shapeArg(axes)); }
  /** Swaps the last two axes. */
  get mT(): Tensor { return vw.transpose(this, -2, -1); }
  /** Reverses all axes (numpy's .T). */
  get T(): Tensor { return vw.permute(this, this.shape.map((_, i) => this.ndim - 1 - i)); }
  unsqueeze(axis: number): Tensor { return vw.unsqueeze(this, axis); }
  squeeze(axes?: number | readonly number[]): Tensor { return vw.squeeze(this, axes); }
  /** Broadcast view; -1 keeps an axis's size. */
  expand(...shape: number[] | [readonly number[]]): Tensor { return vw.expand(this, shapeArg(shape)); }
  broadcastTo(shape: readonly number[]): Tensor { return vw.expand(this, shape); }
  narrow(axis: number, start: number, length: number): Tensor { return vw.narrow(this, axis, start, length); }
  select(axis: number, index: number): Tensor { return vw.select(this, axis, index); }
  index(...specs: IndexSpec[]): Tensor { return vw.index(this, specs); }
  /** Views of consecutive pieces along axis: sizes listed, or equal pieces of one size. */
  split(sizes: number | readonly number[], axis = 0): Tensor[] { return vw.split(this, sizes, axis); }
  /** n views along axis, as torch.chunk (GPT-2's fused qkv: x.chunk(3, -1)). */
  chunk(n: number, axis = 0): Tensor[] { return vw.chunk(this, n, axis); }
  /** A dense copy, or a new view of the same buffer when already contiguous. */
  contiguous(): Tensor { return vw.contiguous(this); }
  clone(): Tensor { return vw.clone(this); }
  toType(dtype: DType): Tensor { return vw.toType(this, dtype); }
  /** Copy onto another backend (no gradient flows across). */
  toBackend(backend: Backend): Tensor { return vw.toBackend(this, backend); }

  // ---- elementwise ----
  add(other: Tensor | number): Tensor { return ew.binary('add', this, other); }
  sub(other: Tensor | number): Tensor { return ew.binary('sub', this, other); }
  mul(other: Tensor | number): Tensor { return ew.binary('mul', this, other); }
  div(other: Tensor | number): Tensor { return ew.binary('div', this, other); }
  pow(exponent: Tensor | number): Tensor { return ew.binary('pow', this, exponent); }
  maximum(other: Tensor | number): Tensor { return ew.binary('max', this, other); }
  minimum(other: Tensor | number): Tensor { return ew.binary('min', this, other); }
  eq(other: Tensor | number): Tensor { return ew.binary('eq', this, other); }
  ne(other: Tensor | number): Tensor { return ew.binary('ne', this, other); }
  lt(other: Tensor | number): Tensor { return ew.binary('lt', this, other); }
  le(other: Tensor | number): Tensor { return ew.binary('le', this, other); }
  gt(other: Tensor | number): Tensor { return ew.binary('gt', this, other); }
  ge(other: Tensor | number): Tensor { return ew.binary('ge', this, other); }
  neg(): Tensor { return ew.unary('neg', this); }
  abs(): Tensor { return ew.unary('abs', this); }
  sign(): Tensor { return ew.unary('sign', this); }
  square(): Tensor { return ew.unary('square', this); }
  sqrt(): Tensor { return ew.unary('sqrt', this); }
  rsqrt(): Tensor { return ew.unary('rsqrt', this); }
  reciprocal(): Tensor { return ew.unary('reciprocal', this); }
  exp(): Tensor { return ew.unary('exp', this); }
  log(): Tensor { return ew.unary('log', this); }
  sin(): Tensor { return ew.unary('sin', this); }
  cos(): Tensor { return ew.unary('cos', this); }
  tanh(): Tensor { return ew.unary('tanh', this); }
  erf(): Tensor { return ew.unary('erf', this); }
  sigmoid(): Tensor { return ew.unary('sigmoid', this); }
  relu(): Tensor { return ew.unary('relu', this); }
  silu(): Tensor { return ew.unary('silu', this); }
  /** GELU with the exact erf form ('none', PyTorch's default) or the tanh approximation (GPT-2's gelu_new). */
  gelu(approximate: GeluApproximation = 'none'): Tensor { return ew.unary(approximate === 'tanh' ? 'gelu_tanh' : 'gelu_erf', this); }
  clamp(min?: number | null, max?: number | null): Tensor { return ew.clamp(this, min ?? null, max ?? null); }

  // ---- reductions and scans ----
  sum(axes?: Axes, options?: red.KeepDim): Tensor { return red.sum(this, axes, options); }
  mean(axes?: Axes, options?: red.KeepDim): Tensor { return red.mean(this, axes, options); }
  max(axes?: Axes, options?: red.KeepDim): Tensor { return red.reduceOp('max', this, axes, options); }
  min(axes?: Axes, options?: red.KeepDim): Tensor { return red.reduceOp('min', this, axes, options); }
  logsumexp(axes?: Axes, options?: red.KeepDim): Tensor { return red.reduceOp('logsumexp', this, axes, options); }
  /** int32 indices of the largest element along `axis` (all elements, flattened, when omitted); ties: first. */
  argmax(axis?: number | null, options?: red.KeepDim): Tensor { return red.argReduce('argmax', this, axis, options); }
  argmin(axis?: number | null, options?: red.KeepDim): Tensor { return red.argReduce('argmin', this, axis, options); }
  /** Variance with Bessel's correction by default (correction: 1), as torch.var. */
  var(axes?: Axes, options?: red.VarOptions): Tensor { return red.variance(this, axes, options); }
  std(axes?: Axes, options?: red.VarOptions): Tensor { return red.variance(this, axes, options).sqrt(); }
  cumsum(axis: number, options?: { reverse?: boolean }): Tensor { return red.cumsum(this, axis, options?.reverse ?? false); }
  topk(k: number, axis = -1, options?: { largest?: boolean }): { values: Tensor; indices: Tensor } {
    return red.topk(this, k, axis, options?.largest ?? true);
  }
  softmax(axis = -1, options?: nn.SoftmaxOptions): Tensor { return nn.softmax(this, axis, false, options); }
  logSoftmax(axis = -1, options?: nn.SoftmaxOptions): Tensor { return nn.softmax(this, axis, true, options); }

  // ---- linear algebra and indexing ----
  matmul(other: Tensor): Tensor { return matmul(this, other); }
  /** Rows (or any axis slices) picked by int32 ids of any shape: out shape = shape[:axis] + ids.shape + shape[axis+1:]. */
  indexSelect(axis: number, ids: Tensor): Tensor { return idx.indexSelect(this, axis, ids); }
  /** torch.gather / take_along_axis: out[..., j, ...] = this[..., ids[..., j, ...], ...] along axis. */
  gather(axis: number, ids: Tensor): Tensor { return idx.gather(this, axis, ids); }
  /** Functional patch: a copy of this with `index(...specs)` replaced by value (broadcast). Differentiable. */
  indexPut(specs: readonly IndexSpec[], value: Tensor | number): Tensor { return idx.indexPut(this, specs, value); }
  /** In-place patch of the region `index(...specs)`; not differentiable. Returns this. */
  setIndex_(specs: readonly IndexSpec[], value: Tensor | number): this { idx.setIndex(this, specs, value); return this; }
  /** In-place copy of src (broadcast, cast to this dtype) into this; not differentiable. Returns this. */
  copy_(src: Tensor | number): this { idx.setIndex(this, [], src); return this; }
}

function shapeArg(args: number[] | [readonly number[]]): readonly number[] {
  return args.length === 1 && Array.isArray(args[0]) ? args[0] : (args as number[]);
}

/** @internal A fresh zero-filled dense tensor owned by the caller. */
export function allocTensor(backend: Backend, dtype: DType, shape: Shape, strides?: Shape): Tensor {
  const storage = backend.alloc(dtype, sizeOf(shape));
  return new Tensor(new SharedStorage(backend, storage), shape, strides ?? contiguousStridesOf(shape), 0);
}

/** @internal A new tensor over the same buffer with another layout. */
export function viewTensor(base: Tensor, shape: Shape, strides: Shape, offset: number): Tensor {
  return new Tensor(base.shared, shape, strides, offset);
}

/** @internal Same layout and buffer, not tracked by any tidy: autograd's saved tensors. */
export function untrackedAlias(base: Tensor): Tensor {
  return new Tensor(base.shared, base.shape, base.strides, base.offset, false);
}

// Small shapes recur constantly (scalars, vectors); computing strides is cheap, but sharing the
// result of the 0-d and 1-d cases avoids array churn in the tiny-op hot path.
const SCALAR_STRIDES: Shape = Object.freeze([]);
const UNIT_STRIDES: Shape = Object.freeze([1]);
function contiguousStridesOf(shape: Shape): Shape {
  if (shape.length === 0) return SCALAR_STRIDES;
  if (shape.length === 1) return UNIT_STRIDES;
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}
