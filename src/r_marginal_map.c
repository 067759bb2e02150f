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

/* Mean and sd of the decode through knots from -> value of N(loc[i], scale[i]^2): n x 2. */
SEXP marginal_moments(SEXP from, SEXP value, SEXP loc, SEXP scale)
{
    if (TYPEOF(from) != REALSXP || TYPEOF(value) != REALSXP || TYPEOF(loc) != REALSXP ||
        TYPEOF(scale) != REALSXP || XLENGTH(from) != XLENGTH(value) || XLENGTH(from) < 1 ||
        XLENGTH(from) > INT_MAX || XLENGTH(loc) != XLENGTH(scale) || XLENGTH(loc) > INT_MAX)
        error("internal error: marginal moments need knots and locations of matching lengths");
    int k = (int) XLENGTH(from), n = (int) XLENGTH(loc);
    SEXP out = PROTECT(allocMatrix(REALSXP, n, 2));
    const double *f = REAL(from), *v = REAL(value), *l = REAL(loc), *s = REAL(scale);
    double *o = REAL(out);
    for (int i = 0; i < n; i++)
        if (!(s[i] > 0.0) || ISNAN(l[i])) error("internal error: a scale is not positive");
    cs_marginal_moments(f, v, k, n, l, s, o, o + n);
    UNPROTECT(1);
    return out;
}
