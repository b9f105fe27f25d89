// Packing of GEMM operands into the micro-kernel's layout. A block [mc, kc] becomes MR-row
// micro-panels stored p-major (dst[panel][p][row]); a B block [kc, nc] becomes NR-column
// micro-panels (dst[panel][p][col]). Edges are zero-padded so the micro-kernel always computes a
// full tile. Gathering a row-major A (or a transposed B) is a transpose, done 8×8 in registers.
// Include only from kernel translation units.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "vec_math.h"

namespace dissect {

constexpr int kMR = 6;
constexpr int kNR = 16;

/** rows[q] becomes the q-th column of the 8×8 block: rows[q][i] = old rows[i][q]. */
inline void transpose8x8(__m256 rows[8]) {
  __m256 t0 = _mm256_unpacklo_ps(rows[0], rows[1]), t1 = _mm256_unpackhi_ps(rows[0], rows[1]);
  __m256 t2 = _mm256_unpacklo_ps(rows[2], rows[3]), t3 = _mm256_unpackhi_ps(rows[2], rows[3]);
  __m256 t4 = _mm256_unpacklo_ps(rows[4], rows[5]), t5 = _mm256_unpackhi_ps(rows[4], rows[5]);
  __m256 t6 = _mm256_unpacklo_ps(rows[6], rows[7]), t7 = _mm256_unpackhi_ps(rows[6], rows[7]);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  rows[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  rows[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  rows[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  rows[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  rows[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  rows[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  rows[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  rows[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/**
 * `count` (<= 8) source lines, each contiguous along p from `src + i*line_stride`, written
 * interleaved: dst[p*out_stride + i] for i < min(8, out_stride); lines past `count` are zero.
 * With out_stride < 8 every store still writes 8 floats, spilling into the next p-row (rewritten
 * right after) and past the end (the caller leaves slack).
 */
inline void interleave_lines(const float* src, int64_t line_stride, int count, int kc, int out_stride,
                             float* dst) {
  int p = 0;
  for (; p + 8 <= kc; p += 8) {
    __m256 rows[8];
    for (int i = 0; i < 8; i++) {
      rows[i] = i < count ? _mm256_loadu_ps(src + i * line_stride + p) : _mm256_setzero_ps();
    }
    transpose8x8(rows);
    for (int q = 0; q < 8; q++) _mm256_storeu_ps(dst + (p + q) * out_stride, rows[q]);
  }
  int lanes = out_stride < 8 ? out_stride : 8;
  for (; p < kc; p++) {
    for (int i = 0; i < lanes; i++) dst[p * out_stride + i] = i < count ? src[i * line_stride + p] : 0.0f;
  }
}

/** A block (rows of stride rs, columns of stride cs) into MR-row micro-panels. */
inline void pack_a(const float* a, int64_t rs, int64_t cs, int mc, int kc, float* dst) {
  for (int i0 = 0; i0 < mc; i0 += kMR, dst += kMR * kc) {
    int rows = mc - i0 < kMR ? mc - i0 : kMR;
    const float* src = a + i0 * rs;
    if (cs == 1) {
      interleave_lines(src, rs, rows, kc, kMR, dst);
    } else {
      for (int p = 0; p < kc; p++) {
        for (int i = 0; i < kMR; i++) dst[p * kMR + i] = i < rows ? src[i * rs + p * cs] : 0.0f;
      }
    }
  }
}

/** B block (rows of stride rs, columns of stride cs) into NR-column micro-panels. */
inline void pack_b(const float* b, int64_t rs, int64_t cs, int kc, int nc, float* dst) {
  for (int j0 = 0; j0 < nc; j0 += kNR, dst += kNR * kc) {
    int cols = nc - j0 < kNR ? nc - j0 : kNR;
    const float* src = b + j0 * cs;
    if (cs == 1) {
      if (cols == kNR) {
        for (int p = 0; p < kc; p++) {
          _mm256_store_ps(dst + p * kNR, _mm256_loadu_ps(src + p * rs));
          _mm256_store_ps(dst + p * kNR + 8, _mm256_loadu_ps(src + p * rs + 8));
        }
      } else {
        __m256i low = vmath::tail_mask(cols), high = vmath::tail_mask(cols - 8);
        for (int p = 0; p < kc; p++) {
          _mm256_store_ps(dst + p * kNR, _mm256_maskload_ps(src + p * rs, low));
          _mm256_store_ps(dst + p * kNR + 8, _mm256_maskload_ps(src + p * rs + 8, high));
        }
      }
    } else if (rs == 1) {
      // Transposed B: each column is contiguous along p; two 8-column halves per 16-float p-row.
      for (int h = 0; h < 2; h++) {
        int count = cols - 8 * h;
        count = count < 0 ? 0 : (count > 8 ? 8 : count);
        interleave_lines(src + 8 * h * cs, cs, count, kc, kNR, dst + 8 * h);
      }
    } else {
      for (int p = 0; p < kc; p++) {
        for (int j = 0; j < kNR; j++) dst[p * kNR + j] = j < cols ? src[p * rs + j * cs] : 0.0f;
      }
    }
  }
}

}  // namespace dissect
