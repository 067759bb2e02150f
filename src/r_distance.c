/* Glue for the distance engine: checks the matrices and calls distance.c. */
#include "r_entry_points.h"
#include "r_util.h"
#include "distance.h"

/* A finite double matrix with at least one row and column, named `what` in errors. */
static void check_matrix(SEXP m, const char *what)
{
    if (!isReal(m) || !isMatrix(m))
        error("`%s` must be a double matrix.", what);
    if (nrows(m) < 1 || ncols(m) < 1)
        error("`%s` must have at least one row and one column.", what);
    const double *v = REAL(m);
    R_xlen_t n = XLENGTH(m);
    for (R_xlen_t i = 0; i < n; i++)
        if (!R_FINITE(v[i])) error("`%s` must not contain missing or infinite values.", what);
}

SEXP distance_nearest(SEXP x, SEXP ref, SEXP exclude, SEXP method, SEXP threads)
{
    int nthreads = r_int(threads, "threads");
    int how = r_int(method, "method");
    if (how != 0 && how != 1) error("`method` must be 0 (automatic) or 1 (dgemm).");
    check_matrix(x, "x");
    check_matrix(ref, "ref");
    int nx = nrows(x), nr = nrows(ref), d = ncols(x);
    if (ncols(ref) != d) error("`x` and `ref` must have the same number of columns.");
    int *skip = NULL;
    if (!isNull(exclude)) {
        if (!isInteger(exclude) || XLENGTH(exclude) != nx)
            error("`exclude` must be NULL or an integer vector with one value per row of `x`.");
        if (nr < 2) error("`ref` needs at least two rows when rows are excluded.");
        skip = (int *) R_alloc(nx, sizeof(int));
        const int *e = INTEGER(exclude);
        for (int i = 0; i < nx; i++) {
            if (e[i] != NA_INTEGER && (e[i] < 1 || e[i] > nr))
                error("`exclude` must hold row numbers of `ref` or NA.");
            skip[i] = e[i] == NA_INTEGER ? -1 : e[i] - 1;
        }
    }
    SEXP dist = PROTECT(allocVector(REALSXP, nx));
    SEXP index = PROTECT(allocVector(INTSXP, nx));
    cs_status status = cs_nn_distance(REAL(x), nx, REAL(ref), nr, d, skip, how, nthreads,
                                      r_interrupt_pending, REAL(dist), INTEGER(index));
    r_stop_on_status(status, "nearest-neighbour distances");
    int *idx = INTEGER(index);
    for (int i = 0; i < nx; i++) idx[i] += 1;
    const char *names[] = { "distance", "index", "" };
    SEXP out = PROTECT(mkNamed(VECSXP, names));
    SET_VECTOR_ELT(out, 0, dist);
    SET_VECTOR_ELT(out, 1, index);
    UNPROTECT(3);
    return out;
}

SEXP distance_mean(SEXP a, SEXP b, SEXP threads)
{
    int nthreads = r_int(threads, "threads");
    check_matrix(a, "a");
    check_matrix(b, "b");
    if (ncols(a) != ncols(b)) error("`a` and `b` must have the same number of columns.");
    double mean = 0.0;
    cs_status status = cs_mean_distance(REAL(a), nrows(a), REAL(b), nrows(b), ncols(a),
                                        nthreads, r_interrupt_pending, &mean);
    r_stop_on_status(status, "mean pairwise distance");
    return ScalarReal(mean);
}
