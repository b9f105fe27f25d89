// Vector × matrix: one row of A against all of B, streaming B from memory exactly once. This is
// memory-bound (GPT-2's unembed reads 154 MB of W_U per token), so the loops aim at keeping many
// sequential read streams in flight (8 rows of B at a time, which measured ~25% faster than 4),
// not at arithmetic.

#include "common.h"
#include "gemm.h"

#define ROWS_PER_PASS 8
/**
 * Columns of the output kept in cache (128 KiB: L2) while rows of B stream past. Long blocks make
 * long sequential streams through B, which the hardware prefetcher rewards: 32768 columns
 * measured ~1.6x faster than 2048 (an L1-sized block) on the unembed.
 */
#define COLUMN_BLOCK 32768

/** dot(a, row) over k, with row contiguous. */
INLINE float dot(const float *a, const float *row, int k) {
  f32x4 acc0 = wasm_f32x4_splat(0), acc1 = acc0;
  int p = 0;
  for (; p + 8 <= k; p += 8) {
    acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wasm_v128_load(a + p), wasm_v128_load(row + p)));
    acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wasm_v128_load(a + p + 4), wasm_v128_load(row + p + 4)));
  }
  float sum = hsum(wasm_f32x4_add(acc0, acc1));
  for (; p < k; p++) sum += a[p] * row[p];
  return sum;
}

/** B stored transposed (W_U as [vocab, d]): every output is a dot product with one row of B. */
static void gemv_rows(const float *a, const float *b, int ldb, float *c, int k, int n, int accumulate) {
  int j = 0;
  for (; j + ROWS_PER_PASS <= n; j += ROWS_PER_PASS) {
    const float *rows = b + j * ldb;
    f32x4 acc[ROWS_PER_PASS];
    for (int t = 0; t < ROWS_PER_PASS; t++) acc[t] = wasm_f32x4_splat(0);
    int p = 0;
    for (; p + 4 <= k; p += 4) {
      f32x4 av = wasm_v128_load(a + p);
      for (int t = 0; t < ROWS_PER_PASS; t++) {
        acc[t] = wasm_f32x4_add(acc[t], wasm_f32x4_mul(av, wasm_v128_load(rows + t * ldb + p)));
      }
    }
    for (int t = 0; t < ROWS_PER_PASS; t++) {
      float sum = hsum(acc[t]);
      for (int q = p; q < k; q++) sum += a[q] * rows[t * ldb + q];
      c[j + t] = (accumulate ? c[j + t] : 0.0f) + sum;
    }
  }
  for (; j < n; j++) c[j] = (accumulate ? c[j] : 0.0f) + dot(a, b + j * ldb, k);
}

/** out[0..width) += Σ_t a[t] · row_t, over ROWS_PER_PASS rows of B ldb apart. */
INLINE void axpy_pass(const float *a, const float *rows, int ldb, float *out, int width) {
  f32x4 coef[ROWS_PER_PASS];
  for (int t = 0; t < ROWS_PER_PASS; t++) coef[t] = wasm_v128_load32_splat(a + t);
  int j = 0;
  for (; j + 4 <= width; j += 4) {
    f32x4 sum = wasm_f32x4_mul(coef[0], wasm_v128_load(rows + j));
    for (int t = 1; t < ROWS_PER_PASS; t++) {
      sum = wasm_f32x4_add(sum, wasm_f32x4_mul(coef[t], wasm_v128_load(rows + t * ldb + j)));
    }
    wasm_v128_store(out + j, wasm_f32x4_add(wasm_v128_load(out + j), sum));
  }
  for (; j < width; j++) {
    float sum = 0.0f;
    for (int t = 0; t < ROWS_PER_PASS; t++) sum += a[t] * rows[t * ldb + j];
    out[j] += sum;
  }
}

/**
 * B plain ([k, n] row-major): c += a[p] · row p of B, eight rows per pass over a block of c that
 * stays in cache.
 */
static void gemv_columns(const float *a, const float *b, int ldb, float *c, int k, int n, int accumulate) {
  for (int j0 = 0; j0 < n; j0 += COLUMN_BLOCK) {
    int width = min_int(COLUMN_BLOCK, n - j0);
    float *out = c + j0;
    if (!accumulate) {
      for (int j = 0; j < width; j++) out[j] = 0.0f;
    }
    int p = 0;
    for (; p + ROWS_PER_PASS <= k; p += ROWS_PER_PASS) axpy_pass(a + p, b + p * ldb + j0, ldb, out, width);
    for (; p < k; p++) {
      const float *row = b + p * ldb + j0;
      f32x4 coef = wasm_v128_load32_splat(a + p);
      int j = 0;
      for (; j + 4 <= width; j += 4) {
        wasm_v128_store(out + j, wasm_f32x4_add(wasm_v128_load(out + j), wasm_f32x4_mul(coef, wasm_v128_load(row + j))));
      }
      for (; j < width; j++) out[j] += a[p] * row[j];
    }
  }
}

void gemv(const float *a, const float *b, int rs, int cs, float *c, int k, int n, int accumulate) {
  if (rs == 1) {
    gemv_rows(a, b, cs, c, k, n, accumulate);
  } else if (cs == 1) {
    gemv_columns(a, b, rs, c, k, n, accumulate);
  } else {
    for (int j = 0; j < n; j++) {
      float sum = 0.0f;
      for (int p = 0; p < k; p++) sum += a[p] * b[p * rs + j * cs];
      c[j] = (accumulate ? c[j] : 0.0f) + sum;
    }
  }
}
