/* CausalBGM training: encoder initialisation, then the iterative phase alternating one Adam
 * step on the three networks (ELBO on the mini-batch) and one Adam step on the batch's Z. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bgm.h"
#include "nn.h"
#include "poll.h"
#include "threads.h"
#include "links.h"

#define VAR_FLOOR 1e-6

void bgm_init_offsets(bgm_model *m)
{
    /* unit variances at the start: log-scale offsets 0; the raw output starts near 0, where
     * softplus is log 2, so the bias of the variance output is set to softplus^-1(1) */
    bnn_net *nets[3] = { &m->g, &m->h, &m->f };
    int k[3] = { m->p, 1, 1 };
    int raw[3] = { m->p, 1, bgm_f_out(m) - 1 };   /* index of the raw variance output */
    for (int i = 0; i < 3; i++) {
        memset(nets[i]->params + nets[i]->n_params, 0, sizeof(double) * k[i]);
        int L = nets[i]->n_layers;
        nets[i]->params[nets[i]->b_off[L - 1] + raw[i]] = 0.5413248546129181;
    }
}

/* Gaussian likelihood of target (k x B) given out ((k + 1) x B: k means and one raw variance
 * r) and k log-scale offsets c (passed as exp(-c) and sum(c)): output j has variance
 * (cs_softplus_cut30(r) + 1e-6) exp(c_j), so the latent-dependent part costs one transcendental per
 * example whatever k is.
 * Returns the NLL summed over the batch. When d_out is given it receives scale * dNLL/dout
 * and g_off (if given) accumulates scale * dNLL/dc. */
static double gauss_head(const double *out, const double *target, const double *inv_scale,
                         double sum_off, int k, int B, double scale, double *d_out,
                         double *g_off)
{
    double nll = 0.0;
    for (int b = 0; b < B; b++) {
        const double *o = out + (size_t) b * (k + 1);
        const double *t = target + (size_t) b * k;
        double r = o[k];
        double base = cs_softplus_cut30(r) + VAR_FLOOR, log_base = log(base);
        double *d = d_out ? d_out + (size_t) b * (k + 1) : NULL;
        double d_base = 0.0, sq = 0.0, inv_base = 1.0 / base;
        for (int j = 0; j < k; j++) {
            double inv = inv_scale[j] * inv_base;    /* 1 / s2_j */
            double diff = t[j] - o[j];
            double q = diff * diff * inv;
            sq += q;
            if (d) {
                d[j] = -diff * inv * scale;
                if (g_off) g_off[j] += (0.5 - 0.5 * q) * scale;   /* dNLL/dc_j */
                d_base += 0.5 - 0.5 * q;                          /* base * dNLL/dbase */
            }
        }
        nll += 0.5 * (k * log_base + sum_off + sq);
        if (d) d[k] = d_base / base * cs_sigmoid(r) * scale;
    }
    return nll;
}

/* Raw variance output that gives the outcome head unit base variance (softplus(r) = 1):
 * with a constant outcome variance the variance is exp(c_f), c_f the learned offset. */
#define BGM_UNIT_RAW_VAR 0.5413248546129181

/* Outcome likelihood of y (B values) given f's outputs out (bgm_f_out(m) per example) and
 * the treatments x: with arm heads each unit's own arm's mean, the other arm's output
 * receiving no gradient; with a constant variance (m->f_const_var) the raw variance output
 * is replaced by BGM_UNIT_RAW_VAR and receives no gradient. As gauss_head otherwise. */
static double outcome_head(const bgm_model *m, const double *out, const double *x,
                           const double *y, int B, double scale, double *d_out, double *g_off)
{
    if (!m->arm_heads && !m->f_const_var)
        return gauss_head(out, y, &m->inv_f, m->sum_off_f, 1, B, scale, d_out, g_off);
    int k = bgm_f_out(m);
    double nll = 0.0;
    for (int b = 0; b < B; b++) {
        const double *o = out + (size_t) k * b;
        int arm = m->arm_heads && x[b] > 0.5;
        double two[2] = { o[arm], m->f_const_var ? BGM_UNIT_RAW_VAR : o[k - 1] }, d2[2];
        nll += gauss_head(two, y + b, &m->inv_f, m->sum_off_f, 1, 1, scale, d_out ? d2 : NULL,
                          g_off);
        if (d_out) {
            double *d = d_out + (size_t) k * b;
            for (int j = 0; j < k; j++) d[j] = 0.0;
            d[arm] = d2[0];
            if (!m->f_const_var) d[k - 1] = d2[1];
        }
    }
    return nll;
}

void bgm_refresh_heads(bgm_model *m)
{
    bnn_net *nets[3] = { &m->g, &m->h, &m->f };
    double *inv[3] = { m->inv_g, &m->inv_h, &m->inv_f };
    double *sum[3] = { &m->sum_off_g, &m->sum_off_h, &m->sum_off_f };
    int k[3] = { m->p, 1, 1 };
    for (int i = 0; i < 3; i++) {
        const double *c = nets[i]->params + nets[i]->n_params;
        double s = 0.0;
        for (int j = 0; j < k[i]; j++) { inv[i][j] = exp(-c[j]); s += c[j]; }
        *sum[i] = s;
    }
}

/* Bernoulli likelihood of a 0/1 treatment with logit out[0]; the variance output is unused. */
static double logit_head(const double *out, const double *x, int B, double scale, double *d_out)
{
    double nll = 0.0;
    for (int b = 0; b < B; b++) {
        double eta = out[2 * b];
        nll += cs_softplus_cut30(eta) - x[b] * eta;
        if (d_out) {
            d_out[2 * b] = (cs_sigmoid(eta) - x[b]) * scale;
            d_out[2 * b + 1] = 0.0;
        }
    }
    return nll;
}

/* Inputs of h (Z0, Z2) and f (Z0, Z1, X) from a column of Z. */
static void h_input(const bgm_model *m, const double *z, double *hin)
{
    memcpy(hin, z, sizeof(double) * m->d[0]);
    memcpy(hin + m->d[0], z + m->d[0] + m->d[1], sizeof(double) * m->d[2]);
}

int bgm_f_width(const bgm_model *m)
{
    return m->d[0] + m->d[1] + (m->f_reads_v ? m->p : 0) + (m->arm_heads ? 0 : m->n_dose);
}

int bgm_f_out(const bgm_model *m)
{
    return m->arm_heads ? 3 : 2;
}

double bgm_f_mean(const bgm_model *m, const double *out, double x)
{
    return m->arm_heads && x > 0.5 ? out[1] : out[0];
}

double bgm_f_raw_var(const bgm_model *m, const double *out)
{
    if (m->f_const_var) return BGM_UNIT_RAW_VAR;
    return out[bgm_f_out(m) - 1];
}

void bgm_f_input(const bgm_model *m, const double *z, const double *v, double x, double *fin)
{
    int d01 = m->d[0] + m->d[1];
    memcpy(fin, z, sizeof(double) * d01);
    if (m->f_reads_v) {
        memcpy(fin + d01, v, sizeof(double) * m->p);
        d01 += m->p;
    }
    if (m->arm_heads) return;
    fin[d01] = x;
    if (m->n_dose == 2) fin[d01 + 1] = asinh((x - m->dose_shift) / m->dose_scale);
}

/* Adds the input gradients of h and f back onto the Z layout. */
static void scatter_h(const bgm_model *m, const double *dh, double *dz, int to_z0,
                      double weight)
{
    if (to_z0) for (int i = 0; i < m->d[0]; i++) dz[i] += weight * dh[i];
    for (int i = 0; i < m->d[2]; i++) dz[m->d[0] + m->d[1] + i] += weight * dh[m->d[0] + i];
}

static void scatter_f(const bgm_model *m, const double *df, double *dz, double weight)
{
    for (int i = 0; i < m->d[0] + m->d[1]; i++) dz[i] += weight * df[i];
}

typedef struct {
    bnn_work wg, wh, wf, we;
    double *zb, *vb, *xb, *xtb, *yb, *hin, *fin;
    double *dg, *dh, *df, *dzg, *dzh, *dzf, *dz;
    double *gg, *gh, *gf, *ge;
    int *perm;
} fit_work;

static void fit_work_free(fit_work *w)
{
    bnn_work_free(&w->wg); bnn_work_free(&w->wh); bnn_work_free(&w->wf); bnn_work_free(&w->we);
    free(w->zb); free(w->vb); free(w->xb); free(w->xtb); free(w->yb); free(w->hin); free(w->fin);
    free(w->dg); free(w->dh); free(w->df); free(w->dzg); free(w->dzh); free(w->dzf); free(w->dz);
    free(w->gg); free(w->gh); free(w->gf); free(w->ge); free(w->perm);
}

static cs_status fit_work_alloc(fit_work *w, const bgm_model *m, int B, int n, int encoder)
{
    memset(w, 0, sizeof(*w));
    size_t b = (size_t) B;
    int dh_in = m->d[0] + m->d[2], df_in = bgm_f_width(m);
    cs_status st = bnn_work_alloc(&w->wg, &m->g, B);
    if (st == CS_OK) st = bnn_work_alloc(&w->wh, &m->h, B);
    if (st == CS_OK) st = bnn_work_alloc(&w->wf, &m->f, B);
    if (st == CS_OK && encoder) st = bnn_work_alloc(&w->we, &m->e, B);
    w->zb = malloc(sizeof(double) * m->dz * b);
    w->vb = malloc(sizeof(double) * m->p * b);
    w->xb = malloc(sizeof(double) * b);
    w->xtb = malloc(sizeof(double) * b);
    w->yb = malloc(sizeof(double) * b);
    w->hin = malloc(sizeof(double) * dh_in * b);
    w->fin = malloc(sizeof(double) * df_in * b);
    w->dg = malloc(sizeof(double) * (m->p + 1) * b);
    w->dh = malloc(sizeof(double) * 2 * b);
    w->df = malloc(sizeof(double) * 3 * b);
    w->dzg = malloc(sizeof(double) * m->dz * b);
    w->dzh = malloc(sizeof(double) * dh_in * b);
    w->dzf = malloc(sizeof(double) * df_in * b);
    w->dz = malloc(sizeof(double) * m->dz * b);
    w->gg = malloc(sizeof(double) * (m->g.n_params + m->p));
    w->gh = malloc(sizeof(double) * (m->h.n_params + 1));
    w->gf = malloc(sizeof(double) * (m->f.n_params + 1));
    w->ge = encoder ? malloc(sizeof(double) * m->e.n_params) : NULL;
    w->perm = malloc(sizeof(int) * (size_t) n);
    if (st != CS_OK || !w->zb || !w->vb || !w->xb || !w->xtb || !w->yb || !w->hin || !w->fin ||
        !w->dg || !w->dh || !w->df || !w->dzg || !w->dzh || !w->dzf || !w->dz || !w->gg || !w->gh ||
        !w->gf || (encoder && !w->ge) || !w->perm) {
        fit_work_free(w);
        return CS_ERR_NOMEM;
    }
    return CS_OK;
}

/* One pass of the three networks on the batch in w->zb, w->vb, w->xb, w->yb: adds the
 * gradients of the batch-mean NLL to w->gg, gh, gf and writes its gradient wrt z into w->dz.
 * parts receives the batch-mean NLL of V, X and Y. The X and Y terms are multiplied by
 * xy_weight (1 in the iterative phase). With treatment_moves_z0 = 0 the treatment term's
 * gradient reaches Z2 only (h still reads Z0). The gradients wrt z of the treatment and
 * outcome terms are multiplied by treatment_to_z and outcome_to_z (the networks' gradients
 * are not). */
static void batch_pass(bgm_model *m, fit_work *w, int B, cs_rng *rng, double xy_weight,
                       int treatment_moves_z0, double treatment_to_z, double outcome_to_z,
                       double parts[3])
{
    double scale = 1.0 / B;
    int dh_in = m->d[0] + m->d[2], df_in = bgm_f_width(m);
    bgm_refresh_heads(m);
    const double *og = bnn_forward(&m->g, &w->wg, w->zb, B, rng);
    parts[0] = gauss_head(og, w->vb, m->inv_g, m->sum_off_g, m->p, B, scale, w->dg,
                          w->gg + m->g.n_params) * scale;
    bnn_backward(&m->g, &w->wg, w->zb, B, w->dg, w->gg, w->dzg);

    for (int b = 0; b < B; b++) {
        const double *z = w->zb + (size_t) b * m->dz;
        h_input(m, z, w->hin + (size_t) b * dh_in);
        bgm_f_input(m, z, w->vb + (size_t) b * m->p, w->xb[b], w->fin + (size_t) b * df_in);
    }
    const double *oh = bnn_forward(&m->h, &w->wh, w->hin, B, rng);
    double sxy = scale * xy_weight;
    if (m->binary)
        parts[1] = logit_head(oh, w->xtb, B, sxy, w->dh) * scale;
    else
        parts[1] = gauss_head(oh, w->xtb, &m->inv_h, m->sum_off_h, 1, B, sxy, w->dh,
                              w->gh + m->h.n_params) * scale;
    bnn_backward(&m->h, &w->wh, w->hin, B, w->dh, w->gh, w->dzh);

    const double *of = bnn_forward(&m->f, &w->wf, w->fin, B, rng);
    parts[2] = outcome_head(m, of, w->xb, w->yb, B, sxy, w->df, w->gf + m->f.n_params) * scale;
    bnn_backward(&m->f, &w->wf, w->fin, B, w->df, w->gf, w->dzf);

    memcpy(w->dz, w->dzg, sizeof(double) * m->dz * (size_t) B);
    for (int b = 0; b < B; b++) {
        scatter_h(m, w->dzh + (size_t) b * dh_in, w->dz + (size_t) b * m->dz,
                  treatment_moves_z0, treatment_to_z);
        scatter_f(m, w->dzf + (size_t) b * df_in, w->dz + (size_t) b * m->dz, outcome_to_z);
    }
}

static void gather(const bgm_model *m, fit_work *w, const double *V, const double *x,
                   const double *xt, const double *y, const int *idx, int B)
{
    for (int b = 0; b < B; b++) {
        size_t i = (size_t) idx[b];
        memcpy(w->vb + (size_t) b * m->p, V + i * m->p, sizeof(double) * m->p);
        w->xb[b] = x[i];
        w->xtb[b] = xt[i];
        w->yb[b] = y[i];
    }
}

static void zero_grads(const bgm_model *m, fit_work *w)
{
    memset(w->gg, 0, sizeof(double) * (m->g.n_params + m->p));
    memset(w->gh, 0, sizeof(double) * (m->h.n_params + 1));
    memset(w->gf, 0, sizeof(double) * (m->f.n_params + 1));
}

/* KL gradients after a sampled batch_pass (variances cached by the forward passes). */
static void add_kl_grad(const bgm_model *m, fit_work *w, double weight)
{
    bnn_kl_grad(&m->g, &w->wg, w->gg, weight);
    bnn_kl_grad(&m->h, &w->wh, w->gh, weight);
    bnn_kl_grad(&m->f, &w->wf, w->gf, weight);
}

static double kl_value(const bgm_model *m)
{
    return bnn_kl(&m->g, NULL, 0.0) + bnn_kl(&m->h, NULL, 0.0) + bnn_kl(&m->f, NULL, 0.0);
}

/* Moment match of the batch codes to N(0, I): ||mean||^2 + ||cov - I||_F^2; adds
 * weight * gradient to dz. cov is scratch of dz * dz + dz doubles. */
static double moment_loss(const double *z, int dz, int B, double weight, double *dzb, double *cov)
{
    double *mean = cov + dz * dz;
    for (int k = 0; k < dz; k++) mean[k] = 0.0;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < dz; k++) mean[k] += z[(size_t) b * dz + k] / B;
    for (int k = 0; k < dz * dz; k++) cov[k] = 0.0;
    for (int b = 0; b < B; b++) {
        const double *zb = z + (size_t) b * dz;
        for (int k = 0; k < dz; k++)
            for (int l = 0; l < dz; l++)
                cov[k + l * dz] += (zb[k] - mean[k]) * (zb[l] - mean[l]) / B;
    }
    double loss = 0.0;
    for (int k = 0; k < dz; k++) {
        loss += mean[k] * mean[k];
        cov[k + k * dz] -= 1.0;
    }
    for (int k = 0; k < dz * dz; k++) loss += cov[k] * cov[k];
    for (int b = 0; b < B; b++) {
        const double *zb = z + (size_t) b * dz;
        double *d = dzb + (size_t) b * dz;
        for (int k = 0; k < dz; k++) {
            double s = 2.0 * mean[k] / B;
            for (int l = 0; l < dz; l++) s += 4.0 / B * cov[k + l * dz] * (zb[l] - mean[l]);
            d[k] += weight * s;
        }
    }
    return loss;
}

cs_status bgm_encoder_codes(const bgm_model *m, const double *V, int n, double *Z)
{
    if (!m->has_encoder) return CS_ERR_ARGUMENT;
    int chunk = n < 256 ? n : 256;
    bnn_work we;
    cs_status st = bnn_work_alloc(&we, &m->e, chunk);
    if (st != CS_OK) return st;
    for (int start = 0; start < n; start += chunk) {
        int B = n - start < chunk ? n - start : chunk;
        const double *out = bnn_forward(&m->e, &we, V + (size_t) start * m->p, B, NULL);
        memcpy(Z + (size_t) start * m->dz, out, sizeof(double) * m->dz * (size_t) B);
    }
    bnn_work_free(&we);
    return CS_OK;
}

/* ---- an ensemble's members trained on several threads ----
 * Each member is trained by one thread from its own seed, so its result does not depend on
 * which thread trains it or on how many train at once. Only the calling thread (thread 0 of
 * the region, or the caller without OpenMP) calls the interrupt callback and the progress
 * callback: the others publish their finished steps (init records and epochs) in their
 * member's report, which the calling thread passes on in member and step order. */

typedef struct {
    int done;            /* steps finished; written by the member's thread (atomic) */
    int reported;        /* steps passed to the progress callback (calling thread only) */
    double *loss;        /* the loss shown with each step */
} member_report;

typedef struct {
    cs_poll poll;
    int failed;          /* a member failed: the others stop at their next poll (atomic) */
    int n_members, n_init, init_every, init_iterations, epochs;
    member_report *reports;
    bgm_progress_fn progress;
    void *progress_context;
} bgm_run;

static int atomic_get(const int *p)
{
    int v;
#ifdef _OPENMP
#pragma omp atomic read
#endif
    v = *p;
    return v;
}

static void atomic_set(int *p, int v)
{
    (void) v;   /* gcc takes a value read by an atomic write for unused */
#ifdef _OPENMP
#pragma omp atomic write
#endif
    *p = v;
}

static int atomic_fetch_add(int *p, int v)
{
    int old;
#ifdef _OPENMP
#pragma omp atomic capture
#endif
    { old = *p; *p += v; }
    return old;
}

/* Calling thread: passes every step finished since the last call to the progress callback. */
static void run_drain(bgm_run *run)
{
    if (!run->progress) return;
    for (int k = 0; k < run->n_members; k++) {
        member_report *r = &run->reports[k];
        int done = atomic_get(&r->done);
#ifdef _OPENMP
#pragma omp flush
#endif
        for (; r->reported < done; r->reported++) {
            int i = r->reported;
            if (i < run->n_init)
                run->progress(run->progress_context, k, "init", (i + 1) * run->init_every,
                              run->init_iterations, r->loss[i]);
            else
                run->progress(run->progress_context, k, "epoch", i - run->n_init + 1,
                              run->epochs, r->loss[i]);
        }
    }
}

/* A member finished a step with this loss. */
static void run_step(bgm_run *run, int member, double loss)
{
    member_report *r = &run->reports[member];
    int done = atomic_get(&r->done);
    r->loss[done] = loss;
#ifdef _OPENMP
#pragma omp flush
#endif
    atomic_set(&r->done, done + 1);
    if (cs_thread_num() == 0) run_drain(run);
}

/* Between mini-batches: should this member stop (Ctrl-C, or another member failed)? The
 * calling thread also passes on the other members' steps and asks R about interrupts
 * (throttled by poll.h); the other threads read the flags. */
static int run_stopped(bgm_run *run)
{
    if (cs_thread_num() == 0) {
        run_drain(run);
        if (cs_poll_main(&run->poll)) return 1;
    } else if (cs_poll_stopped(&run->poll)) {
        return 1;
    }
    return atomic_get(&run->failed);
}

/* One member's whole fit (the former single-fit bgm_train); its steps and stops go through
 * run. */
static cs_status train_member(bgm_model *m, const bgm_settings *s, const double *V,
                              const double *x, const double *xt, const double *y, int n,
                              double *Z, uint64_t seed, int use_encoder, bgm_history *hist,
                              bgm_run *run, int member)
{
    int B = s->batch_size < n ? s->batch_size : n;
    int dz = m->dz;
    fit_work w;
    cs_status st = fit_work_alloc(&w, m, B, n, use_encoder);
    if (st != CS_OK) return st;
    cs_adam opt_g, opt_h, opt_f, opt_e;
    int have_e = 0;
    double *zm = NULL, *zv = NULL, *cov = NULL;
    memset(&opt_g, 0, sizeof(opt_g)); memset(&opt_h, 0, sizeof(opt_h));
    memset(&opt_f, 0, sizeof(opt_f)); memset(&opt_e, 0, sizeof(opt_e));
    st = cs_adam_alloc(&opt_g, m->g.n_params + m->p, s->lr_nets, 0.9, 0.99, 1e-8, 0.0);
    if (st == CS_OK)
        st = cs_adam_alloc(&opt_h, m->h.n_params + 1, s->lr_nets, 0.9, 0.99, 1e-8, 0.0);
    if (st == CS_OK)
        st = cs_adam_alloc(&opt_f, m->f.n_params + 1, s->lr_nets, 0.9, 0.99, 1e-8, 0.0);
    if (st == CS_OK && use_encoder) {
        st = cs_adam_alloc(&opt_e, m->e.n_params, s->lr_encoder, 0.9, 0.99, 1e-8, 0.0);
        have_e = st == CS_OK;
    }
    zm = calloc((size_t) dz * n, sizeof(double));
    zv = calloc((size_t) dz * n, sizeof(double));
    cov = malloc(sizeof(double) * ((size_t) dz * dz + dz));
    if (st == CS_OK && (!zm || !zv || !cov)) st = CS_ERR_NOMEM;

    cs_rng rng;
    cs_rng_init(&rng, seed, 0);
    double parts[3];
    for (int i = 0; i < n; i++) w.perm[i] = i;

    /* Phase 1: encoder initialisation (or random latent starts). */
    if (st == CS_OK && use_encoder) {
        int pos = n, rec = 0;
        double acc_total = 0.0, acc_mom = 0.0;
        int acc_n = 0;
        for (int it = 0; it < s->init_iterations && st == CS_OK; it++) {
            if (pos + B > n) { cs_rng_shuffle(&rng, w.perm, n); pos = 0; }
            gather(m, &w, V, x, xt, y, w.perm + pos, B);
            pos += B;
            const double *codes = bnn_forward(&m->e, &w.we, w.vb, B, NULL);
            memcpy(w.zb, codes, sizeof(double) * dz * (size_t) B);
            zero_grads(m, &w);
            memset(w.ge, 0, sizeof(double) * m->e.n_params);
            batch_pass(m, &w, B, &rng, s->xy_weight, s->init_treatment_moves_z0, 1.0, 1.0,
                       parts);
            add_kl_grad(m, &w, s->kl_weight);
            double mom = moment_loss(w.zb, dz, B, s->moment_weight, w.dz, cov);
            bnn_backward(&m->e, &w.we, w.vb, B, w.dz, w.ge, NULL);
            double total = parts[0] + parts[1] + parts[2] + s->moment_weight * mom;
            if (!isfinite(total)) { st = CS_ERR_NONFINITE; break; }
            cs_adam_step(&opt_g, m->g.params, w.gg);
            cs_adam_step(&opt_h, m->h.params, w.gh);
            cs_adam_step(&opt_f, m->f.params, w.gf);
            cs_adam_step(&opt_e, m->e.params, w.ge);
            acc_total += total; acc_mom += mom; acc_n++;
            if (acc_n == hist->init_every && rec < hist->n_init_records) {
                hist->init_loss[2 * rec] = acc_total / acc_n;
                hist->init_loss[2 * rec + 1] = acc_mom / acc_n;
                run_step(run, member, acc_total / acc_n);
                rec++;
                acc_total = acc_mom = 0.0; acc_n = 0;
            }
            if (run_stopped(run)) st = CS_ERR_INTERRUPTED;
        }
        if (st == CS_OK) st = bgm_encoder_codes(m, V, n, Z);
    } else if (st == CS_OK) {
        for (int i = 0; i < n; i++) {
            cs_rng r;
            cs_rng_init(&r, seed, (uint64_t) 1 + (uint64_t) i);
            for (int k = 0; k < dz; k++) Z[(size_t) i * dz + k] = cs_rng_norm(&r);
        }
    }

    /* Phase 2: iterative updates of the networks and of each batch's latents. */
    const double b1 = 0.9, b2 = 0.99;
    long step = 0, n_steps = (long) s->epochs * (n / B);
    for (int ep = 0; ep < s->epochs && st == CS_OK; ep++) {
        cs_rng_shuffle(&rng, w.perm, n);
        double sums[5] = { 0, 0, 0, 0, 0 };
        int nb = 0;
        double c1 = 1.0 - pow(b1, ep + 1), c2 = 1.0 - pow(b2, ep + 1);
        for (int start = 0; start + B <= n && st == CS_OK; start += B) {
            const int *idx = w.perm + start;
            /* cosine decay of the learning rates: the fit ends on a settled iterate rather
             * than one noisy Adam step */
            double lr_factor = s->cosine_decay ?
                0.5 * (1.0 + cos(3.141592653589793 * (double) step / (double) n_steps)) : 1.0;
            double lr_z = s->lr_z * lr_factor;
            opt_g.lr = opt_h.lr = opt_f.lr = s->lr_nets * lr_factor;
            step++;
            gather(m, &w, V, x, xt, y, idx, B);
            for (int b = 0; b < B; b++)
                memcpy(w.zb + (size_t) b * dz, Z + (size_t) idx[b] * dz, sizeof(double) * dz);
            zero_grads(m, &w);
            batch_pass(m, &w, B, &rng, 1.0, 1, s->latent_treatment_weight,
                       s->latent_outcome_weight, parts);
            add_kl_grad(m, &w, s->kl_weight);
            double total = parts[0] + parts[1] + parts[2];
            if (!isfinite(total)) { st = CS_ERR_NONFINITE; break; }
            cs_adam_step(&opt_g, m->g.params, w.gg);
            cs_adam_step(&opt_h, m->h.params, w.gh);
            cs_adam_step(&opt_f, m->f.params, w.gf);
            /* per-unit gradient of NLL + ||z||^2 / 2, one Adam step per unit */
            for (int b = 0; b < B; b++) {
                size_t i = (size_t) idx[b];
                double *z = Z + i * dz, *mz = zm + i * dz, *vz = zv + i * dz;
                const double *d = w.dz + (size_t) b * dz;
                for (int k = 0; k < dz; k++) {
                    double g = d[k] * B + z[k];
                    mz[k] = b1 * mz[k] + (1 - b1) * g;
                    vz[k] = b2 * vz[k] + (1 - b2) * g * g;
                    z[k] -= lr_z * (mz[k] / c1) / (sqrt(vz[k] / c2) + 1e-8);
                }
            }
            sums[0] += total; sums[1] += parts[0]; sums[2] += parts[1]; sums[3] += parts[2];
            nb++;
            if (run_stopped(run)) st = CS_ERR_INTERRUPTED;
        }
        if (st != CS_OK) break;
        /* the weight KL is evaluated once per epoch, at its end */
        double kl = kl_value(m);
        for (int k = 0; k < 4; k++) hist->epoch_loss[5 * ep + k] = sums[k] / (nb > 0 ? nb : 1);
        hist->epoch_loss[5 * ep] += s->kl_weight * kl;
        hist->epoch_loss[5 * ep + 4] = kl;
        run_step(run, member, sums[0] / (nb > 0 ? nb : 1));
    }

    free(zm); free(zv); free(cov);
    cs_adam_free(&opt_g); cs_adam_free(&opt_h); cs_adam_free(&opt_f);
    if (have_e) cs_adam_free(&opt_e);
    fit_work_free(&w);
    return st;
}

void bgm_init_weights(bgm_model *m, uint64_t seed, double init_sd)
{
    bnn_net *nets[4] = { &m->g, &m->h, &m->f, &m->e };
    for (int k = 0; k < 4; k++) {
        if (k == 3 && !m->has_encoder) continue;
        cs_rng rng;
        cs_rng_init(&rng, seed, ((uint64_t) 1 << 40) + (uint64_t) k);
        bnn_init_params(nets[k], &rng, init_sd);
    }
    bgm_init_offsets(m);
    bgm_refresh_heads(m);
}

cs_status bgm_train_members(bgm_member *members, int n_members, const bgm_settings *s,
                            const double *V, const double *x, const double *xt,
                            const double *y, int n, int use_encoder, double init_sd,
                            int threads, cs_interrupt_fn interrupt, bgm_progress_fn progress,
                            void *progress_context)
{
    if (n_members < 1) return CS_ERR_ARGUMENT;
    bgm_run run;
    memset(&run, 0, sizeof(run));
    run.n_members = n_members;
    run.n_init = use_encoder ? members[0].hist.n_init_records : 0;
    run.init_every = members[0].hist.init_every;
    run.init_iterations = s->init_iterations;
    run.epochs = s->epochs;
    run.progress = progress;
    run.progress_context = progress_context;
    cs_poll_init(&run.poll, interrupt);
    size_t n_steps = (size_t) run.n_init + (size_t) s->epochs + 1;
    run.reports = calloc((size_t) n_members, sizeof(member_report));
    cs_status *status = malloc(sizeof(cs_status) * (size_t) n_members);
    int ok = run.reports && status;
    for (int k = 0; ok && k < n_members; k++) {
        run.reports[k].loss = malloc(sizeof(double) * n_steps);
        ok = run.reports[k].loss != NULL;
    }
    if (!ok) {
        if (run.reports)
            for (int k = 0; k < n_members; k++) free(run.reports[k].loss);
        free(run.reports);
        free(status);
        return CS_ERR_NOMEM;
    }
    int next = 0, finished = 0;
    int team = cs_threads_for(threads, n_members, 1);
    (void) team;
#ifdef _OPENMP
#pragma omp parallel num_threads(team)
#endif
    {
        /* members are handed out in order, one at a time, to whichever thread is free */
        for (;;) {
            int k = atomic_fetch_add(&next, 1);
            if (k >= n_members) break;
            bgm_member *mb = &members[k];
            cs_status st = CS_ERR_INTERRUPTED;
            if (!run_stopped(&run)) {
                double start = cs_wall_seconds();
                bgm_init_weights(&mb->model, mb->seed, init_sd);
                st = train_member(&mb->model, s, V, x, xt, y, n, mb->Z, mb->seed, use_encoder,
                                  &mb->hist, &run, k);
                mb->seconds = cs_wall_seconds() - start;
            }
            status[k] = st;
            if (st != CS_OK && st != CS_ERR_INTERRUPTED) atomic_set(&run.failed, 1);
            atomic_fetch_add(&finished, 1);
        }
        /* the calling thread keeps polling and reporting until the other threads finish */
        if (cs_thread_num() == 0) {
            while (atomic_get(&finished) < n_members) {
                run_drain(&run);
                cs_poll_main(&run.poll);
                cs_sleep_seconds(0.02);
            }
        }
    }
    run_drain(&run);
    /* the first failure in member order; an interrupt only when no member failed */
    cs_status result = CS_OK;
    for (int k = 0; k < n_members; k++) {
        if (status[k] == CS_OK) continue;
        if (status[k] != CS_ERR_INTERRUPTED) { result = status[k]; break; }
        if (result == CS_OK) result = CS_ERR_INTERRUPTED;
    }
    for (int k = 0; k < n_members; k++) free(run.reports[k].loss);
    free(run.reports);
    free(status);
    return result;
}

int bgm_one_scratch_size(const bgm_model *m)
{
    int mw = m->g.max_width;
    if (m->h.max_width > mw) mw = m->h.max_width;
    if (m->f.max_width > mw) mw = m->f.max_width;
    return 2 * (m->g.n_units + m->h.n_units + m->f.n_units) + 2 * (m->p + 1) + 2 * m->dz +
           2 * (m->d[0] + m->d[2]) + 2 * bgm_f_width(m) + 10 + m->n_dose +
           (m->f_reads_v ? m->p : 0) + 2 * mw;
}

double bgm_neg_log_post(const bgm_model *m, const double *z, const double *v, double x,
                        double xt, double y, double *scratch, double *grad)
{
    int dh_in = m->d[0] + m->d[2], df_in = bgm_f_width(m);
    double *act_g = scratch, *act_h = act_g + 2 * m->g.n_units, *act_f = act_h + 2 * m->h.n_units;
    double *og = act_f + 2 * m->f.n_units, *dg = og + m->p + 1;
    double *hin = dg + m->p + 1, *dh_in_buf = hin + dh_in;
    double *fin = dh_in_buf + dh_in, *df_in_buf = fin + df_in;
    double *oh = df_in_buf + df_in, *dh = oh + 2, *of = dh + 2, *df = of + 3;
    /* dzg takes the widest input gradient, f's: d0 + d1 (+ p) + n_dose <= dz + p + n_dose
     * values */
    double *dzg = df + 3, *tmp = dzg + m->dz + m->n_dose + (m->f_reads_v ? m->p : 0);
    (void) dh_in_buf;

    double nll = 0.0;
    for (int k = 0; k < m->dz; k++) nll += 0.5 * z[k] * z[k];
    bnn_forward_one(&m->g, z, og, act_g, NULL);
    nll += gauss_head(og, v, m->inv_g, m->sum_off_g, m->p, 1, 1.0, grad ? dg : NULL, NULL);
    h_input(m, z, hin);
    bnn_forward_one(&m->h, hin, oh, act_h, NULL);
    if (m->binary)
        nll += logit_head(oh, &xt, 1, 1.0, grad ? dh : NULL);
    else
        nll += gauss_head(oh, &xt, &m->inv_h, m->sum_off_h, 1, 1, 1.0, grad ? dh : NULL, NULL);
    if (!m->skip_outcome) {
        bgm_f_input(m, z, v, x, fin);
        bnn_forward_one(&m->f, fin, of, act_f, NULL);
        nll += outcome_head(m, of, &x, &y, 1, 1.0, grad ? df : NULL, NULL);
    }
    if (grad) {
        for (int k = 0; k < m->dz; k++) grad[k] = z[k];
        bnn_backward_one(&m->g, z, act_g, dg, dzg, tmp);
        for (int k = 0; k < m->dz; k++) grad[k] += dzg[k];
        bnn_backward_one(&m->h, hin, act_h, dh, dzg, tmp);
        scatter_h(m, dzg, grad, 1, 1.0);
        if (!m->skip_outcome) {
            bnn_backward_one(&m->f, fin, act_f, df, dzg, tmp);
            scatter_f(m, dzg, grad, 1.0);
        }
    }
    return nll;
}
