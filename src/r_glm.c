/* Glue for the IRLS engine: checks and converts arguments, runs cs_glm_irls, returns a list.
 * Non-convergence and separation come back as flags; R turns them into warnings naming the
 * model. */
#include <string.h>
#include "r_entry_points.h"
#include "r_util.h"
#include "glm.h"

static const double *optional_vector(SEXP v, R_xlen_t n, const char *name)
{
    if (isNull(v)) return NULL;
    if (!isReal(v) || XLENGTH(v) != n)
        error("`%s` must be NULL or a double vector of length %d", name, (int) n);
    return REAL(v);
}

SEXP glm_irls(SEXP x, SEXP y, SEXP weights, SEXP offset, SEXP family, SEXP control)
{
    if (!isReal(x) || !isMatrix(x)) error("`x` must be a double matrix");
    int n = nrows(x), p = ncols(x);
    if (n < 1 || p < 1) error("`x` must have at least one row and one column");
    if (!isReal(y) || XLENGTH(y) != n) error("`y` must be a double vector of length nrow(x)");
    const double *w = optional_vector(weights, n, "weights");
    const double *off = optional_vector(offset, n, "offset");
    if (!isString(family) || XLENGTH(family) != 1) error("`family` must be a single string");
    const char *fam = CHAR(STRING_ELT(family, 0));
    cs_glm_family fam_code;
    if (strcmp(fam, "gaussian") == 0) fam_code = CS_GLM_GAUSSIAN;
    else if (strcmp(fam, "binomial") == 0) fam_code = CS_GLM_BINOMIAL;
    else error("`family` must be \"gaussian\" or \"binomial\", not \"%s\"", fam);

    cs_glm_control ctrl;
    ctrl.maxit = r_int(r_list_get(control, "maxit"), "control$maxit");
    ctrl.epsilon = r_double(r_list_get(control, "epsilon"), "control$epsilon");
    ctrl.tol = r_double(r_list_get(control, "tol"), "control$tol");
    if (ctrl.maxit < 1) error("`control$maxit` must be at least 1");

    SEXP beta = PROTECT(allocVector(REALSXP, p));
    SEXP aliased = PROTECT(allocVector(LGLSXP, p));
    SEXP fitted = PROTECT(allocVector(REALSXP, n));
    SEXP cov = PROTECT(allocMatrix(REALSXP, p, p));
    int *alias_int = (int *) R_alloc((size_t) p, sizeof(int));
    cs_glm_info info;
    cs_status status = cs_glm_irls(n, p, REAL(x), REAL(y), w, off, fam_code, &ctrl,
                                   r_interrupt_pending, REAL(beta), alias_int, REAL(fitted),
                                   REAL(cov), &info);
    if (status == CS_ERR_ARGUMENT && fam_code == CS_GLM_BINOMIAL)
        error("GLM fit: a binomial response must lie in [0, 1] and some weight must be positive");
    r_stop_on_status(status, "GLM fit");
    for (int j = 0; j < p; j++) LOGICAL(aliased)[j] = alias_int[j];

    const char *names[] = { "coefficients", "aliased", "fitted", "cov_unscaled", "deviance",
                            "iterations", "converged", "boundary", "separated", "rank", "" };
    SEXP out = PROTECT(mkNamed(VECSXP, names));
    SET_VECTOR_ELT(out, 0, beta);
    SET_VECTOR_ELT(out, 1, aliased);
    SET_VECTOR_ELT(out, 2, fitted);
    SET_VECTOR_ELT(out, 3, cov);
    SET_VECTOR_ELT(out, 4, ScalarReal(info.deviance));
    SET_VECTOR_ELT(out, 5, ScalarInteger(info.iterations));
    SET_VECTOR_ELT(out, 6, ScalarLogical(info.converged));
    SET_VECTOR_ELT(out, 7, ScalarLogical(info.boundary));
    SET_VECTOR_ELT(out, 8, ScalarLogical(info.separated));
    SET_VECTOR_ELT(out, 9, ScalarInteger(info.rank));
    UNPROTECT(5);
    return out;
}
