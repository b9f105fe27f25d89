// Fused nn primitives and matmul: values against plain-JS formulas, gradients by finite
// differences (causal softmax, layerNorm, rmsNorm with weightOffset, rotary both layouts and
// partial, matmul with transposed and broadcast operands).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerNorm, matmul, rmsNorm, rotary, type Tensor } from '../../src/tensor/index.js';
import { ArgumentError, GradError, ShapeError } from '../../src/util/errors.js';
import { assertClose, checkGrad, flatIndex, indices, positive, ref, rnd } from './helpers.js';

function refSoftmaxRows(data: ArrayLike<number>, n: number, log: boolean, keep: (row: number, j: number) => boolean): number[] {
  const out: number[] = [];
  for (let r = 0; r < data.length / n; r++) {
    const row = Array.from({ length: n }, (_, j) => (keep(r, j) ? data[r * n + j] : -Infinity));
    const max = Math.max(...row);
    const z = row.reduce((a, v) => a + Math.exp(v - max), 0);
    for (const v of row) out.push(log ? v - max - Math.log(z) : Math.exp(v - max) / z);
  }
  return out;
}

test('softmax / logSoftmax over the last axis, another axis, and with a causal mask (offset)', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const tol = dtype === 'float32' ? 2e-6 : 1e-12;
    const x = rnd([2, 3, 5], 1, dtype);
    for (const log of [false, true]) {
      const op = (t: Tensor, axis: number, causal?: { offset: number }) => (log ? t.logSoftmax(axis, { causal }) : t.softmax(axis, { causal }));
      assertClose(op(x, -1).toArray(), refSoftmaxRows(x.toArray(), 5, log, () => true), tol, 'last axis');
      const moved = x.transpose(1, 2).contiguous();
      const viaLast = op(moved, -1).transpose(1, 2).toArray();
      assertClose(op(x, 1).toArray(), Array.from(viaLast), tol, 'axis 1');
      for (const offset of [0, 2]) {
        const expected = refSoftmaxRows(x.toArray(), 5, log, (r, j) => j <= (r % 3) + offset);
        assertClose(op(x, -1, { offset }).toArray(), expected, tol, `causal offset ${offset}`);
      }
    }
  }
  assert.throws(() => rnd([3, 4], 1).softmax(0, { causal: true }), ArgumentError);
});

test('softmax gradients (plain, other axis, causal, log)', () => {
  const x = rnd([2, 3, 4], 2);
  checkGrad((t) => t.softmax(-1), [x]);
  checkGrad((t) => t.softmax(1), [x]);
  checkGrad((t) => t.softmax(-1, { causal: { offset: 0 } }), [x]);
  checkGrad((t) => t.softmax(-1, { causal: { offset: 1 } }), [x]);
  checkGrad((t) => t.logSoftmax(-1), [x]);
  checkGrad((t) => t.logSoftmax(0), [x]);
  checkGrad((t) => t.logSoftmax(-1, { causal: true }).exp(), [x]);
  checkGrad((t) => t.mT.softmax(-1), [x]);
});

test('layerNorm matches (x - mean) / sqrt(var + eps) * w + b; gradients for x, w, b', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    const x = rnd([2, 3, 7], 3, dtype);
    const w = rnd([7], 4, dtype);
    const b = rnd([7], 5, dtype);
    const data = x.toArray();
    const wv = w.toArray();
    const bv = b.toArray();
    const expected: number[] = [];
    for (let r = 0; r < 6; r++) {
      const row = Array.from(data.subarray(r * 7, r * 7 + 7));
      const mean = row.reduce((a, v) => a + v, 0) / 7;
      const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / 7;
      row.forEach((v, j) => expected.push(((v - mean) / Math.sqrt(variance + 1e-5)) * wv[j] + bv[j]));
    }
    const tol = dtype === 'float32' ? 1e-5 : 1e-12;
    assertClose(layerNorm(x, w, b).toArray(), expected, tol, 'layerNorm');
    assertClose(layerNorm(x.mT.contiguous().mT, w, b).toArray(), expected, tol, 'non-contiguous input');
  }
  const x = rnd([2, 3, 5], 6);
  const w = rnd([5], 7);
  const b = rnd([5], 8);
  checkGrad((t, tw, tb) => layerNorm(t, tw, tb), [x, w, b]);
  checkGrad((t) => layerNorm(t, null, null, 1e-3), [x]);
  checkGrad((t, tb) => layerNorm(t, null, tb), [x, b]);
  checkGrad((t) => layerNorm(t.mT, null, null), [x]);
  assert.throws(() => layerNorm(x, rnd([4], 1)), (e: Error) => e instanceof ShapeError && /\[4\].*\[5\]/.test(e.message));
});

test('rmsNorm matches x / sqrt(mean(x²) + eps) * (offset + w); gradients incl. weightOffset 1', () => {
  const x = rnd([4, 6], 9);
  const w = rnd([6], 10);
  const data = x.toArray();
  const wv = w.toArray();
  for (const offset of [0, 1]) {
    const expected: number[] = [];
    for (let r = 0; r < 4; r++) {
      const row = Array.from(data.subarray(r * 6, r * 6 + 6));
      const rms = Math.sqrt(row.reduce((a, v) => a + v * v, 0) / 6 + 1e-6);
      row.forEach((v, j) => expected.push((v / rms) * (offset + wv[j])));
    }
    assertClose(rmsNorm(x, w, 1e-6, { weightOffset: offset }).toArray(), expected, 1e-12, `rmsNorm offset ${offset}`);
    checkGrad((t, tw) => rmsNorm(t, tw, 1e-6, { weightOffset: offset }), [x, w]);
  }
  checkGrad((t) => rmsNorm(t), [x]);
  checkGrad((t) => rmsNorm(t.mT), [x]);
});

function refRotary(x: Tensor, cos: ArrayLike<number>, sin: ArrayLike<number>, rotaryDim: number, layout: 'half' | 'interleaved'): number[] {
  const [, pos, heads, d] = x.shape;
  const data = x.toArray();
  const out = Array.from(data);
  const half = rotaryDim / 2;
  for (const [b, p, h] of indices(x.shape.slice(0, 3))) {
    const base = flatIndex(x.shape, [b, p, h, 0]);
    for (let i = 0; i < half; i++) {
      const c = cos[(b * pos + p) * half + i];
      const s = sin[(b * pos + p) * half + i];
      const [i1, i2] = layout === 'half' ? [i, i + half] : [2 * i, 2 * i + 1];
      out[base + i1] = data[base + i1] * c - data[base + i2] * s;
      out[base + i2] = data[base + i2] * c + data[base + i1] * s;
    }
  }
  void heads;
  void d;
  return out;
}

test('rotary, both layouts, full and partial rotaryDim, per-batch or shared tables', () => {
  const x = rnd([2, 3, 2, 6], 11);
  for (const layout of ['half', 'interleaved'] as const) {
    for (const rotaryDim of [6, 4]) {
      const angles = rnd([2, 3, rotaryDim / 2], 12);
      const cos = angles.cos();
      const sin = angles.sin();
      const expected = refRotary(x, cos.toArray(), sin.toArray(), rotaryDim, layout);
      assertClose(rotary(x, cos, sin, { rotaryDim, layout }).toArray(), expected, 1e-12, `${layout} ${rotaryDim}`);
      checkGrad((t) => rotary(t, cos, sin, { rotaryDim, layout }), [x]);
      const shared = rnd([3, rotaryDim / 2], 13);
      const sc = shared.cos();
      const ss = shared.sin();
      const expanded = refRotary(x, sc.expand(2, 3, rotaryDim / 2).toArray(), ss.expand(2, 3, rotaryDim / 2).toArray(), rotaryDim, layout);
      assertClose(rotary(x, sc, ss, { rotaryDim, layout }).toArray(), expanded, 1e-12, 'shared tables');
    }
  }
  const angles = rnd([3, 3], 14).requiresGrad_();
  assert.throws(() => rotary(x, angles.cos(), angles.sin()), GradError);
  assert.throws(() => rotary(x, angles.detach().cos(), angles.detach().sin(), { rotaryDim: 5 }), ArgumentError);
  assert.throws(() => rotary(x.reshape(6, 2, 6), angles, angles), ShapeError);
});

function refMatmul(a: Tensor, b: Tensor): number[] {
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.ndim - 1];
  const batch = a.size / (m * k);
  const av = a.toArray();
  const bv = b.toArray();
  const out: number[] = [];
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += av[z * m * k + i * k + p] * bv[z * k * n + p * n + j];
        out.push(acc);
      }
    }
  }
  return out;
}

test('matmul: odd sizes, transposed operands, broadcast batches, vectors', () => {
  for (const [m, k, n] of [[1, 1, 1], [3, 17, 5], [17, 3, 1], [2, 65, 3]]) {
    for (const dtype of ['float32', 'float64'] as const) {
      const a = rnd([m, k], 15, dtype);
      const b = rnd([k, n], 16, dtype);
      const tol = dtype === 'float32' ? 1e-5 : 1e-12;
      assertClose(matmul(a, b).toArray(), refMatmul(a, b), tol, `${m}x${k}x${n}`);
      const aT = a.mT.contiguous().mT;
      const bT = b.mT.contiguous().mT;
      assertClose(aT.matmul(bT).toArray(), refMatmul(a, b), tol, 'transposed operands');
    }
  }
  const a = rnd([2, 1, 3, 4], 17);
  const b = rnd([3, 4, 5], 18);
  const out = matmul(a, b);
  assert.deepEqual(out.shape, [2, 3, 3, 5]);
  assertClose(out.toArray(), refMatmul(a.expand(2, 3, 3, 4).contiguous(), b.expand(2, 3, 4, 5).contiguous()), 1e-12, 'broadcast');
  const v = rnd([4], 19);
  const m2 = rnd([3, 4], 20);
  assert.deepEqual(matmul(m2, v).shape, [3]);
  assertClose(matmul(m2, v).toArray(), refMatmul(m2, v.reshape(4, 1)), 1e-12, 'matrix @ vector');
  assertClose(matmul(v, m2.mT).toArray(), refMatmul(v.reshape(1, 4), m2.mT.contiguous()), 1e-12, 'vector @ matrix');
  assert.deepEqual(matmul(v, v).shape, []);
  assert.throws(() => matmul(m2, m2), (e: Error) => e instanceof ShapeError && /\[3, 4\] @ \[3, 4\].*4 vs 3/.test(e.message));
  assert.throws(() => matmul(rnd([2, 3, 4], 1), rnd([3, 4, 2], 1)), (e: Error) => e instanceof ShapeError && /batch/.test(e.message));
});

test('matmul hands transposed views to the kernel without copying', () => {
  const a = rnd([3, 8, 5], 21);
  const b = rnd([3, 7, 5], 22);
  const original = ref.copy;
  let copies = 0;
  ref.copy = (src, dst) => {
    copies++;
    original.call(ref, src, dst);
  };
  try {
    const out = a.matmul(b.mT);
    assert.deepEqual(out.shape, [3, 8, 7]);
    assert.equal(copies, 0);
  } finally {
    ref.copy = original;
  }
});

test('matmul gradients: plain, transposed, batched with broadcasting, vectors', () => {
  const a = rnd([2, 3], 23);
  const b = rnd([3, 4], 24);
  checkGrad((x, y) => x.matmul(y), [a, b]);
  checkGrad((x, y) => x.mT.matmul(y.mT.mT), [rnd([3, 2], 25), b]);
  checkGrad((x, y) => y.mT.matmul(x.mT), [a, b]);
  checkGrad((x, y) => matmul(x, y), [rnd([2, 1, 2, 3], 26), rnd([3, 3, 2], 27)]);
  checkGrad((x, y) => matmul(x, y), [rnd([3], 28), rnd([2, 3, 2], 29)]);
  checkGrad((x, y) => matmul(x, y), [rnd([2, 3], 30), rnd([3], 31)]);
  checkGrad((x, y) => matmul(x.expand(2, 2, 3), y), [a, rnd([2, 3, 2], 32)]);
  checkGrad((x) => matmul(x, x.mT).mul(positive([2, 2], 33)), [a]);
});
