/* CausalMix engine: training (see vae.h); prediction and draws are in causalmix_draw.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vae.h"
#include "threads.h"

#define LOG_2PI 1.8378770664093454836
#define SQRT_2 1.4142135623730950488
#define INV_SQRT_2PI 0.39894228040143267794

/* ------------------------------------------------------------------ small numerics */

static double softplus(double a) { return a > 0 ? a + log1p(exp(-a)) : log1p(exp(a)); }

static double sigmoid(double a)
{
    if (a >= 0) return 1.0 / (1.0 + exp(-a));
    double e = exp(a);
    return e / (1.0 + e);
}

static double bound_lv(double raw) { return CS_LV_BOUND * tanh(raw / CS_LV_BOUND); }
static double bound_lv_slope(double lv) { double r = lv / CS_LV_BOUND; return 1.0 - r * r; }
static double norm_pdf(double x) { return INV_SQRT_2PI * exp(-0.5 * x * x); }
static double norm_cdf(double x) { return 0.5 * erfc(-x / SQRT_2); }
static double norm_upper(double x) { return 0.5 * erfc(x / SQRT_2); }

static int head_width(const cs_table_spec *s, int j)
{
    switch (s->type[j]) {
    case CS_COL_CONTINUOUS: case CS_COL_COUNT: return 2;
    case CS_COL_SEMICONTINUOUS: return 3;
    case CS_COL_BINARY: return 1;
    default: return s->n_levels[j];
    }
}

int cs_head_width(const cs_table_spec *s, int j) { return head_width(s, j); }

int cs_feature_width(const cs_table_spec *s)
{
    int w = s->m;
    for (int j = 0; j < s->p; j++) w += s->type[j] == CS_COL_CATEGORICAL ? s->n_levels[j] : 1;
    return w;
}

int cs_decoder_width(const cs_table_spec *s)
{
    int w = s->m;
    for (int j = 0; j < s->p; j++) w += head_width(s, j);
    return w;
}

int cs_prior_size(int n_components, int latent) { return n_components * (1 + 2 * latent); }

void cs_features_row(const cs_table_spec *s, const double *x, const double *miss, double *out)
{
    int k = 0;
    for (int j = 0; j < s->p; j++) {
        switch (s->type[j]) {
        case CS_COL_BINARY: out[k++] = x[j]; break;
        case CS_COL_CATEGORICAL: {
            int K = s->n_levels[j], code = (int) x[j];
            for (int l = 0; l < K; l++) out[k + l] = (l == code) ? 1.0 : 0.0;
            k += K;
            break;
        }
        default: out[k++] = (x[j] - s->center[j]) / s->scale[j];
        }
    }
    for (int r = 0; r < s->m; r++) out[k++] = miss[r];
}

/* ------------------------------------------------------------------ decoder likelihood */

/* Gaussian negative log-likelihood of standardised value v given mean mu and raw log-variance;
 * adds gradients to d_mu, d_raw. */
static double gauss_nll(double v, double mu, double raw, double *d_mu, double *d_raw)
{
    double lv = bound_lv(raw), prec = exp(-lv), r = v - mu;
    *d_mu += -r * prec;
    *d_raw += 0.5 * (1.0 - r * r * prec) * bound_lv_slope(lv);
    return 0.5 * (LOG_2PI + lv + r * r * prec);
}

/* Count: a Gaussian on the raw scale discretised to unit bins and censored at the observed
 * bounds, so P(k) = Phi(b) - Phi(a) with a = -inf at the lower bound and b = +inf at the upper.
 * Parameters are on the standardised scale: mu_raw = center + scale * mu, sd_raw = scale * exp(lv / 2). */
static double count_nll(double k, double mu, double raw, double center, double scale,
                        double lower, double upper, double *d_mu, double *d_raw)
{
    double lv = bound_lv(raw), sd = scale * exp(0.5 * lv), m = center + scale * mu;
    double a = (k - 0.5 - m) / sd, b = (k + 0.5 - m) / sd;
    int open_a = k <= lower, open_b = k >= upper;
    double P;
    if (open_a && open_b) return 0.0;
    if (open_a) P = norm_cdf(b);
    else if (open_b) P = norm_upper(a);
    else if (a > 0) P = norm_upper(a) - norm_upper(b);
    else P = norm_cdf(b) - norm_cdf(a);
    if (!(P > 1e-12)) {
        /* far tail: the bin probability is the density at k (bin width 1) */
        double v = (k - m) / sd;
        *d_mu += -v / sd * scale;
        *d_raw += 0.5 * (1.0 - v * v) * bound_lv_slope(lv);
        return 0.5 * LOG_2PI + log(sd) + 0.5 * v * v;
    }
    double pa = open_a ? 0.0 : norm_pdf(a), pb = open_b ? 0.0 : norm_pdf(b);
    double apa = open_a ? 0.0 : a * pa, bpb = open_b ? 0.0 : b * pb;
    /* dP/dm = (phi(a) - phi(b)) / sd; dP/dsd = (a phi(a) - b phi(b)) / sd; dsd/dlv = sd / 2 */
    *d_mu += -(pa - pb) / sd * scale / P;
    *d_raw += -0.5 * (apa - bpb) / P * bound_lv_slope(lv);
    return -log(P);
}

/* Negative log-likelihood of one row under the decoder output `out`; writes the gradient
 * with respect to `out` into d (overwritten). */
static double decoder_nll(const cs_table_spec *s, const double *out, const double *x,
                          const double *miss, double *d)
{
    double nll = 0.0;
    int off = 0, W = cs_decoder_width(s);
    memset(d, 0, sizeof(double) * W);
    for (int j = 0; j < s->p; j++) {
        int w = head_width(s, j);
        int observed = !(s->miss_index[j] >= 0 && miss[s->miss_index[j]] > 0.5);
        if (observed) {
            const double *o = out + off;
            double *g = d + off;
            switch (s->type[j]) {
            case CS_COL_CONTINUOUS:
                nll += gauss_nll((x[j] - s->center[j]) / s->scale[j], o[0], o[1], g, g + 1);
                break;
            case CS_COL_COUNT:
                nll += count_nll(x[j], o[0], o[1], s->center[j], s->scale[j], s->lower[j],
                                 s->upper[j], g, g + 1);
                break;
            case CS_COL_SEMICONTINUOUS: {
                double a = o[0];
                if (x[j] == s->point_mass[j]) {
                    nll += softplus(-a);
                    g[0] += sigmoid(a) - 1.0;
                } else {
                    nll += softplus(a);
                    g[0] += sigmoid(a);
                    nll += gauss_nll((x[j] - s->center[j]) / s->scale[j], o[1], o[2], g + 1, g + 2);
                }
                break;
            }
            case CS_COL_BINARY: {
                double a = o[0], v = x[j];
                nll += softplus(a) - v * a;
                g[0] += sigmoid(a) - v;
                break;
            }
            default: {
                int K = w, code = (int) x[j];
                double mx = o[0], sum = 0.0;
                for (int l = 1; l < K; l++) if (o[l] > mx) mx = o[l];
                for (int l = 0; l < K; l++) sum += exp(o[l] - mx);
                nll += log(sum) + mx - o[code];
                for (int l = 0; l < K; l++) g[l] += exp(o[l] - mx) / sum - (l == code ? 1.0 : 0.0);
            }
            }
        }
        off += w;
    }
    for (int r = 0; r < s->m; r++) {
        double a = out[off + r], v = miss[r];
        nll += softplus(a) - v * a;
        d[off + r] = sigmoid(a) - v;
    }
    return nll;
}

/* ------------------------------------------------------------------ prior */

/* -log p(z) under the mixture prior; adds d(-log p)/dz * w into dz (if not NULL) and the
 * gradient with respect to the prior parameters * w into gprior (if not NULL).
 * resp: K scratch doubles. */
static double prior_nll(const double *prior, int K, int L, const double *z, double *resp,
                        double w, double *dz, double *gprior)
{
    const double *logit = prior, *mean = prior + K, *logvar = prior + K + K * L;
    double mx = logit[0], lse = 0.0;
    for (int k = 1; k < K; k++) if (logit[k] > mx) mx = logit[k];
    for (int k = 0; k < K; k++) lse += exp(logit[k] - mx);
    lse = mx + log(lse);
    double best = -INFINITY;
    for (int k = 0; k < K; k++) {
        double lp = logit[k] - lse;
        for (int l = 0; l < L; l++) {
            double v = logvar[k * L + l], r = z[l] - mean[k * L + l];
            lp += -0.5 * (LOG_2PI + v + r * r * exp(-v));
        }
        resp[k] = lp;
        if (lp > best) best = lp;
    }
    double sum = 0.0;
    for (int k = 0; k < K; k++) { resp[k] = exp(resp[k] - best); sum += resp[k]; }
    for (int k = 0; k < K; k++) resp[k] /= sum;
    double logp = best + log(sum);
    if (dz || gprior) {
        for (int k = 0; k < K; k++) {
            double rk = resp[k];
            if (gprior) gprior[k] += -(rk - exp(logit[k] - lse)) * w;
            for (int l = 0; l < L; l++) {
                double v = logvar[k * L + l], prec = exp(-v), r = z[l] - mean[k * L + l];
                if (dz) dz[l] += rk * r * prec * w;
                if (gprior) {
                    gprior[K + k * L + l] += -rk * r * prec * w;
                    gprior[K + K * L + k * L + l] += 0.5 * rk * (1.0 - r * r * prec) * w;
                }
            }
        }
    }
    return -logp;
}

/* ------------------------------------------------------------------ training */

typedef struct {
    double *params, *best, *grad;
    cs_mlp_work work;
    cs_adam adam;
} net_state;

static cs_status net_state_alloc(net_state *st, const cs_mlp *net, int batch, double lr)
{
    memset(st, 0, sizeof(*st));
    st->params = net->params;
    st->best = malloc(sizeof(double) * net->n_params);
    st->grad = malloc(sizeof(double) * net->n_params);
    if (!st->best || !st->grad) return CS_ERR_NOMEM;
    memcpy(st->best, net->params, sizeof(double) * net->n_params);
    if (cs_mlp_work_alloc(&st->work, net, batch) != CS_OK) return CS_ERR_NOMEM;
    if (cs_adam_alloc(&st->adam, net->n_params, lr, 0.9, 0.999, 1e-8, 0.0) != CS_OK)
        return CS_ERR_NOMEM;
    return CS_OK;
}

static void net_state_free(net_state *st)
{
    free(st->best);
    free(st->grad);
    cs_mlp_work_free(&st->work);
    cs_adam_free(&st->adam);
}

/* Everything a pass over a batch needs. */
typedef struct {
    cs_causalmix *model;
    const cs_train_settings *set;
    int n, D, W, L, K, q;
    const double *F;          /* D x n features */
    const double *x, *miss, *t, *ys;
    double *xb, *xb2, *eps, *z, *dout, *dz, *denc, *xrow, *mrow, *resp, *dpost;
    net_state enc, dec, prop, out;
    double *prior_best, *prior_grad;
    cs_adam prior_adam;
} trainer;

static void gather_row(const trainer *tr, int i, double *xrow, double *mrow)
{
    const cs_table_spec *s = &tr->model->spec;
    for (int j = 0; j < s->p; j++) xrow[j] = tr->x[(size_t) j * tr->n + i];
    for (int r = 0; r < s->m; r++) mrow[r] = tr->miss[(size_t) r * tr->n + i];
}

/* Loss of the VAE on rows idx[0..B-1] with noise eps (L x B); when update, also computes
 * gradients (mean over the batch) and takes an Adam step. Returns the summed loss. */
static double vae_batch(trainer *tr, const int *idx, int B, int update)
{
    cs_causalmix *mdl = tr->model;
    int L = tr->L, K = tr->K, W = tr->W, D = tr->D;
    double klw = tr->set->kl_weight, inv = 1.0 / B, loss = 0.0;
    for (int b = 0; b < B; b++) memcpy(tr->xb + (size_t) b * D, tr->F + (size_t) idx[b] * D, sizeof(double) * D);
    const double *eo = cs_mlp_forward(&mdl->encoder, &tr->enc.work, tr->xb, B);
    for (int b = 0; b < B; b++)
        for (int l = 0; l < L; l++) {
            double mu = eo[b * 2 * L + l], lv = bound_lv(eo[b * 2 * L + L + l]);
            tr->z[b * L + l] = mu + exp(0.5 * lv) * tr->eps[b * L + l];
        }
    const double *dov = cs_mlp_forward(&mdl->decoder, &tr->dec.work, tr->z, B);
    for (int b = 0; b < B; b++) {
        gather_row(tr, idx[b], tr->xrow, tr->mrow);
        loss += decoder_nll(&mdl->spec, dov + (size_t) b * W, tr->xrow, tr->mrow, tr->dout + (size_t) b * W);
    }
    if (update) {
        memset(tr->dec.grad, 0, sizeof(double) * mdl->decoder.n_params);
        memset(tr->enc.grad, 0, sizeof(double) * mdl->encoder.n_params);
        memset(tr->prior_grad, 0, sizeof(double) * cs_prior_size(K, L));
        for (size_t u = 0; u < (size_t) W * B; u++) tr->dout[u] *= inv;
        cs_mlp_backward(&mdl->decoder, &tr->dec.work, tr->z, B, tr->dout, tr->dec.grad, tr->dz);
    }
    for (int b = 0; b < B; b++) {
        const double *zb = tr->z + b * L, *eb = tr->eps + b * L;
        double logq = 0.0;
        for (int l = 0; l < L; l++) {
            double lv = bound_lv(eo[b * 2 * L + L + l]);
            logq += -0.5 * (LOG_2PI + lv + eb[l] * eb[l]);
        }
        double nlp = prior_nll(mdl->prior, K, L, zb, tr->resp, klw * inv,
                               update ? tr->dz + b * L : NULL,
                               update && tr->set->learn_prior ? tr->prior_grad : NULL);
        loss += klw * (logq + nlp);
        if (update)
            for (int l = 0; l < L; l++) {
                double raw = eo[b * 2 * L + L + l], lv = bound_lv(raw), sd = exp(0.5 * lv);
                double g = tr->dz[b * L + l];
                tr->denc[b * 2 * L + l] = g;
                /* z depends on lv through sd * eps; log q contributes -1/2 per unit of lv */
                tr->denc[b * 2 * L + L + l] = (g * eb[l] * 0.5 * sd - 0.5 * klw * inv) * bound_lv_slope(lv);
            }
    }
    if (update) {
        cs_mlp_backward(&mdl->encoder, &tr->enc.work, tr->xb, B, tr->denc, tr->enc.grad, NULL);
        cs_adam_step(&tr->enc.adam, mdl->encoder.params, tr->enc.grad);
        cs_adam_step(&tr->dec.adam, mdl->decoder.params, tr->dec.grad);
        if (tr->set->learn_prior) cs_adam_step(&tr->prior_adam, mdl->prior, tr->prior_grad);
    }
    return loss;
}

static double prop_batch(trainer *tr, const int *idx, int B, int update)
{
    cs_causalmix *mdl = tr->model;
    int D = tr->D;
    double loss = 0.0;
    for (int b = 0; b < B; b++) memcpy(tr->xb2 + (size_t) b * D, tr->F + (size_t) idx[b] * D, sizeof(double) * D);
    const double *o = cs_mlp_forward(&mdl->propensity, &tr->prop.work, tr->xb2, B);
    for (int b = 0; b < B; b++) {
        double a = o[b], v = tr->t[idx[b]];
        loss += softplus(a) - v * a;
        tr->dpost[b] = (sigmoid(a) - v) / B;
    }
    if (update) {
        memset(tr->prop.grad, 0, sizeof(double) * mdl->propensity.n_params);
        cs_mlp_backward(&mdl->propensity, &tr->prop.work, tr->xb2, B, tr->dpost, tr->prop.grad, NULL);
        cs_adam_step(&tr->prop.adam, mdl->propensity.params, tr->prop.grad);
    }
    return loss;
}

static double outcome_batch(trainer *tr, const int *idx, int B, int update)
{
    cs_causalmix *mdl = tr->model;
    int D = tr->D, q = tr->q, w = 2 * q;
    double loss = 0.0;
    for (int b = 0; b < B; b++) memcpy(tr->xb2 + (size_t) b * D, tr->F + (size_t) idx[b] * D, sizeof(double) * D);
    const double *o = cs_mlp_forward(&mdl->outcome, &tr->out.work, tr->xb2, B);
    for (int b = 0; b < B; b++) {
        int arm = tr->t[idx[b]] > 0.5;
        const double *h = o + (size_t) b * w + arm * q;
        double *g = tr->dpost + (size_t) b * w;
        double v = tr->ys[idx[b]];
        memset(g, 0, sizeof(double) * w);
        if (mdl->outcome_binary) {
            loss += softplus(h[0]) - v * h[0];
            g[arm] = (sigmoid(h[0]) - v) / B;
        } else {
            double dm = 0.0, dr = 0.0;
            loss += gauss_nll(v, h[0], h[1], &dm, &dr);
            g[arm * 2] = dm / B;
            g[arm * 2 + 1] = dr / B;
        }
    }
    if (update) {
        memset(tr->out.grad, 0, sizeof(double) * mdl->outcome.n_params);
        cs_mlp_backward(&mdl->outcome, &tr->out.work, tr->xb2, B, tr->dpost, tr->out.grad, NULL);
        cs_adam_step(&tr->out.adam, mdl->outcome.params, tr->out.grad);
    }
    return loss;
}

/* One batch through the three models (updating those marked in `update`); the VAE runs on
 * one thread while the propensity and outcome networks run on another when teams == 2. */
static void all_batches(trainer *tr, const int *idx, int B, const int *update, int teams,
                        double *l0, double *l1, double *l2)
{
#ifdef _OPENMP
#pragma omp parallel sections num_threads(teams)
#endif
    {
#ifdef _OPENMP
#pragma omp section
#endif
        *l0 = vae_batch(tr, idx, B, update[0]);
#ifdef _OPENMP
#pragma omp section
#endif
        {
            *l1 = prop_batch(tr, idx, B, update[1]);
            *l2 = outcome_batch(tr, idx, B, update[2]);
        }
    }
    (void) teams;
}

static void shuffle(int *a, int n, cs_rng *rng)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int) (cs_rng_unif(rng) * (i + 1));
        if (j > i) j = i;
        int tmp = a[i]; a[i] = a[j]; a[j] = tmp;
    }
}

/* Noise for the held-out rows is keyed by the row, so every epoch is scored on the same draw. */
static void fill_eps_rows(double *eps, const int *idx, int B, int L, uint64_t seed)
{
    for (int b = 0; b < B; b++) {
        cs_rng rng;
        cs_rng_init(&rng, seed ^ 0x5eedfacecafeULL, (uint64_t) idx[b]);
        for (int l = 0; l < L; l++) eps[b * L + l] = cs_rng_norm(&rng);
    }
}

void cs_causalmix_init(cs_causalmix *mdl, uint64_t seed)
{
    cs_rng rng;
    cs_rng_init(&rng, seed, 1000); cs_mlp_init_params(&mdl->encoder, &rng);
    cs_rng_init(&rng, seed, 1001); cs_mlp_init_params(&mdl->decoder, &rng);
    cs_rng_init(&rng, seed, 1002); cs_mlp_init_params(&mdl->propensity, &rng);
    cs_rng_init(&rng, seed, 1003); cs_mlp_init_params(&mdl->outcome, &rng);
    int K = mdl->n_components, L = mdl->latent;
    cs_rng_init(&rng, seed, 1004);
    for (int k = 0; k < K; k++) mdl->prior[k] = 0.0;
    for (int u = 0; u < K * L; u++) {
        mdl->prior[K + u] = K > 1 ? cs_rng_norm(&rng) : 0.0;
        mdl->prior[K + K * L + u] = 0.0;
    }
}

cs_status cs_causalmix_train(cs_causalmix *mdl, const cs_train_settings *set, int n,
                             const double *x, const double *miss, const double *t,
                             const double *y, int threads, double *history, int *epochs_run,
                             int *best_epoch, cs_interrupt_fn interrupt,
                             cs_train_progress_fn progress, void *progress_context)
{
    /* the VAE and the two nuisance networks are independent: with 2 threads they train side
     * by side on the same batch; each network's arithmetic is unchanged, so the fit does not
     * depend on the thread count */
    int teams = cs_threads(threads) >= 2 ? 2 : 1;
    const cs_table_spec *s = &mdl->spec;
    trainer tr;
    memset(&tr, 0, sizeof(tr));
    tr.model = mdl; tr.set = set; tr.n = n;
    tr.D = cs_feature_width(s); tr.W = cs_decoder_width(s);
    tr.L = mdl->latent; tr.K = mdl->n_components; tr.q = mdl->outcome_binary ? 1 : 2;
    tr.x = x; tr.miss = miss; tr.t = t; tr.ys = y;
    int B = set->batch_size, n_valid = (int) floor(n * set->validation_share), n_train = n - n_valid;
    if (mdl->encoder.sizes[0] != tr.D || mdl->encoder.sizes[mdl->encoder.n_layers] != 2 * tr.L ||
        mdl->decoder.sizes[0] != tr.L || mdl->decoder.sizes[mdl->decoder.n_layers] != tr.W ||
        mdl->propensity.sizes[0] != tr.D || mdl->propensity.sizes[mdl->propensity.n_layers] != 1 ||
        mdl->outcome.sizes[0] != tr.D || mdl->outcome.sizes[mdl->outcome.n_layers] != 2 * tr.q ||
        n_train < 1 || B < 1)
        return CS_ERR_ARGUMENT;
    if (B > n_train) B = n_train;
    int KL = cs_prior_size(tr.K, tr.L), wmax = tr.W > 2 * tr.q ? tr.W : 2 * tr.q;
    cs_status st = CS_OK;
    double *F = malloc(sizeof(double) * (size_t) tr.D * n);
    int *order = malloc(sizeof(int) * n);
    tr.xb = malloc(sizeof(double) * (size_t) tr.D * B);
    tr.xb2 = malloc(sizeof(double) * (size_t) tr.D * B);
    tr.eps = malloc(sizeof(double) * (size_t) tr.L * B);
    tr.z = malloc(sizeof(double) * (size_t) tr.L * B);
    tr.dz = malloc(sizeof(double) * (size_t) tr.L * B);
    tr.denc = malloc(sizeof(double) * (size_t) 2 * tr.L * B);
    tr.dout = malloc(sizeof(double) * (size_t) wmax * B);
    tr.dpost = malloc(sizeof(double) * (size_t) 2 * tr.q * B);
    tr.xrow = malloc(sizeof(double) * (s->p + 1));
    tr.mrow = malloc(sizeof(double) * (s->m + 1));
    tr.resp = malloc(sizeof(double) * tr.K);
    tr.prior_best = malloc(sizeof(double) * KL);
    tr.prior_grad = malloc(sizeof(double) * KL);
    if (!F || !order || !tr.xb || !tr.xb2 || !tr.eps || !tr.z || !tr.dz || !tr.denc || !tr.dout ||
        !tr.dpost || !tr.xrow || !tr.mrow || !tr.resp || !tr.prior_best || !tr.prior_grad) {
        st = CS_ERR_NOMEM;
        goto done;
    }
    tr.F = F;
    for (int i = 0; i < n; i++) {
        gather_row(&tr, i, tr.xrow, tr.mrow);
        cs_features_row(s, tr.xrow, tr.mrow, F + (size_t) i * tr.D);
    }
    memcpy(tr.prior_best, mdl->prior, sizeof(double) * KL);
    if ((st = net_state_alloc(&tr.enc, &mdl->encoder, B, set->learning_rate)) != CS_OK ||
        (st = net_state_alloc(&tr.dec, &mdl->decoder, B, set->learning_rate)) != CS_OK ||
        (st = net_state_alloc(&tr.prop, &mdl->propensity, B, set->learning_rate)) != CS_OK ||
        (st = net_state_alloc(&tr.out, &mdl->outcome, B, set->learning_rate)) != CS_OK ||
        (st = cs_adam_alloc(&tr.prior_adam, KL, set->learning_rate, 0.9, 0.999, 1e-8, 0.0)) != CS_OK)
        goto done;

    /* split: the first n_valid rows of a seeded permutation are held out */
    cs_rng rng;
    cs_rng_init(&rng, set->seed, 0);
    for (int i = 0; i < n; i++) order[i] = i;
    shuffle(order, n, &rng);
    int *valid = order, *train = order + n_valid;

    double best[3] = { INFINITY, INFINITY, INFINITY };
    int waited[3] = { 0, 0, 0 }, active[3] = { 1, 1, 1 };
    best_epoch[0] = best_epoch[1] = best_epoch[2] = 0;
    time_t last_check = time(NULL);
    int epoch;
    for (epoch = 0; epoch < set->epochs; epoch++) {
        double tl[3] = { 0, 0, 0 }, vl[3] = { NAN, NAN, NAN };
        cs_rng_init(&rng, set->seed, 1 + (uint64_t) epoch);
        shuffle(train, n_train, &rng);
        for (int start = 0; start < n_train; start += B) {
            int nb = n_train - start < B ? n_train - start : B;
            const int *idx = train + start;
            for (int u = 0; u < tr.L * nb; u++) tr.eps[u] = cs_rng_norm(&rng);
            double l0 = 0, l1 = 0, l2 = 0;
            all_batches(&tr, idx, nb, active, teams, &l0, &l1, &l2);
            tl[0] += l0; tl[1] += l1; tl[2] += l2;
            /* wall-clock seconds, so that a busy machine does not delay Ctrl-C */
            if (interrupt && time(NULL) != last_check) {
                last_check = time(NULL);
                if (interrupt()) { st = CS_ERR_INTERRUPTED; goto done; }
            }
        }
        for (int k = 0; k < 3; k++) tl[k] /= n_train;
        if (!isfinite(tl[0]) || !isfinite(tl[1]) || !isfinite(tl[2])) { st = CS_ERR_NONFINITE; goto done; }
        if (n_valid > 0) {
            vl[0] = vl[1] = vl[2] = 0.0;
            for (int start = 0; start < n_valid; start += B) {
                int nb = n_valid - start < B ? n_valid - start : B;
                const int *idx = valid + start;
                fill_eps_rows(tr.eps, idx, nb, tr.L, set->seed);
                double l0 = 0, l1 = 0, l2 = 0;
                const int frozen[3] = { 0, 0, 0 };
                all_batches(&tr, idx, nb, frozen, teams, &l0, &l1, &l2);
                vl[0] += l0; vl[1] += l1; vl[2] += l2;
            }
            for (int k = 0; k < 3; k++) vl[k] /= n_valid;
        }
        double *hist = history;
        int E = set->epochs;
        for (int k = 0; k < 3; k++) {
            hist[(2 * k) * E + epoch] = tl[k];
            hist[(2 * k + 1) * E + epoch] = vl[k];
        }
        /* early stopping per model on the held-out loss (training loss without a held-out set) */
        for (int k = 0; k < 3; k++) {
            if (!active[k]) continue;
            double monitor = n_valid > 0 ? vl[k] : tl[k];
            if (monitor < best[k] - 1e-6 * fabs(best[k]) || !isfinite(best[k])) {
                best[k] = monitor; waited[k] = 0; best_epoch[k] = epoch + 1;
                if (k == 0) {
                    memcpy(tr.enc.best, mdl->encoder.params, sizeof(double) * mdl->encoder.n_params);
                    memcpy(tr.dec.best, mdl->decoder.params, sizeof(double) * mdl->decoder.n_params);
                    memcpy(tr.prior_best, mdl->prior, sizeof(double) * KL);
                } else if (k == 1) {
                    memcpy(tr.prop.best, mdl->propensity.params, sizeof(double) * mdl->propensity.n_params);
                } else {
                    memcpy(tr.out.best, mdl->outcome.params, sizeof(double) * mdl->outcome.n_params);
                }
            } else if (++waited[k] >= set->patience) {
                active[k] = 0;
            }
        }
        if (progress) {
            double losses[6] = { tl[0], vl[0], tl[1], vl[1], tl[2], vl[2] };
            progress(progress_context, epoch + 1, losses);
        }
        if (!active[0] && !active[1] && !active[2]) { epoch++; break; }
        if (interrupt && interrupt()) { st = CS_ERR_INTERRUPTED; goto done; }
    }
    *epochs_run = epoch;
    memcpy(mdl->encoder.params, tr.enc.best, sizeof(double) * mdl->encoder.n_params);
    memcpy(mdl->decoder.params, tr.dec.best, sizeof(double) * mdl->decoder.n_params);
    memcpy(mdl->prior, tr.prior_best, sizeof(double) * KL);
    memcpy(mdl->propensity.params, tr.prop.best, sizeof(double) * mdl->propensity.n_params);
    memcpy(mdl->outcome.params, tr.out.best, sizeof(double) * mdl->outcome.n_params);

done:
    free(F); free(order); free(tr.xb); free(tr.xb2); free(tr.eps); free(tr.z); free(tr.dz); free(tr.denc);
    free(tr.dout); free(tr.dpost); free(tr.xrow); free(tr.mrow); free(tr.resp);
    free(tr.prior_best); free(tr.prior_grad);
    net_state_free(&tr.enc); net_state_free(&tr.dec); net_state_free(&tr.prop);
    net_state_free(&tr.out);
    cs_adam_free(&tr.prior_adam);
    return st;
}
