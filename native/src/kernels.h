// Entry points of the AVX2/FMA kernels. Declared here with plain types only; the definitions live
// in translation units compiled with -mavx2 -mfma, which must only be called after
// cpu_has_avx2_fma() said yes. Pointers are already offset to the first element.
#pragma once

#include <cstdint>

#include "thread_pool.h"

namespace dissect {

/** One operand of a batched matmul: element (b, i, j) at data[b*batch + i*row + j*col]. */
struct MatrixArg {
  const float* data;
  int64_t batch_stride;
  int64_t row_stride;
  int64_t col_stride;
};

/** out [batch, m, n] (+)= a [batch, m, k] @ b [batch, k, n]. */
void matmul(ThreadPool* pool, const MatrixArg& a, const MatrixArg& b, int batch, int m, int k, int n,
            float* out, bool accumulate);

/** Order must match BINARY_OPS in src/backend/types.ts (the JS side passes the index). */
enum class BinaryOp : int { add, sub, mul, div, pow, max, min, eq, ne, lt, le, gt, ge, count };

/** Order must match UNARY_OPS in src/backend/types.ts. */
enum class UnaryOp : int {
  neg, abs, sign, square, sqrt, rsqrt, reciprocal, exp, log, sin, cos, tanh, erf, sigmoid, relu,
  silu, gelu_erf, gelu_tanh, step, silu_grad, gelu_erf_grad, gelu_tanh_grad, count
};

/**
 * How a binary operand is read for output element (r, j) of [rows, n]: full = [r*n + j],
 * row = [j] (one row broadcast down), column = [r] (one value per row).
 */
enum class Broadcast : int { full, row, column, count };

void binary(ThreadPool* pool, BinaryOp op, const float* a, Broadcast a_mode, const float* b,
            Broadcast b_mode, int64_t rows, int64_t n, float* out);
/** out = scalar_on_left ? scalar op x : x op scalar, over `length` dense elements. */
void binary_scalar(ThreadPool* pool, BinaryOp op, const float* x, float scalar, bool scalar_on_left,
                   int64_t length, float* out);
void unary(ThreadPool* pool, UnaryOp op, const float* x, int64_t length, float* out);

/** Softmax (log: log-softmax) over dense rows; causal_query_len <= 0 means no mask. */
void softmax(ThreadPool* pool, const float* x, int64_t rows, int64_t n, bool log, int64_t causal_query_len,
             int64_t causal_offset, float* out);
void layer_norm(ThreadPool* pool, const float* x, int64_t rows, int64_t d, const float* weight,
                const float* bias, float eps, float* out, float* mean, float* rstd);
void rms_norm(ThreadPool* pool, const float* x, int64_t rows, int64_t d, const float* weight,
              float weight_offset, float eps, float* out, float* rstd);

enum class ReduceOp : int { sum, max, min, count };
/** out [outer, inner] = reduce over n of x [outer, n, inner]. */
void reduce(ThreadPool* pool, ReduceOp op, const float* x, int64_t outer, int64_t n, int64_t inner, float* out);

}  // namespace dissect
