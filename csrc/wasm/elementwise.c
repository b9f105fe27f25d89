// Elementwise kernels over a [rows, cols] layout: every operand is either a dense row per output
// row (column stride 1) or one value repeated along the row (column stride 0), with any row stride
// (0 = the same row for every output row). The TS side folds contiguous, row-broadcast (bias),
// column-broadcast (per-row scale) and scalar operands into this form; anything else stays in TS.
// Outputs are dense [rows, cols].
//
// Op codes are shared with src/backend/wasm/abi.ts.

#include "common.h"
#include "vmath.h"

enum BinaryOp { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_EQ, B_NE, B_LT, B_LE, B_GT, B_GE };

enum UnaryOp {
  U_NEG, U_ABS, U_SIGN, U_SQUARE, U_SQRT, U_RSQRT, U_RECIPROCAL, U_EXP, U_LOG, U_TANH, U_ERF, U_SIGMOID,
  U_RELU, U_SILU, U_GELU_ERF, U_GELU_TANH, U_STEP, U_SILU_GRAD, U_GELU_ERF_GRAD, U_GELU_TANH_GRAD
};

/** 1.0f where the comparison mask is set, else 0. */
INLINE f32x4 mask_to_one(v128_t mask) { return wasm_v128_and(mask, SPLAT(1.0f)); }

INLINE f32x4 apply_binary(int op, f32x4 x, f32x4 y) {
  switch (op) {
    case B_ADD: return wasm_f32x4_add(x, y);
    case B_SUB: return wasm_f32x4_sub(x, y);
    case B_MUL: return wasm_f32x4_mul(x, y);
    case B_DIV: return wasm_f32x4_div(x, y);
    case B_MAX: return wasm_f32x4_max(x, y);
    case B_MIN: return wasm_f32x4_min(x, y);
    case B_EQ: return mask_to_one(wasm_f32x4_eq(x, y));
    case B_NE: return mask_to_one(wasm_f32x4_ne(x, y));
    case B_LT: return mask_to_one(wasm_f32x4_lt(x, y));
    case B_LE: return mask_to_one(wasm_f32x4_le(x, y));
    case B_GT: return mask_to_one(wasm_f32x4_gt(x, y));
    default: return mask_to_one(wasm_f32x4_ge(x, y));
  }
}

/** Loads 4 lanes of an operand: contiguous when its column stride is 1, a splat when 0. */
INLINE f32x4 load_lanes(const float *p, int stride) {
  return stride ? wasm_v128_load(p) : wasm_v128_load32_splat(p);
}

/** Loads 1 lane (the row tails). */
INLINE f32x4 load_lane(const float *p) { return wasm_v128_load32_splat(p); }

/**
 * One output row. `op` and both strides are compile-time constants after inlining into the
 * switch below, so each (op, layout) pair gets its own tight loop.
 */
INLINE void binary_row(int op, const float *a, int a_cs, const float *b, int b_cs, float *out, int n) {
  int j = 0;
  for (; j + 8 <= n; j += 8) {
    wasm_v128_store(out + j, apply_binary(op, load_lanes(a + j * a_cs, a_cs), load_lanes(b + j * b_cs, b_cs)));
    wasm_v128_store(out + j + 4,
                    apply_binary(op, load_lanes(a + (j + 4) * a_cs, a_cs), load_lanes(b + (j + 4) * b_cs, b_cs)));
  }
  for (; j < n; j++) {
    out[j] = wasm_f32x4_extract_lane(apply_binary(op, load_lane(a + j * a_cs), load_lane(b + j * b_cs)), 0);
  }
}

#define BINARY_LAYOUTS(op)                                                      \
  do {                                                                          \
    if (a_cs && b_cs) binary_row(op, a_row, 1, b_row, 1, out_row, width);       \
    else if (a_cs) binary_row(op, a_row, 1, b_row, 0, out_row, width);          \
    else if (b_cs) binary_row(op, a_row, 0, b_row, 1, out_row, width);          \
    else binary_row(op, a_row, 0, b_row, 0, out_row, width);                    \
  } while (0)

/** Calls `body` once per (row, column range) of this thread's share of rows × cols. */
#define FOR_THREAD_SEGMENTS(body)                                                   \
  do {                                                                              \
    int row_begin, row_end, col_begin = 0, col_end = cols;                          \
    if (rows >= 2 * nthreads) {                                                     \
      thread_range(tid, nthreads, rows, 1, &row_begin, &row_end);                   \
    } else {                                                                        \
      row_begin = 0, row_end = rows;                                                \
      thread_range(tid, nthreads, cols, 16, &col_begin, &col_end);                  \
    }                                                                               \
    int width = col_end - col_begin;                                                \
    if (width > 0) {                                                                \
      for (int r = row_begin; r < row_end; r++) { body }                            \
    }                                                                               \
  } while (0)

EXPORT(binary) void binary(int tid, int nthreads, int op, int rows, int cols, const float *a, int a_rs, int a_cs,
                           const float *b, int b_rs, int b_cs, float *out) {
  FOR_THREAD_SEGMENTS({
    const float *a_row = a + r * a_rs + col_begin * a_cs;
    const float *b_row = b + r * b_rs + col_begin * b_cs;
    float *out_row = out + r * cols + col_begin;
    switch (op) {
      case B_ADD: BINARY_LAYOUTS(B_ADD); break;
      case B_SUB: BINARY_LAYOUTS(B_SUB); break;
      case B_MUL: BINARY_LAYOUTS(B_MUL); break;
      case B_DIV: BINARY_LAYOUTS(B_DIV); break;
      case B_MAX: BINARY_LAYOUTS(B_MAX); break;
      case B_MIN: BINARY_LAYOUTS(B_MIN); break;
      case B_EQ: BINARY_LAYOUTS(B_EQ); break;
      case B_NE: BINARY_LAYOUTS(B_NE); break;
      case B_LT: BINARY_LAYOUTS(B_LT); break;
      case B_LE: BINARY_LAYOUTS(B_LE); break;
      case B_GT: BINARY_LAYOUTS(B_GT); break;
      default: BINARY_LAYOUTS(B_GE); break;
    }
  });
}

/** sign keeps ±0 and NaN as they are (Math.sign). */
INLINE f32x4 vsign(f32x4 x) {
  v128_t positive = wasm_f32x4_gt(x, SPLAT(0.0f)), negative = wasm_f32x4_lt(x, SPLAT(0.0f));
  f32x4 unit = wasm_v128_bitselect(SPLAT(1.0f), SPLAT(-1.0f), positive);
  return wasm_v128_bitselect(unit, x, wasm_v128_or(positive, negative));
}

/** d/dx x·σ(x) = σ(x)(1 + x(1 - σ(x))). */
INLINE f32x4 vsilu_grad(f32x4 x) {
  f32x4 s, one_minus_s;
  vsigmoid_pair(x, &s, &one_minus_s);
  return wasm_f32x4_mul(s, wasm_f32x4_add(SPLAT(1.0f), wasm_f32x4_mul(x, one_minus_s)));
}

#define SQRT_2_OVER_PI 0.7978845608028654f
#define GELU_CUBIC 0.044715f

/** 2u where GELU-tanh is ½x(1 + tanh u) = x·σ(2u), u = √(2/π)(x + 0.044715x³). */
INLINE f32x4 gelu_tanh_arg(f32x4 x) {
  f32x4 cubic = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(x, x), x), SPLAT(GELU_CUBIC));
  return wasm_f32x4_mul(wasm_f32x4_add(x, cubic), SPLAT(2.0f * SQRT_2_OVER_PI));
}

/** d/dx x·σ(2u) = σ + x·σ(1 - σ)·2u'. */
INLINE f32x4 vgelu_tanh_grad(f32x4 x) {
  f32x4 s, one_minus_s;
  vsigmoid_pair(gelu_tanh_arg(x), &s, &one_minus_s);
  f32x4 inner_grad = wasm_f32x4_mul(wasm_f32x4_add(SPLAT(1.0f), wasm_f32x4_mul(wasm_f32x4_mul(x, x), SPLAT(3.0f * GELU_CUBIC))),
                                    SPLAT(2.0f * SQRT_2_OVER_PI));
  return wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_mul(x, wasm_f32x4_mul(s, one_minus_s)), inner_grad));
}

/** d/dx x·Φ(x) = Φ(x) + x·φ(x). */
INLINE f32x4 vgelu_erf_grad(f32x4 x) {
  f32x4 density = wasm_f32x4_mul(vexp(wasm_f32x4_mul(wasm_f32x4_mul(x, x), SPLAT(-0.5f))), SPLAT(0.3989422804014327f));
  return wasm_f32x4_add(vnormal_cdf(x), wasm_f32x4_mul(x, density));
}

INLINE f32x4 apply_unary(int op, f32x4 x) {
  switch (op) {
    case U_NEG: return wasm_f32x4_neg(x);
    case U_ABS: return wasm_f32x4_abs(x);
    case U_SIGN: return vsign(x);
    case U_SQUARE: return wasm_f32x4_mul(x, x);
    case U_SQRT: return wasm_f32x4_sqrt(x);
    case U_RSQRT: return wasm_f32x4_div(SPLAT(1.0f), wasm_f32x4_sqrt(x));
    case U_RECIPROCAL: return wasm_f32x4_div(SPLAT(1.0f), x);
    case U_EXP: return vexp(x);
    case U_LOG: return vlog(x);
    case U_TANH: return vtanh(x);
    case U_ERF: return verf(x);
    case U_SIGMOID: return vsigmoid(x);
    case U_RELU: return wasm_f32x4_max(x, SPLAT(0.0f));
    case U_SILU: return wasm_f32x4_mul(x, vsigmoid(x));
    case U_GELU_ERF: return wasm_f32x4_mul(x, vnormal_cdf(x));
    case U_GELU_TANH: return wasm_f32x4_mul(x, vsigmoid(gelu_tanh_arg(x)));
    case U_STEP: return mask_to_one(wasm_f32x4_gt(x, SPLAT(0.0f)));
    case U_SILU_GRAD: return vsilu_grad(x);
    case U_GELU_ERF_GRAD: return vgelu_erf_grad(x);
    default: return vgelu_tanh_grad(x);
  }
}

INLINE void unary_row(int op, const float *x, float *out, int n) {
  int j = 0;
  for (; j + 4 <= n; j += 4) wasm_v128_store(out + j, apply_unary(op, wasm_v128_load(x + j)));
  if (j < n) {
    // The tail goes through the same vector code, so results never depend on the position.
    float lanes[4] = {0, 0, 0, 0};
    for (int t = 0; j + t < n; t++) lanes[t] = x[j + t];
    wasm_v128_store(lanes, apply_unary(op, wasm_v128_load(lanes)));
    for (int t = 0; j + t < n; t++) out[j + t] = lanes[t];
  }
}

#define UNARY_CASE(op) \
  case op: unary_row(op, x_row, out_row, width); break

EXPORT(unary) void unary(int tid, int nthreads, int op, int rows, int cols, const float *x, int x_rs, float *out) {
  FOR_THREAD_SEGMENTS({
    const float *x_row = x + r * x_rs + col_begin;
    float *out_row = out + r * cols + col_begin;
    switch (op) {
      UNARY_CASE(U_NEG); UNARY_CASE(U_ABS); UNARY_CASE(U_SIGN); UNARY_CASE(U_SQUARE); UNARY_CASE(U_SQRT);
      UNARY_CASE(U_RSQRT); UNARY_CASE(U_RECIPROCAL); UNARY_CASE(U_EXP); UNARY_CASE(U_LOG); UNARY_CASE(U_TANH);
      UNARY_CASE(U_ERF); UNARY_CASE(U_SIGMOID); UNARY_CASE(U_RELU); UNARY_CASE(U_SILU); UNARY_CASE(U_GELU_ERF);
      UNARY_CASE(U_GELU_TANH); UNARY_CASE(U_STEP); UNARY_CASE(U_SILU_GRAD); UNARY_CASE(U_GELU_ERF_GRAD);
      default: unary_row(U_GELU_TANH_GRAD, x_row, out_row, width); break;
    }
  });
}
