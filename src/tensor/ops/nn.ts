// Fused neural-net primitives (the kernels exist for speed): softmax / logSoftmax with an
// optional causal mask, layerNorm, rmsNorm, rotary. Backward rules are written with tensor ops.

import type { RotaryLayout } from '../../backend/types.js';
import { ArgumentError, GradError, ShapeError, fmtShape } from '../../util/errors.js';
import { needsGrad, noGrad, record } from '../autograd.js';
import { normalizeAxis, sameShape } from '../shape.js';
import { Tensor, allocTensor } from '../tensor.js';
import { assertFloat, assertSameBackend, assertSameDType, denseInput, releaseTemp } from './common.js';
import { where } from './elementwise.js';

export interface SoftmaxOptions {
  /**
   * Causal mask over the last two axes [..., query, key]: key j is kept for query q iff
   * j <= q + offset (offset = number of cached positions before the first query).
   */
  causal?: { offset?: number } | boolean;
}

export function softmax(x: Tensor, axis: number, log: boolean, options?: SoftmaxOptions): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  x.assertLive(op);
  assertFloat(x, op);
  const a = normalizeAxis(axis, x.ndim, op);
  const last = x.ndim - 1;
  const causalOption = options?.causal;
  let causal = null;
  if (causalOption !== undefined && causalOption !== false) {
    if (a !== last || x.ndim < 2) {
      throw new ArgumentError(`${op}: a causal mask needs the softmax over the last axis of a [..., query, key] tensor, got axis ${axis} of shape ${fmtShape(x.shape)}`);
    }
    const offset = causalOption === true ? 0 : causalOption.offset ?? 0;
    causal = { queryLen: x.shape[last - 1], offset };
  }
  const moved = a === last ? x : noGrad(() => x.transpose(a, last));
  const dense = denseInput(moved);
  const n = x.shape[a];
  const rows = n === 0 ? 0 : x.size / n;
  const result = allocTensor(x.backend, x.dtype, moved.shape);
  x.backend.softmax(dense.storage, rows, n, log, causal, result.storage);
  releaseTemp(dense, moved);
  let out = result;
  if (moved !== x) {
    moved.dispose();
    out = noGrad(() => result.transpose(a, last));
    result.dispose();
  }
  if (needsGrad(x)) {
    const masked = causal !== null;
    record(op, out, [x], (g, [y]) => {
      if (!log) return [y.mul(g.sub(g.mul(y).sum(a, { keepdim: true })))];
      const gx = g.sub(y.exp().mul(g.sum(a, { keepdim: true })));
      return [masked ? where(y.eq(-Infinity), 0, gx) : gx];
    }, [out]);
  }
  return out;
}

function checkParam(x: Tensor, p: Tensor | null | undefined, op: string, what: string): Tensor | null {
  if (p === null || p === undefined) return null;
  p.assertLive(op);
  assertSameBackend(x, p, op);
  assertSameDType(x, p, op);
  const d = x.shape[x.ndim - 1];
  if (p.ndim !== 1 || p.shape[0] !== d) throw new ShapeError(`${op}: ${what} of shape ${fmtShape(p.shape)} must be [${d}] for input ${fmtShape(x.shape)}`);
  return p;
}

function checkNormInput(x: Tensor, op: string): void {
  x.assertLive(op);
  assertFloat(x, op);
  if (x.ndim === 0) throw new ShapeError(`${op}: input must have at least one axis, got a 0-d tensor`);
}

/** Row statistics shaped [..., 1] for broadcasting against x. */
function statShape(x: Tensor): number[] {
  return x.shape.map((dim, i) => (i === x.ndim - 1 ? 1 : dim));
}

/** Sum over every axis but the last: the gradient of a per-feature parameter. */
function sumRows(t: Tensor): Tensor {
  return t.reshape(-1, t.shape[t.ndim - 1]).sum(0);
}

/** (x - mean) / sqrt(var + eps) * weight + bias over the last axis (biased variance, as PyTorch). */
export function layerNorm(x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  checkNormInput(x, 'layerNorm');
  const w = checkParam(x, weight, 'layerNorm', 'weight');
  const b = checkParam(x, bias, 'layerNorm', 'bias');
  const d = x.shape[x.ndim - 1];
  const rows = d === 0 ? 0 : x.size / d;
  const grad = needsGrad(x, w, b);
  const dense = denseInput(x);
  const wd = w && denseInput(w);
  const bd = b && denseInput(b);
  const out = allocTensor(x.backend, x.dtype, x.shape);
  const mean = grad ? allocTensor(x.backend, x.dtype, statShape(x)) : null;
  const rstd = grad ? allocTensor(x.backend, x.dtype, statShape(x)) : null;
  x.backend.layerNorm(dense.storage, rows, d, wd?.storage ?? null, bd?.storage ?? null, eps, out.storage,
    mean?.storage ?? null, rstd?.storage ?? null);
  if (grad) {
    const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
    record('layerNorm', out, inputs, (g, [xs, mu, rs, ws], needs) => {
      const xhat = xs.sub(mu).mul(rs);
      const gxhat = ws !== undefined ? g.mul(ws) : g;
      const result: (Tensor | null)[] = [];
      result.push(needs[0]
        ? gxhat.sub(gxhat.mean(-1, { keepdim: true })).sub(xhat.mul(gxhat.mul(xhat).mean(-1, { keepdim: true }))).mul(rs)
        : null);
      if (w) result.push(needs[1] ? sumRows(g.mul(xhat)) : null);
      if (b) result.push(needs[result.length] ? sumRows(g) : null);
      return result;
    }, [dense, mean!, rstd!, ...(w ? [w] : [])]);
    mean!.dispose();
    rstd!.dispose();
  }
  releaseTemp(dense, x);
  if (w && wd) releaseTemp(wd, w);
  if (b && bd) releaseTemp(bd, b);
  return out;
}

export interface RmsNormOptions {
  /** Multiply by (weightOffset + weight): 1 for Gemma's convention, 0 (default) otherwise. */
  weightOffset?: number;
}

/** x / sqrt(mean(x²) + eps) * (weightOffset + weight) over the last axis. */
export function rmsNorm(x: Tensor, weight?: Tensor | null, eps = 1e-6, options?: RmsNormOptions): Tensor {
  checkNormInput(x, 'rmsNorm');
  const w = checkParam(x, weight, 'rmsNorm', 'weight');
  const offset = options?.weightOffset ?? 0;
  const d = x.shape[x.ndim - 1];
  const rows = d === 0 ? 0 : x.size / d;
  const grad = needsGrad(x, w);
  const dense = denseInput(x);
  const wd = w && denseInput(w);
  const out = allocTensor(x.backend, x.dtype, x.shape);
  const rstd = grad ? allocTensor(x.backend, x.dtype, statShape(x)) : null;
  x.backend.rmsNorm(dense.storage, rows, d, wd?.storage ?? null, offset, eps, out.storage, rstd?.storage ?? null);
  if (grad) {
    record('rmsNorm', out, w ? [x, w] : [x], (g, [xs, rs, ws], needs) => {
      const xhat = xs.mul(rs);
      const gxn = ws !== undefined ? g.mul(ws.add(offset)) : g;
      const gx = needs[0] ? gxn.sub(xhat.mul(gxn.mul(xhat).mean(-1, { keepdim: true }))).mul(rs) : null;
      return w ? [gx, needs[1] ? sumRows(g.mul(xhat)) : null] : [gx];
    }, [dense, rstd!, ...(w ? [w] : [])]);
    rstd!.dispose();
  }
  releaseTemp(dense, x);
  if (w && wd) releaseTemp(wd, w);
  return out;
}

export interface RotaryOptions {
  /** Features per head that rotate (the first rotaryDim; default all). Must be even. */
  rotaryDim?: number;
  /** 'half' pairs i with i + rotaryDim/2 (NeoX, Llama; default); 'interleaved' pairs 2i with 2i+1 (GPT-J). */
  layout?: RotaryLayout;
}

/**
 * Rotary position embedding of x [batch, pos, heads, headDim] by angles given as cos/sin of shape
 * [batch, pos, rotaryDim/2] or [pos, rotaryDim/2]. Differentiable w.r.t. x only (cos/sin are tables).
 */
export function rotary(x: Tensor, cos: Tensor, sin: Tensor, options?: RotaryOptions): Tensor {
  x.assertLive('rotary');
  assertFloat(x, 'rotary');
  if (x.ndim !== 4) throw new ShapeError(`rotary: x must be [batch, pos, heads, headDim], got ${fmtShape(x.shape)}`);
  const [batch, pos, heads, headDim] = x.shape;
  const rotaryDim = options?.rotaryDim ?? headDim;
  const layout = options?.layout ?? 'half';
  if (!Number.isInteger(rotaryDim) || rotaryDim % 2 !== 0 || rotaryDim < 2 || rotaryDim > headDim) {
    throw new ArgumentError(`rotary: rotaryDim ${rotaryDim} must be an even integer in [2, ${headDim}] (headDim)`);
  }
  const tableShape = [batch, pos, rotaryDim / 2];
  const tables = [cos, sin].map((t, i) => {
    const name = i === 0 ? 'cos' : 'sin';
    t.assertLive('rotary');
    assertSameBackend(x, t, 'rotary');
    assertSameDType(x, t, 'rotary');
    if (needsGrad(t)) throw new GradError(`rotary: gradients w.r.t. ${name} are not supported; detach() it`);
    const ok = sameShape(t.shape, tableShape) || sameShape(t.shape, tableShape.slice(1));
    if (!ok) throw new ShapeError(`rotary: ${name} of shape ${fmtShape(t.shape)} must be ${fmtShape(tableShape)} or ${fmtShape(tableShape.slice(1))} for x ${fmtShape(x.shape)}`);
    if (t.ndim === 3) return denseInput(t);
    const expanded = noGrad(() => t.expand(tableShape));
    const dense = expanded.contiguous();
    expanded.dispose();
    return dense;
  });
  const [cosD, sinD] = tables;
  const dense = denseInput(x);
  const out = allocTensor(x.backend, x.dtype, x.shape);
  x.backend.rotary(dense.storage, batch, pos, heads, headDim, rotaryDim, cosD.storage, sinD.storage, layout, false, out.storage);
  releaseTemp(dense, x);
  if (needsGrad(x)) {
    record('rotary', out, [x], (g, [c, s]) => {
      const gd = denseInput(g);
      const gx = allocTensor(g.backend, g.dtype, g.shape);
      g.backend.rotary(gd.storage, batch, pos, heads, headDim, rotaryDim, c.storage, s.storage, layout, true, gx.storage);
      releaseTemp(gd, g);
      return [gx];
    }, [cosD, sinD]);
  }
  releaseTemp(cosD, cos);
  releaseTemp(sinD, sin);
  return out;
}
