// Elementwise ops: unary, binary with numpy broadcasting (tensor or number operands), where,
// clamp. With grad off an op is: checks, one allocation, one kernel call — no closures.

import type { BinaryOp, UnaryOp, View } from '../../backend/types.js';
import { ArgumentError } from '../../util/errors.js';
import { needsGrad, record, type BackwardFn } from '../autograd.js';
import { broadcastShapes, broadcastStrides, sameShape, type Shape } from '../shape.js';
import { Tensor, allocTensor } from '../tensor.js';
import { assertFloat, assertSameBackend, assertSameDType } from './common.js';
import { sumToShape } from './reduce.js';

// int32 supports the ops whose result is again an integer; the rest need a float tensor.
const INT_UNARY = new Set<UnaryOp>(['neg', 'abs', 'sign', 'square', 'relu', 'step']);
const INT_BINARY = new Set<BinaryOp>(['add', 'sub', 'mul', 'max', 'min', 'eq', 'ne', 'lt', 'le', 'gt', 'ge']);
const COMPARISONS = new Set<BinaryOp>(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);

const SQRT_PI = Math.sqrt(Math.PI);

// Which value each unary rule reads back: the input x, the output y, or nothing. Saving only that
// keeps a graph from holding both buffers alive.
const USES_OUTPUT = new Set<UnaryOp>(['sqrt', 'rsqrt', 'reciprocal', 'exp', 'tanh', 'sigmoid']);

/** d op(x)/dx times g; `v` is the saved x or y (see USES_OUTPUT). */
function unaryRule(op: UnaryOp): BackwardFn | null {
  switch (op) {
    case 'neg': return (g) => [g.neg()];
    case 'abs': return (g, [x]) => [g.mul(x.sign())];
    case 'sign': case 'step': return null;
    case 'square': return (g, [x]) => [g.mul(x).mul(2)];
    case 'sqrt': return (g, [y]) => [g.div(y).mul(0.5)];
    case 'rsqrt': return (g, [y]) => [g.mul(y.square().mul(y)).mul(-0.5)];
    case 'reciprocal': return (g, [y]) => [g.mul(y.square()).neg()];
    case 'exp': return (g, [y]) => [g.mul(y)];
    case 'log': return (g, [x]) => [g.div(x)];
    case 'sin': return (g, [x]) => [g.mul(x.cos())];
    case 'cos': return (g, [x]) => [g.mul(x.sin()).neg()];
    case 'tanh': return (g, [y]) => [g.mul(y.square().neg().add(1))];
    case 'erf': return (g, [x]) => [g.mul(x.square().neg().exp()).mul(2 / SQRT_PI)];
    case 'sigmoid': return (g, [y]) => [g.mul(y.mul(y.neg().add(1)))];
    case 'relu': return (g, [x]) => [g.mul(unary('step', x))];
    case 'silu': return (g, [x]) => [g.mul(unary('silu_grad', x))];
    case 'gelu_erf': return (g, [x]) => [g.mul(unary('gelu_erf_grad', x))];
    case 'gelu_tanh': return (g, [x]) => [g.mul(unary('gelu_tanh_grad', x))];
    case 'silu_grad': case 'gelu_erf_grad': case 'gelu_tanh_grad':
      throw new ArgumentError(`${op} is a derivative kernel without a gradient of its own`);
    default: return op satisfies never;
  }
}

export function unary(op: UnaryOp, x: Tensor): Tensor {
  x.assertLive(op);
  if (x.dtype === 'int32' && !INT_UNARY.has(op)) assertFloat(x, op);
  const out = allocTensor(x.backend, x.dtype, x.shape, x.isContiguous() ? x.strides : undefined);
  x.backend.unary(op, x, out.storage);
  if (needsGrad(x)) {
    const rule = unaryRule(op);
    if (rule !== null) record(op, out, [x], rule, op === 'neg' ? [] : [USES_OUTPUT.has(op) ? out : x]);
  }
  return out;
}

function broadcastView(t: Tensor, shape: Shape, op: string): View {
  if (sameShape(t.shape, shape)) return t;
  return { storage: t.storage, offset: t.offset, shape, strides: broadcastStrides(t.shape, t.strides, shape, op) };
}

function binaryRule(op: BinaryOp, aShape: Shape, bShape: Shape): BackwardFn | null {
  const toA = (g: Tensor) => sumToShape(g, aShape);
  const toB = (g: Tensor) => sumToShape(g, bShape);
  switch (op) {
    case 'add': return (g, _s, needs) => [needs[0] ? toA(g) : null, needs[1] ? toB(g) : null];
    case 'sub': return (g, _s, needs) => [needs[0] ? toA(g) : null, needs[1] ? toB(g.neg()) : null];
    case 'mul': return (g, [a, b], needs) => [needs[0] ? toA(g.mul(b)) : null, needs[1] ? toB(g.mul(a)) : null];
    case 'div': return (g, [, b, y], needs) => [needs[0] ? toA(g.div(b)) : null, needs[1] ? toB(g.mul(y).div(b).neg()) : null];
    case 'pow': return (g, [a, b, y], needs) => [
      needs[0] ? toA(g.mul(b).mul(a.pow(b.sub(1)))) : null,
      // d/db a^b = a^b ln a; PyTorch defines it as 0 where a == 0 (where ln a = -inf).
      needs[1] ? toB(where(a.eq(0), 0, g.mul(y).mul(a.log()))) : null,
    ];
    case 'max': case 'min': return (g, [a, b], needs) => {
      // Ties split the gradient evenly, as torch.maximum does.
      const winsA = (op === 'max' ? a.gt(b) : a.lt(b)).add(a.eq(b).mul(0.5));
      const ga = g.mul(winsA);
      return [needs[0] ? toA(ga) : null, needs[1] ? toB(g.sub(ga)) : null];
    };
    case 'eq': case 'ne': case 'lt': case 'le': case 'gt': case 'ge': return null;
    default: return op satisfies never;
  }
}

export function binary(op: BinaryOp, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number') {
    if (typeof a === 'number') throw new ArgumentError(`${op}: at least one operand must be a Tensor, got two numbers`);
    return binaryScalar(op, a, b, false);
  }
  if (typeof a === 'number') return binaryScalar(op, b, a, true);
  a.assertLive(op);
  b.assertLive(op);
  assertSameBackend(a, b, op);
  assertSameDType(a, b, op);
  if (a.dtype === 'int32' && !INT_BINARY.has(op)) assertFloat(a, op);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = allocTensor(a.backend, a.dtype, shape, shape === a.shape && a.isContiguous() ? a.strides : undefined);
  a.backend.binary(op, broadcastView(a, shape, op), broadcastView(b, shape, op), out.storage);
  if (needsGrad(a, b)) {
    const rule = binaryRule(op, a.shape, b.shape);
    if (rule !== null) record(op, out, [a, b], rule, op === 'add' || op === 'sub' ? [] : op === 'pow' || op === 'div' ? [a, b, out] : [a, b]);
  }
  return out;
}

/** Rules for x op s / s op x, with what each saves: [x, y] for s / x, [y] for s ** x, [x] otherwise. */
function scalarRule(op: BinaryOp, s: number, scalarOnLeft: boolean): { rule: BackwardFn; saves: 'none' | 'x' | 'y' | 'xy' } | null {
  switch (op) {
    case 'add': return { rule: (g) => [g], saves: 'none' };
    case 'sub': return { rule: (g) => [scalarOnLeft ? g.neg() : g], saves: 'none' };
    case 'mul': return { rule: (g) => [g.mul(s)], saves: 'none' };
    case 'div': return scalarOnLeft
      ? { rule: (g, [x, y]) => [g.mul(y).div(x).neg()], saves: 'xy' }
      : { rule: (g) => [g.div(s)], saves: 'none' };
    case 'pow': return scalarOnLeft
      ? { rule: (g, [y]) => [g.mul(y).mul(Math.log(s))], saves: 'y' }
      : { rule: (g, [x]) => [g.mul(x.pow(s - 1)).mul(s)], saves: 'x' };
    case 'max': case 'min': return {
      rule: (g, [x]) => [g.mul((op === 'max' ? x.gt(s) : x.lt(s)).add(x.eq(s).mul(0.5)))],
      saves: 'x',
    };
    case 'eq': case 'ne': case 'lt': case 'le': case 'gt': case 'ge': return null;
    default: return op satisfies never;
  }
}

function binaryScalar(op: BinaryOp, x: Tensor, s: number, scalarOnLeft: boolean): Tensor {
  x.assertLive(op);
  if (x.dtype === 'int32' && (!INT_BINARY.has(op) || !Number.isInteger(s))) assertFloat(x, `${op} with ${s}`);
  const out = allocTensor(x.backend, x.dtype, x.shape, x.isContiguous() ? x.strides : undefined);
  x.backend.binaryScalar(op, x, s, scalarOnLeft, out.storage);
  if (!COMPARISONS.has(op) && needsGrad(x)) {
    const found = scalarRule(op, s, scalarOnLeft);
    if (found !== null) {
      const saved = { none: [], x: [x], y: [out], xy: [x, out] }[found.saves];
      record(op, out, [x], found.rule, saved);
    }
  }
  return out;
}

/** A 0-d tensor holding value, on like's backend and dtype. */
export function scalarLike(like: Tensor, value: number): Tensor {
  const out = allocTensor(like.backend, like.dtype, []);
  like.backend.fill(out.storage, value, 0, 1);
  return out;
}

/** cond != 0 ? a : b, broadcasting all three; the result takes a's (or b's) dtype. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  cond.assertLive('where');
  const like = typeof a !== 'number' ? a : typeof b !== 'number' ? b : null;
  if (like === null) throw new ArgumentError('where: at least one of a and b must be a Tensor, got two numbers');
  const ta = typeof a === 'number' ? scalarLike(like, a) : a;
  const tb = typeof b === 'number' ? scalarLike(like, b) : b;
  ta.assertLive('where');
  tb.assertLive('where');
  assertSameBackend(cond, ta, 'where');
  assertSameBackend(ta, tb, 'where');
  assertSameDType(ta, tb, 'where');
  const shape = broadcastShapes(broadcastShapes(cond.shape, ta.shape, 'where'), tb.shape, 'where');
  const out = allocTensor(ta.backend, ta.dtype, shape);
  ta.backend.where(broadcastView(cond, shape, 'where'), broadcastView(ta, shape, 'where'), broadcastView(tb, shape, 'where'), out.storage);
  if (needsGrad(ta, tb)) {
    const aShape = ta.shape;
    const bShape = tb.shape;
    record('where', out, [ta, tb], (g, [c], needs) => [
      needs[0] ? sumToShape(where(c, g, 0), aShape) : null,
      needs[1] ? sumToShape(where(c, 0, g), bShape) : null,
    ], [cond]);
  }
  if (ta !== a) ta.dispose();
  if (tb !== b) tb.dispose();
  return out;
}

/** Limits x to [min, max] (either may be null); the gradient passes where min <= x <= max, as torch.clamp. */
export function clamp(x: Tensor, min: number | null, max: number | null): Tensor {
  x.assertLive('clamp');
  if (min !== null && max !== null && min > max) throw new ArgumentError(`clamp: min ${min} is greater than max ${max}`);
  const out = allocTensor(x.backend, x.dtype, x.shape);
  if (min !== null && max !== null) {
    const lowered = allocTensor(x.backend, x.dtype, x.shape);
    x.backend.binaryScalar('max', x, min, false, lowered.storage);
    x.backend.binaryScalar('min', lowered, max, false, out.storage);
    lowered.dispose();
  } else if (min !== null || max !== null) {
    x.backend.binaryScalar(min !== null ? 'max' : 'min', x, (min ?? max)!, false, out.storage);
  } else {
    x.backend.copy(x, out);
  }
  if (needsGrad(x)) {
    record('clamp', out, [x], (g, [v]) => {
      let mask = g;
      if (min !== null) mask = mask.mul(v.ge(min));
      if (max !== null) mask = mask.mul(v.le(max));
      return [mask];
    }, [x]);
  }
  return out;
}

// Free-function forms of the binary ops; either operand may be a number.
export const add = (a: Tensor | number, b: Tensor | number): Tensor => binary('add', a, b);
export const sub = (a: Tensor | number, b: Tensor | number): Tensor => binary('sub', a, b);
export const mul = (a: Tensor | number, b: Tensor | number): Tensor => binary('mul', a, b);
export const div = (a: Tensor | number, b: Tensor | number): Tensor => binary('div', a, b);
export const pow = (a: Tensor | number, b: Tensor | number): Tensor => binary('pow', a, b);
export const maximum = (a: Tensor | number, b: Tensor | number): Tensor => binary('max', a, b);
export const minimum = (a: Tensor | number, b: Tensor | number): Tensor => binary('min', a, b);
