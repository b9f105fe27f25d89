// Elementwise kernels: binary ops on dense or row/column-broadcast operands, ops with a scalar, and
// unary activations. Every op is one vector function; tails use masked loads so the last few
// elements go through the same code (identical results whatever the length).
#include <immintrin.h>

#include <cmath>

#include "kernels.h"
#include "parallel.h"
#include "vec_math.h"

namespace dissect {

namespace {

using vmath::splat;

/** Lane-wise scalar fallback for ops without a vector formula, with JS Math.pow's edge cases. */
inline __m256 pow_lanes(__m256 a, __m256 b) {
  alignas(32) float x[8], y[8];
  _mm256_store_ps(x, a);
  _mm256_store_ps(y, b);
  for (int i = 0; i < 8; i++) {
    // Math.pow(1, NaN) and Math.pow(±1, ±Infinity) are NaN in JS; C's powf says 1.
    bool js_nan = std::isnan(y[i]) || (std::fabs(x[i]) == 1.0f && std::isinf(y[i]));
    x[i] = js_nan ? NAN : std::pow(x[i], y[i]);
  }
  return _mm256_load_ps(x);
}

/** Math.max/min: NaN wins, and max(0, -0) = 0, min(0, -0) = -0 (the bitwise and/or of the two). */
inline __m256 max_js(__m256 a, __m256 b) {
  __m256 r = _mm256_blendv_ps(_mm256_max_ps(a, b), _mm256_and_ps(a, b), _mm256_cmp_ps(a, b, _CMP_EQ_OQ));
  return _mm256_blendv_ps(r, _mm256_add_ps(a, b), _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}
inline __m256 min_js(__m256 a, __m256 b) {
  __m256 r = _mm256_blendv_ps(_mm256_min_ps(a, b), _mm256_or_ps(a, b), _mm256_cmp_ps(a, b, _CMP_EQ_OQ));
  return _mm256_blendv_ps(r, _mm256_add_ps(a, b), _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
}

template <int Predicate>
inline __m256 compare(__m256 a, __m256 b) {
  return _mm256_and_ps(_mm256_cmp_ps(a, b, Predicate), splat(1.0f));
}

template <BinaryOp Op>
inline __m256 apply(__m256 a, __m256 b) {
  if constexpr (Op == BinaryOp::add) return _mm256_add_ps(a, b);
  if constexpr (Op == BinaryOp::sub) return _mm256_sub_ps(a, b);
  if constexpr (Op == BinaryOp::mul) return _mm256_mul_ps(a, b);
  if constexpr (Op == BinaryOp::div) return _mm256_div_ps(a, b);
  if constexpr (Op == BinaryOp::pow) return pow_lanes(a, b);
  if constexpr (Op == BinaryOp::max) return max_js(a, b);
  if constexpr (Op == BinaryOp::min) return min_js(a, b);
  if constexpr (Op == BinaryOp::eq) return compare<_CMP_EQ_OQ>(a, b);
  if constexpr (Op == BinaryOp::ne) return compare<_CMP_NEQ_UQ>(a, b);
  if constexpr (Op == BinaryOp::lt) return compare<_CMP_LT_OQ>(a, b);
  if constexpr (Op == BinaryOp::le) return compare<_CMP_LE_OQ>(a, b);
  if constexpr (Op == BinaryOp::gt) return compare<_CMP_GT_OQ>(a, b);
  if constexpr (Op == BinaryOp::ge) return compare<_CMP_GE_OQ>(a, b);
}

/**
 * out[j] = a[j] op b[j] for j < n, where an operand with `*_splat` set is the single value *a (or
 * *b) repeated.
 */
template <BinaryOp Op, bool ASplat, bool BSplat>
void binary_line(const float* a, const float* b, float* out, int64_t n) {
  __m256 a_value = ASplat ? _mm256_set1_ps(*a) : _mm256_setzero_ps();
  __m256 b_value = BSplat ? _mm256_set1_ps(*b) : _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 x = ASplat ? a_value : _mm256_loadu_ps(a + j);
    __m256 y = BSplat ? b_value : _mm256_loadu_ps(b + j);
    _mm256_storeu_ps(out + j, apply<Op>(x, y));
  }
  if (j < n) {
    __m256i mask = vmath::tail_mask(n - j);
    __m256 x = ASplat ? a_value : _mm256_maskload_ps(a + j, mask);
    __m256 y = BSplat ? b_value : _mm256_maskload_ps(b + j, mask);
    _mm256_maskstore_ps(out + j, mask, apply<Op>(x, y));
  }
}

using BinaryLine = void (*)(const float*, const float*, float*, int64_t);

template <BinaryOp Op>
BinaryLine pick_line(bool a_splat, bool b_splat) {
  if (a_splat) return b_splat ? binary_line<Op, true, true> : binary_line<Op, true, false>;
  return b_splat ? binary_line<Op, false, true> : binary_line<Op, false, false>;
}

BinaryLine binary_line_for(BinaryOp op, bool a_splat, bool b_splat) {
  switch (op) {
    case BinaryOp::add: return pick_line<BinaryOp::add>(a_splat, b_splat);
    case BinaryOp::sub: return pick_line<BinaryOp::sub>(a_splat, b_splat);
    case BinaryOp::mul: return pick_line<BinaryOp::mul>(a_splat, b_splat);
    case BinaryOp::div: return pick_line<BinaryOp::div>(a_splat, b_splat);
    case BinaryOp::pow: return pick_line<BinaryOp::pow>(a_splat, b_splat);
    case BinaryOp::max: return pick_line<BinaryOp::max>(a_splat, b_splat);
    case BinaryOp::min: return pick_line<BinaryOp::min>(a_splat, b_splat);
    case BinaryOp::eq: return pick_line<BinaryOp::eq>(a_splat, b_splat);
    case BinaryOp::ne: return pick_line<BinaryOp::ne>(a_splat, b_splat);
    case BinaryOp::lt: return pick_line<BinaryOp::lt>(a_splat, b_splat);
    case BinaryOp::le: return pick_line<BinaryOp::le>(a_splat, b_splat);
    case BinaryOp::gt: return pick_line<BinaryOp::gt>(a_splat, b_splat);
    case BinaryOp::ge: return pick_line<BinaryOp::ge>(a_splat, b_splat);
    case BinaryOp::count: break;
  }
  return nullptr;
}

/** Where operand element (r, j) lives for each broadcast mode. */
inline const float* operand_at(const float* base, Broadcast mode, int64_t r, int64_t n, int64_t j) {
  switch (mode) {
    case Broadcast::full: return base + r * n + j;
    case Broadcast::row: return base + j;
    case Broadcast::column: return base + r;
    case Broadcast::count: break;
  }
  return base;
}

template <UnaryOp Op>
inline __m256 apply_unary(__m256 x) {
  using namespace vmath;
  const __m256 one = splat(1.0f);
  const __m256 zero = _mm256_setzero_ps();
  if constexpr (Op == UnaryOp::neg) return _mm256_xor_ps(x, splat(-0.0f));
  if constexpr (Op == UnaryOp::abs) return vmath::abs(x);
  if constexpr (Op == UnaryOp::sign) {
    // Math.sign: ±1, keeping ±0 and NaN as they are.
    __m256 unit = vmath::copysign(one, x);
    __m256 keep = _mm256_cmp_ps(x, zero, _CMP_EQ_UQ);  // ±0 or NaN
    return _mm256_blendv_ps(unit, x, keep);
  }
  if constexpr (Op == UnaryOp::square) return _mm256_mul_ps(x, x);
  if constexpr (Op == UnaryOp::sqrt) return _mm256_sqrt_ps(x);
  if constexpr (Op == UnaryOp::rsqrt) return _mm256_div_ps(one, _mm256_sqrt_ps(x));
  if constexpr (Op == UnaryOp::reciprocal) return _mm256_div_ps(one, x);
  if constexpr (Op == UnaryOp::exp) return vmath::exp(x);
  if constexpr (Op == UnaryOp::tanh) return vmath::tanh(x);
  if constexpr (Op == UnaryOp::erf) return vmath::erf(x);
  if constexpr (Op == UnaryOp::sigmoid) return vmath::sigmoid(x);
  if constexpr (Op == UnaryOp::relu) {
    // x > 0 ? x : 0, but NaN stays NaN.
    __m256 keep = _mm256_cmp_ps(x, zero, _CMP_NLE_UQ);
    return _mm256_and_ps(x, keep);
  }
  if constexpr (Op == UnaryOp::silu) return _mm256_mul_ps(x, vmath::sigmoid(x));
  // x Φ(x) via erfc keeps relative accuracy in the negative tail, where 1 + erf(x/√2) cancels.
  if constexpr (Op == UnaryOp::gelu_erf) return _mm256_mul_ps(x, vmath::normal_cdf(x));
  if constexpr (Op == UnaryOp::gelu_tanh || Op == UnaryOp::gelu_tanh_grad) {
    // 0.5 (1 + tanh u) = sigmoid(2u): no cancellation for negative x.
    const __m256 k = splat(0.7978845608028654f);
    const __m256 cubic = splat(0.044715f);
    __m256 x2 = _mm256_mul_ps(x, x);
    __m256 u = _mm256_mul_ps(k, _mm256_fmadd_ps(_mm256_mul_ps(cubic, x2), x, x));
    if constexpr (Op == UnaryOp::gelu_tanh) return _mm256_mul_ps(x, vmath::sigmoid(_mm256_add_ps(u, u)));
    // d/dx = s + x (1 - t²)/2 u' with (1 - t²)/2 = 2 s (1 - s).
    __m256 s, s_complement;
    vmath::sigmoid_pair(_mm256_add_ps(u, u), &s, &s_complement);
    __m256 du = _mm256_mul_ps(k, _mm256_fmadd_ps(splat(3.0f * 0.044715f), x2, one));
    __m256 slope = _mm256_mul_ps(_mm256_mul_ps(splat(2.0f), s), s_complement);
    return _mm256_fmadd_ps(_mm256_mul_ps(x, slope), du, s);
  }
  if constexpr (Op == UnaryOp::step) return _mm256_and_ps(_mm256_cmp_ps(x, zero, _CMP_GT_OQ), one);
  if constexpr (Op == UnaryOp::silu_grad) {
    __m256 s, s_complement;
    vmath::sigmoid_pair(x, &s, &s_complement);
    return _mm256_mul_ps(s, _mm256_fmadd_ps(x, s_complement, one));
  }
  if constexpr (Op == UnaryOp::gelu_erf_grad) return _mm256_fmadd_ps(x, vmath::normal_pdf(x), vmath::normal_cdf(x));
  if constexpr (Op == UnaryOp::log || Op == UnaryOp::sin || Op == UnaryOp::cos) {
    alignas(32) float v[8];
    _mm256_store_ps(v, x);
    for (float& e : v) e = Op == UnaryOp::log ? std::log(e) : Op == UnaryOp::sin ? std::sin(e) : std::cos(e);
    return _mm256_load_ps(v);
  }
}

template <UnaryOp Op>
void unary_line(const float* x, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, apply_unary<Op>(_mm256_loadu_ps(x + i)));
  if (i < n) {
    __m256i mask = vmath::tail_mask(n - i);
    _mm256_maskstore_ps(out + i, mask, apply_unary<Op>(_mm256_maskload_ps(x + i, mask)));
  }
}

using UnaryLine = void (*)(const float*, float*, int64_t);

UnaryLine unary_line_for(UnaryOp op) {
  switch (op) {
#define DISSECT_UNARY_CASE(name) \
  case UnaryOp::name: return unary_line<UnaryOp::name>;
    DISSECT_UNARY_CASE(neg) DISSECT_UNARY_CASE(abs) DISSECT_UNARY_CASE(sign) DISSECT_UNARY_CASE(square)
    DISSECT_UNARY_CASE(sqrt) DISSECT_UNARY_CASE(rsqrt) DISSECT_UNARY_CASE(reciprocal) DISSECT_UNARY_CASE(exp)
    DISSECT_UNARY_CASE(log) DISSECT_UNARY_CASE(sin) DISSECT_UNARY_CASE(cos) DISSECT_UNARY_CASE(tanh)
    DISSECT_UNARY_CASE(erf) DISSECT_UNARY_CASE(sigmoid) DISSECT_UNARY_CASE(relu) DISSECT_UNARY_CASE(silu)
    DISSECT_UNARY_CASE(gelu_erf) DISSECT_UNARY_CASE(gelu_tanh) DISSECT_UNARY_CASE(step)
    DISSECT_UNARY_CASE(silu_grad) DISSECT_UNARY_CASE(gelu_erf_grad) DISSECT_UNARY_CASE(gelu_tanh_grad)
#undef DISSECT_UNARY_CASE
    case UnaryOp::count: break;
  }
  return nullptr;
}

}  // namespace

void binary(ThreadPool* pool, BinaryOp op, const float* a, Broadcast a_mode, const float* b, Broadcast b_mode,
            int64_t rows, int64_t n, float* out) {
  // Two dense operands are one long line, whatever the row structure.
  if (a_mode == Broadcast::full && b_mode == Broadcast::full) {
    n *= rows;
    rows = 1;
  }
  BinaryLine row_fn = binary_line_for(op, a_mode == Broadcast::column, b_mode == Broadcast::column);
  // Many rows: whole rows per thread. Few long rows: column ranges per thread.
  int threads = pool_threads(pool);
  if (rows >= threads) {
    parallel_ranges(pool, rows, rows * n, 1, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; r++) {
        row_fn(operand_at(a, a_mode, r, n, 0), operand_at(b, b_mode, r, n, 0), out + r * n, n);
      }
    });
  } else {
    parallel_ranges(pool, n, rows * n, 64, [&](int64_t j0, int64_t j1) {
      for (int64_t r = 0; r < rows; r++) {
        row_fn(operand_at(a, a_mode, r, n, j0), operand_at(b, b_mode, r, n, j0), out + r * n + j0, j1 - j0);
      }
    });
  }
}

void binary_scalar(ThreadPool* pool, BinaryOp op, const float* x, float scalar, bool scalar_on_left,
                   int64_t length, float* out) {
  BinaryLine line = binary_line_for(op, scalar_on_left, !scalar_on_left);
  parallel_ranges(pool, length, length, 64, [&](int64_t i0, int64_t i1) {
    if (scalar_on_left) {
      line(&scalar, x + i0, out + i0, i1 - i0);
    } else {
      line(x + i0, &scalar, out + i0, i1 - i0);
    }
  });
}

void unary(ThreadPool* pool, UnaryOp op, const float* x, int64_t length, float* out) {
  UnaryLine line = unary_line_for(op);
  // Transcendental ops cost ~10× a load; split them at a lower element count.
  int64_t work = (op == UnaryOp::neg || op == UnaryOp::abs || op == UnaryOp::square || op == UnaryOp::relu)
                     ? length : length * 8;
  parallel_ranges(pool, length, work, 64, [&](int64_t i0, int64_t i1) { line(x + i0, out + i0, i1 - i0); });
}

}  // namespace dissect
