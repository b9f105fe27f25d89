// A matrix kept as the product of two factors, M = A B with A [l, m], B [m, r] and a small inner
// dimension m (TransformerLens's FactoredMatrix): a head's OV circuit W_V W_O is d_model × d_model
// but has rank d_head, and the full circuit W_E W_V W_O W_U is d_vocab × d_vocab — too large to
// form, cheap to analyse through m × m matrices.
//
// The SVD never forms M: with G_A = AᵀA = V_A Λ V_Aᵀ, R = Λ^½ V_Aᵀ (so A = Q R with Q orthonormal)
// and G_B = B Bᵀ, the m × m matrix R G_B Rᵀ = W Σ² Wᵀ gives the singular values Σ; then
// V = Bᵀ Rᵀ W Σ⁻¹ and U = A G_B Rᵀ W Σ⁻² (= M V Σ⁻¹). The m × m work is float64 (Jacobi), the two
// large products are backend matmuls.

import { tensor, tidy } from '../tensor/index.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError, ShapeError, fmtShape } from '../util/errors.js';
import { eigenvalues, gramOfColumns, multiply, symmetricEigen, transpose } from './small-linalg.js';

/** Singular vectors of singular values below this fraction of the largest are returned as zeros (they are float32 noise). */
export const SINGULAR_TOLERANCE = 1e-6;

export interface FactoredSvd {
  /** [l, m]: left singular vectors as columns. */
  U: Tensor;
  /** [m]: singular values, largest first. */
  S: Tensor;
  /** [r, m]: right singular vectors as columns, so M = U diag(S) Vᵀ (TransformerLens calls this Vh). */
  V: Tensor;
}

export class FactoredMatrix {
  readonly A: Tensor;
  readonly B: Tensor;
  private disposed = false;

  /** Takes ownership of both factors (views of model weights are fine: disposing a view frees nothing else). */
  constructor(A: Tensor, B: Tensor) {
    if (A.ndim !== 2 || B.ndim !== 2 || A.shape[1] !== B.shape[0]) {
      throw new ShapeError(`FactoredMatrix: factors must be [l, m] and [m, r], got ${fmtShape(A.shape)} and ${fmtShape(B.shape)}`);
    }
    this.A = A;
    this.B = B;
  }

  get ldim(): number { return this.A.shape[0]; }
  get mdim(): number { return this.A.shape[1]; }
  get rdim(): number { return this.B.shape[1]; }
  get shape(): [number, number] { return [this.ldim, this.rdim]; }

  /** A B, [l, r] (can be large: d_vocab² for a full circuit). The caller owns it. */
  product(): Tensor {
    return this.A.matmul(this.B);
  }

  /** B A, [m, m]; only for square M (same eigenvalues as A B, less the zeros). The caller owns it. */
  reversedProduct(): Tensor {
    this.assertSquare('reversedProduct');
    return this.B.matmul(this.A);
  }

  /** Rows of M for the given indices, [n, r] (e.g. the OV circuit's output for some input tokens). */
  rows(indices: readonly number[]): Tensor {
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.ldim) throw new ArgumentError(`FactoredMatrix.rows: row ${i} is out of range 0..${this.ldim - 1}`);
    }
    return tidy(() => {
      const ids = tensor(Int32Array.from(indices), [indices.length], { dtype: 'int32', backend: this.A.backend });
      return this.A.indexSelect(0, ids).matmul(this.B);
    });
  }

  /** Mᵀ = Bᵀ Aᵀ, as new views (the caller owns the new FactoredMatrix; this one stays valid). */
  transpose(): FactoredMatrix {
    return new FactoredMatrix(this.B.mT, this.A.mT);
  }

  /** M · right (a [r, k] tensor or another factored matrix), keeping the inner dimension m. */
  matmul(right: Tensor | FactoredMatrix): FactoredMatrix {
    // tidy keeps only tensors returned in arrays or plain objects, so the factors leave it as a pair.
    const [a, b] = tidy(() => [this.A.reshape(this.A.shape), right instanceof FactoredMatrix ? this.B.matmul(right.A).matmul(right.B) : this.B.matmul(right)]);
    return new FactoredMatrix(a, b);
  }

  /** left · M for a [k, l] tensor. */
  leftMatmul(left: Tensor): FactoredMatrix {
    return new FactoredMatrix(left.matmul(this.A), this.B.reshape(this.B.shape));
  }

  /** factor · M. */
  scale(factor: number): FactoredMatrix {
    return new FactoredMatrix(this.A.mul(factor), this.B.reshape(this.B.shape));
  }

  /** The SVD of M with m singular triples (see the file comment). The caller owns the tensors. */
  svd(): FactoredSvd {
    const m = this.mdim;
    const { gramA, gramB } = this.grams();
    const eigA = symmetricEigen(gramA, m);
    // R = Λ^½ V_Aᵀ: A = Q R with Q = A V_A Λ^-½ orthonormal (never formed).
    const r = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      const root = Math.sqrt(Math.max(eigA.values[i], 0));
      for (let j = 0; j < m; j++) r[i * m + j] = root * eigA.vectors[j * m + i];
    }
    const rT = transpose(r, m, m);
    const middle = multiply(multiply(r, gramB, m, m, m), rT, m, m, m);
    const eigM = symmetricEigen(middle, m);
    const sigma = eigM.values.map((v) => Math.sqrt(Math.max(v, 0)));
    const cutoff = sigma[0] * SINGULAR_TOLERANCE;
    const inverse = sigma.map((s) => (s > cutoff && s > 0 ? 1 / s : 0));
    const y = multiply(rT, eigM.vectors, m, m, m);
    const toV = y.map((v, idx) => v * inverse[idx % m]); // Rᵀ W Σ⁻¹
    const toU = multiply(gramB, toV, m, m, m).map((v, idx) => v * inverse[idx % m]); // G_B Rᵀ W Σ⁻²
    const backend = this.A.backend;
    return tidy(() => ({
      U: this.A.matmul(tensor(Float32Array.from(toU), [m, m], { backend })),
      S: tensor(Float32Array.from(sigma), [m], { backend }),
      V: this.B.mT.matmul(tensor(Float32Array.from(toV), [m, m], { backend })),
    }));
  }

  /** Frobenius norm √trace(AᵀA · B Bᵀ), computed in float64 without forming M. */
  norm(): number {
    const { gramA, gramB } = this.grams();
    let total = 0;
    for (let i = 0; i < gramA.length; i++) total += gramA[i] * gramB[i];
    return Math.sqrt(Math.max(total, 0));
  }

  /**
   * Eigenvalues of a square M: those of B A (m of them; M's others are 0), by decreasing modulus,
   * as real and imaginary parts [m]. The caller owns the tensors.
   */
  eigenvalues(): { real: Tensor; imag: Tensor } {
    this.assertSquare('eigenvalues');
    const m = this.mdim;
    const a = Float64Array.from(this.A.toArray());
    const b = Float64Array.from(this.B.toArray());
    const values = eigenvalues(multiply(b, a, m, this.rdim, m), m);
    const backend = this.A.backend;
    return {
      real: tensor(Float32Array.from(values.real), [m], { backend }),
      imag: tensor(Float32Array.from(values.imag), [m], { backend }),
    };
  }

  /** The same matrix as U√S · √S Vᵀ: balanced factors with orthogonal columns / rows. */
  makeEven(): FactoredMatrix {
    const [a, b] = tidy(() => {
      const { U, S, V } = this.svd();
      const root = S.sqrt();
      return [U.mul(root), V.mul(root).mT];
    });
    return new FactoredMatrix(a, b);
  }

  /** Frees the factors (views of model weights: only the views). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.A.dispose();
    this.B.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** AᵀA and B Bᵀ in float64 (m × m each). */
  private grams(): { gramA: Float64Array; gramB: Float64Array } {
    const gramA = gramOfColumns(this.A.toArray(), this.ldim, this.mdim);
    const bT = tidy(() => this.B.mT.toArray()); // [r, m]
    return { gramA, gramB: gramOfColumns(bT, this.rdim, this.mdim) };
  }

  private assertSquare(what: string): void {
    if (this.ldim !== this.rdim) throw new ShapeError(`FactoredMatrix.${what}: needs a square matrix, got ${fmtShape(this.shape)}`);
  }
}
