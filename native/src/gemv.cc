// y = x @ B as either dot products of contiguous rows (B transposed, stored [n, k] like an unembed
// W_U [vocab, d]) or sums of scaled rows (B plain, [k, n]). Both are bound by reading B once, so
// the loops keep several independent streams going and split columns across threads.
#include <immintrin.h>

#include <cstring>

#include "gemv.h"
#include "parallel.h"
#include "vec_math.h"

namespace dissect {

namespace {

constexpr int64_t kParallelMacs = 1 << 17;
constexpr int64_t kFineSplitMacs = 1 << 24;
/** Output columns per block of the row-sum form: y block and 4 row segments stay in L1. */
constexpr int64_t kAxpyBlock = 1024;

inline float dot_tail(const float* row, const float* x, int p, int k, __m256 sum) {
  if (p < k) {
    __m256i mask = vmath::tail_mask(k - p);
    sum = _mm256_fmadd_ps(_mm256_maskload_ps(row + p, mask), _mm256_maskload_ps(x + p, mask), sum);
  }
  return vmath::hsum(sum);
}

/** y[r * y_stride] (+)= dot(rows + r*stride, x) for r < count; rows and x contiguous along k. */
void dot_rows(const float* rows, int64_t stride, int64_t count, const float* x, int k, float* y,
              int64_t y_stride, bool accumulate) {
  int64_t r = 0;
  for (; r + 4 <= count; r += 4) {
    const float* r0 = rows + r * stride;
    const float* r1 = r0 + stride;
    const float* r2 = r1 + stride;
    const float* r3 = r2 + stride;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    __m256 t0 = _mm256_setzero_ps(), t1 = _mm256_setzero_ps(), t2 = _mm256_setzero_ps(), t3 = _mm256_setzero_ps();
    int p = 0;
    for (; p + 16 <= k; p += 16) {
      __m256 x0 = _mm256_loadu_ps(x + p), x1 = _mm256_loadu_ps(x + p + 8);
      s0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p), x0, s0);
      t0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p + 8), x1, t0);
      s1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + p), x0, s1);
      t1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + p + 8), x1, t1);
      s2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + p), x0, s2);
      t2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + p + 8), x1, t2);
      s3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + p), x0, s3);
      t3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + p + 8), x1, t3);
    }
    s0 = _mm256_add_ps(s0, t0);
    s1 = _mm256_add_ps(s1, t1);
    s2 = _mm256_add_ps(s2, t2);
    s3 = _mm256_add_ps(s3, t3);
    for (; p + 8 <= k; p += 8) {
      __m256 x0 = _mm256_loadu_ps(x + p);
      s0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + p), x0, s0);
      s1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + p), x0, s1);
      s2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + p), x0, s2);
      s3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + p), x0, s3);
    }
    float d0 = dot_tail(r0, x, p, k, s0), d1 = dot_tail(r1, x, p, k, s1);
    float d2 = dot_tail(r2, x, p, k, s2), d3 = dot_tail(r3, x, p, k, s3);
    float* yr = y + r * y_stride;
    if (accumulate) {
      d0 += yr[0];
      d1 += yr[y_stride];
      d2 += yr[2 * y_stride];
      d3 += yr[3 * y_stride];
    }
    yr[0] = d0;
    yr[y_stride] = d1;
    yr[2 * y_stride] = d2;
    yr[3 * y_stride] = d3;
  }
  for (; r < count; r++) {
    const float* row = rows + r * stride;
    __m256 s = _mm256_setzero_ps();
    int p = 0;
    for (; p + 8 <= k; p += 8) s = _mm256_fmadd_ps(_mm256_loadu_ps(row + p), _mm256_loadu_ps(x + p), s);
    float d = dot_tail(row, x, p, k, s);
    y[r * y_stride] = accumulate ? y[r * y_stride] + d : d;
  }
}

/** y[j] (+)= Σ_p x[p] * b[p*rs + j] for j in [j0, j1); b rows contiguous along j. */
void scaled_row_sums(const float* b, int64_t rs, int k, const float* x, int64_t j0, int64_t j1, float* y,
                     bool accumulate) {
  for (int64_t jb = j0; jb < j1; jb += kAxpyBlock) {
    int64_t width = min64(kAxpyBlock, j1 - jb);
    float* yb = y + jb;
    if (!accumulate) std::memset(yb, 0, sizeof(float) * width);
    __m256i tail = vmath::tail_mask(width % 8);
    int64_t body = width - width % 8;
    int p = 0;
    for (; p + 4 <= k; p += 4) {
      const float* r0 = b + p * rs + jb;
      const float* r1 = r0 + rs;
      const float* r2 = r1 + rs;
      const float* r3 = r2 + rs;
      __m256 x0 = _mm256_set1_ps(x[p]), x1 = _mm256_set1_ps(x[p + 1]);
      __m256 x2 = _mm256_set1_ps(x[p + 2]), x3 = _mm256_set1_ps(x[p + 3]);
      int64_t j = 0;
      for (; j < body; j += 8) {
        __m256 t = _mm256_mul_ps(_mm256_loadu_ps(r0 + j), x0);
        t = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + j), x1, t);
        t = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + j), x2, t);
        t = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + j), x3, t);
        _mm256_storeu_ps(yb + j, _mm256_add_ps(_mm256_loadu_ps(yb + j), t));
      }
      if (j < width) {
        __m256 t = _mm256_mul_ps(_mm256_maskload_ps(r0 + j, tail), x0);
        t = _mm256_fmadd_ps(_mm256_maskload_ps(r1 + j, tail), x1, t);
        t = _mm256_fmadd_ps(_mm256_maskload_ps(r2 + j, tail), x2, t);
        t = _mm256_fmadd_ps(_mm256_maskload_ps(r3 + j, tail), x3, t);
        _mm256_maskstore_ps(yb + j, tail, _mm256_add_ps(_mm256_maskload_ps(yb + j, tail), t));
      }
    }
    for (; p < k; p++) {
      const float* r0 = b + p * rs + jb;
      __m256 x0 = _mm256_set1_ps(x[p]);
      int64_t j = 0;
      for (; j < body; j += 8) {
        _mm256_storeu_ps(yb + j, _mm256_fmadd_ps(_mm256_loadu_ps(r0 + j), x0, _mm256_loadu_ps(yb + j)));
      }
      if (j < width) {
        __m256 v = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + j, tail), x0, _mm256_maskload_ps(yb + j, tail));
        _mm256_maskstore_ps(yb + j, tail, v);
      }
    }
  }
}

/** The vector operand made contiguous: itself when its stride is 1, else a copy in `scratch`. */
const float* contiguous(const float* v, int64_t stride, int k, float* scratch) {
  if (stride == 1) return v;
  for (int p = 0; p < k; p++) scratch[p] = v[p * stride];
  return scratch;
}

}  // namespace

bool matmul_vector_case(ThreadPool* pool, const MatrixArg& a, const MatrixArg& b, int batch, int m, int k,
                        int n, float* out, bool accumulate) {
  bool row_vector = m == 1 && (b.col_stride == 1 || b.row_stride == 1);
  bool column_vector = !row_vector && n == 1 && a.col_stride == 1;
  if (!row_vector && !column_vector) return false;
  if (k == 0) {
    if (!accumulate) std::memset(out, 0, sizeof(float) * batch * m * n);
    return true;
  }
  // Tasks are (batch entry, output range) pairs. On large matrices (the unembed) four ranges per
  // thread let a helper that starts late (a busy machine) still take a share; on smaller ones
  // longer ranges stream better.
  int64_t outputs = row_vector ? n : m;
  int threads = pool_threads(pool);
  int64_t macs = int64_t{batch} * outputs * k;
  int64_t parts = (threads == 1 || macs < kParallelMacs || batch >= 4 * threads) ? 1
                  : macs >= kFineSplitMacs ? 4 * threads : threads;
  int64_t chunk = (outputs + parts - 1) / parts;
  chunk = (chunk + 63) / 64 * 64;
  parts = (outputs + chunk - 1) / chunk;

  auto task = [&](int t, int worker) {
    int index = static_cast<int>(t / parts);
    int64_t begin = (t % parts) * chunk;
    int64_t end = min64(outputs, begin + chunk);
    float* scratch = pool_scratch(pool, worker, sizeof(float) * (k + 16));
    const float* a_entry = a.data + index * a.batch_stride;
    const float* b_entry = b.data + index * b.batch_stride;
    float* y = out + int64_t{index} * m * n;
    if (row_vector) {
      const float* x = contiguous(a_entry, a.col_stride, k, scratch);
      if (b.col_stride == 1) {
        scaled_row_sums(b_entry, b.row_stride, k, x, begin, end, y, accumulate);
      } else {
        dot_rows(b_entry + begin * b.col_stride, b.col_stride, end - begin, x, k, y + begin, 1, accumulate);
      }
    } else {
      const float* x = contiguous(b_entry, b.row_stride, k, scratch);
      dot_rows(a_entry + begin * a.row_stride, a.row_stride, end - begin, x, k, y + begin, 1, accumulate);
    }
  };
  int64_t tasks = batch * parts;
  if (tasks == 1) {
    task(0, 0);
  } else {
    run_tasks(pool, static_cast<int>(tasks), task);
  }
  return true;
}

}  // namespace dissect
