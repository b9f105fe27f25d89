// The m == 1 product, shared by the GEMM driver (gemm.c) and its streaming kernels (gemv.c).

#ifndef DISSECT_GEMM_H
#define DISSECT_GEMM_H

/** c[j] (+)= Σ_p a[p] * B(p, j) for j < n, with B(p, j) at b[p*rs + j*cs], a contiguous. */
void gemv(const float *a, const float *b, int rs, int cs, float *c, int k, int n, int accumulate);

#endif
