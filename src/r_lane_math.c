/* Glue for lane_math.h: one function over a vector, so tests can check its accuracy. */
#include "fp_strict.h"

#include <string.h>
#include "r_entry_points.h"
#include "lane_math.h"
#include "truncnorm.h"
#include "vecmath.h"

#include <limits.h>

static SEXP array_math(SEXP x, const char *f)
{
    if (XLENGTH(x) > INT_MAX) error("`x` must have fewer than 2^31 values");
    int n = (int) XLENGTH(x);
    SEXP out;
    if (strcmp(f, "exp_array") == 0) {
        out = PROTECT(allocVector(REALSXP, n));
        cs_vexp(REAL(x), REAL(out), n);
    } else if (strcmp(f, "log_array") == 0) {
        out = PROTECT(allocVector(REALSXP, n));
        cs_vlog(REAL(x), REAL(out), n);
    } else {
        out = PROTECT(allocMatrix(REALSXP, n, 2));
        cs_vsincos2pi(REAL(x), REAL(out), REAL(out) + n, n);
    }
    UNPROTECT(1);
    return out;
}

SEXP lane_math(SEXP x, SEXP fun)
{
    if (TYPEOF(x) != REALSXP) error("internal error: 'x' must be a double vector");
    if (!isString(fun) || XLENGTH(fun) != 1) error("internal error: 'fun' must be a string");
    const char *f = CHAR(STRING_ELT(fun, 0));
    if (strcmp(f, "exp_array") == 0 || strcmp(f, "log_array") == 0 ||
        strcmp(f, "sincos2pi_array") == 0)
        return array_math(x, f);
    int which = strcmp(f, "exp") == 0 ? 0 : strcmp(f, "log") == 0 ? 1 : strcmp(f, "tanh") == 0 ? 2 :
                strcmp(f, "cos2pi") == 0 ? 3 : strcmp(f, "sin2pi") == 0 ? 4 :
                strcmp(f, "erfcx") == 0 ? 5 : -1;
    if (which < 0)
        error("`fun` must be one of exp, log, tanh, cos2pi, sin2pi, erfcx, exp_array, "
              "log_array, sincos2pi_array, not \"%s\"", f);
    R_xlen_t n = XLENGTH(x);
    SEXP out = PROTECT(allocVector(REALSXP, n));
    const double *in = REAL(x);
    double *o = REAL(out);
    for (R_xlen_t i = 0; i < n; i++) {
        double c, s;
        switch (which) {
        case 0: o[i] = cs_lane_exp(in[i]); break;
        case 1: o[i] = cs_lane_log(in[i]); break;
        case 2: o[i] = cs_lane_tanh(in[i]); break;
        case 5: o[i] = cs_lane_erfcx(in[i]); break;
        default:
            cs_lane_sincos_2pi(in[i], &c, &s);
            o[i] = which == 3 ? c : s;
        }
    }
    UNPROTECT(1);
    return out;
}
