/* Glue for marginal_map.c: scores of values (see R/marginal_transform.R). */
#include "r_entry_points.h"
#include "marginal_map.h"

SEXP marginal_encode(SEXP value, SEXP score, SEXP x)
{
    if (TYPEOF(value) != REALSXP || TYPEOF(score) != REALSXP || TYPEOF(x) != REALSXP ||
        XLENGTH(value) != XLENGTH(score) || XLENGTH(value) < 1 || XLENGTH(value) > INT_MAX)
        error("internal error: marginal knots must be two double vectors of equal length");
    int k = (int) XLENGTH(value);
    R_xlen_t n = XLENGTH(x);
    SEXP out = PROTECT(allocVector(REALSXP, n));
    const double *v = REAL(value), *s = REAL(score), *in = REAL(x);
    double *o = REAL(out);
    for (R_xlen_t i = 0; i < n; i++)
        o[i] = ISNAN(in[i]) ? NA_REAL : cs_marginal_encode(v, s, k, in[i]);
    UNPROTECT(1);
    return out;
}
