// Batched f32 matrix multiply: c[b] (dense m×n) (+)= a[b] (m×k) @ b[b] (k×n).
//
// The GotoBLAS/BLIS scheme: B is packed KC×NC at a time into panels of NR columns, A MC×KC at a
// time into panels of MR rows, and a register-blocked MR×NR micro-kernel multiplies one A panel by
// one B panel. Packing makes every operand layout (plain, transposed, any leading dimension) look
// the same to the micro-kernel and keeps its loads sequential; the block sizes keep one B panel
// (KC×NR = 8 KiB) in L1 and the A block (MC×KC = 128 KiB) in L2.
//
// Wasm SIMD128 has no fused multiply-add, so the micro-kernel is mul + add: with 4×8 it keeps 8
// accumulators + 2 B vectors + 1 broadcast A in registers, within the 15 that V8 gives wasm on x64.
// 5×8, 6×8 and 3×12 measured 30-40% slower: V8 spills their accumulators.
//
// Fewer than MR rows (m == 1: the unembed, generation steps) skip packing: packing B would cost
// as much as the whole product, so gemv.c streams B once per row instead.

#include "common.h"
#include "gemm.h"

#define MR 4
#define NR 8
#define NV (NR / 4) /* vectors per row of the tile */
#define KC 256
#define MC 128
#define NC 1024

/** Floats of packing scratch one thread needs (the TS side allocates nthreads of these). */
EXPORT(matmul_scratch_floats) int matmul_scratch_floats(void) { return MC * KC + KC * NC; }

/** 4×4 transpose of rows r0..r3 into columns. */
#define TRANSPOSE4(r0, r1, r2, r3)                       \
  do {                                                   \
    f32x4 t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);   \
    f32x4 t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);   \
    f32x4 t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);   \
    f32x4 t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);   \
    r0 = wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5);         \
    r1 = wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7);         \
    r2 = wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5);         \
    r3 = wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7);         \
  } while (0)

/**
 * Packs the mc×kc block of A at `a` (element (i, p) at i*rs + p*cs) into panels of MR rows:
 * packed[panel*kc*MR + p*MR + r] = A(panel*MR + r, p), rows past mc zero.
 */
static void pack_a(const float *a, int rs, int cs, int mc, int kc, float *packed) {
  for (int i0 = 0; i0 < mc; i0 += MR, packed += kc * MR) {
    int rows = min_int(MR, mc - i0);
    const float *src = a + i0 * rs;
    int p = 0;
    if (rows == MR && cs == 1) {
      for (; p + 4 <= kc; p += 4) {
        f32x4 r0 = wasm_v128_load(src + p), r1 = wasm_v128_load(src + rs + p);
        f32x4 r2 = wasm_v128_load(src + 2 * rs + p), r3 = wasm_v128_load(src + 3 * rs + p);
        TRANSPOSE4(r0, r1, r2, r3);
        wasm_v128_store(packed + p * MR, r0);
        wasm_v128_store(packed + p * MR + 4, r1);
        wasm_v128_store(packed + p * MR + 8, r2);
        wasm_v128_store(packed + p * MR + 12, r3);
      }
    } else if (rows == MR && rs == 1) {
      for (; p < kc; p++) wasm_v128_store(packed + p * MR, wasm_v128_load(src + p * cs));
    }
    for (; p < kc; p++) {
      for (int r = 0; r < MR; r++) packed[p * MR + r] = r < rows ? src[r * rs + p * cs] : 0.0f;
    }
  }
}

/**
 * Packs the kc×nc block of B at `b` (element (p, j) at p*rs + j*cs) into panels of NR columns:
 * packed[panel*kc*NR + p*NR + c] = B(p, panel*NR + c), columns past nc zero.
 */
static void pack_b(const float *b, int rs, int cs, int kc, int nc, float *packed) {
  for (int j0 = 0; j0 < nc; j0 += NR, packed += kc * NR) {
    int cols = min_int(NR, nc - j0);
    const float *src = b + j0 * cs;
    int p = 0;
    if (cols == NR && cs == 1) {
      for (; p < kc; p++) {
        for (int v = 0; v < NV; v++) wasm_v128_store(packed + p * NR + 4 * v, wasm_v128_load(src + p * rs + 4 * v));
      }
    } else if (cols == NR && rs == 1) {
      // B stored transposed ([n, k] row-major, like nn.Linear weights): 8 rows of k, transposed
      // 4×4 at a time.
      for (; p + 4 <= kc; p += 4) {
        const float *s = src + p;
        f32x4 r0 = wasm_v128_load(s), r1 = wasm_v128_load(s + cs);
        f32x4 r2 = wasm_v128_load(s + 2 * cs), r3 = wasm_v128_load(s + 3 * cs);
        f32x4 r4 = wasm_v128_load(s + 4 * cs), r5 = wasm_v128_load(s + 5 * cs);
        f32x4 r6 = wasm_v128_load(s + 6 * cs), r7 = wasm_v128_load(s + 7 * cs);
        TRANSPOSE4(r0, r1, r2, r3);
        TRANSPOSE4(r4, r5, r6, r7);
        float *d = packed + p * NR;
        wasm_v128_store(d, r0);
        wasm_v128_store(d + 4, r4);
        wasm_v128_store(d + 8, r1);
        wasm_v128_store(d + 12, r5);
        wasm_v128_store(d + 16, r2);
        wasm_v128_store(d + 20, r6);
        wasm_v128_store(d + 24, r3);
        wasm_v128_store(d + 28, r7);
      }
    }
    for (; p < kc; p++) {
      for (int c = 0; c < NR; c++) packed[p * NR + c] = c < cols ? src[p * rs + c * cs] : 0.0f;
    }
  }
}

/**
 * The MR×NR tile at c (row stride ldc) = (load_c ? tile : 0) + packed A panel @ packed B panel.
 * Only the top-left rows×cols of the tile exist in c.
 */
static void micro_kernel(int kc, const float *ap, const float *bp, float *c, int ldc, int rows, int cols,
                         int load_c) {
  f32x4 acc[MR][NV];
  for (int i = 0; i < MR; i++) {
    for (int v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_splat(0);
  }
  // One k step per iteration: unrolling (by 2, 4 or 8) measured slower under V8, whose register
  // allocator then spills accumulators.
  for (int p = 0; p < kc; p++, ap += MR, bp += NR) {
    f32x4 bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = wasm_v128_load(bp + 4 * v);
    for (int i = 0; i < MR; i++) {
      f32x4 av = wasm_v128_load32_splat(ap + i);
      for (int v = 0; v < NV; v++) acc[i][v] = wasm_f32x4_add(acc[i][v], wasm_f32x4_mul(av, bv[v]));
    }
  }
  if (rows == MR && cols == NR) {
    for (int i = 0; i < MR; i++) {
      for (int v = 0; v < NV; v++) {
        f32x4 sum = load_c ? wasm_f32x4_add(acc[i][v], wasm_v128_load(c + i * ldc + 4 * v)) : acc[i][v];
        wasm_v128_store(c + i * ldc + 4 * v, sum);
      }
    }
    return;
  }
  float tile[MR * NR];
  for (int i = 0; i < MR; i++) {
    for (int v = 0; v < NV; v++) wasm_v128_store(tile + i * NR + 4 * v, acc[i][v]);
  }
  for (int r = 0; r < rows; r++) {
    for (int j = 0; j < cols; j++) c[r * ldc + j] = (load_c ? c[r * ldc + j] : 0.0f) + tile[r * NR + j];
  }
}

/** One product c (m×n, row stride ldc) (+)= a @ b with packing, on this thread's scratch. */
static void gemm_packed(const float *a, int a_rs, int a_cs, const float *b, int b_rs, int b_cs, float *c,
                        int ldc, int m, int k, int n, int accumulate, float *scratch) {
  float *packed_a = scratch;
  float *packed_b = scratch + MC * KC;
  for (int jc = 0; jc < n; jc += NC) {
    int nc = min_int(NC, n - jc);
    for (int pc = 0; pc < k; pc += KC) {
      int kc = min_int(KC, k - pc);
      int load_c = accumulate || pc > 0;
      pack_b(b + pc * b_rs + jc * b_cs, b_rs, b_cs, kc, nc, packed_b);
      for (int ic = 0; ic < m; ic += MC) {
        int mc = min_int(MC, m - ic);
        pack_a(a + ic * a_rs + pc * a_cs, a_rs, a_cs, mc, kc, packed_a);
        for (int jr = 0; jr < nc; jr += NR) {
          const float *bp = packed_b + jr * kc;
          float *c_col = c + ic * ldc + jc + jr;
          int cols = min_int(NR, nc - jr);
          for (int ir = 0; ir < mc; ir += MR) {
            micro_kernel(kc, packed_a + ir * kc, bp, c_col + ir * ldc, ldc, min_int(MR, mc - ir), cols, load_c);
          }
        }
      }
    }
  }
}

/** c (m×n, row stride ldc) = 0 unless accumulating: the k == 0 product. */
static void zero_product(float *c, int ldc, int m, int n, int accumulate) {
  if (accumulate) return;
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < n; j++) c[i * ldc + j] = 0.0f;
  }
}

/**
 * How many pieces each of the `batch` products is cut into so that every thread gets a fair share:
 * the fewest that give a multiple of nthreads cells, or at least 4 cells per thread.
 */
static int pieces_per_product(int batch, int nthreads) {
  for (int pieces = 1; pieces < nthreads * 4; pieces++) {
    int cells = batch * pieces;
    if (cells >= nthreads && (cells % nthreads == 0 || cells >= 4 * nthreads)) return pieces;
  }
  return nthreads * 4;
}

EXPORT(matmul) void matmul(int tid, int nthreads, const float *a, int a_bs, int a_rs, int a_cs, const float *b, int b_bs,
               int b_rs, int b_cs, float *c, int batch, int m, int k, int n, int accumulate, float *scratch,
               int scratch_floats) {
  float *my_scratch = scratch + tid * scratch_floats;
  int pieces = pieces_per_product(batch, nthreads);
  // Cut along n when the pieces stay wide (each thread packs only its own columns of B), else m.
  int split_n = m < MR || n >= pieces * 4 * NR;
  int cells = batch * pieces;
  int cell_begin, cell_end;
  thread_range(tid, nthreads, cells, 1, &cell_begin, &cell_end);
  for (int cell = cell_begin; cell < cell_end; cell++) {
    int entry = cell / pieces, piece = cell % pieces;
    int lo, hi;
    const float *a_entry = a + entry * a_bs, *b_entry = b + entry * b_bs;
    float *c_entry = c + entry * m * n;
    if (split_n) {
      thread_range(piece, pieces, n, n >= pieces * NR ? NR : 1, &lo, &hi);
      if (lo >= hi) continue;
      b_entry += lo * b_cs;
      c_entry += lo;
    } else {
      thread_range(piece, pieces, m, MR, &lo, &hi);
      if (lo >= hi) continue;
      a_entry += lo * a_rs;
      c_entry += lo * n;
    }
    int rows = split_n ? m : hi - lo, cols = split_n ? hi - lo : n;
    if (k == 0) {
      zero_product(c_entry, n, rows, cols, accumulate);
    } else if (rows < MR && a_cs == 1) {
      for (int i = 0; i < rows; i++) {
        gemv(a_entry + i * a_rs, b_entry, b_rs, b_cs, c_entry + i * n, k, cols, accumulate);
      }
    } else {
      gemm_packed(a_entry, a_rs, a_cs, b_entry, b_rs, b_cs, c_entry, n, rows, k, cols, accumulate, my_scratch);
    }
  }
}
