/* Glue for CausalBGM: converts the R-side specification and data, runs the engine (bgm.c,
 * mcmc.c) and returns plain R vectors, so a fit survives saveRDS(). */
#include <limits.h>
#include <string.h>
#include <R.h>
#include <Rinternals.h>
#include <R_ext/Print.h>
#include <stdio.h>
#include <stdint.h>
#include "r_entry_points.h"
#include "r_util.h"
#include "bgm.h"
#include "mcmc.h"

/* Widths of a network: input, hidden (from an R integer vector), output. */
static int net_sizes(SEXP hidden, int in, int out, int *sizes, const char *name)
{
    if (!isInteger(hidden)) error("internal: `hidden$%s` must be an integer vector", name);
    int nh = LENGTH(hidden);
    if (nh + 1 > BNN_MAX_LAYERS) error("`hidden$%s` has too many layers (at most %d)", name,
                                       BNN_MAX_LAYERS - 1);
    sizes[0] = in;
    for (int l = 0; l < nh; l++) {
        int w = INTEGER(hidden)[l];
        if (w == NA_INTEGER || w < 1 || w > BNN_MAX_WIDTH)
            errorcall(R_NilValue, "`hidden$%s` widths must lie between 1 and %d", name,
                      BNN_MAX_WIDTH);
        sizes[l + 1] = w;
    }
    sizes[nh + 1] = out;
    return nh + 1;
}

typedef struct {
    int sg[BNN_MAX_LAYERS + 1], sh[BNN_MAX_LAYERS + 1];
    int sf[BNN_MAX_LAYERS + 1], se[BNN_MAX_LAYERS + 1];
    int lg, lh, lf, le;
} model_shape;

/* Reads spec = list(z_dims, p, binary, hidden_g, hidden_h, hidden_f, hidden_e, leaky). */
static void read_spec(SEXP spec, bgm_model *m, model_shape *sh)
{
    memset(m, 0, sizeof(*m));
    SEXP zd = r_list_get(spec, "z_dims");
    if (!isInteger(zd) || LENGTH(zd) != 4) error("internal: z_dims must be integer(4)");
    /* bounded before any size is formed from them */
    double total = 0;
    for (int k = 0; k < 4; k++) {
        int d = INTEGER(zd)[k];
        if (d == NA_INTEGER || d < 0)
            errorcall(R_NilValue, "`z_dims` must be whole numbers from 0 to %d", BGM_MAX_LATENT);
        total += d;
    }
    if (total > BGM_MAX_LATENT)
        errorcall(R_NilValue, "`z_dims` must add up to at most %d latent dimensions, not %.0f",
                  BGM_MAX_LATENT, total);
    m->dz = 0;
    for (int k = 0; k < 4; k++) { m->d[k] = INTEGER(zd)[k]; m->dz += m->d[k]; }
    m->p = r_list_int(spec, "p");
    if (m->p < 1 || m->p > BNN_MAX_WIDTH)
        error("the number of covariates must lie between 1 and %d, not %d", BNN_MAX_WIDTH, m->p);
    m->binary = r_list_int(spec, "binary");
    sh->lg = net_sizes(r_list_get(spec, "hidden_g"), m->dz, m->p + 1, sh->sg, "g");
    sh->lh = net_sizes(r_list_get(spec, "hidden_h"), m->d[0] + m->d[2], 2, sh->sh, "h");
    /* dose_asinh = c(shift, scale): f's second dose input (absent in binary fits) */
    SEXP da = r_list_get(spec, "dose_asinh");
    m->n_dose = 1;
    if (!isNull(da)) {
        if (!isReal(da) || LENGTH(da) != 2 || !(REAL(da)[1] > 0))
            error("internal: dose_asinh must be c(shift, scale > 0)");
        m->n_dose = 2;
        m->dose_shift = REAL(da)[0];
        m->dose_scale = REAL(da)[1];
    }
    /* arm_heads (binary fits; absent in fits saved before it existed): one outcome mean per
     * arm */
    SEXP ah = r_list_get(spec, "arm_heads");
    m->arm_heads = isNull(ah) ? 0 : r_int(ah, "arm_heads");
    if (m->arm_heads && !m->binary) error("internal: arm heads need a binary treatment");
    /* outcome_covariates (absent in fits saved before it existed): f also reads V */
    SEXP oc = r_list_get(spec, "outcome_covariates");
    m->f_reads_v = isNull(oc) ? 0 : r_int(oc, "outcome_covariates");
    /* outcome_constant_variance (absent in older fits): one outcome variance */
    SEXP ov = r_list_get(spec, "outcome_constant_variance");
    m->f_const_var = isNull(ov) ? 0 : r_int(ov, "outcome_constant_variance");
    sh->lf = net_sizes(r_list_get(spec, "hidden_f"), bgm_f_width(m), bgm_f_out(m), sh->sf, "f");
    sh->le = net_sizes(r_list_get(spec, "hidden_e"), m->p, m->dz, sh->se, "e");
}

static SEXP setup_nets(bgm_model *m, model_shape *sh, double leaky, SEXP params, int alloc)
{
    /* params: list(g, h, f, e); when alloc, fresh vectors are created */
    const int *szs[4] = { sh->sg, sh->sh, sh->sf, sh->se };
    int layers[4] = { sh->lg, sh->lh, sh->lf, sh->le };
    int bayes[4] = { 1, 1, 1, 0 };
    int extra[4] = { m->p, 1, 1, 0 };
    bnn_net *nets[4] = { &m->g, &m->h, &m->f, &m->e };
    const char *names[4] = { "g", "h", "f", "e" };
    SEXP out = params;
    if (alloc) {
        out = PROTECT(allocVector(VECSXP, 4));
        SEXP nm = PROTECT(allocVector(STRSXP, 4));
        for (int k = 0; k < 4; k++) SET_STRING_ELT(nm, k, mkChar(names[k]));
        setAttrib(out, R_NamesSymbol, nm);
        UNPROTECT(1);
    }
    for (int k = 0; k < 4; k++) {
        int np = bnn_count_params(layers[k], szs[k], bayes[k]);
        if (np < 0)
            errorcall(R_NilValue, "`hidden$%s` describes a network with more than %d weights; "
                      "use fewer or narrower layers", names[k], BNN_MAX_PARAMS);
        np += extra[k];
        SEXP v;
        if (alloc) {
            v = allocVector(REALSXP, np);
            SET_VECTOR_ELT(out, k, v);
        } else {
            v = r_list_get(params, names[k]);
            if (isNull(v) && k == 3) continue;
            if (!isReal(v) || LENGTH(v) != np)
                error("the fitted weights of network `%s` do not match its architecture "
                      "(expected %d values)", names[k], np);
        }
        if (bnn_setup(nets[k], layers[k], szs[k], bayes[k], leaky, REAL(v)) != CS_OK)
            error("invalid network sizes for `%s`", names[k]);
        if (k == 3) m->has_encoder = 1;
    }
    m->inv_g = (double *) R_alloc(m->p, sizeof(double));
    if (!alloc) bgm_refresh_heads(m);
    if (alloc) UNPROTECT(1);
    return out;
}

/* The covariates arrive as a list of p numeric columns (the caller's own vectors, not a
 * copy) with their centres and scales; the engine wants them standardised, one unit per
 * column, so this is the only copy of the covariates made for a fit. Rows are written in
 * blocks so the strided writes stay in cache. */
static double *standardised_units(SEXP columns, SEXP center, SEXP scale, int p_expected,
                                  int *n_out)
{
    if (TYPEOF(columns) != VECSXP || LENGTH(columns) != p_expected || !isReal(center) ||
        !isReal(scale) || LENGTH(center) != p_expected || LENGTH(scale) != p_expected)
        error("internal: expected %d covariate columns with their centres and scales",
              p_expected);
    int p = p_expected;
    R_xlen_t n_long = p > 0 ? XLENGTH(VECTOR_ELT(columns, 0)) : 0;
    if (n_long > INT_MAX) error("internal: too many rows");
    int n = (int) n_long;
    for (int j = 0; j < p; j++) {
        SEXP col = VECTOR_ELT(columns, j);
        if ((!isReal(col) && !isInteger(col)) || XLENGTH(col) != n)
            error("internal: covariate column %d must be numeric of length %d", j + 1, n);
    }
    double *t = (double *) R_alloc((size_t) n * p, sizeof(double));
    const double *c = REAL(center), *s = REAL(scale);
    const int block = 256;
    for (int start = 0; start < n; start += block) {
        int end = start + block < n ? start + block : n;
        for (int j = 0; j < p; j++) {
            SEXP col = VECTOR_ELT(columns, j);
            double inv = 1.0 / s[j];
            if (isReal(col)) {
                const double *v = REAL(col);
                for (int i = start; i < end; i++) t[(size_t) i * p + j] = (v[i] - c[j]) * inv;
            } else {
                const int *v = INTEGER(col);
                for (int i = start; i < end; i++)
                    t[(size_t) i * p + j] = ((double) v[i] - c[j]) * inv;
            }
        }
    }
    *n_out = n;
    return t;
}

/* x: n x 2 (the treatment as the outcome network's input, and as the treatment network's
 * target); y: n. */
static void check_treatment_outcome(SEXP x, SEXP y, int n)
{
    if (!isReal(x) || !isMatrix(x) || nrows(x) != n || ncols(x) != 2 || !isReal(y) ||
        LENGTH(y) != n)
        error("internal: x must be a %d x 2 double matrix and y a double vector of length %d",
              n, n);
}

/* The opening every entry point shares: the model's shape from spec, the standardised
 * covariates (p x n, returned) and, unless x is NULL, the treatment and outcome checked. */
static double *read_model_and_units(SEXP spec, SEXP columns, SEXP center, SEXP scale, SEXP x,
                                    SEXP y, bgm_model *m, model_shape *sh, int *n)
{
    read_spec(spec, m, sh);
    double *Vt = standardised_units(columns, center, scale, m->p, n);
    if (!isNull(x)) check_treatment_outcome(x, y, *n);
    return Vt;
}

typedef struct {
    int verbose, n_members;
    r_progress reporter;
} fit_progress;

static void progress_print(void *context, int member, const char *phase, int step, int total,
                           double loss)
{
    fit_progress *fp = context;
    r_progress_step(&fp->reporter, 1);
    if (!fp->verbose) return;
    char who[48] = "";
    if (fp->n_members > 1) snprintf(who, sizeof(who), "fit %d/%d, ", member + 1, fp->n_members);
    if (strcmp(phase, "init") == 0)
        Rprintf("causalbgm: %sencoder initialisation %d/%d, loss %.4f\n", who, step, total,
                loss);
    else
        Rprintf("causalbgm: %sepoch %d/%d, loss %.4f\n", who, step, total, loss);
    R_FlushConsole();
}

/* seeds: 2 x n_fits integer matrix, one engine seed per member (see r_seed()). Returns one
 * list(params, Z, epoch_loss, init_loss, seconds) per member. */
SEXP bgm_fit(SEXP columns, SEXP center, SEXP scale, SEXP x, SEXP y, SEXP spec,
             SEXP settings, SEXP seeds, SEXP progress)
{
    bgm_model m;
    model_shape sh;
    int n;
    double *Vt = read_model_and_units(spec, columns, center, scale, x, y, &m, &sh, &n);
    double leaky = r_list_double(spec, "leaky");
    if (!isInteger(seeds) || XLENGTH(seeds) < 2 || XLENGTH(seeds) % 2 != 0 ||
        XLENGTH(seeds) / 2 > INT_MAX)
        error("internal: the engine seeds must be an integer matrix with 2 rows");
    int n_fits = (int) (XLENGTH(seeds) / 2);

    bgm_settings s;
    R_READ_FIELDS(BGM_SETTINGS_FIELDS, bgm_settings, settings, &s);
    int use_encoder = r_list_int(settings, "use_encoder");
    double init_sd = r_list_double(settings, "init_sd");
    /* fits before the ensemble ran on threads had no `threads` here: one at a time */
    SEXP th = r_list_get(settings, "threads");
    int threads = isNull(th) ? 1 : r_int(th, "threads");
    if (s.epochs < 0 || s.init_iterations < 0 || s.batch_size < 1)
        error("internal: invalid epochs, init_iterations or batch_size");

    int every = s.init_iterations >= 50 ? s.init_iterations / 50 : 1;
    int n_rec = use_encoder ? s.init_iterations / every : 0;
    const char *names[] = { "params", "Z", "epoch_loss", "init_loss", "seconds", "" };
    SEXP out = PROTECT(allocVector(VECSXP, n_fits));
    bgm_member *members = (bgm_member *) R_alloc((size_t) n_fits, sizeof(bgm_member));
    for (int k = 0; k < n_fits; k++) {
        SEXP mb = mkNamed(VECSXP, names);
        SET_VECTOR_ELT(out, k, mb);
        bgm_member *b = &members[k];
        b->model = m;
        SET_VECTOR_ELT(mb, 0, setup_nets(&b->model, &sh, leaky, R_NilValue, 1));
        SET_VECTOR_ELT(mb, 1, allocMatrix(REALSXP, m.dz, n));
        SET_VECTOR_ELT(mb, 2, allocMatrix(REALSXP, 5, s.epochs));
        SET_VECTOR_ELT(mb, 3, allocMatrix(REALSXP, 2, n_rec));
        SET_VECTOR_ELT(mb, 4, allocVector(REALSXP, 1));
        b->Z = REAL(VECTOR_ELT(mb, 1));
        b->hist.epoch_loss = REAL(VECTOR_ELT(mb, 2));
        b->hist.init_loss = REAL(VECTOR_ELT(mb, 3));
        b->hist.init_every = every;
        b->hist.n_init_records = n_rec;
        for (int i = 0; i < 5 * s.epochs; i++) b->hist.epoch_loss[i] = NA_REAL;
        for (int i = 0; i < 2 * n_rec; i++) b->hist.init_loss[i] = NA_REAL;
        const int *sd = INTEGER(seeds) + 2 * (size_t) k;
        b->seed = ((uint64_t) (uint32_t) sd[0] << 32) | (uint64_t) (uint32_t) sd[1];
        b->seconds = NA_REAL;
    }

    fit_progress fp;
    fp.verbose = s.verbose;
    fp.n_members = n_fits;
    r_progress_init(&fp.reporter, progress);
    cs_status st = bgm_train_members(members, n_fits, &s, Vt, REAL(x), REAL(x) + n, REAL(y), n,
                                     use_encoder, init_sd, threads, r_interrupt_pending,
                                     progress_print, &fp);
    r_progress_finish(&fp.reporter);
    r_stop_on_status(st, "causalbgm training");
    for (int k = 0; k < n_fits; k++)
        REAL(VECTOR_ELT(VECTOR_ELT(out, k), 4))[0] = members[k].seconds;
    UNPROTECT(1);
    return out;
}

SEXP bgm_encode(SEXP columns, SEXP center, SEXP scale, SEXP spec, SEXP params)
{
    bgm_model m;
    model_shape sh;
    int n;
    double *Vt = read_model_and_units(spec, columns, center, scale, R_NilValue, R_NilValue, &m,
                                      &sh, &n);
    setup_nets(&m, &sh, r_list_double(spec, "leaky"), params, 0);
    if (!m.has_encoder) error("this fit has no encoder (it was fitted with init = \"random\")");
    SEXP Z = PROTECT(allocMatrix(REALSXP, m.dz, n));
    r_stop_on_status(bgm_encoder_codes(&m, Vt, n, REAL(Z)), "causalbgm encoder");
    UNPROTECT(1);
    return Z;
}

SEXP bgm_predict(SEXP columns, SEXP center, SEXP scale, SEXP x, SEXP y, SEXP spec,
                 SEXP params, SEXP z_start, SEXP settings, SEXP seed, SEXP progress)
{
    bgm_model m;
    model_shape sh;
    int n;
    double *Vt = read_model_and_units(spec, columns, center, scale, x, y, &m, &sh, &n);
    setup_nets(&m, &sh, r_list_double(spec, "leaky"), params, 0);
    const double *zs = NULL;
    if (!isNull(z_start)) {
        if (!isReal(z_start) || XLENGTH(z_start) != (R_xlen_t) m.dz * n)
            error("internal: z_start must be a %d x %d double matrix", m.dz, n);
        zs = REAL(z_start);
    }

    mcmc_settings s;
    const char *sampler = CHAR(STRING_ELT(r_list_get(settings, "sampler"), 0));
    s.sampler = strcmp(sampler, "mala") == 0 ? MCMC_MALA : MCMC_RWM;
    s.burn_in = r_list_int(settings, "burn_in");
    s.n_draws = r_list_int(settings, "n_mcmc");
    SEXP grid = r_list_get(settings, "grid");
    s.n_grid = isNull(grid) ? 0 : LENGTH(grid);
    s.grid = isNull(grid) ? NULL : REAL(grid);
    s.weight_noise = r_list_int(settings, "weight_noise");
    s.weight_sd_scale = r_list_double(settings, "weight_sd_scale");
    s.individual = r_list_int(settings, "individual");
    m.skip_outcome = r_list_int(settings, "skip_outcome");
    if (m.skip_outcome && s.individual)
        error("internal: individual effects need the observed outcome");
    s.prob_lo = r_list_double(settings, "prob_lo");
    s.prob_hi = r_list_double(settings, "prob_hi");
    s.threads = r_list_int(settings, "threads");
    if (!m.binary && s.n_grid < 1) error("internal: a continuous treatment needs a dose grid");

    const char *names[] = { "accept", "scale", "z_mean", "tau_mean", "tau_lo", "tau_hi",
                            "ate_draws", "adrf_draws", "tau_draws", "" };
    SEXP kd = r_list_get(settings, "keep_draws");
    int keep_draws = !isNull(kd) && r_int(kd, "keep_draws");
    SEXP out = PROTECT(mkNamed(VECSXP, names));
    SET_VECTOR_ELT(out, 0, allocVector(REALSXP, n));
    SET_VECTOR_ELT(out, 1, allocVector(REALSXP, n));
    SET_VECTOR_ELT(out, 2, allocMatrix(REALSXP, m.dz, n));
    mcmc_output o;
    memset(&o, 0, sizeof(o));
    o.accept = REAL(VECTOR_ELT(out, 0));
    o.scale = REAL(VECTOR_ELT(out, 1));
    o.z_mean = REAL(VECTOR_ELT(out, 2));
    if (m.binary) {
        for (int k = 3; k < 6; k++) SET_VECTOR_ELT(out, k, allocVector(REALSXP, n));
        SET_VECTOR_ELT(out, 6, allocVector(REALSXP, s.n_draws));
        o.tau_mean = REAL(VECTOR_ELT(out, 3));
        o.tau_lo = REAL(VECTOR_ELT(out, 4));
        o.tau_hi = REAL(VECTOR_ELT(out, 5));
        o.ate_draws = REAL(VECTOR_ELT(out, 6));
        if (keep_draws) {
            SET_VECTOR_ELT(out, 8, allocMatrix(REALSXP, s.n_draws, n));
            o.tau_draws = REAL(VECTOR_ELT(out, 8));
        }
    } else {
        SET_VECTOR_ELT(out, 7, allocMatrix(REALSXP, s.n_grid, s.n_draws));
        o.adrf_draws = REAL(VECTOR_ELT(out, 7));
    }
    r_progress reporter;
    r_progress_init(&reporter, progress);
    cs_status st = bgm_mcmc(&m, Vt, REAL(x), REAL(x) + n, REAL(y), n, zs, &s, r_seed(seed), &o,
                            r_interrupt_pending, r_progress_step, &reporter);
    r_progress_finish(&reporter);
    r_stop_on_status(st, "causalbgm posterior sampling");
    UNPROTECT(1);
    return out;
}
