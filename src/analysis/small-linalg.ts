// Dense float64 linear algebra for the small square matrices factored-matrix analysis reduces to
// (d_head × d_head): symmetric eigendecomposition by cyclic Jacobi rotations, and eigenvalues of a
// general real matrix by balancing, Householder reduction to Hessenberg form and Francis
// double-shift QR. Matrices are row-major Float64Arrays of n × n. Plain JS on purpose: these run
// on matrices of at most a few hundred rows, where float64 accuracy matters more than speed.

import { ArgumentError } from '../util/errors.js';

/** Σ over rows of a (rows × cols, row-major, any numeric array) of aᵢ aᵢᵀ: AᵀA, cols × cols, float64. */
export function gramOfColumns(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const g = new Float64Array(cols * cols);
  const row = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) row[j] = a[r * cols + j];
    for (let i = 0; i < cols; i++) {
      const x = row[i];
      if (x === 0) continue;
      for (let j = i; j < cols; j++) g[i * cols + j] += x * row[j];
    }
  }
  for (let i = 0; i < cols; i++) for (let j = 0; j < i; j++) g[i * cols + j] = g[j * cols + i];
  return g;
}

/** A (n × k) · B (k × m), row-major float64. */
export function multiply(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      if (x === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += x * b[p * m + j];
    }
  }
  return out;
}

export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** n × n row-major; column i is the unit eigenvector of values[i]. */
  vectors: Float64Array;
}

/**
 * Eigendecomposition of a symmetric matrix by cyclic Jacobi rotations (each zeroes one
 * off-diagonal pair; sweeps until the off-diagonal mass is negligible). Accurate to a few ulps of
 * the largest eigenvalue. Only the upper triangle's symmetry is assumed, not checked.
 */
export function symmetricEigen(matrix: Float64Array, n: number): SymmetricEigen {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A ← Jᵀ A J and V ← V J, with J the rotation by (c, s) in the (p, q) plane.
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src];
  });
  return { values, vectors };
}

export interface ComplexValues {
  real: Float64Array;
  imag: Float64Array;
}

/**
 * Eigenvalues of a general real n × n matrix (complex pairs come out conjugate, real part equal),
 * ordered by decreasing modulus. Balancing first makes rows and columns of similar norm, which
 * keeps small eigenvalues accurate when entries span many magnitudes.
 */
export function eigenvalues(matrix: Float64Array, n: number): ComplexValues {
  const a = Float64Array.from(matrix);
  balance(a, n);
  toHessenberg(a, n);
  const { real, imag } = hessenbergQR(a, n);
  const order = Array.from({ length: n }, (_, i) => i)
    .sort((i, j) => Math.hypot(real[j], imag[j]) - Math.hypot(real[i], imag[i]) || real[j] - real[i] || imag[j] - imag[i]);
  return { real: Float64Array.from(order, (i) => real[i]), imag: Float64Array.from(order, (i) => imag[i]) };
}

/** Scales rows and columns by powers of 2 (exact) so each row and column have similar norms (a similarity transform). */
function balance(a: Float64Array, n: number): void {
  const radix = 2;
  let done = false;
  while (!done) {
    done = true;
    for (let i = 0; i < n; i++) {
      let r = 0;
      let c = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        c += Math.abs(a[j * n + i]);
        r += Math.abs(a[i * n + j]);
      }
      if (c === 0 || r === 0) continue;
      const s = c + r;
      let f = 1;
      let g = r / radix;
      while (c < g) { f *= radix; c *= radix * radix; }
      g = r * radix;
      while (c > g) { f /= radix; c /= radix * radix; }
      if ((c + r) / f < 0.95 * s) {
        done = false;
        for (let j = 0; j < n; j++) a[i * n + j] /= f;
        for (let j = 0; j < n; j++) a[j * n + i] *= f;
      }
    }
  }
}

/** Householder similarity transforms to upper Hessenberg form (zeros below the first subdiagonal). */
function toHessenberg(a: Float64Array, n: number): void {
  const v = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    let norm = 0;
    for (let i = k + 1; i < n; i++) norm += a[i * n + k] ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    const alpha = a[(k + 1) * n + k] > 0 ? -norm : norm;
    let vNorm2 = 0;
    for (let i = k + 1; i < n; i++) {
      v[i] = a[i * n + k] - (i === k + 1 ? alpha : 0);
      vNorm2 += v[i] * v[i];
    }
    if (vNorm2 === 0) continue;
    // A ← H A H with H = I − 2 v vᵀ / |v|², v supported on rows k+1..n-1.
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k + 1; i < n; i++) dot += v[i] * a[i * n + j];
      const f = (2 * dot) / vNorm2;
      for (let i = k + 1; i < n; i++) a[i * n + j] -= f * v[i];
    }
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = k + 1; j < n; j++) dot += a[i * n + j] * v[j];
      const f = (2 * dot) / vNorm2;
      for (let j = k + 1; j < n; j++) a[i * n + j] -= f * v[j];
    }
    for (let i = k + 2; i < n; i++) a[i * n + k] = 0;
  }
}

/**
 * Eigenvalues of an upper Hessenberg matrix (destroyed) by the Francis double-shift QR iteration,
 * deflating 1 × 1 and 2 × 2 blocks off the bottom (the classic EISPACK hqr scheme).
 */
function hessenbergQR(a: Float64Array, n: number): ComplexValues {
  const real = new Float64Array(n);
  const imag = new Float64Array(n);
  const at = (i: number, j: number) => a[i * n + j];
  const set = (i: number, j: number, value: number) => { a[i * n + j] = value; };
  const EPS = Number.EPSILON;
  let anorm = 0;
  for (let i = 0; i < n; i++) for (let j = Math.max(i - 1, 0); j < n; j++) anorm += Math.abs(at(i, j));
  let nn = n - 1;
  let shift = 0;
  while (nn >= 0) {
    let its = 0;
    let l: number;
    do {
      // Find a negligible subdiagonal element to split the problem at.
      for (l = nn; l > 0; l--) {
        let s = Math.abs(at(l - 1, l - 1)) + Math.abs(at(l, l));
        if (s === 0) s = anorm;
        if (Math.abs(at(l, l - 1)) <= EPS * s) {
          set(l, l - 1, 0);
          break;
        }
      }
      let x = at(nn, nn);
      if (l === nn) { // one real root
        real[nn] = x + shift;
        imag[nn] = 0;
        nn--;
        continue;
      }
      let y = at(nn - 1, nn - 1);
      let w = at(nn, nn - 1) * at(nn - 1, nn);
      if (l === nn - 1) { // a 2 × 2 block: a real pair or a complex conjugate pair
        const p = 0.5 * (y - x);
        const q = p * p + w;
        const z = Math.sqrt(Math.abs(q));
        x += shift;
        if (q >= 0) {
          const zz = p + (p >= 0 ? z : -z);
          real[nn - 1] = real[nn] = x + zz;
          if (zz !== 0) real[nn] = x - w / zz;
          imag[nn - 1] = imag[nn] = 0;
        } else {
          real[nn - 1] = real[nn] = x + p;
          imag[nn - 1] = -z;
          imag[nn] = z;
        }
        nn -= 2;
        continue;
      }
      if (its === 60) throw new ArgumentError(`eigenvalues: QR iteration did not converge for a ${n} × ${n} matrix (non-finite entries?)`);
      if (its === 10 || its === 20) { // exceptional shift to break cycles
        shift += x;
        for (let i = 0; i <= nn; i++) set(i, i, at(i, i) - x);
        const s = Math.abs(at(nn, nn - 1)) + Math.abs(at(nn - 1, nn - 2));
        x = y = 0.75 * s;
        w = -0.4375 * s * s;
      }
      its++;
      francisStep(a, n, l, nn, x, y, w);
    } while (l < nn - 1);
  }
  return { real, imag };
}

/** One implicit double-shift QR sweep on rows/columns l..nn, with shifts given by x, y, w. */
function francisStep(a: Float64Array, n: number, l: number, nn: number, x: number, y: number, w: number): void {
  const at = (i: number, j: number) => a[i * n + j];
  const set = (i: number, j: number, value: number) => { a[i * n + j] = value; };
  const EPS = Number.EPSILON;
  let m: number;
  let p = 0;
  let q = 0;
  let r = 0;
  let z = 0;
  // Look for two consecutive small subdiagonal elements to start the bulge lower.
  for (m = nn - 2; m >= l; m--) {
    z = at(m, m);
    r = x - z;
    const s0 = y - z;
    p = (r * s0 - w) / at(m + 1, m) + at(m, m + 1);
    q = at(m + 1, m + 1) - z - r - s0;
    r = at(m + 2, m + 1);
    const s = Math.abs(p) + Math.abs(q) + Math.abs(r);
    p /= s;
    q /= s;
    r /= s;
    if (m === l) break;
    const u = Math.abs(at(m, m - 1)) * (Math.abs(q) + Math.abs(r));
    const v = Math.abs(p) * (Math.abs(at(m - 1, m - 1)) + Math.abs(z) + Math.abs(at(m + 1, m + 1)));
    if (u <= EPS * v) break;
  }
  for (let i = m + 2; i <= nn; i++) {
    set(i, i - 2, 0);
    if (i !== m + 2) set(i, i - 3, 0);
  }
  for (let k = m; k <= nn - 1; k++) {
    if (k !== m) {
      p = at(k, k - 1);
      q = at(k + 1, k - 1);
      r = k !== nn - 1 ? at(k + 2, k - 1) : 0;
      x = Math.abs(p) + Math.abs(q) + Math.abs(r);
      if (x !== 0) {
        p /= x;
        q /= x;
        r /= x;
      }
    }
    const norm = Math.sqrt(p * p + q * q + r * r);
    const s = p >= 0 ? norm : -norm;
    if (s === 0) continue;
    if (k === m) {
      if (l !== m) set(k, k - 1, -at(k, k - 1));
    } else {
      set(k, k - 1, -s * x);
    }
    p += s;
    x = p / s;
    y = q / s;
    z = r / s;
    q /= p;
    r /= p;
    for (let j = k; j <= nn; j++) { // row modification
      let t = at(k, j) + q * at(k + 1, j);
      if (k !== nn - 1) {
        t += r * at(k + 2, j);
        set(k + 2, j, at(k + 2, j) - t * z);
      }
      set(k + 1, j, at(k + 1, j) - t * y);
      set(k, j, at(k, j) - t * x);
    }
    const last = Math.min(nn, k + 3);
    for (let i = l; i <= last; i++) { // column modification
      let t = x * at(i, k) + y * at(i, k + 1);
      if (k !== nn - 1) {
        t += z * at(i, k + 2);
        set(i, k + 2, at(i, k + 2) - t * r);
      }
      set(i, k + 1, at(i, k + 1) - t * q);
      set(i, k, at(i, k) - t);
    }
  }
}
