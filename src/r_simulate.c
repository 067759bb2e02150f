/* Glue for simulate(): treatment and potential outcomes per row (generate.c). */
#include "r_simulate.h"
#include "r_util.h"
#include "generate.h"

static const double *double_arg(SEXP v, R_xlen_t n, const char *name)
{
    if (TYPEOF(v) != REALSXP || XLENGTH(v) != n)
        error("internal error: '%s' must be a double vector of length %ld", name, (long) n);
    return REAL(v);
}

SEXP simulate_outcomes(SEXP ps, SEXP m0, SEXP m1, SEXP sd0, SEXP sd1, SEXP k, SEXP binary,
                       SEXP seed, SEXP offset, SEXP threads)
{
    R_xlen_t n = XLENGTH(ps);
    if (n > 2147483647) error("internal error: too many rows for one call");
    const double *pk = isNull(k) ? NULL : double_arg(k, n, "k");
    double off = r_double(offset, "offset");
    if (off < 0) error("internal error: negative offset");
    const char *names[] = { "t", "y0", "y1", "" };
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    SEXP t = allocVector(REALSXP, n);
    SET_VECTOR_ELT(res, 0, t);
    SEXP y0 = allocVector(REALSXP, n);
    SET_VECTOR_ELT(res, 1, y0);
    SEXP y1 = allocVector(REALSXP, n);
    SET_VECTOR_ELT(res, 2, y1);
    cs_status st = cs_generate_outcomes((int) n, r_seed(seed), (uint64_t) off,
                                        double_arg(ps, n, "ps"), double_arg(m0, n, "m0"),
                                        double_arg(m1, n, "m1"), double_arg(sd0, n, "sd0"),
                                        double_arg(sd1, n, "sd1"), pk,
                                        r_int(binary, "binary"), r_int(threads, "threads"),
                                        REAL(t), REAL(y0), REAL(y1));
    r_stop_on_status(st, "simulate");
    UNPROTECT(1);
    return res;
}
