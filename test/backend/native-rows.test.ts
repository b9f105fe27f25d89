// Native row kernels (softmax with causal masks, LayerNorm, RMSNorm, sum/max/min reductions)
// against refKernels on odd shapes, edge rows (fully masked, -Infinity, NaN), and threads 1 and 2
// above the parallel threshold. Skipped, not failed, when the addon is not built.

import { after, describe, test } from 'node:test';
import { NativeBackend } from '../../src/backend/native/backend.js';
import { refKernels } from '../../src/backend/ref/kernels.js';
import type { CausalMask, ReduceOp, Storage } from '../../src/backend/types.js';
import { makeRandom, randomStorage, storageOf } from './ref-helpers.js';
import { expectClose, nativeSkipReason } from './native-helpers.js';

const skip = nativeSkipReason();

const RTOL = 1e-6;
const ATOL = 1e-6;
/** [rows, n]: odd sizes, and shapes above the threading threshold. */
const SHAPES: Array<[number, number]> = [[1, 1], [3, 17], [17, 3], [5, 65], [2, 1023], [129, 1023], [2047, 65]];

describe('native row kernels match refKernels', { skip }, () => {
  const backends = skip ? [] : [new NativeBackend({ threads: 1 }), new NativeBackend({ threads: 2 })];
  after(() => backends.forEach((backend) => backend.dispose()));

  function nativeOut(backend: NativeBackend, length: number): Storage {
    return backend.alloc('float32', length);
  }

  test('softmax and log-softmax, with and without causal masks', () => {
    for (const backend of backends) {
      const rand = makeRandom(40 + backend.threads);
      for (const [rows, n] of SHAPES) {
        const x = randomStorage(rand, 'float32', rows * n, 10);
        // Edge rows: -Infinity entries, a row of only -Infinity, a NaN.
        x.data[0] = -Infinity;
        if (rows > 2) x.data.fill(-Infinity, n, 2 * n);
        if (rows > 3) x.data[3 * n + (n >> 1)] = NaN;
        const masks: Array<CausalMask | null> = [null, { queryLen: rows, offset: 0 }, { queryLen: Math.max(1, rows >> 1), offset: 2 },
          { queryLen: rows, offset: -2 }];
        for (const causal of masks) {
          for (const log of [false, true]) {
            const expected = storageOf('float32', rows * n);
            refKernels.softmax(x, rows, n, log, causal, expected);
            const out = nativeOut(backend, rows * n);
            backend.softmax(x, rows, n, log, causal, out);
            const what = `${log ? 'log' : ''}softmax [${rows}, ${n}] causal ${JSON.stringify(causal)} threads ${backend.threads}`;
            expectClose(out.data, expected.data, RTOL, ATOL, what);
            backend.free(out);
          }
        }
      }
    }
  });

  test('layerNorm with and without weight, bias, mean and rstd outputs', () => {
    for (const backend of backends) {
      const rand = makeRandom(50 + backend.threads);
      for (const [rows, d] of SHAPES) {
        // An offset mean checks the two-pass variance.
        const x = randomStorage(rand, 'float32', rows * d, 3);
        for (let i = 0; i < x.length; i++) x.data[i] += 40;
        const weight = randomStorage(rand, 'float32', d);
        const bias = randomStorage(rand, 'float32', d);
        for (const [w, b] of [[weight, bias], [null, null], [weight, null]] as const) {
          const expected = storageOf('float32', rows * d);
          const expectedMean = storageOf('float32', rows);
          const expectedRstd = storageOf('float32', rows);
          refKernels.layerNorm(x, rows, d, w, b, 1e-5, expected, expectedMean, expectedRstd);
          const out = nativeOut(backend, rows * d);
          const mean = nativeOut(backend, rows);
          const rstd = nativeOut(backend, rows);
          backend.layerNorm(x, rows, d, w, b, 1e-5, out, w ? mean : null, w ? rstd : null);
          const what = `layerNorm [${rows}, ${d}] weight ${!!w} bias ${!!b} threads ${backend.threads}`;
          expectClose(out.data, expected.data, RTOL, 4 * ATOL, what);
          if (w) {
            expectClose(mean.data, expectedMean.data, RTOL, ATOL, `${what} mean`);
            expectClose(rstd.data, expectedRstd.data, RTOL, ATOL, `${what} rstd`);
          }
          [out, mean, rstd].forEach((s) => backend.free(s));
        }
      }
    }
  });

  test('rmsNorm with and without weight, Gemma weight offset, rstd output', () => {
    for (const backend of backends) {
      const rand = makeRandom(60 + backend.threads);
      for (const [rows, d] of SHAPES) {
        const x = randomStorage(rand, 'float32', rows * d, 5);
        const weight = randomStorage(rand, 'float32', d);
        for (const [w, offset] of [[weight, 0], [weight, 1], [null, 1]] as const) {
          const expected = storageOf('float32', rows * d);
          const expectedRstd = storageOf('float32', rows);
          refKernels.rmsNorm(x, rows, d, w, offset, 1e-6, expected, expectedRstd);
          const out = nativeOut(backend, rows * d);
          const rstd = nativeOut(backend, rows);
          backend.rmsNorm(x, rows, d, w, offset, 1e-6, out, rstd);
          const what = `rmsNorm [${rows}, ${d}] weight ${!!w} offset ${offset} threads ${backend.threads}`;
          expectClose(out.data, expected.data, RTOL, ATOL, what);
          expectClose(rstd.data, expectedRstd.data, RTOL, ATOL, `${what} rstd`);
          [out, rstd].forEach((s) => backend.free(s));
        }
      }
    }
  });

  test('reduce sum/max/min over the last and a middle axis, NaN and -Infinity included', () => {
    const layouts = [
      { outer: 1, n: 1, inner: 1 }, { outer: 3, n: 17, inner: 1 }, { outer: 129, n: 1023, inner: 1 },
      { outer: 2, n: 3, inner: 17 }, { outer: 3, n: 65, inner: 1023 }, { outer: 1, n: 1023, inner: 65 },
      { outer: 17, n: 1, inner: 3 },
    ];
    for (const backend of backends) {
      const rand = makeRandom(70 + backend.threads);
      for (const layout of layouts) {
        const total = layout.outer * layout.n * layout.inner;
        const x = randomStorage(rand, 'float32', total, 4);
        if (total > 20) {
          x.data[5] = NaN;
          x.data[total - 3] = -Infinity;
        }
        for (const op of ['sum', 'max', 'min', 'argmax', 'logsumexp'] as ReduceOp[]) {
          const outDType = op === 'argmax' ? 'int32' : 'float32';
          const expected = storageOf(outDType, layout.outer * layout.inner);
          refKernels.reduce(op, x, layout, expected);
          const out = backend.alloc(outDType, layout.outer * layout.inner);
          backend.reduce(op, x, layout, out);
          // Sums of up to 1023 values in [-4, 4] accumulate in float64 on both sides.
          expectClose(out.data, expected.data, RTOL, ATOL, `${op} ${JSON.stringify(layout)} threads ${backend.threads}`);
          backend.free(out);
        }
      }
    }
  });
});
