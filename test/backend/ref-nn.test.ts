// Fused neural-net kernels (softmax, layerNorm, rmsNorm, rotary) against naive float64 formulas
// and identities.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refKernels } from '../../src/backend/ref/kernels.js';
import type { DType } from '../../src/backend/types.js';
import { assertClose, makeRandom, randomStorage, storageOf, tolerance } from './ref-helpers.js';

const SIZES = [1, 3, 17, 65];

test('softmax rows sum to 1, match exp(x)/Σexp(x), and log-softmax = x - logsumexp(x)', () => {
  const rand = makeRandom(21);
  for (const dtype of ['float64', 'float32'] as DType[]) {
    for (const n of SIZES) {
      const rows = 5;
      const x = randomStorage(rand, dtype, rows * n, 20);
      const probs = storageOf(dtype, rows * n);
      const logProbs = storageOf(dtype, rows * n);
      refKernels.softmax(x, rows, n, false, null, probs);
      refKernels.softmax(x, rows, n, true, null, logProbs);
      const { rtol, atol } = tolerance(dtype);
      for (let r = 0; r < rows; r++) {
        const row = Array.from(x.data.subarray(r * n, (r + 1) * n));
        const total = row.reduce((a, v) => a + Math.exp(v), 0);
        assertClose(probs.data.subarray(r * n, (r + 1) * n), row.map((v) => Math.exp(v) / total), rtol, atol, `softmax n=${n}`);
        assertClose(logProbs.data.subarray(r * n, (r + 1) * n), row.map((v) => v - Math.log(total)), rtol, atol * 20, `log-softmax n=${n}`);
        const sum = Array.from(probs.data.subarray(r * n, (r + 1) * n)).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < (dtype === 'float32' ? 1e-5 : 1e-12), `row sum ${sum}`);
      }
    }
  }
});

test('softmax is stable for huge logits and never NaN with -Infinity inputs', () => {
  const out = storageOf('float64', 3);
  refKernels.softmax(storageOf('float64', [1000, 1000, -Infinity]), 1, 3, false, null, out);
  assert.deepEqual(Array.from(out.data), [0.5, 0.5, 0]);
  refKernels.softmax(storageOf('float64', [-Infinity, -Infinity, -Infinity]), 1, 3, false, null, out);
  assert.deepEqual(Array.from(out.data), [0, 0, 0]);
  refKernels.softmax(storageOf('float64', [-Infinity, -Infinity, -Infinity]), 1, 3, true, null, out);
  assert.deepEqual(Array.from(out.data), [-Infinity, -Infinity, -Infinity]);
  refKernels.softmax(storageOf('float64', [0, -Infinity, 0]), 1, 3, true, null, out);
  assert.deepEqual(Array.from(out.data), [-Math.LN2, -Infinity, -Math.LN2]);
});

test('causal softmax equals softmax over the kept prefix, with query offset and batched rows', () => {
  const rand = makeRandom(22);
  for (const dtype of ['float64', 'float32'] as DType[]) {
    for (const [queryLen, n, offset] of [[3, 3, 0], [17, 17, 0], [2, 7, 5], [4, 6, 0], [3, 65, 62], [5, 3, -2]]) {
      const heads = 2;
      const rows = heads * queryLen;
      const x = randomStorage(rand, dtype, rows * n, 5);
      for (const log of [false, true]) {
        const out = storageOf(dtype, rows * n);
        refKernels.softmax(x, rows, n, log, { queryLen, offset }, out);
        const expected: number[] = [];
        for (let r = 0; r < rows; r++) {
          const q = r % queryLen;
          const row = Array.from(x.data.subarray(r * n, (r + 1) * n));
          const keep = (j: number) => j <= q + offset;
          const total = row.reduce((a, v, j) => (keep(j) ? a + Math.exp(v) : a), 0);
          for (let j = 0; j < n; j++) {
            if (total === 0) expected.push(log ? -Infinity : 0);
            else if (!keep(j)) expected.push(log ? -Infinity : 0);
            else expected.push(log ? row[j] - Math.log(total) : Math.exp(row[j]) / total);
          }
        }
        const { rtol, atol } = tolerance(dtype);
        assertClose(out.data, expected, rtol, atol * 10, `causal q=${queryLen} n=${n} offset=${offset} log=${log}`);
      }
    }
  }
});

function naiveLayerNorm(row: number[], eps: number): number[] {
  const mean = row.reduce((a, b) => a + b, 0) / row.length;
  const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / row.length;
  return row.map((v) => (v - mean) / Math.sqrt(variance + eps));
}

test('layerNorm matches the biased-variance formula, writes mean/rstd, normalises to mean 0 var 1', () => {
  const rand = makeRandom(23);
  for (const dtype of ['float64', 'float32'] as DType[]) {
    for (const d of SIZES.filter((size) => size > 1)) {
      const rows = 4;
      const eps = 1e-5;
      const x = randomStorage(rand, dtype, rows * d, 3);
      for (let i = 0; i < x.length; i++) x.data[i] += 10; // a large mean tests the two-pass variance
      const weight = randomStorage(rand, dtype, d);
      const bias = randomStorage(rand, dtype, d);
      const out = storageOf(dtype, rows * d);
      const plain = storageOf(dtype, rows * d);
      const mean = storageOf(dtype, rows);
      const rstd = storageOf(dtype, rows);
      refKernels.layerNorm(x, rows, d, weight, bias, eps, out, mean, rstd);
      refKernels.layerNorm(x, rows, d, null, null, eps, plain, null, null);
      const { rtol, atol } = tolerance(dtype);
      for (let r = 0; r < rows; r++) {
        const row = Array.from(x.data.subarray(r * d, (r + 1) * d));
        const normalised = naiveLayerNorm(row, eps);
        assertClose(plain.data.subarray(r * d, (r + 1) * d), normalised, rtol * 10, atol * 10, `layerNorm d=${d}`);
        assertClose(out.data.subarray(r * d, (r + 1) * d), normalised.map((v, i) => v * weight.data[i] + bias.data[i]),
          rtol * 10, atol * 10, `affine layerNorm d=${d}`);
        const rowMean = row.reduce((a, b) => a + b, 0) / d;
        assertClose([mean.data[r]], [rowMean], rtol, 0, 'mean');
        assertClose([rstd.data[r]], [1 / Math.sqrt(row.reduce((a, b) => a + (b - rowMean) ** 2, 0) / d + eps)], rtol * 10, 0, 'rstd');
        const outRow = Array.from(plain.data.subarray(r * d, (r + 1) * d));
        const outMean = outRow.reduce((a, b) => a + b, 0) / d;
        const outVar = outRow.reduce((a, b) => a + (b - outMean) ** 2, 0) / d;
        assert.ok(Math.abs(outMean) < 1e-5 && Math.abs(outVar - 1) < 1e-3, `mean ${outMean} var ${outVar}`);
      }
    }
  }
});

test('rmsNorm matches x / rms(x) · (offset + w), and a null weight scales by 1', () => {
  const rand = makeRandom(24);
  for (const dtype of ['float64', 'float32'] as DType[]) {
    for (const d of SIZES) {
      const rows = 3;
      const eps = 1e-6;
      const x = randomStorage(rand, dtype, rows * d);
      const weight = randomStorage(rand, dtype, d);
      for (const weightOffset of [0, 1]) {
        const out = storageOf(dtype, rows * d);
        const unweighted = storageOf(dtype, rows * d);
        const rstd = storageOf(dtype, rows);
        refKernels.rmsNorm(x, rows, d, weight, weightOffset, eps, out, rstd);
        refKernels.rmsNorm(x, rows, d, null, weightOffset, eps, unweighted, null);
        const { rtol, atol } = tolerance(dtype);
        for (let r = 0; r < rows; r++) {
          const row = Array.from(x.data.subarray(r * d, (r + 1) * d));
          const inverseRms = 1 / Math.sqrt(row.reduce((a, b) => a + b * b, 0) / d + eps);
          assertClose(out.data.subarray(r * d, (r + 1) * d), row.map((v, i) => v * inverseRms * (weightOffset + weight.data[i])),
            rtol * 4, atol * 4, `rmsNorm d=${d} offset=${weightOffset}`);
          assertClose(unweighted.data.subarray(r * d, (r + 1) * d), row.map((v) => v * inverseRms), rtol * 4, atol * 4);
          assertClose([rstd.data[r]], [inverseRms], rtol * 4, 0, 'rstd');
        }
      }
    }
  }
});

/** Angles for per-row positions: cos/sin [batch, pos, rotaryDim/2]. */
function rotaryAngles(rand: () => number, dtype: DType, batch: number, pos: number, half: number) {
  const angles = Array.from({ length: batch * pos * half }, () => (rand() - 0.5) * 20);
  return { angles, cos: storageOf(dtype, angles.map(Math.cos)), sin: storageOf(dtype, angles.map(Math.sin)) };
}

test('rotary matches complex multiplication per pair, preserves norms, and inverse undoes it', () => {
  const rand = makeRandom(25);
  for (const dtype of ['float64', 'float32'] as DType[]) {
    for (const [batch, pos, heads, headDim, rotaryDim] of [[1, 1, 1, 2, 2], [2, 3, 3, 8, 8], [1, 17, 2, 10, 4], [2, 5, 1, 64, 32]]) {
      const half = rotaryDim / 2;
      const { angles, cos, sin } = rotaryAngles(rand, dtype, batch, pos, half);
      const x = randomStorage(rand, dtype, batch * pos * heads * headDim);
      const { rtol, atol } = tolerance(dtype);
      for (const layout of ['half', 'interleaved'] as const) {
        const out = storageOf(dtype, x.length);
        refKernels.rotary(x, batch, pos, heads, headDim, rotaryDim, cos, sin, layout, false, out);
        const expected = Array.from(x.data);
        for (let row = 0; row < batch * pos; row++) {
          for (let h = 0; h < heads; h++) {
            const base = (row * heads + h) * headDim;
            for (let i = 0; i < half; i++) {
              const [first, second] = layout === 'half' ? [base + i, base + i + half] : [base + 2 * i, base + 2 * i + 1];
              const theta = angles[row * half + i];
              const re = x.data[first];
              const im = x.data[second];
              expected[first] = re * Math.cos(theta) - im * Math.sin(theta);
              expected[second] = re * Math.sin(theta) + im * Math.cos(theta);
            }
          }
        }
        assertClose(out.data, expected, rtol * 4, atol * 8, `rotary ${layout} ${dtype}`);
        const norm = (data: ArrayLike<number>) => Math.sqrt(Array.from(data).reduce((a, b) => a + b * b, 0));
        assertClose([norm(out.data)], [norm(x.data)], dtype === 'float32' ? 1e-5 : 1e-12, 0, 'norm');
        const back = storageOf(dtype, x.length);
        refKernels.rotary(out, batch, pos, heads, headDim, rotaryDim, cos, sin, layout, true, back);
        assertClose(back.data, x.data, dtype === 'float32' ? 1e-5 : 1e-12, dtype === 'float32' ? 2e-6 : 1e-13, 'inverse');
        // In place (out === x) gives the same result.
        const inPlace = storageOf(dtype, x.data);
        refKernels.rotary(inPlace, batch, pos, heads, headDim, rotaryDim, cos, sin, layout, false, inPlace);
        assert.deepEqual(Array.from(inPlace.data), Array.from(out.data));
      }
    }
  }
});

test('interleaved and half rotary layouts differ only by a permutation of features', () => {
  const rand = makeRandom(26);
  const [batch, pos, heads, headDim, rotaryDim] = [2, 3, 2, 12, 8];
  const half = rotaryDim / 2;
  const { cos, sin } = rotaryAngles(rand, 'float64', batch, pos, half);
  const x = randomStorage(rand, 'float64', batch * pos * heads * headDim);
  // Feature 2i (interleaved) ↔ i (half), 2i+1 ↔ i + half; the unrotated tail stays put.
  const toHalf = Array.from({ length: headDim }, (_, f) => (f >= rotaryDim ? f : f % 2 === 0 ? f / 2 : (f - 1) / 2 + half));
  const permute = (data: ArrayLike<number>) => {
    const result = new Array<number>(data.length);
    for (let vector = 0; vector < data.length / headDim; vector++) {
      for (let f = 0; f < headDim; f++) result[vector * headDim + toHalf[f]] = data[vector * headDim + f];
    }
    return result;
  };
  const interleaved = storageOf('float64', x.length);
  refKernels.rotary(x, batch, pos, heads, headDim, rotaryDim, cos, sin, 'interleaved', false, interleaved);
  const halfOut = storageOf('float64', x.length);
  refKernels.rotary(storageOf('float64', permute(x.data)), batch, pos, heads, headDim, rotaryDim, cos, sin, 'half', false, halfOut);
  assert.deepEqual(Array.from(halfOut.data), permute(interleaved.data));
});
