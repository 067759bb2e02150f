/* Glue for small_gemm.h: A op(B) (+ C) for R matrices, so tests can compare both kernel paths
 * with R's own product. */
#include <string.h>
#include "r_entry_points.h"
#include "small_gemm.h"

SEXP small_gemm_product(SEXP a, SEXP b, SEXP c, SEXP trans_b, SEXP portable)
{
    if (!isReal(a) || !isMatrix(a) || !isReal(b) || !isMatrix(b))
        error("internal error: 'a' and 'b' must be double matrices");
    int tb = asLogical(trans_b), port = asLogical(portable);
    int m = nrows(a), k = ncols(a), n = tb ? nrows(b) : ncols(b);
    if ((tb ? ncols(b) : nrows(b)) != k) error("internal error: non-conformable 'a' and 'b'");
    int accumulate = !isNull(c);
    if (accumulate && (!isReal(c) || !isMatrix(c) || nrows(c) != m || ncols(c) != n))
        error("internal error: 'c' must be NULL or a double matrix of the product's shape");
    SEXP out = PROTECT(allocMatrix(REALSXP, m, n));
    if (accumulate) memcpy(REAL(out), REAL(c), sizeof(double) * (size_t) m * n);
    (port ? cs_small_gemm_portable : cs_small_gemm)(tb, m, n, k, REAL(a), m > 0 ? m : 1, REAL(b),
                                                    nrows(b) > 0 ? nrows(b) : 1, accumulate,
                                                    REAL(out), m > 0 ? m : 1);
    UNPROTECT(1);
    return out;
}
