/* Glue for simulate(): the knobs and the treatment and potential outcomes of each row
 * (knobs.c). */
#include "r_entry_points.h"
#include "r_columns.h"
#include "r_util.h"
#include "knobs.h"

static const double *double_arg(SEXP v, R_xlen_t n, const char *name)
{
    if (TYPEOF(v) != REALSXP || XLENGTH(v) != n)
        error("internal error: '%s' must be a double vector of length %ld", name, (long) n);
    return REAL(v);
}

static int row_count(SEXP v)
{
    if (XLENGTH(v) > 2147483647) error("internal error: too many rows for one call");
    return (int) XLENGTH(v);
}

SEXP simulate_knobs(SEXP pred, SEXP knobs, SEXP binary, SEXP threads)
{
    SEXP eta = r_list_get(pred, "eta");
    int n = row_count(eta);
    const double *pe = double_arg(eta, n, "eta");
    const double *m0 = double_arg(r_list_get(pred, "mu0"), n, "mu0");
    const double *m1 = double_arg(r_list_get(pred, "mu1"), n, "mu1");
    cs_knobs kn;
    R_READ_FIELDS(CS_KNOBS_FIELDS, cs_knobs, knobs, &kn);
    SEXP effect = r_list_get(knobs, "effect"), k = r_list_get(knobs, "k");
    kn.effect = isNull(effect) ? NULL : double_arg(effect, n, "effect");
    kn.k = isNull(k) ? NULL : double_arg(k, n, "k");
    int is_binary = r_int(binary, "binary");

    const char *names[] = { "ps", "mu1", "tau", "k", "room", "n_bad", "worst", "" };
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    double *out[3];
    for (int c = 0; c < 3; c++) {
        SEXP v = r_alloc_output(REALSXP, n);
        SET_VECTOR_ELT(res, c, v);
        out[c] = REAL(v);
    }
    /* the row confounding: the given vector, a computed one, or none */
    double *k_out = NULL, *room_out = NULL;
    if (kn.k) {
        SET_VECTOR_ELT(res, 3, k);
    } else if (kn.k_const != 0.0) {
        SEXP v = r_alloc_output(REALSXP, n);
        SET_VECTOR_ELT(res, 3, v);
        k_out = REAL(v);
    }
    if (is_binary && kn.room_sign != 0) {
        SEXP v = r_alloc_output(REALSXP, n);
        SET_VECTOR_ELT(res, 4, v);
        room_out = REAL(v);
    }
    int n_bad = 0;
    double worst = 0.0;
    cs_status st = cs_apply_knobs(n, &kn, pe, m0, m1, is_binary, r_int(threads, "threads"),
                                  out[0], out[1], out[2], k_out, room_out, &n_bad, &worst,
                                  r_interrupt_pending);
    r_stop_on_status(st, "simulate");
    SET_VECTOR_ELT(res, 5, ScalarInteger(n_bad));
    SET_VECTOR_ELT(res, 6, ScalarReal(worst));
    UNPROTECT(1);
    return res;
}

/* The log-odds constants of a binary outcome (cs_logit_constants): a list with lambda_bar
 * and shift (NA when mean(mu0) + ate cannot be reached; R has checked the range first). */
SEXP simulate_logit_constants(SEXP mu0, SEXP mu1, SEXP heterogeneity, SEXP ate)
{
    int n = row_count(mu0);
    double lambda_bar = NA_REAL, shift = NA_REAL;
    cs_status st = cs_logit_constants(n, double_arg(mu0, n, "mu0"), double_arg(mu1, n, "mu1"),
                                      r_double(heterogeneity, "heterogeneity"),
                                      r_double(ate, "ate"), &lambda_bar, &shift,
                                      r_interrupt_pending);
    if (st == CS_ERR_ARGUMENT) shift = NA_REAL;
    else r_stop_on_status(st, "simulate");
    const char *names[] = { "lambda_bar", "shift", "" };
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    SET_VECTOR_ELT(res, 0, ScalarReal(lambda_bar));
    SET_VECTOR_ELT(res, 1, ScalarReal(shift));
    UNPROTECT(1);
    return res;
}

/* mass: NULL, or for a semicontinuous or transformed outcome a list with the learned means
 * mu0, mu1, the summaries mass0 .. scale1 of the draws (see causalmix_draw.h) and either
 * point_mass, lower, upper or the transform's knots from, value. */
SEXP simulate_outcomes(SEXP ps, SEXP m0, SEXP m1, SEXP sd0, SEXP sd1, SEXP k, SEXP binary,
                       SEXP mass, SEXP treatment, SEXP outcome, SEXP seed, SEXP offset,
                       SEXP threads)
{
    int n = row_count(ps);
    cs_mass_outcome mo, *pmo = NULL;
    if (!isNull(mass)) {
        const char *arm_names[4][2] = { { "mu0", "mu1" }, { "mass0", "mass1" },
                                        { "loc0", "loc1" }, { "scale0", "scale1" } };
        for (int t = 0; t < 2; t++) {
            mo.mu[t] = double_arg(r_list_get(mass, arm_names[0][t]), n, arm_names[0][t]);
            mo.prob[t] = double_arg(r_list_get(mass, arm_names[1][t]), n, arm_names[1][t]);
            mo.loc[t] = double_arg(r_list_get(mass, arm_names[2][t]), n, arm_names[2][t]);
            mo.scale[t] = double_arg(r_list_get(mass, arm_names[3][t]), n, arm_names[3][t]);
        }
        mo.knots = 0;
        mo.from = mo.value = NULL;
        SEXP from = r_list_get(mass, "from");
        if (!isNull(from)) {
            /* a transformed outcome */
            if (TYPEOF(from) != REALSXP || XLENGTH(from) < 2 || XLENGTH(from) > INT_MAX)
                error("internal error: the outcome transform's knots are malformed");
            mo.knots = (int) XLENGTH(from);
            mo.from = REAL(from);
            mo.value = double_arg(r_list_get(mass, "value"), mo.knots, "value");
            mo.point_mass = mo.lower = mo.upper = 0.0;
        } else {
            mo.point_mass = r_list_double(mass, "point_mass");
            mo.lower = r_list_double(mass, "lower");
            mo.upper = r_list_double(mass, "upper");
        }
        pmo = &mo;
    }
    const double *pk = isNull(k) ? NULL : double_arg(k, n, "k");
    double off = r_double(offset, "offset");
    if (off < 0) error("internal error: negative offset");
    int is_binary = r_int(binary, "binary");
    const char *names[] = { "t", "y", "y0", "y1", "" };
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    cs_column_out t_out, y_out;
    SET_VECTOR_ELT(res, 0, r_column_alloc(treatment, 2, n, "the treatment", &t_out));
    SET_VECTOR_ELT(res, 1, r_column_alloc(outcome, is_binary ? 2 : 0, n, "the outcome", &y_out));
    SEXP y0 = r_alloc_output(REALSXP, n);
    SET_VECTOR_ELT(res, 2, y0);
    SEXP y1 = r_alloc_output(REALSXP, n);
    SET_VECTOR_ELT(res, 3, y1);
    cs_status st = cs_generate_outcomes(n, r_seed(seed), (uint64_t) off, double_arg(ps, n, "ps"),
                                        double_arg(m0, n, "m0"), double_arg(m1, n, "m1"),
                                        pmo ? NULL : double_arg(sd0, n, "sd0"),
                                        pmo ? NULL : double_arg(sd1, n, "sd1"), pk, is_binary,
                                        pmo, r_int(threads, "threads"), REAL(y0), REAL(y1),
                                        &t_out, &y_out, r_interrupt_pending);
    r_stop_on_status(st, "simulate");
    SET_VECTOR_ELT(res, 0, r_column_finish(VECTOR_ELT(res, 0), treatment));
    SET_VECTOR_ELT(res, 1, r_column_finish(VECTOR_ELT(res, 1), outcome));
    UNPROTECT(1);
    return res;
}
