/* Glue for time-to-event outcomes: converts the R description of the survival network (a list
 * with the grids, the end of follow-up and the network) and calls survival_model.c. */
#include <math.h>
#include <string.h>
#include "r_entry_points.h"
#include "r_causalmix.h"
#include "r_util.h"
#include "survival_model.h"
#include "survival_estimators.h"

static SEXP typed(SEXP list, const char *name, SEXPTYPE type, R_xlen_t len)
{
    SEXP v = r_list_get(list, name);
    if ((SEXPTYPE) TYPEOF(v) != type || (len >= 0 && XLENGTH(v) != len))
        error("internal error: survival model element '%s' has the wrong type or length", name);
    return v;
}

static void read_surv(SEXP surv, int with_params, cs_surv_model *m)
{
    memset(m, 0, sizeof(*m));
    m->J_event = r_list_int(surv, "J_event");
    m->J_censor = r_list_int(surv, "J_censor");
    m->cut_event = REAL(typed(surv, "cut_event", REALSXP, m->J_event));
    m->cut_censor = REAL(typed(surv, "cut_censor", REALSXP, m->J_censor));
    m->end = r_list_double(surv, "end");
    SEXP net = r_list_get(surv, "net");
    if (TYPEOF(net) != VECSXP) error("internal error: the survival network is missing");
    SEXP sizes = typed(net, "sizes", INTSXP, -1);
    int L = LENGTH(sizes) - 1;
    if (L < 1 || L > CS_MLP_MAX_LAYERS) error("internal error: survival network layers");
    SEXP act = typed(net, "activations", INTSXP, L);
    cs_activation a[CS_MLP_MAX_LAYERS];
    for (int l = 0; l < L; l++) a[l] = (cs_activation) INTEGER(act)[l];
    double *params = NULL;
    if (with_params)
        params = REAL(typed(net, "params", REALSXP, cs_mlp_count_params(L, INTEGER(sizes))));
    if (cs_mlp_setup(&m->net, L, INTEGER(sizes), a, r_list_double(surv, "leaky_slope"),
                     params) != CS_OK)
        error("internal error: the survival network could not be set up");
    if (m->net.sizes[L] != CS_SURV_SCORES)
        error("internal error: the survival network must have %d outputs", CS_SURV_SCORES);
    if (with_params)
        m->baseline = REAL(typed(surv, "baseline", REALSXP, cs_surv_outputs(m)));
}

/* Rows of an n x p encoded covariate matrix and its n x m missingness matrix. */
static int read_rows(SEXP x, SEXP miss, const cs_table_spec *spec)
{
    if (TYPEOF(x) != REALSXP || !isMatrix(x) || ncols(x) != spec->p)
        error("internal error: 'x' must be a double matrix with one column per covariate");
    int n = nrows(x);
    if (TYPEOF(miss) != REALSXP || !isMatrix(miss) || ncols(miss) != spec->m || nrows(miss) != n)
        error("internal error: 'miss' must be a double matrix of missingness indicators");
    return n;
}

SEXP survival_train(SEXP model, SEXP surv, SEXP x, SEXP miss, SEXP arm, SEXP time, SEXP event,
                    SEXP valid, SEXP settings, SEXP seed)
{
    cs_causalmix cm;
    r_read_causalmix(model, &cm, 0);
    cs_surv_model m;
    read_surv(surv, 0, &m);
    int n = read_rows(x, miss, &cm.spec);
    if (TYPEOF(arm) != INTSXP || TYPEOF(event) != INTSXP || TYPEOF(valid) != INTSXP ||
        TYPEOF(time) != REALSXP || XLENGTH(arm) != n || XLENGTH(event) != n ||
        XLENGTH(valid) != n || XLENGTH(time) != n)
        error("internal error: survival training vectors have the wrong type or length");
    cs_surv_settings set;
    R_READ_FIELDS(CS_SURV_SETTINGS_FIELDS, cs_surv_settings, settings, &set);
    if (set.epochs < 1) error("internal error: epochs must be positive");
    int D = cs_feature_width(&cm.spec);
    if (m.net.sizes[0] != D) error("internal error: survival network input width");

    const char *names[] = { "params", "history", "epochs_run", "best_epoch", "baseline", "" };
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    SEXP params = allocVector(REALSXP, m.net.n_params);
    SET_VECTOR_ELT(res, 0, params);
    m.net.params = REAL(params);
    SEXP baseline = allocVector(REALSXP, cs_surv_outputs(&m));
    SET_VECTOR_ELT(res, 4, baseline);
    m.baseline = REAL(baseline);
    SEXP hist = allocMatrix(REALSXP, 2, set.epochs);
    SET_VECTOR_ELT(res, 1, hist);
    for (R_xlen_t k = 0; k < XLENGTH(hist); k++) REAL(hist)[k] = NA_REAL;
    double *F = (double *) R_alloc((size_t) D * n, sizeof(double));
    r_stop_on_status(cs_surv_features(&cm.spec, n, REAL(x), REAL(miss), F), "survival features");
    int epochs_run = 0, best_epoch = 0;
    cs_status st = cs_surv_train(&m, n, F, INTEGER(arm), REAL(time), INTEGER(event),
                                 INTEGER(valid), &set, r_seed(seed), r_interrupt_pending,
                                 REAL(hist), &epochs_run, &best_epoch);
    r_stop_on_status(st, "survival model training");
    SET_VECTOR_ELT(res, 2, ScalarInteger(epochs_run));
    SET_VECTOR_ELT(res, 3, ScalarInteger(best_epoch));
    UNPROTECT(1);
    return res;
}

SEXP survival_predict(SEXP model, SEXP surv, SEXP x, SEXP miss, SEXP threads)
{
    cs_causalmix cm;
    r_read_causalmix(model, &cm, 0);
    cs_surv_model m;
    read_surv(surv, 1, &m);
    int n = read_rows(x, miss, &cm.spec);
    SEXP out = PROTECT(allocMatrix(REALSXP, cs_surv_outputs(&m), n));
    r_stop_on_status(cs_surv_predict(&m, &cm.spec, n, REAL(x), REAL(miss),
                                     r_int(threads, "threads"), REAL(out)), "survival prediction");
    UNPROTECT(1);
    return out;
}

SEXP survival_draw(SEXP surv, SEXP risk, SEXP ps, SEXP knobs, SEXP seed, SEXP offset,
                   SEXP threads)
{
    cs_surv_model m;
    read_surv(surv, 1, &m);
    if (XLENGTH(ps) > 2147483647) error("internal error: too many rows for one call");
    int n = (int) XLENGTH(ps);
    if (TYPEOF(risk) != VECSXP || LENGTH(risk) != CS_SURV_SCORES)
        error("internal error: 'risk' must be a list of %d risk-score vectors", CS_SURV_SCORES);
    const double *scores[CS_SURV_SCORES];
    for (int k = 0; k < CS_SURV_SCORES; k++) {
        SEXP v = VECTOR_ELT(risk, k);
        if (TYPEOF(v) != REALSXP || XLENGTH(v) != n)
            error("internal error: risk score %d must be a double vector with one value per row",
                  k + 1);
        scores[k] = REAL(v);
    }
    if (TYPEOF(ps) != REALSXP || XLENGTH(ps) != n)
        error("internal error: 'ps' must be a double vector with one value per row");
    cs_surv_knobs kn;
    R_READ_FIELDS(CS_SURV_KNOBS_FIELDS, cs_surv_knobs, knobs, &kn);
    if (!(kn.kappa >= -1.0 && kn.kappa <= 1.0)) error("internal error: kappa outside [-1, 1]");
    SEXP kappa_rows = r_list_get(knobs, "kappa_rows");
    kn.kappa_rows = NULL;
    if (!isNull(kappa_rows)) {
        if (TYPEOF(kappa_rows) != REALSXP || XLENGTH(kappa_rows) != n)
            error("internal error: 'kappa_rows' must be a double vector with one value per row");
        for (int i = 0; i < n; i++)
            if (!(fabs(REAL(kappa_rows)[i]) <= 1.0))
                error("internal error: kappa_rows outside [-1, 1]");
        kn.kappa_rows = REAL(kappa_rows);
    }
    SEXP effect = r_list_get(knobs, "effect");
    kn.effect = NULL;
    if (!isNull(effect)) {
        if (TYPEOF(effect) != REALSXP || XLENGTH(effect) != n)
            error("internal error: 'effect' must be a double vector with one value per row");
        kn.effect = REAL(effect);
    }
    double off = r_double(offset, "offset");
    if (off < 0) error("internal error: negative offset");

    const char *names[] = { "arm", "time", "event", "t0", "t1", "c", "s0", "s1", "lp", "" };
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    for (int k = 0; k < 9; k++)
        SET_VECTOR_ELT(res, k, r_alloc_output(k == 0 || k == 2 ? INTSXP : REALSXP, n));
    double *d[9];
    for (int k = 0; k < 9; k++) if (k != 0 && k != 2) d[k] = REAL(VECTOR_ELT(res, k));
    cs_status st = cs_surv_draw(&m, n, scores, REAL(ps), &kn,
                                r_seed(seed), (uint64_t) off, r_int(threads, "threads"),
                                INTEGER(VECTOR_ELT(res, 0)), d[1], INTEGER(VECTOR_ELT(res, 2)),
                                d[3], d[4], d[5], d[6], d[7], d[8]);
    r_stop_on_status(st, "survival draw");
    UNPROTECT(1);
    return res;
}

SEXP survival_aipcw(SEXP time, SEXP censored, SEXP u, SEXP L0, SEXP Lc0_left, SEXP dLc0,
                    SEXP r, SEXP c, SEXP s_tau)
{
    R_xlen_t n = XLENGTH(time), K = XLENGTH(u);
    if (TYPEOF(time) != REALSXP || TYPEOF(censored) != INTSXP || XLENGTH(censored) != n ||
        TYPEOF(r) != REALSXP || XLENGTH(r) != n || TYPEOF(c) != REALSXP || XLENGTH(c) != n ||
        TYPEOF(s_tau) != REALSXP || XLENGTH(s_tau) != n || TYPEOF(u) != REALSXP ||
        TYPEOF(L0) != REALSXP || XLENGTH(L0) != K || TYPEOF(Lc0_left) != REALSXP ||
        XLENGTH(Lc0_left) != K || TYPEOF(dLc0) != REALSXP || XLENGTH(dLc0) != K ||
        n > 2147483647 || K > 2147483647)
        error("internal error: AIPCW arguments have the wrong type or length");
    SEXP aug = PROTECT(allocVector(REALSXP, n));
    cs_aipcw_augmentation((int) n, (int) K, REAL(time), INTEGER(censored), REAL(u), REAL(L0),
                          REAL(Lc0_left), REAL(dLc0), REAL(r), REAL(c), REAL(s_tau), REAL(aug));
    UNPROTECT(1);
    return aug;
}

/* Checked double vector of length len (len < 0: any length). */
static const double *dbl(SEXP v, R_xlen_t len, const char *what)
{
    if (TYPEOF(v) != REALSXP || (len >= 0 && XLENGTH(v) != len) || XLENGTH(v) > 2147483647)
        error("internal error: '%s' must be a double vector of the right length", what);
    return REAL(v);
}

SEXP survival_step_areas(SEXP r, SEXP u, SEXP L0, SEXP tau, SEXP with_mean)
{
    R_xlen_t n = XLENGTH(r), J = XLENGTH(u);
    dbl(r, -1, "r");
    dbl(u, -1, "u");
    dbl(L0, J, "L0");
    const char *names[] = { "area", "area_L", "sbar", "" };
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    SET_VECTOR_ELT(res, 0, allocVector(REALSXP, n));
    int mean = asLogical(with_mean) == 1;
    if (mean) {
        SET_VECTOR_ELT(res, 1, allocVector(REALSXP, n));
        SET_VECTOR_ELT(res, 2, allocVector(REALSXP, J + 1));
    }
    cs_step_areas((int) n, REAL(r), (int) J, REAL(u), REAL(L0), r_double(tau, "tau"),
                  REAL(VECTOR_ELT(res, 0)), mean ? REAL(VECTOR_ELT(res, 1)) : NULL,
                  mean ? REAL(VECTOR_ELT(res, 2)) : NULL);
    UNPROTECT(1);
    return res;
}

SEXP survival_aipcw_rmst(SEXP u, SEXP L0, SEXP tau, SEXP cu, SEXP Lc0_left, SEXP dLc0, SEXP r,
                         SEXP c, SEXP time, SEXP censored)
{
    R_xlen_t J = XLENGTH(u), K = XLENGTH(cu), n = XLENGTH(r);
    dbl(u, -1, "u");
    dbl(L0, J, "L0");
    dbl(cu, -1, "cu");
    dbl(Lc0_left, K, "Lc0_left");
    dbl(dLc0, K, "dLc0");
    dbl(r, -1, "r");
    dbl(c, n, "c");
    dbl(time, n, "time");
    if (TYPEOF(censored) != INTSXP || XLENGTH(censored) != n)
        error("internal error: 'censored' must be an integer vector with one value per row");
    SEXP aug = PROTECT(allocVector(REALSXP, n));
    cs_aipcw_rmst_augmentation((int) n, (int) J, REAL(u), REAL(L0), r_double(tau, "tau"),
                               (int) K, REAL(cu), REAL(Lc0_left), REAL(dLc0), REAL(r), REAL(c),
                               REAL(time), INTEGER(censored), REAL(aug));
    UNPROTECT(1);
    return aug;
}
