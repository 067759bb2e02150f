/* Glue for the neural-network classifier: checks and converts, then calls classifier.c. */
#include "r_entry_points.h"
#include "r_util.h"
#include "classifier.h"

SEXP classifier_cv(SEXP x, SEXP y, SEXP fold, SEXP options, SEXP seed, SEXP threads)
{
    if (!isReal(x) || !isMatrix(x)) error("`x` must be a double matrix.");
    int n = nrows(x), d = ncols(x);
    if (!isReal(y) || XLENGTH(y) != n) error("`y` must be a double vector with one value per row of `x`.");
    if (!isInteger(fold) || XLENGTH(fold) != n)
        error("`fold` must be an integer vector with one value per row of `x`.");
    cs_classifier_options opt;
    R_READ_FIELDS(CS_CLASSIFIER_OPTIONS_FIELDS, cs_classifier_options, options, &opt);
    int nthreads = r_int(threads, "threads");
    uint64_t s = r_seed(seed);
    const double *xv = REAL(x), *yv = REAL(y);
    const int *fv = INTEGER(fold);
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (fv[i] == NA_INTEGER || fv[i] < 1) error("`fold` must hold fold numbers 1, 2, ...");
        if (fv[i] > k) k = fv[i];
        if (!(yv[i] == 0.0 || yv[i] == 1.0)) error("`y` must hold 0/1 labels.");
    }
    /* the engine wants one example per column and 0-based folds */
    double *xt = (double *) R_alloc((size_t)n * d, sizeof(double));
    int *f0 = (int *) R_alloc(n, sizeof(int));
    for (int i = 0; i < n; i++) {
        f0[i] = fv[i] - 1;
        for (int j = 0; j < d; j++) {
            double v = xv[i + (size_t)j * n];
            if (!R_FINITE(v)) error("`x` must not contain missing or infinite values.");
            xt[(size_t)i * d + j] = v;
        }
    }
    SEXP prob = PROTECT(allocVector(REALSXP, n));
    cs_status status = cs_classifier_cv(xt, yv, f0, n, d, k, &opt, s, nthreads,
                                        r_interrupt_pending, REAL(prob));
    r_stop_on_status(status, "neural-network classifier");
    UNPROTECT(1);
    return prob;
}
