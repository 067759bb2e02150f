/* Glue for causalmix(): converts the R description of the model and calls the engines
 * (causalmix_train.c trains, prior_fit.c refits the prior, causalmix_draw.c predicts and
 * draws). */
#include <string.h>
#include "r_entry_points.h"
#include "r_causalmix.h"
#include "r_columns.h"
#include "r_util.h"
#include "prior_fit.h"

static SEXP get_typed(SEXP list, const char *name, SEXPTYPE type, R_xlen_t len)
{
    SEXP v = r_list_get(list, name);
    if ((SEXPTYPE) TYPEOF(v) != type || (len >= 0 && XLENGTH(v) != len))
        error("internal error: model element '%s' has the wrong type or length", name);
    return v;
}

static void read_mlp(SEXP desc, const char *name, double leaky, int with_params, cs_mlp *net)
{
    SEXP d = r_list_get(desc, name);
    if (TYPEOF(d) != VECSXP) error("internal error: model element '%s' is missing", name);
    SEXP sizes = get_typed(d, "sizes", INTSXP, -1);
    int n_layers = LENGTH(sizes) - 1;
    if (n_layers < 1 || n_layers > CS_MLP_MAX_LAYERS)
        error("internal error: network '%s' has %d layers", name, n_layers);
    SEXP act = get_typed(d, "activations", INTSXP, n_layers);
    cs_activation a[CS_MLP_MAX_LAYERS];
    for (int l = 0; l < n_layers; l++) a[l] = (cs_activation) INTEGER(act)[l];
    int n_params = cs_mlp_count_params(n_layers, INTEGER(sizes));
    if (n_params < 0)
        errorcall(R_NilValue, "`hidden` makes the %s network too large (layers at most %d wide, "
                  "at most %d weights); use fewer or narrower layers", name, CS_MLP_MAX_WIDTH,
                  CS_MLP_MAX_PARAMS);
    double *params = NULL;
    if (with_params) {
        SEXP p = get_typed(d, "params", REALSXP, n_params);
        params = REAL(p);
    }
    if (cs_mlp_setup(net, n_layers, INTEGER(sizes), a, leaky, params) != CS_OK)
        error("internal error: network '%s' could not be set up", name);
}

/* The atoms of a transformed outcome (a list of score, lower, upper; NULL: none). */
static void read_atoms(SEXP atoms, cs_atoms *out)
{
    memset(out, 0, sizeof(*out));
    if (isNull(atoms)) return;
    SEXP score = r_list_get(atoms, "score");
    if (TYPEOF(score) != REALSXP || XLENGTH(score) > INT_MAX)
        error("internal error: the atoms are malformed");
    out->n = (int) XLENGTH(score);
    out->score = REAL(score);
    out->lower = REAL(get_typed(atoms, "lower", REALSXP, out->n));
    out->upper = REAL(get_typed(atoms, "upper", REALSXP, out->n));
}

void r_read_causalmix(SEXP model, cs_causalmix *out, int with_params)
{
    memset(out, 0, sizeof(*out));
    cs_table_spec *s = &out->spec;
    s->p = r_list_int(model, "p");
    s->m = r_list_int(model, "m");
    s->type = INTEGER(get_typed(model, "types", INTSXP, s->p));
    s->n_levels = INTEGER(get_typed(model, "n_levels", INTSXP, s->p));
    s->miss_index = INTEGER(get_typed(model, "miss_index", INTSXP, s->p));
    s->center = REAL(get_typed(model, "center", REALSXP, s->p));
    s->scale = REAL(get_typed(model, "scale", REALSXP, s->p));
    s->lower = REAL(get_typed(model, "lower", REALSXP, s->p));
    s->upper = REAL(get_typed(model, "upper", REALSXP, s->p));
    s->point_mass = REAL(get_typed(model, "point_mass", REALSXP, s->p));
    s->fill = REAL(get_typed(model, "fill", REALSXP, s->p));
    /* fits made before marginal transforms existed have none */
    SEXP marginal = r_list_get(model, "marginal");
    if (!isNull(marginal)) {
        s->marginal_knots = INTEGER(get_typed(marginal, "knots", INTSXP, s->p));
        s->marginal_start = INTEGER(get_typed(marginal, "start", INTSXP, s->p));
        R_xlen_t total = 0;
        for (int j = 0; j < s->p; j++) {
            if (s->marginal_knots[j] < 0 || s->marginal_start[j] != total)
                error("internal error: the marginal transforms' knots are not laid out in order");
            total += s->marginal_knots[j];
        }
        s->marginal_from = REAL(get_typed(marginal, "from", REALSXP, total));
        s->marginal_value = REAL(get_typed(marginal, "value", REALSXP, total));
        s->marginal_score = REAL(get_typed(marginal, "score", REALSXP, total));
        s->grid_scale = REAL(get_typed(marginal, "grid_scale", REALSXP, s->p));
        s->grid_origin = REAL(get_typed(marginal, "grid_origin", REALSXP, s->p));
        s->grid_step = REAL(get_typed(marginal, "grid_step", REALSXP, s->p));
        s->grid_last = REAL(get_typed(marginal, "grid_last", REALSXP, s->p));
        for (int j = 0; j < s->p; j++)
            if (s->marginal_knots[j] > 0 && s->type[j] != CS_COL_CONTINUOUS)
                error("internal error: a column with a marginal transform must be continuous");
    }
    out->latent = r_list_int(model, "latent");
    out->n_components = r_list_int(model, "n_components");
    out->outcome_binary = r_list_int(model, "outcome_binary");
    /* fits saved before semicontinuous outcomes existed have no such element */
    if (!isNull(r_list_get(model, "outcome_mass"))) {
        out->outcome_mass = r_list_int(model, "outcome_mass");
        out->y_mass = r_list_double(model, "y_mass");
        out->y_lower = r_list_double(model, "y_lower");
        out->y_upper = r_list_double(model, "y_upper");
        if (out->outcome_mass && !(out->y_lower < out->y_upper))
            error("internal error: the outcome's bounds are not increasing");
    }
    /* fits made before outcome transforms existed have none */
    SEXP outcome_marginal = r_list_get(model, "outcome_marginal");
    if (!isNull(outcome_marginal)) {
        SEXP from = r_list_get(outcome_marginal, "from");
        if (TYPEOF(from) != REALSXP || XLENGTH(from) < 2 || XLENGTH(from) > INT_MAX)
            error("internal error: the outcome transform's knots are malformed");
        out->outcome_knots = (int) XLENGTH(from);
        out->outcome_from = REAL(from);
        out->outcome_value = REAL(get_typed(outcome_marginal, "value", REALSXP,
                                            out->outcome_knots));
        if (out->outcome_binary || out->outcome_mass)
            error("internal error: a transformed outcome must be numeric without a mass head");
        read_atoms(r_list_get(outcome_marginal, "atoms"), &out->outcome_atoms);
    }
    if (!isNull(r_list_get(model, "outcome_split")))
        out->outcome_split = r_list_int(model, "outcome_split");
    /* draws of a time-to-event fit put its survival network in place of the outcome network */
    if (!isNull(r_list_get(model, "outcome_raw")))
        out->outcome_raw = r_list_int(model, "outcome_raw");
    double leaky = r_list_double(model, "leaky_slope");
    read_mlp(model, "encoder", leaky, with_params, &out->encoder);
    read_mlp(model, "decoder", leaky, with_params, &out->decoder);
    read_mlp(model, "propensity", leaky, with_params, &out->propensity);
    read_mlp(model, "outcome", leaky, with_params, &out->outcome);
    if (with_params)
        out->prior = REAL(get_typed(model, "prior", REALSXP,
                                    cs_prior_size(out->n_components, out->latent)));
}

typedef struct {
    int verbose;
    r_progress reporter;
} progress_context;

static void print_progress(void *context, int epoch, const double *l)
{
    progress_context *pc = context;
    r_progress_step(&pc->reporter, 1);
    if (!pc->verbose) return;
    Rprintf("epoch %4d  vae %.4f / %.4f  propensity %.4f / %.4f  outcome %.4f / %.4f\n",
            epoch, l[0], l[1], l[2], l[3], l[4], l[5]);
    R_FlushConsole();
}

static void check_matrix(SEXP m, int n, int cols, const char *name)
{
    if (TYPEOF(m) != REALSXP || XLENGTH(m) != (R_xlen_t) n * cols)
        error("internal error: '%s' must be a double matrix with %d rows and %d columns", name, n, cols);
}

SEXP causalmix_train(SEXP model, SEXP settings, SEXP x, SEXP miss, SEXP t, SEXP y, SEXP seed,
                     SEXP verbose, SEXP threads, SEXP progress)
{
    cs_causalmix mdl;
    r_read_causalmix(model, &mdl, 0);
    int n = LENGTH(t);
    check_matrix(x, n, mdl.spec.p, "x");
    check_matrix(miss, n, mdl.spec.m, "miss");
    if (TYPEOF(t) != REALSXP || TYPEOF(y) != REALSXP || LENGTH(y) != n)
        error("internal error: 't' and 'y' must be double vectors of equal length");

    cs_train_settings set;
    R_READ_FIELDS(CS_TRAIN_SETTINGS_FIELDS, cs_train_settings, settings, &set);
    set.seed = r_seed(seed);

    const char *names[] = { "encoder", "decoder", "propensity", "outcome", "prior", "history",
                            "epochs_run", "best_epoch", "best_loss", "" };
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    cs_mlp *nets[4] = { &mdl.encoder, &mdl.decoder, &mdl.propensity, &mdl.outcome };
    for (int k = 0; k < 4; k++) {
        SEXP p = allocVector(REALSXP, nets[k]->n_params);
        SET_VECTOR_ELT(res, k, p);
        nets[k]->params = REAL(p);
    }
    SEXP prior = allocVector(REALSXP, cs_prior_size(mdl.n_components, mdl.latent));
    SET_VECTOR_ELT(res, 4, prior);
    mdl.prior = REAL(prior);
    SEXP history = allocMatrix(REALSXP, set.epochs, 6);
    SET_VECTOR_ELT(res, 5, history);
    for (R_xlen_t u = 0; u < XLENGTH(history); u++) REAL(history)[u] = NA_REAL;
    SEXP epochs_run = allocVector(INTSXP, 1);
    SET_VECTOR_ELT(res, 6, epochs_run);
    SEXP best_epoch = allocVector(INTSXP, 4);
    SET_VECTOR_ELT(res, 7, best_epoch);
    SEXP best_loss = allocVector(REALSXP, 4);
    SET_VECTOR_ELT(res, 8, best_loss);

    cs_causalmix_init(&mdl, set.seed);
    progress_context pc;
    pc.verbose = asLogical(verbose) == TRUE;
    r_progress_init(&pc.reporter, progress);
    cs_status st = cs_causalmix_train(&mdl, &set, n, REAL(x), REAL(miss), REAL(t), REAL(y),
                                      r_int(threads, "threads"),
                                      REAL(history), INTEGER(epochs_run), INTEGER(best_epoch),
                                      REAL(best_loss), r_interrupt_pending, print_progress, &pc);
    r_progress_finish(&pc.reporter);
    r_stop_on_status(st, "causalmix training");
    UNPROTECT(1);
    return res;
}

SEXP causalmix_posterior(SEXP model, SEXP x, SEXP miss)
{
    cs_causalmix mdl;
    r_read_causalmix(model, &mdl, 1);
    if (!isMatrix(x)) error("internal error: 'x' must be a matrix");
    int n = nrows(x), L = mdl.latent;
    check_matrix(x, n, mdl.spec.p, "x");
    check_matrix(miss, n, mdl.spec.m, "miss");
    const char *names[] = { "mu", "var", "" };
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    SEXP mu = allocMatrix(REALSXP, L, n);
    SET_VECTOR_ELT(res, 0, mu);
    SEXP var = allocMatrix(REALSXP, L, n);
    SET_VECTOR_ELT(res, 1, var);
    r_stop_on_status(cs_causalmix_posterior(&mdl, n, REAL(x), REAL(miss), REAL(mu), REAL(var)),
                     "causalmix posterior");
    UNPROTECT(1);
    return res;
}

SEXP prior_fit_aggregate(SEXP mu, SEXP var, SEXP prior, SEXP settings, SEXP threads)
{
    if (!isMatrix(mu) || TYPEOF(mu) != REALSXP || !isMatrix(var) || TYPEOF(var) != REALSXP ||
        TYPEOF(prior) != REALSXP)
        error("internal error: 'mu', 'var' must be double matrices and 'prior' a double vector");
    int L = nrows(mu), n = ncols(mu);
    if (nrows(var) != L || ncols(var) != n || L < 1 || n < 1 || LENGTH(prior) % (1 + 2 * L))
        error("internal error: 'mu', 'var' and 'prior' do not agree in size");
    int K = LENGTH(prior) / (1 + 2 * L);
    const char *names[] = { "prior", "iterations", "loglik", "" };
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    SEXP fitted = allocVector(REALSXP, LENGTH(prior));
    SET_VECTOR_ELT(res, 0, fitted);
    memcpy(REAL(fitted), REAL(prior), sizeof(double) * LENGTH(prior));
    SEXP iterations = allocVector(INTSXP, 1);
    SET_VECTOR_ELT(res, 1, iterations);
    SEXP loglik = allocVector(REALSXP, 2);
    SET_VECTOR_ELT(res, 2, loglik);
    cs_status st = cs_prior_fit_aggregate(n, L, K, REAL(mu), REAL(var),
                                          r_list_int(settings, "iterations"),
                                          r_list_double(settings, "tolerance"),
                                          r_list_double(settings, "min_variance"),
                                          r_int(threads, "threads"), REAL(fitted),
                                          INTEGER(iterations), REAL(loglik));
    r_stop_on_status(st, "mixture prior refit");
    UNPROTECT(1);
    return res;
}

static cs_kernels read_kernels(SEXP kernels)
{
    int k = r_int(kernels, "kernels");
    if (k != CS_KERNELS_FASTEST && k != CS_KERNELS_PORTABLE)
        error("internal error: 'kernels' must be 0 (fastest) or 1 (portable)");
    return (cs_kernels) k;
}

SEXP causalmix_predict(SEXP model, SEXP x, SEXP miss, SEXP kernels, SEXP threads)
{
    cs_causalmix mdl;
    r_read_causalmix(model, &mdl, 1);
    if (!isMatrix(x)) error("internal error: 'x' must be a matrix");
    int n = nrows(x);
    check_matrix(x, n, mdl.spec.p, "x");
    check_matrix(miss, n, mdl.spec.m, "miss");
    double yc = r_list_double(model, "y_center");
    double ys = r_list_double(model, "y_scale");
    SEXP out = PROTECT(allocMatrix(REALSXP, n, cs_outcome_summaries(&mdl)));
    cs_status st = cs_causalmix_predict(&mdl, n, REAL(x), REAL(miss), yc, ys,
                                        read_kernels(kernels), r_int(threads, "threads"),
                                        REAL(out));
    r_stop_on_status(st, "causalmix prediction");
    UNPROTECT(1);
    return out;
}

SEXP causalmix_draw(SEXP model, SEXP decoding, SEXP n_, SEXP seed, SEXP offset_, SEXP kernels,
                    SEXP threads, SEXP summaries)
{
    cs_causalmix mdl;
    r_read_causalmix(model, &mdl, 1);
    int n = r_int(n_, "n"), p = mdl.spec.p;
    double offset = r_double(offset_, "offset");
    if (n < 0 || offset < 0) error("internal error: negative size or offset");
    if (TYPEOF(decoding) != VECSXP || LENGTH(decoding) != p)
        error("internal error: 'decoding' must be a list with one element per covariate");
    double yc = r_list_double(model, "y_center");
    double ys = r_list_double(model, "y_scale");
    const char *names[] = { "columns", "eta", "mu0", "mu1", "sd0", "sd1", "mass0", "mass1",
                            "loc0", "loc1", "scale0", "scale1", "" };
    int n_res = r_int(summaries, "summaries") ? cs_outcome_summaries(&mdl) : 0;
    names[1 + n_res] = "";
    SEXP res = PROTECT(mkNamed(VECSXP, names));
    SEXP columns = allocVector(VECSXP, p);
    SET_VECTOR_ELT(res, 0, columns);
    setAttrib(columns, R_NamesSymbol, getAttrib(decoding, R_NamesSymbol));
    cs_draw_output out;
    out.columns = (cs_column_out *) R_alloc(p, sizeof(cs_column_out));
    for (int j = 0; j < p; j++) {
        int discrete = mdl.spec.type[j] == CS_COL_BINARY || mdl.spec.type[j] == CS_COL_CATEGORICAL;
        SET_VECTOR_ELT(columns, j, r_column_alloc(VECTOR_ELT(decoding, j),
                                                  discrete ? mdl.spec.n_levels[j] : 0, n,
                                                  "a covariate", &out.columns[j]));
    }
    for (int k = 0; k < CS_SUMMARIES_MASS; k++) out.pred[k] = NULL;
    out.any_pred = n_res > 0;
    for (int k = 0; k < n_res; k++) {
        SEXP v = r_alloc_output(REALSXP, n);
        SET_VECTOR_ELT(res, k + 1, v);
        out.pred[k] = REAL(v);
    }
    cs_status st = cs_causalmix_draw(&mdl, n, r_seed(seed), (uint64_t) offset, yc, ys,
                                     read_kernels(kernels), r_int(threads, "threads"), &out,
                                     r_interrupt_pending);
    r_stop_on_status(st, "causalmix draws");
    for (int j = 0; j < p; j++)
        SET_VECTOR_ELT(columns, j,
                       r_column_finish(VECTOR_ELT(columns, j), VECTOR_ELT(decoding, j)));
    UNPROTECT(1);
    return res;
}
