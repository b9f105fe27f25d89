// Special functions on f32x4, accurate to a few float32 ulp (relative error ≲ 1e-6): there is no
// libm here (-nostdlib), and a vector version is what the elementwise kernels want anyway.
//
// Sources of the approximations (each checked against float64 math in test/backend/wasm*.test.ts):
// - exp, log, tanh: the Cephes single-precision routines (expf, logf, tanhf), S. L. Moshier.
// - erfc: Numerical Recipes' erfcc, t·exp(-z² + P(t)) with t = 1/(1 + z/2), relative error
//   < 1.2e-7 for all z ≥ 0 — one exp and no division by small numbers, so Φ(x) keeps its relative
//   accuracy far into the lower tail (GELU of negative inputs).
// - erf for |x| < 1: x·P(x²), a degree-6 relative minimax fit (Lawson's algorithm in float64,
//   relative error 1.2e-9), because 1 - erfc loses digits near 0.

#ifndef DISSECT_VMATH_H
#define DISSECT_VMATH_H

#include "common.h"

#define SPLAT(c) wasm_f32x4_splat(c)

INLINE f32x4 vpoly(f32x4 x, const float *coeffs, int count) {
  f32x4 acc = SPLAT(coeffs[0]);
  for (int i = 1; i < count; i++) acc = wasm_f32x4_add(wasm_f32x4_mul(acc, x), SPLAT(coeffs[i]));
  return acc;
}

/** The sign of `sign` on the magnitude of `magnitude`. */
INLINE f32x4 vcopysign(f32x4 magnitude, f32x4 sign) {
  return wasm_v128_bitselect(sign, magnitude, wasm_i32x4_splat((int)0x80000000));
}

/** 2^n for integer-valued lanes n in [-126, 127]. */
INLINE f32x4 vexp2_int(v128_t n) {
  return wasm_i32x4_shl(wasm_i32x4_add(n, wasm_i32x4_splat(127)), 23);
}

/**
 * exp(hi + lo) where lo carries bits that hi + lo would round away: the reduced argument is
 * formed as (hi - n·ln2) + lo, so those bits reach the polynomial (used by erfc, whose exponent
 * -z² must keep its low bits for the result to keep its relative accuracy).
 */
INLINE f32x4 vexp_parts(f32x4 hi, f32x4 lo) {
  static const float coeffs[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
                                 1.6666665459e-1f, 5.0000001201e-1f};
  f32x4 x = wasm_f32x4_add(hi, lo);
  f32x4 n = wasm_f32x4_nearest(wasm_f32x4_mul(x, SPLAT(1.44269504088896341f)));
  // x - n·ln2 with ln2 split in two so that the first product is exact (Cody and Waite).
  f32x4 r = wasm_f32x4_add(wasm_f32x4_sub(hi, wasm_f32x4_mul(n, SPLAT(0.693359375f))), lo);
  r = wasm_f32x4_add(r, wasm_f32x4_mul(n, SPLAT(2.12194440e-4f)));
  f32x4 p = vpoly(r, coeffs, 6);
  f32x4 y = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(r, r), p), r), SPLAT(1.0f));
  // Scale by 2^n as 2^(n/2)·2^(n - n/2) so that n from -150 (denormal results) to 128 stays exact.
  n = wasm_f32x4_min(wasm_f32x4_max(n, SPLAT(-150.0f)), SPLAT(128.0f));
  v128_t ni = wasm_i32x4_trunc_sat_f32x4(n);
  v128_t half = wasm_i32x4_shr(ni, 1);
  y = wasm_f32x4_mul(wasm_f32x4_mul(y, vexp2_int(half)), vexp2_int(wasm_i32x4_sub(ni, half)));
  y = wasm_v128_bitselect(SPLAT(__builtin_inff()), y, wasm_f32x4_gt(x, SPLAT(88.72283935546875f)));
  return wasm_v128_bitselect(SPLAT(0.0f), y, wasm_f32x4_lt(x, SPLAT(-103.972084045410f)));
}

INLINE f32x4 vexp(f32x4 x) { return vexp_parts(x, SPLAT(0.0f)); }

INLINE f32x4 vlog(f32x4 x) {
  static const float coeffs[] = {7.0376836292e-2f, -1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f,
                                 1.4249322787e-1f, -1.6668057665e-1f, 2.0000714765e-1f, -2.4999993993e-1f,
                                 3.3333331174e-1f};
  // Denormals: scale into the normal range first, and take 23 off the exponent.
  v128_t tiny = wasm_f32x4_lt(x, SPLAT(1.17549435e-38f));
  f32x4 scaled = wasm_v128_bitselect(wasm_f32x4_mul(x, SPLAT(8388608.0f)), x, tiny);
  v128_t bits = scaled;
  // x = m·2^e with m in [0.5, 1).
  v128_t e = wasm_i32x4_sub(wasm_u32x4_shr(bits, 23), wasm_i32x4_splat(126));
  e = wasm_i32x4_sub(e, wasm_v128_and(tiny, wasm_i32x4_splat(23)));
  f32x4 m = wasm_v128_or(wasm_v128_and(bits, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f000000));
  f32x4 ef = wasm_f32x4_convert_i32x4(e);
  // Fold m into [√½, √2) - 1 so the polynomial sees a small argument.
  v128_t below = wasm_f32x4_lt(m, SPLAT(0.707106781186547524f));
  ef = wasm_f32x4_sub(ef, wasm_v128_and(below, SPLAT(1.0f)));
  m = wasm_f32x4_sub(wasm_f32x4_add(m, wasm_v128_and(below, m)), SPLAT(1.0f));
  f32x4 z = wasm_f32x4_mul(m, m);
  f32x4 y = wasm_f32x4_mul(wasm_f32x4_mul(m, z), vpoly(m, coeffs, 9));
  y = wasm_f32x4_add(y, wasm_f32x4_mul(ef, SPLAT(-2.12194440e-4f)));
  y = wasm_f32x4_sub(y, wasm_f32x4_mul(z, SPLAT(0.5f)));
  y = wasm_f32x4_add(wasm_f32x4_add(m, y), wasm_f32x4_mul(ef, SPLAT(0.693359375f)));
  // log(0) = -inf, log(x < 0) = NaN, log(inf) = inf, NaN stays NaN.
  y = wasm_v128_bitselect(SPLAT(-__builtin_inff()), y, wasm_f32x4_eq(x, SPLAT(0.0f)));
  y = wasm_v128_bitselect(SPLAT(__builtin_nanf("")), y, wasm_f32x4_lt(x, SPLAT(0.0f)));
  y = wasm_v128_bitselect(x, y, wasm_f32x4_eq(x, SPLAT(__builtin_inff())));
  return wasm_v128_bitselect(x, y, wasm_f32x4_ne(x, x));
}

INLINE f32x4 vtanh(f32x4 x) {
  static const float coeffs[] = {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f, 1.33314422036e-1f,
                                 -3.33332819422e-1f};
  f32x4 ax = wasm_f32x4_abs(x);
  f32x4 s = wasm_f32x4_mul(x, x);
  f32x4 small = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(vpoly(s, coeffs, 5), s), x), x);
  f32x4 e = vexp(wasm_f32x4_add(ax, ax));
  f32x4 large = wasm_f32x4_sub(SPLAT(1.0f), wasm_f32x4_div(SPLAT(2.0f), wasm_f32x4_add(e, SPLAT(1.0f))));
  return wasm_v128_bitselect(small, vcopysign(large, x), wasm_f32x4_lt(ax, SPLAT(0.625f)));
}

/**
 * σ(x) and 1 - σ(x) from e = exp(-|x|) ≤ 1, which never overflows: for x ≥ 0 they are 1/(1+e) and
 * e/(1+e), for x < 0 the other way round. Both keep full relative precision down to denormals.
 */
INLINE void vsigmoid_pair(f32x4 x, f32x4 *sigmoid, f32x4 *complement) {
  f32x4 e = vexp(wasm_f32x4_neg(wasm_f32x4_abs(x)));
  f32x4 p = wasm_f32x4_div(SPLAT(1.0f), wasm_f32x4_add(SPLAT(1.0f), e));
  f32x4 q = wasm_f32x4_mul(e, p);
  v128_t nonnegative = wasm_f32x4_ge(x, SPLAT(0.0f));
  *sigmoid = wasm_v128_bitselect(p, q, nonnegative);
  *complement = wasm_v128_bitselect(q, p, nonnegative);
}

INLINE f32x4 vsigmoid(f32x4 x) {
  f32x4 sigmoid, complement;
  vsigmoid_pair(x, &sigmoid, &complement);
  return sigmoid;
}

/** Splits x² into hi + lo with hi exact: hi = xh² (xh = x to 12 bits), lo = (x - xh)(x + xh). */
INLINE void vsquare_parts(f32x4 x, f32x4 *hi, f32x4 *lo) {
  f32x4 xh = wasm_v128_and(x, wasm_i32x4_splat((int)0xfffff000));
  *hi = wasm_f32x4_mul(xh, xh);
  *lo = wasm_f32x4_mul(wasm_f32x4_sub(x, xh), wasm_f32x4_add(x, xh));
}

/**
 * erfc(z) for z >= 0, given z² as square_hi + square_lo (see vsquare_parts): the exponent -z²
 * must keep its low bits, or the result loses relative accuracy in proportion to z².
 */
INLINE f32x4 verfc_nonnegative(f32x4 z, f32x4 square_hi, f32x4 square_lo) {
  static const float coeffs[] = {0.17087277f, -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                                 -0.18628806f, 0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f};
  f32x4 t = wasm_f32x4_div(SPLAT(1.0f), wasm_f32x4_add(SPLAT(1.0f), wasm_f32x4_mul(z, SPLAT(0.5f))));
  f32x4 lo = wasm_f32x4_sub(vpoly(t, coeffs, 10), square_lo);
  return wasm_f32x4_mul(t, vexp_parts(wasm_f32x4_neg(square_hi), lo));
}

INLINE f32x4 verf(f32x4 x) {
  static const float coeffs[] = {7.854221066360404e-05f, -0.0008010311278335287f, 0.0051883425000593866f,
                                 -0.02685382089800996f, 0.1128358541242908f, -0.376126258575021f,
                                 1.1283791657386182f};
  f32x4 ax = wasm_f32x4_abs(x);
  f32x4 small = wasm_f32x4_mul(x, vpoly(wasm_f32x4_mul(x, x), coeffs, 7));
  // erfc(10) underflows float32, so clamping there changes nothing but keeps inf - inf out.
  f32x4 clamped = wasm_f32x4_min(ax, SPLAT(10.0f));
  f32x4 square_hi, square_lo;
  vsquare_parts(clamped, &square_hi, &square_lo);
  f32x4 large = vcopysign(wasm_f32x4_sub(SPLAT(1.0f), verfc_nonnegative(clamped, square_hi, square_lo)), x);
  return wasm_v128_bitselect(small, large, wasm_f32x4_lt(ax, SPLAT(1.0f)));
}

/** Φ(x), the standard normal CDF, = erfc(-x/√2)/2, computed from the tail that keeps precision. */
INLINE f32x4 vnormal_cdf(f32x4 x) {
  // (x/√2)² = x²/2 from the exact split of x², not from the rounded x/√2. Φ(-15) underflows
  // float32, so clamping there changes nothing but keeps inf - inf out.
  f32x4 ax = wasm_f32x4_min(wasm_f32x4_abs(x), SPLAT(15.0f));
  f32x4 square_hi, square_lo;
  vsquare_parts(ax, &square_hi, &square_lo);
  f32x4 z = wasm_f32x4_mul(ax, SPLAT(0.70710678118654752f));
  f32x4 tail = verfc_nonnegative(z, wasm_f32x4_mul(square_hi, SPLAT(0.5f)), wasm_f32x4_mul(square_lo, SPLAT(0.5f)));
  f32x4 half_tail = wasm_f32x4_mul(tail, SPLAT(0.5f));
  return wasm_v128_bitselect(wasm_f32x4_sub(SPLAT(1.0f), half_tail), half_tail, wasm_f32x4_ge(x, SPLAT(0.0f)));
}

#endif
