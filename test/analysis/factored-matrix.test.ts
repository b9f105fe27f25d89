// The small float64 eigensolvers against matrices of known spectrum, and FactoredMatrix (SVD,
// norm, eigenvalues, products) against dense computations, on odd sizes and non-contiguous factors.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyingScoreOf } from '../../src/analysis/circuits.js';
import { FactoredMatrix } from '../../src/analysis/factored-matrix.js';
import { eigenvalues, multiply, symmetricEigen, transpose } from '../../src/analysis/small-linalg.js';
import { tensor } from '../../src/tensor/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { ShapeError } from '../../src/util/errors.js';
import { TestRng, assertClose, assertNoLeak, assertThrowsWith, matmulF64, maxAbs, ref } from './inspect-helpers.js';

function randomMatrix(rng: TestRng, rows: number, cols: number): Float64Array {
  return Float64Array.from({ length: rows * cols }, () => rng.normal());
}

/** Gauss-Jordan inverse with partial pivoting (test-only reference). */
function inverse(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]) > Math.abs(m[pivot * n + col])) pivot = r;
    for (const x of [m, inv]) for (let j = 0; j < n; j++) [x[col * n + j], x[pivot * n + j]] = [x[pivot * n + j], x[col * n + j]];
    const d = m[col * n + col];
    for (let j = 0; j < n; j++) { m[col * n + j] /= d; inv[col * n + j] /= d; }
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = m[r * n + col];
      for (let j = 0; j < n; j++) { m[r * n + j] -= f * m[col * n + j]; inv[r * n + j] -= f * inv[col * n + j]; }
    }
  }
  return inv;
}

/** Block-diagonal D with 1×1 real blocks and 2×2 [[a, b], [−b, a]] blocks (eigenvalues a ± bi); returns D and its spectrum. */
function knownSpectrum(rng: TestRng, n: number): { d: Float64Array; real: number[]; imag: number[] } {
  const d = new Float64Array(n * n);
  const real: number[] = [];
  const imag: number[] = [];
  let i = 0;
  while (i < n) {
    if (i + 1 < n && rng.uniform() < 0.4) {
      const a = rng.normal() * 3;
      const b = 0.5 + rng.uniform() * 2;
      d[i * n + i] = a; d[i * n + i + 1] = b; d[(i + 1) * n + i] = -b; d[(i + 1) * n + i + 1] = a;
      real.push(a, a); imag.push(b, -b);
      i += 2;
    } else {
      const a = rng.normal() * 3;
      d[i * n + i] = a;
      real.push(a); imag.push(0);
      i += 1;
    }
  }
  return { d, real, imag };
}

/** Sorts (re, im) pairs for comparing spectra irrespective of order. */
function sortedPairs(real: ArrayLike<number>, imag: ArrayLike<number>): number[][] {
  return Array.from(real, (r, i) => [r, imag[i]]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}

function assertSameSpectrum(real: ArrayLike<number>, imag: ArrayLike<number>, expectedReal: number[], expectedImag: number[], tol: number, what: string): void {
  const got = sortedPairs(real, imag);
  const want = sortedPairs(expectedReal, expectedImag);
  assert.equal(got.length, want.length, `${what}: count`);
  got.forEach((g, i) => assert.ok(Math.hypot(g[0] - want[i][0], g[1] - want[i][1]) <= tol,
    `${what}: eigenvalue ${i} is ${g[0]} + ${g[1]}i, expected ${want[i][0]} + ${want[i][1]}i`));
}

for (const n of [1, 2, 3, 17, 65]) {
  test(`symmetricEigen (n = ${n}): V Λ Vᵀ = A, VᵀV = I, values descending`, () => {
    const rng = new TestRng(n);
    const x = randomMatrix(rng, n, n);
    const a = multiply(x, transpose(x, n, n), n, n, n).map((v, i) => v - (i % (n + 1) === 0 ? 2 : 0)); // indefinite
    const { values, vectors } = symmetricEigen(a, n);
    const scaled = vectors.map((v, i) => v * values[i % n]);
    assertClose(multiply(scaled, transpose(vectors, n, n), n, n, n), a, 1e-10 * Math.max(1, maxAbs(a)), 'reconstruction');
    const identity = Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
    assertClose(multiply(transpose(vectors, n, n), vectors, n, n, n), identity, 1e-12, 'orthonormal');
    for (let i = 1; i < n; i++) assert.ok(values[i - 1] >= values[i]);
  });

  test(`eigenvalues (n = ${n}): P D P⁻¹ with known real and complex eigenvalues`, () => {
    const rng = new TestRng(100 + n);
    const { d, real, imag } = knownSpectrum(rng, n);
    const p = randomMatrix(rng, n, n).map((v, i) => (i % (n + 1) === 0 ? 3 : 0) + 0.5 * v);
    const m = multiply(multiply(p, d, n, n, n), inverse(p, n), n, n, n);
    const got = eigenvalues(m, n);
    assertSameSpectrum(got.real, got.imag, real, imag, 1e-7 * Math.max(1, ...real.map(Math.abs)), 'spectrum');
    for (let i = 1; i < n; i++) assert.ok(Math.hypot(got.real[i - 1], got.imag[i - 1]) >= Math.hypot(got.real[i], got.imag[i]) - 1e-12);
  });
}

test('eigenvalues: repeated eigenvalues and a nilpotent-free degenerate case', () => {
  const n = 6;
  const rng = new TestRng(9);
  const d = new Float64Array(n * n);
  [2, 2, 2, -1, -1, 0].forEach((v, i) => { d[i * n + i] = v; });
  const p = randomMatrix(rng, n, n).map((v, i) => (i % (n + 1) === 0 ? 3 : 0) + 0.5 * v);
  const m = multiply(multiply(p, d, n, n, n), inverse(p, n), n, n, n);
  const got = eigenvalues(m, n);
  assertSameSpectrum(got.real, got.imag, [2, 2, 2, -1, -1, 0], [0, 0, 0, 0, 0, 0], 1e-6, 'repeated');
});

function f32(data: ArrayLike<number>, shape: number[]): Tensor {
  return tensor(Float32Array.from(data), shape, { backend: ref });
}

/** Dense M = A B in float64 from the float32 factors. */
function dense(a: Tensor, b: Tensor): Float64Array {
  return matmulF64(a.toArray(), b.toArray(), a.shape[0], a.shape[1], b.shape[1]);
}

for (const [l, m, r] of [[17, 3, 65], [65, 17, 3], [1, 1, 1], [9, 4, 9], [3, 5, 4]]) {
  test(`FactoredMatrix [${l}, ${m}] · [${m}, ${r}]: product, SVD, norm against dense`, () => {
    const rng = new TestRng(l * 1000 + m * 10 + r);
    // A stored transposed (a non-contiguous view), as weights read through .mT are.
    const aStore = f32(randomMatrix(rng, m, l), [m, l]);
    const a = aStore.mT;
    const b = f32(randomMatrix(rng, m, r), [m, r]);
    aStore.dispose();
    const fm = new FactoredMatrix(a, b);
    const want = dense(a, b);
    const scale = Math.max(1, maxAbs(want));
    const product = fm.product();
    assertClose(product.toArray(), want, 1e-5 * scale, 'product');
    const frobenius = Math.sqrt(want.reduce((s, v) => s + v * v, 0));
    assertClose([fm.norm()], [frobenius], 1e-6 * frobenius, 'norm');

    const { U, S, V } = fm.svd();
    const rank = Math.min(l, m, r);
    const s = S.toArray();
    assert.equal(s.length, m);
    for (let i = 1; i < m; i++) assert.ok(s[i - 1] >= s[i], 'singular values descend');
    for (let i = rank; i < m; i++) assert.ok(s[i] <= 1e-5 * s[0], `σ${i} = ${s[i]} beyond the rank should vanish`);
    assertClose([Math.sqrt(Array.from(s).reduce((t, v) => t + v * v, 0))], [frobenius], 1e-5 * frobenius, 'Σσ² = |M|²');
    const us = U.toArray().map((v, i) => v * s[i % m]);
    const rebuilt = matmulF64(us, transpose(Float64Array.from(V.toArray()), r, m), l, m, r);
    assertClose(rebuilt, want, 1e-4 * scale, 'U diag(S) Vᵀ');
    // The first `rank` singular vectors are orthonormal.
    const uData = U.toArray();
    const vData = V.toArray();
    for (const [vecs, rows, name] of [[uData, l, 'U'], [vData, r, 'V']] as const) {
      for (let i = 0; i < rank; i++) {
        for (let j = 0; j < rank; j++) {
          let dot = 0;
          for (let k = 0; k < rows; k++) dot += vecs[k * m + i] * vecs[k * m + j];
          assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-4, `${name} columns ${i}, ${j}: dot ${dot}`);
        }
      }
    }
    for (const t of [product, U, S, V]) t.dispose();
    fm.dispose();
  });
}

test('FactoredMatrix: transpose, matmul, leftMatmul, scale, rows and makeEven equal their dense forms', () => {
  const rng = new TestRng(5);
  const [l, m, r] = [7, 3, 5];
  const a = f32(randomMatrix(rng, l, m), [l, m]);
  const b = f32(randomMatrix(rng, m, r), [m, r]);
  const fm = new FactoredMatrix(a, b);
  const want = dense(a, b);
  const check = (got: FactoredMatrix | Tensor, expected: Float64Array, what: string) => {
    const t = got instanceof FactoredMatrix ? got.product() : got;
    assertClose(t.toArray(), expected, 1e-4 * Math.max(1, maxAbs(expected)), what);
    t.dispose();
    if (got instanceof FactoredMatrix) got.dispose();
  };
  check(fm.transpose(), transpose(want, l, r), 'transpose');
  const right = f32(randomMatrix(rng, r, 4), [r, 4]);
  check(fm.matmul(right), matmulF64(want, right.toArray(), l, r, 4), 'matmul tensor');
  const other = new FactoredMatrix(f32(randomMatrix(rng, r, 2), [r, 2]), f32(randomMatrix(rng, 2, 6), [2, 6]));
  check(fm.matmul(other), matmulF64(want, dense(other.A, other.B), l, r, 6), 'matmul factored');
  const left = f32(randomMatrix(rng, 2, l), [2, l]);
  check(fm.leftMatmul(left), matmulF64(left.toArray(), want, 2, l, r), 'leftMatmul');
  check(fm.scale(-2.5), want.map((v) => -2.5 * v), 'scale');
  check(fm.rows([6, 0]), Float64Array.from([...want.subarray(6 * r, 7 * r), ...want.subarray(0, r)]), 'rows');
  const even = fm.makeEven();
  const normsA = Array.from({ length: m }, (_, j) => Math.hypot(...Array.from({ length: l }, (_, i) => even.A.toArray()[i * m + j])));
  const normsB = Array.from({ length: m }, (_, j) => Math.hypot(...Array.from({ length: r }, (_, k) => even.B.toArray()[j * r + k])));
  assertClose(normsA, normsB, 1e-4, 'balanced factors have equal column / row norms (√σ)');
  check(even, want, 'makeEven');
  assertThrowsWith(() => fm.eigenvalues(), ShapeError, ['square', '[7, 5]']);
  assertThrowsWith(() => new FactoredMatrix(a, a), ShapeError, ['[7, 3] and [7, 3]']);
  for (const t of [right, left]) t.dispose();
  other.dispose();
  fm.dispose();
});

test('FactoredMatrix eigenvalues: P D P⁻¹ split into rank-m factors keeps D\'s spectrum', () => {
  const rng = new TestRng(21);
  const [n, m] = [12, 5];
  const { d, real, imag } = knownSpectrum(rng, m);
  const p = randomMatrix(rng, n, n).map((v, i) => (i % (n + 1) === 0 ? 3 : 0) + 0.5 * v);
  const pInv = inverse(p, n);
  // A = P[:, :m] D, B = P⁻¹[:m, :]: A B = P diag(D, 0) P⁻¹.
  const pCols = Float64Array.from({ length: n * m }, (_, i) => p[Math.floor(i / m) * n + (i % m)]);
  const a = f32(multiply(pCols, d, n, m, m), [n, m]);
  const b = f32(pInv.subarray(0, m * n), [m, n]);
  const fm = new FactoredMatrix(a, b);
  const { real: re, imag: im } = fm.eigenvalues();
  assertSameSpectrum(re.toArray(), im.toArray(), real, imag, 1e-3 * Math.max(1, ...real.map(Math.abs)), 'eigenvalues of BA');
  re.dispose();
  im.dispose();
  // Copying score on designed spectra: X Xᵀ is positive semi-definite (score 1), −X Xᵀ scores −1.
  const x = randomMatrix(rng, 9, 3);
  const psd = new FactoredMatrix(f32(x, [9, 3]), f32(transpose(x, 9, 3), [3, 9]));
  const nsd = psd.scale(-1);
  assertClose([copyingScoreOf(psd), copyingScoreOf(nsd)], [1, -1], 1e-5, 'copying scores');
  const expectedScore = real.reduce((s, v) => s + v, 0) / real.reduce((s, v, i) => s + Math.hypot(v, imag[i]), 0);
  assertClose([copyingScoreOf(fm)], [expectedScore], 1e-4, 'copying score of a known spectrum');
  for (const f of [fm, psd, nsd]) f.dispose();
});

test('FactoredMatrix operations free their temporaries', () => {
  const rng = new TestRng(8);
  const fm = new FactoredMatrix(f32(randomMatrix(rng, 6, 2), [6, 2]), f32(randomMatrix(rng, 2, 6), [2, 6]));
  assertNoLeak('svd / eigenvalues / norm / makeEven', () => {
    const { U, S, V } = fm.svd();
    for (const t of [U, S, V]) t.dispose();
    const { real, imag } = fm.eigenvalues();
    real.dispose();
    imag.dispose();
    fm.norm();
    fm.makeEven().dispose();
    fm.transpose().dispose();
    fm.rows([1]).dispose();
  });
  fm.dispose();
});
