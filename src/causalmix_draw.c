/* CausalMix prediction and draws (see causalmix_draw.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "causalmix_draw.h"
#include "threads.h"

static double sigmoid(double a)
{
    if (a >= 0) return 1.0 / (1.0 + exp(-a));
    double e = exp(a);
    return e / (1.0 + e);
}

static double bound_lv(double raw) { return CS_LV_BOUND * tanh(raw / CS_LV_BOUND); }

/* Row-at-a-time evaluation of a network for draws and predictions. Weights are transposed
 * once (output-major), so each input adds a scaled contiguous column to the outputs: the loop
 * vectorises across outputs, zero inputs (one-hot codes, ReLU zeros) are skipped, and every
 * output sums its terms in input order, so a row's result never depends on which rows share
 * its block, chunk or thread. */
typedef struct {
    int n_layers;
    const int *sizes;
    const cs_activation *act;
    double slope;
    double *wt[CS_MLP_MAX_LAYERS];     /* owned: n_in x n_out, output index fastest */
    const double *bias[CS_MLP_MAX_LAYERS];
    double *block;                     /* the one allocation behind wt */
    int max_width;
} row_net;

static cs_status row_net_make(const cs_mlp *net, row_net *f)
{
    memset(f, 0, sizeof(*f));
    f->n_layers = net->n_layers;
    f->sizes = net->sizes;
    f->act = net->act;
    f->slope = net->leaky_slope;
    size_t total = 0;
    for (int l = 0; l < net->n_layers; l++) total += (size_t) net->sizes[l] * net->sizes[l + 1];
    f->block = malloc(sizeof(double) * (total ? total : 1));
    if (!f->block) return CS_ERR_NOMEM;
    const double *w = net->params;
    double *dst = f->block;
    for (int l = 0; l < net->n_layers; l++) {
        int n_in = net->sizes[l], n_out = net->sizes[l + 1];
        for (int j = 0; j < n_out; j++)
            for (int k = 0; k < n_in; k++) dst[(size_t) k * n_out + j] = w[(size_t) j * n_in + k];
        f->wt[l] = dst;
        f->bias[l] = w + (size_t) n_in * n_out;
        dst += (size_t) n_in * n_out;
        w += (size_t) n_in * n_out + n_out;
    }
    for (int l = 0; l <= net->n_layers; l++) if (net->sizes[l] > f->max_width) f->max_width = net->sizes[l];
    return CS_OK;
}

static void row_net_free(row_net *f) { free(f->block); f->block = NULL; }

/* nb rows at once: x holds nb rows of sizes[0] values one after the other, out receives nb
 * rows of sizes[n_layers] values; scratch holds 2 * max_width * nb doubles. Every output is
 * bias + sum over inputs in increasing order, whatever nb, so rows evaluated alone or in
 * blocks give identical results; blocks of four rows share each weight load. */
static void row_net_forward_rows(const row_net *f, const double *x, int nb, double *out,
                                 double *scratch)
{
    const double *in = x;
    for (int l = 0; l < f->n_layers; l++) {
        int n_in = f->sizes[l], n_out = f->sizes[l + 1];
        double *o = l == f->n_layers - 1 ? out : scratch + (size_t) (l % 2) * f->max_width * nb;
        const double *b = f->bias[l], *wt = f->wt[l];
        for (int r = 0; r < nb; r++) memcpy(o + (size_t) r * n_out, b, sizeof(double) * n_out);
        int r0 = 0;
        for (; r0 + 4 <= nb; r0 += 4) {
            double *p0 = o + (size_t) r0 * n_out, *p1 = p0 + n_out, *p2 = p1 + n_out, *p3 = p2 + n_out;
            const double *x0 = in + (size_t) r0 * n_in, *x1 = x0 + n_in, *x2 = x1 + n_in, *x3 = x2 + n_in;
            for (int k = 0; k < n_in; k++) {
                const double *w = wt + (size_t) k * n_out;
                double a0 = x0[k], a1 = x1[k], a2 = x2[k], a3 = x3[k];
#ifdef _OPENMP
#pragma omp simd
#endif
                for (int j = 0; j < n_out; j++) {
                    double wj = w[j];
                    p0[j] += wj * a0;
                    p1[j] += wj * a1;
                    p2[j] += wj * a2;
                    p3[j] += wj * a3;
                }
            }
        }
        for (; r0 < nb; r0++) {
            double *p0 = o + (size_t) r0 * n_out;
            const double *x0 = in + (size_t) r0 * n_in;
            for (int k = 0; k < n_in; k++) {
                const double *w = wt + (size_t) k * n_out;
                double a0 = x0[k];
#ifdef _OPENMP
#pragma omp simd
#endif
                for (int j = 0; j < n_out; j++) p0[j] += w[j] * a0;
            }
        }
        size_t total = (size_t) n_out * nb;
        switch (f->act[l]) {
        case CS_ACT_IDENTITY: break;
        case CS_ACT_LEAKY_RELU:
            for (size_t u = 0; u < total; u++) if (o[u] < 0.0) o[u] *= f->slope;
            break;
        case CS_ACT_RELU:
            for (size_t u = 0; u < total; u++) if (o[u] < 0.0) o[u] = 0.0;
            break;
        default:
            for (size_t u = 0; u < total; u++) o[u] = cs_activate(f->act[l], o[u], f->slope);
        }
        in = o;
    }
}

/* One row; scratch: 2 * max_width doubles; out: sizes[n_layers] doubles. */
static void row_net_forward(const row_net *f, const double *x, double *out, double *scratch)
{
    row_net_forward_rows(f, x, 1, out, scratch);
}

typedef struct {
    row_net dec, prop, out;
} row_nets;

static cs_status row_nets_make(const cs_causalmix *mdl, row_nets *r)
{
    memset(r, 0, sizeof(*r));
    if (row_net_make(&mdl->decoder, &r->dec) != CS_OK || row_net_make(&mdl->propensity, &r->prop) != CS_OK ||
        row_net_make(&mdl->outcome, &r->out) != CS_OK)
        return CS_ERR_NOMEM;
    return CS_OK;
}

static void row_nets_free(row_nets *r)
{
    row_net_free(&r->dec); row_net_free(&r->prop); row_net_free(&r->out);
}

static int max_width(const cs_mlp *net)
{
    int w = 0;
    for (int l = 0; l <= net->n_layers; l++) if (net->sizes[l] > w) w = net->sizes[l];
    return w;
}

static int model_scratch(const cs_causalmix *mdl)
{
    int w = max_width(&mdl->encoder);
    if (max_width(&mdl->decoder) > w) w = max_width(&mdl->decoder);
    if (max_width(&mdl->propensity) > w) w = max_width(&mdl->propensity);
    if (max_width(&mdl->outcome) > w) w = max_width(&mdl->outcome);
    return 2 * w;
}

/* Propensity logit and outcome summaries from the network outputs of one row. */
static void outcome_summary(const cs_causalmix *mdl, double prop_logit, const double *head,
                            double y_center, double y_scale, double *res)
{
    res[0] = prop_logit;
    if (mdl->outcome_binary) {
        for (int a = 0; a < 2; a++) {
            double p = sigmoid(head[a]);
            res[1 + a] = p;
            res[3 + a] = sqrt(p * (1.0 - p));
        }
    } else {
        for (int a = 0; a < 2; a++) {
            res[1 + a] = y_center + y_scale * head[2 * a];
            res[3 + a] = y_scale * exp(0.5 * bound_lv(head[2 * a + 1]));
        }
    }
}

static void predict_row(const cs_causalmix *mdl, const row_nets *rn, const double *f,
                        double y_center, double y_scale, double *head, double *scratch,
                        double *res)
{
    double logit;
    row_net_forward(&rn->prop, f, &logit, scratch);
    row_net_forward(&rn->out, f, head, scratch);
    outcome_summary(mdl, logit, head, y_center, y_scale, res);
}

cs_status cs_causalmix_predict(const cs_causalmix *mdl, int n, const double *x,
                               const double *miss, double y_center, double y_scale,
                               int threads, double *out)
{
    const cs_table_spec *s = &mdl->spec;
    int D = cs_feature_width(s), S = model_scratch(mdl);
    int failed = 0;
    row_nets rn;
    if (row_nets_make(mdl, &rn) != CS_OK) { row_nets_free(&rn); return CS_ERR_NOMEM; }
#ifdef _OPENMP
#pragma omp parallel num_threads(cs_threads(threads))
#endif
    {
        double *buf = malloc(sizeof(double) * (size_t) (s->p + s->m + D + 2 * S + 8));
        if (!buf) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
            failed = 1;
        }
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (int i = 0; i < n; i++) {
            if (!buf) continue;
            double *xr = buf, *mr = xr + s->p, *f = mr + s->m, *head = f + D, *scratch = head + S;
            double res[5];
            for (int j = 0; j < s->p; j++) xr[j] = x[(size_t) j * n + i];
            for (int r = 0; r < s->m; r++) mr[r] = miss[(size_t) r * n + i];
            cs_features_row(s, xr, mr, f);
            predict_row(mdl, &rn, f, y_center, y_scale, head, scratch, res);
            for (int k = 0; k < 5; k++) out[(size_t) k * n + i] = res[k];
        }
        free(buf);
    }
    (void) threads;
    row_nets_free(&rn);
    return failed ? CS_ERR_NOMEM : CS_OK;
}

/* Gaussian truncated to [a, b] by rejection; in the rare case the interval sits far in a tail,
 * an exponential approximation of the tail beyond the nearer bound, then uniform. */
static double trunc_norm(cs_rng *rng, double mu, double sd, double a, double b)
{
    for (int tries = 0; tries < 64; tries++) {
        double v = mu + sd * cs_rng_norm(rng);
        if (v >= a && v <= b) return v;
    }
    double edge = mu < a ? a : b, rate = fabs(edge - mu) / (sd * sd);
    if (rate > 0) {
        for (int tries = 0; tries < 16; tries++) {
            double v = edge + (mu < a ? 1.0 : -1.0) * cs_rng_exp(rng) / rate;
            if (v >= a && v <= b) return v;
        }
    }
    return a + (b - a) * cs_rng_unif(rng);
}

/* One covariate row from the decoder output `o`. */
static void draw_row(const cs_table_spec *s, const double *o, cs_rng *rng, double *x, double *miss,
                     double *prob)
{
    int off = 0;
    for (int j = 0; j < s->p; j++) {
        int w = cs_head_width(s, j);
        const double *h = o + off;
        double c = s->center[j], sc = s->scale[j];
        double a = (s->lower[j] - c) / sc, b = (s->upper[j] - c) / sc;
        switch (s->type[j]) {
        case CS_COL_CONTINUOUS:
            x[j] = c + sc * trunc_norm(rng, h[0], exp(0.5 * bound_lv(h[1])), a, b);
            break;
        case CS_COL_COUNT: {
            /* the censored discretised Gaussian of the likelihood: round, bounds absorb the tails */
            double v = floor(c + sc * (h[0] + exp(0.5 * bound_lv(h[1])) * cs_rng_norm(rng)) + 0.5);
            x[j] = v < s->lower[j] ? s->lower[j] : (v > s->upper[j] ? s->upper[j] : v);
            break;
        }
        case CS_COL_SEMICONTINUOUS:
            if (cs_rng_unif(rng) < sigmoid(h[0])) x[j] = s->point_mass[j];
            else x[j] = c + sc * trunc_norm(rng, h[1], exp(0.5 * bound_lv(h[2])), a, b);
            break;
        case CS_COL_BINARY:
            x[j] = cs_rng_unif(rng) < sigmoid(h[0]) ? 1.0 : 0.0;
            break;
        default: {
            int K = w;
            double mx = h[0];
            for (int l = 1; l < K; l++) if (h[l] > mx) mx = h[l];
            for (int l = 0; l < K; l++) prob[l] = exp(h[l] - mx);
            x[j] = (double) cs_rng_categorical(rng, prob, K);
        }
        }
        off += w;
    }
    for (int r = 0; r < s->m; r++) miss[r] = cs_rng_unif(rng) < sigmoid(o[off + r]) ? 1.0 : 0.0;
    /* a missing cell carries the fill value, exactly as the encoding of real data does */
    for (int j = 0; j < s->p; j++)
        if (s->miss_index[j] >= 0 && miss[s->miss_index[j]] > 0.5) x[j] = s->fill[j];
}

cs_status cs_causalmix_draw(const cs_causalmix *mdl, int n, uint64_t seed, uint64_t offset,
                            double y_center, double y_scale, int threads, double *x_out,
                            double *miss_out, double *pred_out, cs_interrupt_fn interrupt)
{
    enum { BLOCK = 16 };  /* rows evaluated together by the networks */
    const cs_table_spec *s = &mdl->spec;
    int D = cs_feature_width(s), W = cs_decoder_width(s);
    int L = mdl->latent, K = mdl->n_components, kmax = K, q2 = mdl->outcome_binary ? 2 : 4;
    for (int j = 0; j < s->p; j++) if (s->n_levels[j] > kmax) kmax = s->n_levels[j];
    const double *logit = mdl->prior, *mean = mdl->prior + K, *logvar = mdl->prior + K + K * L;
    int failed = 0;
    const int chunk = 65536;
    row_nets rn;
    if (row_nets_make(mdl, &rn) != CS_OK) { row_nets_free(&rn); return CS_ERR_NOMEM; }
    int S = rn.dec.max_width;
    if (rn.prop.max_width > S) S = rn.prop.max_width;
    if (rn.out.max_width > S) S = rn.out.max_width;
    size_t per_block = (size_t) BLOCK * (L + W + s->p + s->m + D + 1 + q2 + 2 * S) + kmax + 8;
    for (int start = 0; start < n && !failed; start += chunk) {
        int stop = n - start < chunk ? n : start + chunk;
        int n_blocks = (stop - start + BLOCK - 1) / BLOCK;
#ifdef _OPENMP
#pragma omp parallel num_threads(cs_threads(threads))
#endif
        {
            double *buf = malloc(sizeof(double) * per_block);
            cs_rng rngs[BLOCK];
            if (!buf) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
                failed = 1;
            }
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
            for (int blk = 0; blk < n_blocks; blk++) {
                if (!buf) continue;
                int i0 = start + blk * BLOCK, nb = stop - i0 < BLOCK ? stop - i0 : BLOCK;
                double *Z = buf, *O = Z + BLOCK * L, *XR = O + BLOCK * W, *MR = XR + BLOCK * s->p;
                double *F = MR + BLOCK * s->m, *P = F + BLOCK * D, *Q = P + BLOCK;
                double *scratch = Q + BLOCK * q2, *prob = scratch + 2 * S * BLOCK;
                double mx = logit[0];
                for (int k = 1; k < K; k++) if (logit[k] > mx) mx = logit[k];
                for (int r = 0; r < nb; r++) {
                    cs_rng *rng = &rngs[r];
                    cs_rng_init(rng, seed, offset + (uint64_t) (i0 + r));
                    for (int k = 0; k < K; k++) prob[k] = exp(logit[k] - mx);
                    int k = K > 1 ? cs_rng_categorical(rng, prob, K) : 0;
                    for (int l = 0; l < L; l++)
                        Z[r * L + l] = mean[k * L + l] + exp(0.5 * logvar[k * L + l]) * cs_rng_norm(rng);
                }
                row_net_forward_rows(&rn.dec, Z, nb, O, scratch);
                for (int r = 0; r < nb; r++) {
                    double *xr = XR + r * s->p, *mr = MR + r * s->m;
                    draw_row(s, O + r * W, &rngs[r], xr, mr, prob);
                    cs_features_row(s, xr, mr, F + r * D);
                }
                row_net_forward_rows(&rn.prop, F, nb, P, scratch);
                row_net_forward_rows(&rn.out, F, nb, Q, scratch);
                for (int r = 0; r < nb; r++) {
                    size_t i = (size_t) (i0 + r);
                    double res[5];
                    outcome_summary(mdl, P[r], Q + r * q2, y_center, y_scale, res);
                    for (int j = 0; j < s->p; j++) x_out[(size_t) j * n + i] = XR[r * s->p + j];
                    for (int m = 0; m < s->m; m++) miss_out[(size_t) m * n + i] = MR[r * s->m + m];
                    for (int c = 0; c < 5; c++) pred_out[(size_t) c * n + i] = res[c];
                }
            }
            free(buf);
        }
        if (interrupt && interrupt()) { row_nets_free(&rn); return CS_ERR_INTERRUPTED; }
    }
    (void) threads;
    row_nets_free(&rn);
    return failed ? CS_ERR_NOMEM : CS_OK;
}
