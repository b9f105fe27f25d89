// Vectorised float32 special functions for the AVX2/FMA kernels, about 1e-7 relative error (a few
// ulp), with IEEE behaviour at the edges (±Infinity, NaN, underflow to 0) so results match the
// plain-TS oracle. Include only from translation units compiled with -mavx2 -mfma.
#pragma once

#include <immintrin.h>

namespace dissect {
namespace vmath {

static inline __m256 splat(float v) { return _mm256_set1_ps(v); }

/** |x| without touching NaN payloads. */
static inline __m256 abs(__m256 x) { return _mm256_andnot_ps(splat(-0.0f), x); }

/** Magnitude of `magnitude`, sign of `sign`. */
static inline __m256 copysign(__m256 magnitude, __m256 sign) {
  const __m256 sign_bit = splat(-0.0f);
  return _mm256_or_ps(_mm256_andnot_ps(sign_bit, magnitude), _mm256_and_ps(sign_bit, sign));
}

/** 2^n for integer-valued n in [-126, 127], built in the exponent field. */
static inline __m256 pow2(__m256i n) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
}

/**
 * e^x (Cephes expf: range reduction by ln 2 split in two constants, degree-7 polynomial).
 * Below ln(FLT_MIN) the result flushes to 0 (exp(-Infinity) = 0, as softmax masks need).
 */
static inline __m256 exp(__m256 x) {
  const __m256 max_arg = splat(88.72283935546875f);   // ln(FLT_MAX)
  const __m256 min_arg = splat(-87.33654022216797f);  // ln(FLT_MIN)
  __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, splat(1.44269504088896341f)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(fx, splat(0.693359375f), x);
  r = _mm256_fnmadd_ps(fx, splat(-2.12194440e-4f), r);
  __m256 y = splat(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, r, splat(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, r, splat(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, r, splat(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, r, splat(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, r, splat(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), r);
  y = _mm256_add_ps(y, splat(1.0f));
  // n reaches 128 just below ln(FLT_MAX); split 2^n = 2^min(n,127) * 2^(n-min(n,127)) so the
  // exponent field never overflows before the final multiply rounds to Infinity or not.
  __m256i n = _mm256_cvtps_epi32(fx);
  __m256i n_low = _mm256_min_epi32(n, _mm256_set1_epi32(127));
  __m256i n_high = _mm256_sub_epi32(n, n_low);
  y = _mm256_mul_ps(_mm256_mul_ps(y, pow2(n_low)), pow2(n_high));
  y = _mm256_blendv_ps(y, _mm256_setzero_ps(), _mm256_cmp_ps(x, min_arg, _CMP_LT_OQ));
  y = _mm256_blendv_ps(y, splat(__builtin_inff()), _mm256_cmp_ps(x, max_arg, _CMP_GT_OQ));
  return y;
}

/** tanh: odd polynomial near 0 (Cephes tanhf), 1 - 2/(e^{2|x|} + 1) elsewhere. */
static inline __m256 tanh(__m256 x) {
  __m256 ax = abs(x);
  __m256 z = _mm256_mul_ps(x, x);
  __m256 p = splat(-5.70498872745e-3f);
  p = _mm256_fmadd_ps(p, z, splat(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, z, splat(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, z, splat(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, z, splat(-3.33332819422e-1f));
  __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
  __m256 e = exp(_mm256_add_ps(ax, ax));
  __m256 large = _mm256_sub_ps(splat(1.0f), _mm256_div_ps(splat(2.0f), _mm256_add_ps(e, splat(1.0f))));
  large = copysign(large, x);
  return _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, splat(0.625f), _CMP_LT_OQ));
}

/** 1 / (1 + e^-x): exact limits 0 and 1, relative accuracy of exp. */
static inline __m256 sigmoid(__m256 x) {
  __m256 e = exp(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(splat(1.0f), _mm256_add_ps(splat(1.0f), e));
}

/**
 * sigmoid(x) and 1 - sigmoid(x) = sigmoid(-x), both to full relative accuracy: 1 - s rounds away
 * the tail when s is near 1, so there it is taken as e^-x * s instead.
 */
static inline void sigmoid_pair(__m256 x, __m256* s, __m256* complement) {
  __m256 e = exp(_mm256_sub_ps(_mm256_setzero_ps(), x));
  *s = _mm256_div_ps(splat(1.0f), _mm256_add_ps(splat(1.0f), e));
  __m256 upper = _mm256_mul_ps(e, *s);  // finite where x >= 0
  __m256 lower = _mm256_sub_ps(splat(1.0f), *s);
  *complement = _mm256_blendv_ps(upper, lower, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
}

/**
 * erfc(z) for z >= 0 given z² exactly as hi + lo (Numerical Recipes' erfcc Chebyshev fit, relative
 * error < 1.1e-7). e^{-z²} is taken as e^{-hi} * e^{-lo + fit}: a single rounded exponent would
 * lose |z²| ulps of relative accuracy in the tail.
 */
static inline __m256 erfc_from_square(__m256 z, __m256 hi, __m256 lo) {
  __m256 t = _mm256_div_ps(splat(1.0f), _mm256_fmadd_ps(splat(0.5f), z, splat(1.0f)));
  __m256 p = splat(0.17087277f);
  p = _mm256_fmadd_ps(p, t, splat(-0.82215223f));
  p = _mm256_fmadd_ps(p, t, splat(1.48851587f));
  p = _mm256_fmadd_ps(p, t, splat(-1.13520398f));
  p = _mm256_fmadd_ps(p, t, splat(0.27886807f));
  p = _mm256_fmadd_ps(p, t, splat(-0.18628806f));
  p = _mm256_fmadd_ps(p, t, splat(0.09678418f));
  p = _mm256_fmadd_ps(p, t, splat(0.37409196f));
  p = _mm256_fmadd_ps(p, t, splat(1.00002368f));
  p = _mm256_fmadd_ps(p, t, splat(-1.26551223f));
  __m256 rest = exp(_mm256_sub_ps(p, lo));
  __m256 result = _mm256_mul_ps(_mm256_mul_ps(t, exp(_mm256_sub_ps(_mm256_setzero_ps(), hi))), rest);
  // Past z = 10 erfc is below FLT_MIN; also keeps z = Infinity (where lo is NaN) at exactly 0.
  return _mm256_blendv_ps(result, _mm256_setzero_ps(), _mm256_cmp_ps(z, splat(10.0f), _CMP_GT_OQ));
}

/** erfc(z) for z >= 0, z² split exactly by FMA. */
static inline __m256 erfc_nonnegative(__m256 z) {
  __m256 hi = _mm256_mul_ps(z, z);
  return erfc_from_square(z, hi, _mm256_fmsub_ps(z, z, hi));
}

/**
 * Φ(x), the standard normal CDF, = erfc(-x/√2)/2. x²/2 is formed exactly from x (not from the
 * rounded x/√2), so GELU keeps its relative accuracy in the negative tail.
 */
static inline __m256 normal_cdf(__m256 x) {
  __m256 z = _mm256_mul_ps(abs(x), splat(0.70710678118654752f));
  __m256 square = _mm256_mul_ps(x, x);
  __m256 hi = _mm256_mul_ps(square, splat(0.5f));
  __m256 lo = _mm256_mul_ps(_mm256_fmsub_ps(x, x, square), splat(0.5f));
  __m256 half_tail = _mm256_mul_ps(splat(0.5f), erfc_from_square(z, hi, lo));
  __m256 upper = _mm256_sub_ps(splat(1.0f), half_tail);
  return _mm256_blendv_ps(upper, half_tail, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
}

/** φ(x) = e^{-x²/2}/√(2π), with x²/2 split exactly as in normal_cdf. */
static inline __m256 normal_pdf(__m256 x) {
  __m256 square = _mm256_mul_ps(x, x);
  __m256 hi = _mm256_mul_ps(square, splat(0.5f));
  __m256 lo = _mm256_mul_ps(_mm256_fmsub_ps(x, x, square), splat(0.5f));
  __m256 e = _mm256_mul_ps(exp(_mm256_sub_ps(_mm256_setzero_ps(), hi)), _mm256_sub_ps(splat(1.0f), lo));
  return _mm256_mul_ps(splat(0.3989422804014327f), e);
}

/** erf: x·P(x²) near 0 (a least-squares fit, 4e-8 relative on |x| <= 0.5), 1 - erfc beyond. */
static inline __m256 erf(__m256 x) {
  __m256 z = _mm256_mul_ps(x, x);
  __m256 p = splat(0.004263083388633079f);
  p = _mm256_fmadd_ps(p, z, splat(-0.026457933249074216f));
  p = _mm256_fmadd_ps(p, z, splat(0.11276548317777427f));
  p = _mm256_fmadd_ps(p, z, splat(-0.3761218307847488f));
  p = _mm256_fmadd_ps(p, z, splat(1.1283791206117375f));
  __m256 small = _mm256_mul_ps(p, x);
  __m256 large = copysign(_mm256_sub_ps(splat(1.0f), erfc_nonnegative(abs(x))), x);
  return _mm256_blendv_ps(large, small, _mm256_cmp_ps(abs(x), splat(0.5f), _CMP_LT_OQ));
}

/** Horizontal sum of 8 lanes. */
static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/** Horizontal sum of 4 double lanes. */
static inline double hsum(__m256d v) {
  __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
  return _mm_cvtsd_f64(s);
}

/** Lane mask selecting the first `count` (0..8) lanes, for maskload/maskstore tails. */
static inline __m256i tail_mask(long count) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lanes);
}

}  // namespace vmath
}  // namespace dissect
