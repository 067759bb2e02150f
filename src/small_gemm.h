/* Matrix products of the sizes network training uses (widths of tens, mini-batches of tens to
 * hundreds of rows), computed in place without packing.
 *
 * A BLAS dgemm is built for large matrices: on these sizes it spends much of its time copying
 * operands into its buffers, and a multithreaded BLAS library also takes a lock around those
 * buffers on every call, so two training threads calling it at once slow each other down.
 * These kernels read the operands where they are and run the same way on every thread. */
#ifndef CS_SMALL_GEMM_H
#define CS_SMALL_GEMM_H

/* C (m x n) = A (m x k) op(B) (+ C when accumulate), all column-major with leading dimensions
 * lda, ldb, ldc; op(B) is B (k x n) when trans_b is 0 and the transpose of B (n x k) otherwise.
 * On x86-64 processors with AVX2 and FMA the products are computed in registers four rows at a
 * time with fused multiply-adds; elsewhere by plain loops. Within one process every element's
 * result depends only on the inputs, never on the thread that computes it. */
void cs_small_gemm(int trans_b, int m, int n, int k, const double *a, int lda, const double *b,
                   int ldb, int accumulate, double *c, int ldc);

/* The same product by the plain loops on any processor (so tests can check both paths). */
void cs_small_gemm_portable(int trans_b, int m, int n, int k, const double *a, int lda,
                            const double *b, int ldb, int accumulate, double *c, int ldc);

/* Whether cs_small_gemm suits a product with these dimensions: it keeps an m x k block of A
 * and k x 4 of B near the processor, so both must fit the caches (larger products go to the
 * BLAS). */
int cs_small_gemm_suits(int m, int k);

/* The same product by these kernels when cs_small_gemm_suits(m, k), by the BLAS's dgemm
 * otherwise. */
void cs_product(int trans_b, int m, int n, int k, const double *a, int lda, const double *b,
                int ldb, int accumulate, double *c, int ldc);

/* w_t (cols x rows) = the transpose of w (rows x cols), both column-major, by cache tiles: the
 * first operand of a product with a transposed weight matrix. */
void cs_transpose(const double *w, int rows, int cols, double *w_t);

#endif
