/* Glue for the moments engine: checks the encoded matrices, runs the one-pass moment sums and
 * returns conditional means by arm, E[X] over all rows, and the sampling variances of the
 * entries of E[Z X^T | T = t] (used by the rank check in R). */
#include "r_entry_points.h"
#include "r_util.h"
#include "moments.h"

static void check_matrix(SEXP m, const char *name)
{
    if (!isReal(m) || !isMatrix(m))
        error("internal: `%s` must be a double matrix", name);
}

static SEXP arm_array(int d1, int d2)
{
    SEXP a = PROTECT(allocVector(REALSXP, (R_xlen_t) d1 * d2 * 2));
    SEXP dim = PROTECT(allocVector(INTSXP, 3));
    INTEGER(dim)[0] = d1;
    INTEGER(dim)[1] = d2;
    INTEGER(dim)[2] = 2;
    setAttrib(a, R_DimSymbol, dim);
    UNPROTECT(2);
    return a;
}

SEXP moments_by_arm(SEXP z, SEXP x, SEXP arm, SEXP y, SEXP weights, SEXP threads)
{
    check_matrix(z, "z");
    check_matrix(x, "x");
    const R_xlen_t n = XLENGTH(y);
    const int dz = ncols(z), dx = ncols(x);
    if (!isReal(y)) error("internal: `y` must be a double vector");
    if (!isInteger(arm) || XLENGTH(arm) != n)
        error("internal: `arm` must be an integer vector as long as `y`");
    if (nrows(z) != n || nrows(x) != n)
        error("internal: `z` and `x` must have one row per outcome");
    if (!isNull(weights) && (!isReal(weights) || XLENGTH(weights) != n))
        error("internal: `weights` must be NULL or a double vector as long as `y`");
    if (dz < 1 || dx < 1) error("internal: `z` and `x` need at least one column");
    const int n_threads = r_int(threads, "threads");

    const size_t len = cs_moments_length(dz, dx), arm_len = cs_moments_arm_length(dz, dx);
    double *sums = (double *) R_alloc(len, sizeof(double));
    cs_status status = cs_moments_by_arm(REAL(z), dz, REAL(x), dx, INTEGER(arm), REAL(y),
                                         isNull(weights) ? NULL : REAL(weights), (size_t) n,
                                         n_threads, r_interrupt_pending, sums);
    if (status == CS_ERR_ARGUMENT)
        error("moments by arm: the treatment must be coded 0/1 in every row");
    r_stop_on_status(status, "moments by arm");

    SEXP r_n = PROTECT(allocVector(REALSXP, 2)), r_y = PROTECT(allocVector(REALSXP, 2));
    SEXP r_y2 = PROTECT(allocVector(REALSXP, 2));
    SEXP r_z = PROTECT(allocMatrix(REALSXP, dz, 2)), r_zy = PROTECT(allocMatrix(REALSXP, dz, 2));
    SEXP r_zx = PROTECT(arm_array(dz, dx)), r_zxy = PROTECT(arm_array(dz, dx));
    SEXP r_var = PROTECT(arm_array(dz, dx)), r_x = PROTECT(allocVector(REALSXP, dx));
    const size_t dzx = (size_t) dz * dx;
    double total = 0.0;
    for (int a = 0; a < 2; a++) {
        const double *s = sums + a * arm_len;
        const double na = s[0];
        /* An empty arm gives NaN means; R refuses such data before calling. */
        const double inv = 1.0 / na;
        total += na;
        REAL(r_n)[a] = na;
        REAL(r_y)[a] = s[1] * inv;
        REAL(r_y2)[a] = s[2] * inv;
        const double *s_z = s + 3, *s_zy = s_z + dz, *s_zx = s_zy + dz;
        const double *s_zxy = s_zx + dzx, *s_zx2 = s_zxy + dzx;
        for (int j = 0; j < dz; j++) {
            REAL(r_z)[j + a * dz] = s_z[j] * inv;
            REAL(r_zy)[j + a * dz] = s_zy[j] * inv;
        }
        for (size_t e = 0; e < dzx; e++) {
            const double m = s_zx[e] * inv, v = s_zx2[e] * inv - m * m;
            REAL(r_zx)[e + a * dzx] = m;
            REAL(r_zxy)[e + a * dzx] = s_zxy[e] * inv;
            REAL(r_var)[e + a * dzx] = v > 0.0 ? v : 0.0;
        }
    }
    for (int k = 0; k < dx; k++) REAL(r_x)[k] = sums[2 * arm_len + k] / total;
    const char *names[] = { "n", "y", "y2", "z", "zy", "zx", "zxy", "zx_var", "x", "" };
    const SEXP values[] = { r_n, r_y, r_y2, r_z, r_zy, r_zx, r_zxy, r_var, r_x };
    SEXP res = r_named_list(names, values);
    UNPROTECT(9);
    return res;
}
