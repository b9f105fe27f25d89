// Single-precision GEMM, BLIS style: B is packed into KC×NR micro-panels that stay in L1, A into
// MC×KC blocks of MR-row micro-panels that stay in L2, and a 6×16 AVX2/FMA micro-kernel keeps its
// 12 accumulators in registers. Block sizes follow BLIS's Zen configuration (32 KiB L1d, 512 KiB
// L2): a B micro-panel is 16 KiB, an A block 144 KiB. B micro-panels are packed right before
// their first use, so the packed copy is still in L1 when the micro-kernel reads it. Threads split
// the output into column (or row) ranges that each pack their own operands, so no barrier is
// needed inside a GEMM.
#include <immintrin.h>

#include <cstring>

#include "gemv.h"
#include "kernels.h"
#include "pack.h"
#include "parallel.h"

namespace dissect {

namespace {

constexpr int MC = 144;
constexpr int KC = 256;
constexpr int NC = 4080;
/** Below this many multiply-adds a GEMM runs on one thread (waking a helper costs microseconds). */
constexpr int64_t kParallelMacs = 1 << 18;

/** Row-major M×N block of C (+)= the packed A micro-panel (MR×kc) times the packed B micro-panel (kc×NR). */
inline void micro_kernel(int kc, const float* a, const float* b, float* c, int64_t ldc, bool add_to_c) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  // C is read (or written) after the loop: start fetching it now. A streams from L2, so ask for
  // the panel a few iterations ahead.
  for (int i = 0; i < kMR; i++) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + kNR - 1), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int p = 0; p < kc; p++) {
    _mm_prefetch(reinterpret_cast<const char*>(a + 16 * kMR), _MM_HINT_T0);
    __m256 b0 = _mm256_load_ps(b);
    __m256 b1 = _mm256_load_ps(b + 8);
    __m256 av = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(av, b0, c40);
    c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(av, b0, c50);
    c51 = _mm256_fmadd_ps(av, b1, c51);
    a += kMR;
    b += kNR;
  }
  __m256 rows[kMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int i = 0; i < kMR; i++) {
    float* row = c + i * ldc;
    if (add_to_c) {
      rows[i][0] = _mm256_add_ps(rows[i][0], _mm256_loadu_ps(row));
      rows[i][1] = _mm256_add_ps(rows[i][1], _mm256_loadu_ps(row + 8));
    }
    _mm256_storeu_ps(row, rows[i][0]);
    _mm256_storeu_ps(row + 8, rows[i][1]);
  }
}

/** An edge tile (fewer than MR rows or NR columns): compute the full tile aside, copy what exists. */
inline void edge_kernel(int kc, const float* a, const float* b, float* c, int64_t ldc, int rows, int cols,
                        bool add_to_c) {
  alignas(32) float tile[kMR * kNR];
  micro_kernel(kc, a, b, tile, kNR, false);
  for (int i = 0; i < rows; i++) {
    float* dst = c + i * ldc;
    const float* src = tile + i * kNR;
    if (add_to_c) {
      for (int j = 0; j < cols; j++) dst[j] += src[j];
    } else {
      std::memcpy(dst, src, sizeof(float) * cols);
    }
  }
}

struct Gemm {
  const float* a;
  int64_t a_rs, a_cs;
  const float* b;
  int64_t b_rs, b_cs;
  float* c;  // dense [m, n]
  int k, n;
  bool accumulate;
};

/** C[m0:m1, n0:n1] of one GEMM on one thread, with `worker`'s packing buffers. */
void gemm_block(ThreadPool* pool, int worker, const Gemm& g, int m0, int m1, int n0, int n1) {
  if (g.k == 0) {
    if (!g.accumulate) {
      for (int i = m0; i < m1; i++) std::memset(g.c + int64_t{i} * g.n + n0, 0, sizeof(float) * (n1 - n0));
    }
    return;
  }
  const size_t a_floats = size_t{MC} * KC + 64;
  const size_t b_floats = size_t{NC} * KC + 64;
  float* packed_a = pool_scratch(pool, worker, sizeof(float) * (a_floats + b_floats));
  float* packed_b = packed_a + a_floats;
  for (int jc = n0; jc < n1; jc += NC) {
    int nc = static_cast<int>(min64(NC, n1 - jc));
    for (int pc = 0; pc < g.k; pc += KC) {
      int kc = static_cast<int>(min64(KC, g.k - pc));
      const float* b_block = g.b + pc * g.b_rs + jc * g.b_cs;
      bool add_to_c = g.accumulate || pc > 0;
      for (int ic = m0; ic < m1; ic += MC) {
        int mc = static_cast<int>(min64(MC, m1 - ic));
        pack_a(g.a + ic * g.a_rs + pc * g.a_cs, g.a_rs, g.a_cs, mc, kc, packed_a);
        for (int jr = 0; jr < nc; jr += kNR) {
          float* b_panel = packed_b + int64_t{jr} * kc;
          int cols = static_cast<int>(min64(kNR, nc - jr));
          // B micro-panels are packed by the first row block, just before it uses them (still in
          // L1), and reused from L2/L3 by the others.
          if (ic == m0) pack_b(b_block + jr * g.b_cs, g.b_rs, g.b_cs, kc, cols, b_panel);
          for (int ir = 0; ir < mc; ir += kMR) {
            const float* a_panel = packed_a + int64_t{ir} * kc;
            float* c_tile = g.c + int64_t{ic + ir} * g.n + jc + jr;
            int rows = static_cast<int>(min64(kMR, mc - ir));
            if (rows == kMR && cols == kNR) {
              micro_kernel(kc, a_panel, b_panel, c_tile, g.n, add_to_c);
            } else {
              edge_kernel(kc, a_panel, b_panel, c_tile, g.n, rows, cols, add_to_c);
            }
          }
        }
      }
    }
  }
}

/**
 * How one GEMM is cut between threads. Cutting columns makes every thread pack all of A, cutting
 * rows makes every thread pack all of B; duplicate the smaller one.
 */
struct Split {
  bool by_columns;
  int parts;
  int chunk;
};

Split choose_split(int threads, int m, int k, int n) {
  bool by_columns = int64_t{m} * k <= int64_t{k} * n;
  int extent = by_columns ? n : m;
  int unit = by_columns ? kNR : kMR;
  int units = (extent + unit - 1) / unit;
  int parts = threads < units ? threads : units;
  int chunk = (units + parts - 1) / parts * unit;
  parts = (extent + chunk - 1) / chunk;
  return {by_columns, parts, chunk};
}

void run_split_part(ThreadPool* pool, int worker, const Gemm& g, int m, const Split& split, int part) {
  int begin = part * split.chunk;
  if (split.by_columns) {
    gemm_block(pool, worker, g, 0, m, begin, static_cast<int>(min64(g.n, begin + split.chunk)));
  } else {
    gemm_block(pool, worker, g, begin, static_cast<int>(min64(m, begin + split.chunk)), 0, g.n);
  }
}

}  // namespace

void matmul(ThreadPool* pool, const MatrixArg& a, const MatrixArg& b, int batch, int m, int k, int n,
            float* out, bool accumulate) {
  if (batch <= 0 || m <= 0 || n <= 0) return;
  if (matmul_vector_case(pool, a, b, batch, m, k, n, out, accumulate)) return;

  auto entry = [&](int index) {
    return Gemm{a.data + index * a.batch_stride, a.row_stride, a.col_stride,
                b.data + index * b.batch_stride, b.row_stride, b.col_stride,
                out + int64_t{index} * m * n, k, n, accumulate};
  };
  int threads = pool_threads(pool);
  int64_t macs = int64_t{batch} * m * n * (k > 0 ? k : 1);
  if (threads == 1 || macs < kParallelMacs) {
    for (int index = 0; index < batch; index++) gemm_block(pool, 0, entry(index), 0, m, 0, n);
    return;
  }
  // Whole GEMMs per task when the batch divides evenly (attention heads); otherwise each GEMM is
  // also split so the last round does not leave threads idle.
  Split split = (batch % threads == 0) ? Split{true, 1, n} : choose_split(threads, m, k, n);
  auto task = [&](int t, int worker) {
    int index = t / split.parts;
    run_split_part(pool, worker, entry(index), m, split, t % split.parts);
  };
  run_tasks(pool, batch * split.parts, task);
}

}  // namespace dissect
