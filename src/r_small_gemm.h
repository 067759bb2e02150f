/* .Call entry point that computes one product with the kernels of small_gemm.h (for tests). */
#ifndef CS_R_SMALL_GEMM_H
#define CS_R_SMALL_GEMM_H

#include <R.h>
#include <Rinternals.h>

SEXP small_gemm_product(SEXP a, SEXP b, SEXP c, SEXP trans_b, SEXP portable);

#endif
