// Kernels over dense rows of the last axis: softmax (optionally causal, optionally log), layer norm,
// RMS norm, and reductions along one axis. Threads split the rows.
//
// Sums run in float32 with 8 partial sums per row (two vectors); the TS tests bound the difference
// from the float64 reference.

#include "common.h"
#include "vmath.h"

/** Row sum of x[0..n), vectorised. */
INLINE float row_sum(const float *x, int n) {
  f32x4 acc0 = SPLAT(0.0f), acc1 = acc0;
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    acc0 = wasm_f32x4_add(acc0, wasm_v128_load(x + j));
    acc1 = wasm_f32x4_add(acc1, wasm_v128_load(x + j + 4));
  }
  float sum = hsum(wasm_f32x4_add(acc0, acc1));
  for (; j < n; j++) sum += x[j];
  return sum;
}

/** Row max; NaN anywhere gives NaN (f32x4.max propagates it), as torch.max does. */
INLINE float row_max(const float *x, int n) {
  f32x4 acc = SPLAT(-__builtin_inff());
  int j = 0;
  for (; j + 4 <= n; j += 4) acc = wasm_f32x4_max(acc, wasm_v128_load(x + j));
  for (; j < n; j++) acc = wasm_f32x4_max(acc, wasm_v128_load32_splat(x + j));
  return hmax(acc);
}

INLINE float row_min(const float *x, int n) {
  f32x4 acc = SPLAT(__builtin_inff());
  int j = 0;
  for (; j + 4 <= n; j += 4) acc = wasm_f32x4_min(acc, wasm_v128_load(x + j));
  for (; j < n; j++) acc = wasm_f32x4_min(acc, wasm_v128_load32_splat(x + j));
  return -hmax(wasm_f32x4_neg(acc));
}

INLINE float scalar_log(float x) { return wasm_f32x4_extract_lane(vlog(wasm_f32x4_splat(x)), 0); }

INLINE void fill_row(float *out, int n, float value) {
  for (int j = 0; j < n; j++) out[j] = value;
}

/**
 * Σ exp(x[j] - shift) for j < n, also storing each term in out[j] when out is not null. The tail
 * goes through the vector exp too, so every element gets the same rounding whatever its position.
 */
INLINE float exp_shifted_sum(const float *x, int n, float shift, float *out) {
  f32x4 vshift = SPLAT(shift), acc = SPLAT(0.0f);
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    f32x4 e = vexp(wasm_f32x4_sub(wasm_v128_load(x + j), vshift));
    if (out) wasm_v128_store(out + j, e);
    acc = wasm_f32x4_add(acc, e);
  }
  float sum = hsum(acc);
  for (; j < n; j++) {
    float e = wasm_f32x4_extract_lane(vexp(wasm_f32x4_splat(x[j] - shift)), 0);
    if (out) out[j] = e;
    sum += e;
  }
  return sum;
}

INLINE void scale_row(float *out, int n, float scale) {
  f32x4 v = SPLAT(scale);
  int j = 0;
  for (; j + 4 <= n; j += 4) wasm_v128_store(out + j, wasm_f32x4_mul(wasm_v128_load(out + j), v));
  for (; j < n; j++) out[j] *= scale;
}

/** out = (x - max) - log_total: x - max first, which is exact near the max, where it matters. */
INLINE void log_softmax_row(const float *x, float *out, int n, float max, float log_total) {
  f32x4 vmax = SPLAT(max), vlog_total = SPLAT(log_total);
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    wasm_v128_store(out + j, wasm_f32x4_sub(wasm_f32x4_sub(wasm_v128_load(x + j), vmax), vlog_total));
  }
  for (; j < n; j++) out[j] = (x[j] - max) - log_total;
}

/**
 * Softmax over rows of n; with causal (query_len > 0), row r keeps keys j <= r % query_len + offset.
 * A row with nothing left (all masked or all -inf) is all 0 (log: all -inf).
 */
EXPORT(softmax) void softmax(int tid, int nthreads, const float *x, int rows, int n, int log, int query_len,
                             int offset, float *out) {
  int begin, end;
  thread_range(tid, nthreads, rows, 1, &begin, &end);
  float masked = log ? -__builtin_inff() : 0.0f;
  for (int r = begin; r < end; r++) {
    const float *x_row = x + r * n;
    float *out_row = out + r * n;
    int kept = n;
    if (query_len > 0) kept = max_int(0, min_int(n, r % query_len + offset + 1));
    float max = kept > 0 ? row_max(x_row, kept) : -__builtin_inff();
    if (max == -__builtin_inff()) {
      fill_row(out_row, n, masked);
      continue;
    }
    // Log-softmax reads x again after the sum, so it must not store the terms (out may be x).
    float total = exp_shifted_sum(x_row, kept, max, log ? 0 : out_row);
    if (log) {
      log_softmax_row(x_row, out_row, kept, max, scalar_log(total));
    } else {
      scale_row(out_row, kept, 1.0f / total);
    }
    fill_row(out_row + kept, n - kept, masked);
  }
}

/** Null weight/bias/mean/rstd pointers (0) mean "absent". */
EXPORT(layer_norm) void layer_norm(int tid, int nthreads, const float *x, int rows, int d, const float *weight,
                                   const float *bias, float eps, float *out, float *mean_out, float *rstd_out) {
  int begin, end;
  thread_range(tid, nthreads, rows, 1, &begin, &end);
  for (int r = begin; r < end; r++) {
    const float *x_row = x + r * d;
    float *out_row = out + r * d;
    float mean = row_sum(x_row, d) / (float)d;
    // Two passes: the variance of the centred values, which does not cancel like E[x²] - E[x]².
    f32x4 vmean = SPLAT(mean), acc = SPLAT(0.0f);
    int j = 0;
    for (; j + 4 <= d; j += 4) {
      f32x4 c = wasm_f32x4_sub(wasm_v128_load(x_row + j), vmean);
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(c, c));
    }
    float squares = hsum(acc);
    for (; j < d; j++) squares += (x_row[j] - mean) * (x_row[j] - mean);
    float rstd = wasm_f32x4_extract_lane(
        wasm_f32x4_div(SPLAT(1.0f), wasm_f32x4_sqrt(SPLAT(squares / (float)d + eps))), 0);
    if (mean_out) mean_out[r] = mean;
    if (rstd_out) rstd_out[r] = rstd;
    f32x4 vrstd = SPLAT(rstd);
    for (j = 0; j + 4 <= d; j += 4) {
      f32x4 y = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x_row + j), vmean), vrstd);
      if (weight) y = wasm_f32x4_mul(y, wasm_v128_load(weight + j));
      if (bias) y = wasm_f32x4_add(y, wasm_v128_load(bias + j));
      wasm_v128_store(out_row + j, y);
    }
    for (; j < d; j++) {
      float y = (x_row[j] - mean) * rstd;
      if (weight) y *= weight[j];
      if (bias) y += bias[j];
      out_row[j] = y;
    }
  }
}

/** out = x·rstd·(weight_offset + weight); weight 0 means none (then the scale is just rstd). */
EXPORT(rms_norm) void rms_norm(int tid, int nthreads, const float *x, int rows, int d, const float *weight,
                               float weight_offset, float eps, float *out, float *rstd_out) {
  int begin, end;
  thread_range(tid, nthreads, rows, 1, &begin, &end);
  f32x4 voffset = SPLAT(weight_offset);
  for (int r = begin; r < end; r++) {
    const float *x_row = x + r * d;
    float *out_row = out + r * d;
    f32x4 acc = SPLAT(0.0f);
    int j = 0;
    for (; j + 4 <= d; j += 4) {
      f32x4 v = wasm_v128_load(x_row + j);
      acc = wasm_f32x4_add(acc, wasm_f32x4_mul(v, v));
    }
    float squares = hsum(acc);
    for (; j < d; j++) squares += x_row[j] * x_row[j];
    float rstd = wasm_f32x4_extract_lane(
        wasm_f32x4_div(SPLAT(1.0f), wasm_f32x4_sqrt(SPLAT(squares / (float)d + eps))), 0);
    if (rstd_out) rstd_out[r] = rstd;
    f32x4 vrstd = SPLAT(rstd);
    for (j = 0; j + 4 <= d; j += 4) {
      f32x4 y = wasm_f32x4_mul(wasm_v128_load(x_row + j), vrstd);
      if (weight) y = wasm_f32x4_mul(y, wasm_f32x4_add(voffset, wasm_v128_load(weight + j)));
      wasm_v128_store(out_row + j, y);
    }
    for (; j < d; j++) {
      float y = x_row[j] * rstd;
      if (weight) y *= weight_offset + weight[j];
      out_row[j] = y;
    }
  }
}

enum ReduceOp { R_SUM, R_MAX, R_MIN };

INLINE f32x4 combine(int op, f32x4 acc, f32x4 v) {
  return op == R_SUM ? wasm_f32x4_add(acc, v) : op == R_MAX ? wasm_f32x4_max(acc, v) : wasm_f32x4_min(acc, v);
}

/**
 * Reduces dense [outer, n, inner] along n into out [outer, inner]. inner == 1 reduces each row
 * horizontally; otherwise whole rows of `inner` are combined vertically, vector by vector.
 * Threads split outer (or inner, when there are fewer outer slices than threads).
 */
EXPORT(reduce_axis) void reduce_axis(int tid, int nthreads, int op, const float *x, int outer, int n, int inner,
                                     float *out) {
  if (inner == 1) {
    int begin, end;
    thread_range(tid, nthreads, outer, 1, &begin, &end);
    for (int o = begin; o < end; o++) {
      const float *row = x + o * n;
      out[o] = op == R_SUM ? row_sum(row, n) : op == R_MAX ? row_max(row, n) : row_min(row, n);
    }
    return;
  }
  int outer_begin = 0, outer_end = outer, inner_begin = 0, inner_end = inner;
  if (outer >= 2 * nthreads) {
    thread_range(tid, nthreads, outer, 1, &outer_begin, &outer_end);
  } else {
    thread_range(tid, nthreads, inner, 16, &inner_begin, &inner_end);
  }
  for (int o = outer_begin; o < outer_end; o++) {
    const float *slice = x + o * n * inner;
    float *dst = out + o * inner;
    int i = inner_begin;
    for (; i + 4 <= inner_end; i += 4) {
      f32x4 acc = wasm_v128_load(slice + i);
      for (int j = 1; j < n; j++) acc = combine(op, acc, wasm_v128_load(slice + j * inner + i));
      wasm_v128_store(dst + i, acc);
    }
    for (; i < inner_end; i++) {
      f32x4 acc = wasm_v128_load32_splat(slice + i);
      for (int j = 1; j < n; j++) acc = combine(op, acc, wasm_v128_load32_splat(slice + j * inner + i));
      dst[i] = wasm_f32x4_extract_lane(acc, 0);
    }
  }
}
