// Kernels over dense rows of the last axis: softmax (with a causal mask), LayerNorm, RMSNorm, and
// sum/max/min reductions. Statistics accumulate in float64 like the oracle's: a float32 running sum
// over d = 4096 loses digits that a backward pass then amplifies.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels.h"
#include "parallel.h"
#include "vec_math.h"

namespace dissect {

namespace {

using vmath::splat;

constexpr float kInf = __builtin_inff();

void fill(float* dst, int64_t n, float value) {
  for (int64_t j = 0; j < n; j++) dst[j] = value;
}

/** Max of x[0:n], NaN if any element is NaN. */
float row_max(const float* x, int64_t n) {
  __m256 best = splat(-kInf);
  __m256 nan = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_loadu_ps(x + j);
    best = _mm256_max_ps(best, v);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  if (j < n) {
    __m256i mask = vmath::tail_mask(n - j);
    __m256 v = _mm256_blendv_ps(splat(-kInf), _mm256_maskload_ps(x + j, mask), _mm256_castsi256_ps(mask));
    best = _mm256_max_ps(best, v);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  if (_mm256_movemask_ps(nan)) return NAN;
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, best);
  float result = lanes[0];
  for (int i = 1; i < 8; i++) result = lanes[i] > result ? lanes[i] : result;
  return result;
}

/** Writes exp(x - max) to out (when store) and returns the sum of those values. */
float exp_and_sum(const float* x, int64_t n, float max, float* out, bool store) {
  __m256 shift = splat(max);
  __m256 total = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 e = vmath::exp(_mm256_sub_ps(_mm256_loadu_ps(x + j), shift));
    if (store) _mm256_storeu_ps(out + j, e);
    total = _mm256_add_ps(total, e);
  }
  if (j < n) {
    __m256i mask = vmath::tail_mask(n - j);
    __m256 e = vmath::exp(_mm256_sub_ps(_mm256_maskload_ps(x + j, mask), shift));
    e = _mm256_and_ps(e, _mm256_castsi256_ps(mask));
    if (store) _mm256_maskstore_ps(out + j, mask, e);
    total = _mm256_add_ps(total, e);
  }
  return vmath::hsum(total);
}

/** out[j] = x[j] * scale for j < n. */
void scale_row(const float* x, int64_t n, float scale, float* out) {
  __m256 s = splat(scale);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(out + j, _mm256_mul_ps(_mm256_loadu_ps(x + j), s));
  if (j < n) {
    __m256i mask = vmath::tail_mask(n - j);
    _mm256_maskstore_ps(out + j, mask, _mm256_mul_ps(_mm256_maskload_ps(x + j, mask), s));
  }
}

/** out[j] = (x[j] - first) - second: subtracting max first keeps large logits exact. */
void subtract_twice(const float* x, int64_t n, float first, float second, float* out) {
  __m256 f = splat(first), s = splat(second);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(out + j, _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), f), s));
  if (j < n) {
    __m256i mask = vmath::tail_mask(n - j);
    _mm256_maskstore_ps(out + j, mask, _mm256_sub_ps(_mm256_sub_ps(_mm256_maskload_ps(x + j, mask), f), s));
  }
}

void softmax_row(const float* x, int64_t n, int64_t kept, bool log, float* out) {
  float masked = log ? -kInf : 0.0f;
  float max = kept > 0 ? row_max(x, kept) : -kInf;
  // Nothing kept, or only -Infinity kept: no mass anywhere, the row is all masked (as the oracle).
  if (max == -kInf) {
    fill(out, n, masked);
    return;
  }
  if (log) {
    float total = exp_and_sum(x, kept, max, out, false);
    subtract_twice(x, kept, max, std::log(total), out);
  } else {
    float total = exp_and_sum(x, kept, max, out, true);
    scale_row(out, kept, 1.0f / total, out);
  }
  fill(out + kept, n - kept, masked);
}

/** Σ x[i] in float64, 8 lanes at a time. */
double sum_double(const float* x, int64_t d) {
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= d; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  double total = vmath::hsum(_mm256_add_pd(s0, s1));
  for (; i < d; i++) total += x[i];
  return total;
}

/** Σ (x[i] - center)² in float64. */
double squares_double(const float* x, int64_t d, double center) {
  __m256d c = _mm256_set1_pd(center);
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 8 <= d; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256d lo = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), c);
    __m256d hi = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), c);
    s0 = _mm256_fmadd_pd(lo, lo, s0);
    s1 = _mm256_fmadd_pd(hi, hi, s1);
  }
  double total = vmath::hsum(_mm256_add_pd(s0, s1));
  for (; i < d; i++) total += (x[i] - center) * (x[i] - center);
  return total;
}

/**
 * out[i] = ((x[i] - center) * scale * (weight_offset + w[i]) + b[i]), in float64, 4 lanes at a
 * time; w and b may be null (factor 1, term 0).
 */
void normalize_row(const float* x, int64_t d, double center, double scale, const float* w, float weight_offset,
                   const float* b, float* out) {
  __m256d c = _mm256_set1_pd(center), s = _mm256_set1_pd(scale), offset = _mm256_set1_pd(weight_offset);
  int64_t i = 0;
  for (; i + 4 <= d; i += 4) {
    __m256d v = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), c), s);
    if (w) v = _mm256_mul_pd(v, _mm256_add_pd(offset, _mm256_cvtps_pd(_mm_loadu_ps(w + i))));
    if (b) v = _mm256_add_pd(v, _mm256_cvtps_pd(_mm_loadu_ps(b + i)));
    _mm_storeu_ps(out + i, _mm256_cvtpd_ps(v));
  }
  for (; i < d; i++) {
    double v = (x[i] - center) * scale;
    if (w) v *= weight_offset + static_cast<double>(w[i]);
    if (b) v += b[i];
    out[i] = static_cast<float>(v);
  }
}

}  // namespace

void softmax(ThreadPool* pool, const float* x, int64_t rows, int64_t n, bool log, int64_t causal_query_len,
             int64_t causal_offset, float* out) {
  parallel_ranges(pool, rows, rows * n * 4, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      int64_t kept = n;
      if (causal_query_len > 0) kept = max64(0, min64(n, r % causal_query_len + causal_offset + 1));
      softmax_row(x + r * n, n, kept, log, out + r * n);
    }
  });
}

void layer_norm(ThreadPool* pool, const float* x, int64_t rows, int64_t d, const float* weight,
                const float* bias, float eps, float* out, float* mean, float* rstd) {
  parallel_ranges(pool, rows, rows * d * 4, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* row = x + r * d;
      double row_mean = sum_double(row, d) / d;
      double row_rstd = 1.0 / std::sqrt(squares_double(row, d, row_mean) / d + eps);
      normalize_row(row, d, row_mean, row_rstd, weight, 0.0f, bias, out + r * d);
      if (mean) mean[r] = static_cast<float>(row_mean);
      if (rstd) rstd[r] = static_cast<float>(row_rstd);
    }
  });
}

void rms_norm(ThreadPool* pool, const float* x, int64_t rows, int64_t d, const float* weight,
              float weight_offset, float eps, float* out, float* rstd) {
  parallel_ranges(pool, rows, rows * d * 4, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* row = x + r * d;
      double row_rstd = 1.0 / std::sqrt(squares_double(row, d, 0.0) / d + eps);
      normalize_row(row, d, 0.0, row_rstd, weight, weight_offset, nullptr, out + r * d);
      if (rstd) rstd[r] = static_cast<float>(row_rstd);
    }
  });
}

namespace {

/** Max (or min) of x[0:n] that propagates NaN. */
float row_extreme(const float* x, int64_t n, bool largest) {
  if (largest) return row_max(x, n);
  // min(x) = -max(-x), exactly, NaN included.
  __m256 best = splat(kInf);
  __m256 nan = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 v = _mm256_loadu_ps(x + j);
    best = _mm256_min_ps(best, v);
    nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  float result = kInf;
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, best);
  for (int i = 0; i < 8; i++) result = lanes[i] < result ? lanes[i] : result;
  for (; j < n; j++) {
    if (x[j] != x[j]) return NAN;
    result = x[j] < result ? x[j] : result;
  }
  return _mm256_movemask_ps(nan) ? NAN : result;
}

/** acc[i] op= x[i] over one row of `inner` values; NaN sticks in acc. */
void extreme_rows(const float* x, int64_t inner, bool largest, float* acc) {
  int64_t i = 0;
  for (; i + 8 <= inner; i += 8) {
    __m256 a = _mm256_loadu_ps(acc + i), v = _mm256_loadu_ps(x + i);
    __m256 next = largest ? _mm256_max_ps(a, v) : _mm256_min_ps(a, v);  // v when either is NaN
    _mm256_storeu_ps(acc + i, _mm256_blendv_ps(next, a, _mm256_cmp_ps(a, a, _CMP_UNORD_Q)));
  }
  for (; i < inner; i++) {
    float a = acc[i], v = x[i];
    if (a != a) continue;
    acc[i] = (v != v || (largest ? v > a : v < a)) ? v : a;
  }
}

/** acc[i] += x[i] in float64. */
void add_row_double(const float* x, int64_t inner, double* acc) {
  int64_t i = 0;
  for (; i + 4 <= inner; i += 4) {
    _mm256_storeu_pd(acc + i, _mm256_add_pd(_mm256_loadu_pd(acc + i), _mm256_cvtps_pd(_mm_loadu_ps(x + i))));
  }
  for (; i < inner; i++) acc[i] += x[i];
}

}  // namespace

void reduce(ThreadPool* pool, ReduceOp op, const float* x, int64_t outer, int64_t n, int64_t inner, float* out) {
  if (inner == 1) {
    parallel_ranges(pool, outer, outer * n, 1, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; o++) {
        const float* row = x + o * n;
        out[o] = op == ReduceOp::sum ? static_cast<float>(sum_double(row, n)) : row_extreme(row, n, op == ReduceOp::max);
      }
    });
    return;
  }
  // Columns of [n, inner] per outer index: split the inner range so each task owns its outputs.
  parallel_ranges(pool, inner, outer * n * inner, 64, [&](int64_t i0, int64_t i1) {
    int64_t width = i1 - i0;
    for (int64_t o = 0; o < outer; o++) {
      const float* base = x + o * n * inner + i0;
      float* dst = out + o * inner + i0;
      if (op == ReduceOp::sum) {
        double acc[256];
        for (int64_t c0 = 0; c0 < width; c0 += 256) {
          int64_t cw = min64(256, width - c0);
          std::memset(acc, 0, sizeof(double) * cw);
          for (int64_t j = 0; j < n; j++) add_row_double(base + j * inner + c0, cw, acc);
          for (int64_t c = 0; c < cw; c++) dst[c0 + c] = static_cast<float>(acc[c]);
        }
      } else {
        if (n == 0) continue;
        std::memcpy(dst, base, sizeof(float) * width);
        for (int64_t j = 1; j < n; j++) extreme_rows(base + j * inner, width, op == ReduceOp::max, dst);
      }
    }
  });
}

}  // namespace dissect
