/* Glue for cohort.c: the treatment column of any supported type, the summaries as a list. */
#include "r_cohort.h"
#include "r_util.h"
#include "cohort.h"

SEXP cohort_summary(SEXP tau, SEXP ps, SEXP treatment, SEXP name)
{
    R_xlen_t n = XLENGTH(tau);
    if (TYPEOF(tau) != REALSXP || TYPEOF(ps) != REALSXP || XLENGTH(ps) != n ||
        XLENGTH(treatment) != n)
        error("internal error: 'tau', 'ps' and the treatment must have one value per row");
    if (!isString(name) || XLENGTH(name) != 1) error("internal error: 'name' must be a string");
    const char *col = CHAR(STRING_ELT(name, 0));
    const double *arm_real = NULL;
    const int *arm_int = NULL;
    double treated = 1.0, control = 0.0;
    if (isFactor(treatment)) {
        int k = nlevels(treatment);
        if (k != 2)
            error("The treatment column `%s` is a factor with %d levels; it needs exactly 2.",
                  col, k);
        arm_int = INTEGER(treatment);
        treated = 2.0;
        control = 1.0;
    } else if (isLogical(treatment)) {
        arm_int = LOGICAL(treatment);
    } else if (TYPEOF(treatment) == INTSXP && !isObject(treatment)) {
        arm_int = INTEGER(treatment);
    } else if (TYPEOF(treatment) == REALSXP && !isObject(treatment)) {
        arm_real = REAL(treatment);
    }
    cs_cohort_summary s;
    if ((!arm_real && !arm_int) ||
        cs_cohort_summarise((size_t) n, REAL(tau), REAL(ps), arm_real, arm_int, treated, control,
                            &s) != CS_OK)
        error("The treatment column `%s` must be 0/1, logical or a two-level factor.", col);
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
