// Matrix-vector products (one output row or one output column), which a packed GEMM would spend
// most of its time packing for. Include only from kernel translation units.
#pragma once

#include "kernels.h"

namespace dissect {

/**
 * Handles matmul when m == 1 (x @ B for plain or transposed B: the unembed) or n == 1 with a
 * row-major A. Returns false when the shapes are not a vector case, leaving it to the GEMM.
 */
bool matmul_vector_case(ThreadPool* pool, const MatrixArg& a, const MatrixArg& b, int batch, int m, int k,
                        int n, float* out, bool accumulate);

}  // namespace dissect
