/* Glue for cohort.c: the 0/1 treatment indicator (recoded once, in R/input.R), the summaries
   as a list. */
#include "r_entry_points.h"
#include "r_util.h"
#include "cohort.h"

SEXP cohort_summary(SEXP tau, SEXP ps, SEXP arm)
{
    R_xlen_t n = XLENGTH(tau);
    if (TYPEOF(tau) != REALSXP || TYPEOF(ps) != REALSXP || TYPEOF(arm) != INTSXP ||
        XLENGTH(ps) != n || XLENGTH(arm) != n)
        error("internal error: 'tau', 'ps' (double) and 'arm' (0/1 integer) must have one "
              "value per row");
    cs_cohort_summary s;
    if (cs_cohort_summarise((size_t) n, REAL(tau), REAL(ps), NULL, INTEGER(arm), 1.0, 0.0,
                            &s) != CS_OK)
        error("internal error: the treatment indicator must be 0 or 1 in every row");
    const char *names[] = { "att", "atc", "share_in_0.1_0.9", "ess_treated", "ess_control", "" };
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    /* an empty arm has no mean and no effective size: NA, as in R */
    double values[5] = { s.n_treated ? s.att : NA_REAL, s.n_control ? s.atc : NA_REAL,
                         s.share_inside, s.n_treated ? s.ess_treated : NA_REAL,
                         s.n_control ? s.ess_control : NA_REAL };
    for (int k = 0; k < 5; k++) SET_VECTOR_ELT(res, k, ScalarReal(values[k]));
    UNPROTECT(1);
    return res;
}
