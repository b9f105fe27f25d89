// Scalar special functions shared by the elementwise kernels, all in float64.

// W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969),
// coefficients as in his CALERF routine (SPECFUN). Relative error below 1e-15 on all ranges, which
// finite-difference gradient checks in float64 need (a 1e-7 polynomial fit would swamp them).
const ERF_SMALL_A = [3.16112374387056560e0, 1.13864154151050156e2, 3.77485237685302021e2,
  3.20937758913846947e3, 1.85777706184603153e-1];
const ERF_SMALL_B = [2.36012909523441209e1, 2.44024637934444173e2, 1.28261652607737228e3,
  2.84423683343917062e3];
const ERFC_MID_C = [5.64188496988670089e-1, 8.88314979438837594e0, 6.61191906371416295e1,
  2.98635138197400131e2, 8.81952221241769090e2, 1.71204761263407058e3, 2.05107837782607147e3,
  1.23033935479799725e3, 2.15311535474403846e-8];
const ERFC_MID_D = [1.57449261107098347e1, 1.17693950891312499e2, 5.37181101862009858e2,
  1.62138957456669019e3, 3.29079923573345963e3, 4.36261909014324716e3, 3.43936767414372164e3,
  1.23033935480374942e3];
const ERFC_LARGE_P = [3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
  1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2];
const ERFC_LARGE_Q = [2.56852019228982242e0, 1.87295284992346725e0, 5.27905102951428412e-1,
  6.05183413124413191e-2, 2.33520497626869185e-3];
const ONE_OVER_SQRT_PI = 5.6418958354775628695e-1;
const ERF_SMALL_LIMIT = 0.46875;

/** erfc(y) * exp(y²) is smooth; split exp(-y²) so its rounding error does not grow with y. */
function scaleByGaussian(y: number, ratio: number): number {
  const yRounded = Math.trunc(y * 16) / 16;
  const del = (y - yRounded) * (y + yRounded);
  return Math.exp(-yRounded * yRounded) * Math.exp(-del) * ratio;
}

/** erfc(y) for y > 0.46875. */
function erfcPositive(y: number): number {
  if (y <= 4) {
    let num = ERFC_MID_C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + ERFC_MID_C[i]) * y;
      den = (den + ERFC_MID_D[i]) * y;
    }
    return scaleByGaussian(y, (num + ERFC_MID_C[7]) / (den + ERFC_MID_D[7]));
  }
  if (y >= 27) return 0; // exp(-y²) underflows
  const invSquare = 1 / (y * y);
  let num = ERFC_LARGE_P[5] * invSquare;
  let den = invSquare;
  for (let i = 0; i < 4; i++) {
    num = (num + ERFC_LARGE_P[i]) * invSquare;
    den = (den + ERFC_LARGE_Q[i]) * invSquare;
  }
  const tail = invSquare * (num + ERFC_LARGE_P[4]) / (den + ERFC_LARGE_Q[4]);
  return scaleByGaussian(y, (ONE_OVER_SQRT_PI - tail) / y);
}

export function erf(x: number): number {
  const y = Math.abs(x);
  if (y <= ERF_SMALL_LIMIT) {
    const square = x * x;
    let num = ERF_SMALL_A[4] * square;
    let den = square;
    for (let i = 0; i < 3; i++) {
      num = (num + ERF_SMALL_A[i]) * square;
      den = (den + ERF_SMALL_B[i]) * square;
    }
    return x * (num + ERF_SMALL_A[3]) / (den + ERF_SMALL_B[3]);
  }
  if (y !== y) return NaN;
  const result = 1 - erfcPositive(y);
  return x < 0 ? -result : result;
}

/** Logistic function without overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function silu(x: number): number {
  return x * sigmoid(x);
}

export function siluGrad(x: number): number {
  const s = sigmoid(x);
  return s * (1 + x * (1 - s));
}

const SQRT1_2 = Math.SQRT1_2;
const ONE_OVER_SQRT_2PI = 0.3989422804014327;

/** 0.5 x (1 + erf(x/√2)): the exact GELU (BERT, GPT-NeoX "gelu"). */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x * SQRT1_2));
}

/** Φ(x) + x φ(x). */
export function geluErfGrad(x: number): number {
  const cdf = 0.5 * (1 + erf(x * SQRT1_2));
  return cdf + x * ONE_OVER_SQRT_2PI * Math.exp(-0.5 * x * x);
}

const SQRT_2_OVER_PI = 0.7978845608028654;
const GELU_CUBIC = 0.044715;

/** The tanh approximation GPT-2 uses ("gelu_new"). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)));
}

export function geluTanhGrad(x: number): number {
  const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x));
  const innerGrad = SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * x * x);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * innerGrad;
}
