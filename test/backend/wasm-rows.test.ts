// Row kernels of the wasm backend (softmax with and without causal mask, log-softmax, layer norm,
// RMS norm, reductions along any axis) against the ref kernels, odd sizes, 1-3 threads.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { refKernels } from '../../src/backend/ref/kernels.js';
import type { AxisLayout, CausalMask, ReduceOp, Storage } from '../../src/backend/types.js';
import { assertClose, makeRandom, randomStorage, storageOf } from './ref-helpers.js';
import { copyTo, disposeAll, wasmBackends } from './wasm-helpers.js';

const backends = wasmBackends();
after(() => disposeAll(backends));

const SIZES = [1, 3, 17, 65, 1023];

/** Runs `kernel` on copies of `inputs` in each backend and hands the outputs' values to `check`. */
function forEachBackend(inputs: (Storage | null)[], outputLengths: number[],
  kernel: (backend: (typeof backends)[number]['backend'], inputs: (Storage | null)[], outputs: Storage[]) => void,
  check: (label: string, outputs: Float32Array[]) => void): void {
  for (const { label, backend } of backends) {
    const copies = inputs.map((s) => (s ? copyTo(backend, s) : null));
    const outputs = outputLengths.map((length) => backend.alloc('float32', length));
    kernel(backend, copies, outputs);
    check(label, outputs.map((s) => Float32Array.from(s.data)));
    for (const s of [...copies, ...outputs]) if (s) backend.free(s);
  }
}

test('softmax and log-softmax match ref, plain and causal (with KV offset)', () => {
  const rand = makeRandom(41);
  const masks: (CausalMask | null)[] = [null, { queryLen: 4, offset: 0 }, { queryLen: 3, offset: 5 }];
  for (const n of SIZES) {
    for (const causal of masks) {
      for (const log of [false, true]) {
        const rows = causal ? 2 * causal.queryLen : 5;
        const x = randomStorage(rand, 'float32', rows * n, 10);
        const expected = storageOf('float32', rows * n);
        refKernels.softmax(x, rows, n, log, causal, expected);
        forEachBackend([x], [rows * n], (backend, [xs], [out]) => backend.softmax(xs as Storage, rows, n, log, causal, out),
          (label, [out]) => assertClose(out, expected.data, log ? 1e-6 : 1e-5, log ? 1e-5 : 1e-9,
            `${label} ${log ? 'log-' : ''}softmax n=${n} causal=${JSON.stringify(causal)}`));
      }
    }
  }
});

test('softmax: rows of -inf are all-masked, NaN propagates, large values do not overflow', () => {
  const n = 7;
  const x = storageOf('float32', [
    ...Array(n).fill(-Infinity),
    1, 2, NaN, 4, 5, 6, 7,
    1000, 999, -1000, 0, 1000, 3, 2,
  ]);
  for (const log of [false, true]) {
    const expected = storageOf('float32', 3 * n);
    refKernels.softmax(x, 3, n, log, null, expected);
    forEachBackend([x], [3 * n], (backend, [xs], [out]) => backend.softmax(xs as Storage, 3, n, log, null, out),
      (label, [out]) => assertClose(out, expected.data, 1e-6, 1e-9, `${label} special rows log=${log}`));
  }
});

test('softmax, log-softmax and the norms also work in place (out is x)', () => {
  const rand = makeRandom(45);
  const [rows, n] = [4, 67];
  const x = randomStorage(rand, 'float32', rows * n, 5);
  const cases: [string, (backend: (typeof backends)[number]['backend'], s: Storage) => void,
    (s: Storage, out: Storage) => void][] = [
    ['softmax', (b, s) => b.softmax(s, rows, n, false, null, s), (s, out) => refKernels.softmax(s, rows, n, false, null, out)],
    ['log-softmax', (b, s) => b.softmax(s, rows, n, true, { queryLen: 2, offset: 1 }, s),
      (s, out) => refKernels.softmax(s, rows, n, true, { queryLen: 2, offset: 1 }, out)],
    ['layerNorm', (b, s) => b.layerNorm(s, rows, n, null, null, 1e-5, s, null, null),
      (s, out) => refKernels.layerNorm(s, rows, n, null, null, 1e-5, out, null, null)],
    ['rmsNorm', (b, s) => b.rmsNorm(s, rows, n, null, 0, 1e-6, s, null), (s, out) => refKernels.rmsNorm(s, rows, n, null, 0, 1e-6, out, null)],
  ];
  for (const [name, inPlace, reference] of cases) {
    const expected = storageOf('float32', rows * n);
    reference(x, expected);
    for (const { label, backend } of backends) {
      const xs = copyTo(backend, x);
      inPlace(backend, xs);
      assertClose(xs.data, expected.data, 1e-5, 1e-5, `${label} in-place ${name}`);
      backend.free(xs);
    }
  }
});

test('layerNorm matches ref with and without weight, bias, mean and rstd', () => {
  const rand = makeRandom(42);
  for (const d of SIZES) {
    for (let variant = 0; variant < 4; variant++) {
      const rows = 6;
      const x = randomStorage(rand, 'float32', rows * d, 3);
      // An offset mean: the two-pass variance must not cancel.
      for (let i = 0; i < x.length; i++) x.data[i] += 50;
      const weight = variant & 1 ? randomStorage(rand, 'float32', d) : null;
      const bias = variant & 2 ? randomStorage(rand, 'float32', d) : null;
      const stats = variant !== 1;
      const expected = [rows * d, rows, rows].map((length) => storageOf('float32', length));
      refKernels.layerNorm(x, rows, d, weight, bias, 1e-5, expected[0], stats ? expected[1] : null, stats ? expected[2] : null);
      forEachBackend([x, weight, bias], [rows * d, rows, rows], (backend, [xs, w, b], [out, mean, rstd]) =>
        backend.layerNorm(xs as Storage, rows, d, w, b, 1e-5, out, stats ? mean : null, stats ? rstd : null),
      (label, [out, mean, rstd]) => {
        const what = `${label} layerNorm d=${d} variant=${variant}`;
        assertClose(out, expected[0].data, 1e-4, 2e-5, what);
        if (stats) {
          assertClose(mean, expected[1].data, 1e-6, 0, `${what} mean`);
          assertClose(rstd, expected[2].data, 1e-4, 0, `${what} rstd`);
        }
      });
    }
  }
});

test('rmsNorm matches ref, with weight offset 0 and 1 (Gemma) and without weight', () => {
  const rand = makeRandom(43);
  for (const d of SIZES) {
    for (const [withWeight, offset] of [[true, 0], [true, 1], [false, 0]] as const) {
      const rows = 5;
      const x = randomStorage(rand, 'float32', rows * d, 3);
      const weight = withWeight ? randomStorage(rand, 'float32', d) : null;
      const expected = [storageOf('float32', rows * d), storageOf('float32', rows)];
      refKernels.rmsNorm(x, rows, d, weight, offset, 1e-6, expected[0], expected[1]);
      forEachBackend([x, weight], [rows * d, rows], (backend, [xs, w], [out, rstd]) =>
        backend.rmsNorm(xs as Storage, rows, d, w, offset, 1e-6, out, rstd),
      (label, [out, rstd]) => {
        assertClose(out, expected[0].data, 1e-5, 1e-6, `${label} rmsNorm d=${d} offset=${offset}`);
        assertClose(rstd, expected[1].data, 1e-5, 0, `${label} rmsNorm rstd d=${d}`);
      });
    }
  }
});

test('reduce sum/max/min along the last and a middle axis match ref; others fall back', () => {
  const rand = makeRandom(44);
  const layouts: AxisLayout[] = [
    { outer: 7, n: 1023, inner: 1 }, { outer: 3, n: 17, inner: 1 }, { outer: 1, n: 1, inner: 1 },
    { outer: 2, n: 65, inner: 17 }, { outer: 5, n: 3, inner: 1023 }, { outer: 1, n: 17, inner: 3 },
  ];
  const ops: ReduceOp[] = ['sum', 'max', 'min', 'argmax', 'logsumexp'];
  for (const layout of layouts) {
    for (const op of ops) {
      const { outer, n, inner } = layout;
      const x = randomStorage(rand, 'float32', outer * n * inner, 4);
      const outDtype = op === 'argmax' ? 'int32' : 'float32';
      const expected = storageOf(outDtype, outer * inner);
      refKernels.reduce(op, x, layout, expected);
      // Float32 summation: each sum is off by at most a few ulp of Σ|x| times √n (random walk).
      const absSum = storageOf('float32', outer * inner);
      refKernels.reduce('sum', storageOf('float32', Array.from(x.data, Math.abs)), layout, absSum);
      for (const { label, backend } of backends) {
        const xs = copyTo(backend, x);
        const out = backend.alloc(outDtype, outer * inner);
        backend.reduce(op, xs, layout, out);
        const what = `${label} ${op} ${JSON.stringify(layout)}`;
        if (op === 'sum') {
          for (let i = 0; i < out.length; i++) {
            const bound = (4 * Math.sqrt(n) + 2) * 2 ** -24 * absSum.data[i];
            assert.ok(Math.abs(out.data[i] - expected.data[i]) <= bound, `${what}[${i}]: ${out.data[i]} vs ${expected.data[i]}`);
          }
        } else if (op === 'logsumexp') {
          assertClose(out.data, expected.data, 1e-6, 1e-6, what);
        } else {
          assert.deepEqual(Array.from(out.data), Array.from(expected.data), what);
        }
        backend.free(out);
        backend.free(xs);
      }
    }
  }
});

test('reduce max/min propagate NaN like the reference', () => {
  const x = storageOf('float32', [1, NaN, 3, 4, -2, 5, 6, 7, 0, 1, 2, NaN]);
  for (const op of ['max', 'min'] as const) {
    for (const layout of [{ outer: 3, n: 4, inner: 1 }, { outer: 1, n: 3, inner: 4 }]) {
      const expected = storageOf('float32', 3 * 4 / layout.n);
      refKernels.reduce(op, x, layout, expected);
      forEachBackend([x], [expected.length], (backend, [xs], [out]) => backend.reduce(op, xs as Storage, layout, out),
        (label, [out]) => assertClose(out, expected.data, 0, 0, `${label} ${op} ${JSON.stringify(layout)}`));
    }
  }
});
