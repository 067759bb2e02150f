/* Per-unit MCMC over the CausalBGM latent (see mcmc.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "mcmc.h"
#include "links.h"
#include "poll.h"
#include "threads.h"

#define UNITS_PER_BLOCK 32

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* Quantile of sorted values (type 7, as R's default). */
static double quantile_sorted(const double *v, int n, double p)
{
    double h = (n - 1) * p;
    int lo = (int) floor(h);
    if (lo >= n - 1) return v[n - 1];
    return v[lo] + (h - lo) * (v[lo + 1] - v[lo]);
}

typedef struct {
    double *scratch, *z, *zp, *grad, *gradp, *draws, *fin, *fout, *act;
} unit_work;

static void unit_work_free(unit_work *u)
{
    free(u->scratch); free(u->z); free(u->zp); free(u->grad); free(u->gradp);
    free(u->draws); free(u->fin); free(u->fout); free(u->act);
}

static int unit_work_alloc(unit_work *u, const bgm_model *m, int n_draws)
{
    memset(u, 0, sizeof(*u));
    u->scratch = malloc(sizeof(double) * bgm_one_scratch_size(m));
    u->z = malloc(sizeof(double) * m->dz);
    u->zp = malloc(sizeof(double) * m->dz);
    u->grad = malloc(sizeof(double) * m->dz);
    u->gradp = malloc(sizeof(double) * m->dz);
    u->draws = malloc(sizeof(double) * (n_draws > 0 ? n_draws : 1));
    u->fin = malloc(sizeof(double) * bgm_f_width(m));
    u->fout = malloc(sizeof(double) * 3);
    u->act = malloc(sizeof(double) * 2 * m->f.n_units);
    if (!u->scratch || !u->z || !u->zp || !u->grad || !u->gradp || !u->draws ||
        !u->fin || !u->fout || !u->act) {
        unit_work_free(u);
        return 0;
    }
    return 1;
}

/* Mean outcome (standardised) at latent z, covariates v and treatment value xv under the
 * outcome network f_net (the posterior mean weights or one posterior draw of them). */
static double outcome_mean(const bgm_model *m, const bnn_net *f_net, unit_work *u,
                           const double *z, const double *v, double xv)
{
    bgm_f_input(m, z, v, xv, u->fin);
    bnn_forward_one(f_net, u->fin, u->fout, u->act, NULL);
    return bgm_f_mean(m, u->fout, xv);
}

/* Runs one unit's chain; adds its draws into block accumulators acc (binary: n_draws;
 * continuous: n_grid x n_draws). Returns 1 when done, 0 if a non-finite start was met, -1
 * when stopped by an interrupt (a long chain polls every 64 steps). */
static int run_unit(const bgm_model *m, const bnn_net *f_draws, const mcmc_settings *s,
                    const double *v, double x, double xt, double y, const double *z0, uint64_t seed,
                    uint64_t index, unit_work *u, double *acc, mcmc_output *out, size_t i,
                    cs_poll *poll)
{
    int dz = m->dz, mala = s->sampler == MCMC_MALA;
    cs_rng rng;
    cs_rng_init(&rng, seed, index);
    for (int k = 0; k < dz; k++) u->z[k] = z0 ? z0[k] : 0.0;
    double f = bgm_neg_log_post(m, u->z, v, x, xt, y, u->scratch, mala ? u->grad : NULL);
    if (!isfinite(f)) {
        for (int k = 0; k < dz; k++) u->z[k] = 0.0;
        f = bgm_neg_log_post(m, u->z, v, x, xt, y, u->scratch, mala ? u->grad : NULL);
        if (!isfinite(f)) return 0;
    }
    double target = mala ? 0.574 : 0.234;
    double log_s = log((mala ? 0.5 : 0.25) / sqrt((double) dz));
    long accepted = 0;
    int total = s->burn_in + s->n_draws;
    double *zmean = out->z_mean ? out->z_mean + i * dz : NULL;
    if (zmean) for (int k = 0; k < dz; k++) zmean[k] = 0.0;
    for (int t = 0; t < total; t++) {
        if ((t & 63) == 63 && cs_poll_any(poll)) return -1;
        double sc = exp(log_s);
        for (int k = 0; k < dz; k++) {
            double drift = mala ? -0.5 * sc * sc * u->grad[k] : 0.0;
            u->zp[k] = u->z[k] + drift + sc * cs_rng_norm(&rng);
        }
        double fp = bgm_neg_log_post(m, u->zp, v, x, xt, y, u->scratch, mala ? u->gradp : NULL);
        double log_r = f - fp;
        if (mala && isfinite(fp)) {
            double fwd = 0.0, bwd = 0.0;
            for (int k = 0; k < dz; k++) {
                double a = u->zp[k] - u->z[k] + 0.5 * sc * sc * u->grad[k];
                double b = u->z[k] - u->zp[k] + 0.5 * sc * sc * u->gradp[k];
                fwd += a * a;
                bwd += b * b;
            }
            log_r += (fwd - bwd) / (2.0 * sc * sc);
        }
        int ok = isfinite(fp) && isfinite(log_r);
        int accept = ok && log(cs_rng_unif(&rng)) < log_r;
        if (accept) {
            double *tz = u->z; u->z = u->zp; u->zp = tz;
            double *tg = u->grad; u->grad = u->gradp; u->gradp = tg;
            f = fp;
        }
        if (t < s->burn_in) {
            double a = ok ? (log_r >= 0 ? 1.0 : exp(log_r)) : 0.0;
            log_s += (a - target) * 3.0 / pow(t + 1.0, 0.6);
            if (log_s < -12.0) log_s = -12.0;
            if (log_s > 2.0) log_s = 2.0;
            continue;
        }
        int d = t - s->burn_in;
        accepted += accept;
        if (zmean) for (int k = 0; k < dz; k++) zmean[k] += u->z[k] / s->n_draws;
        /* draw d of every unit uses the same posterior draw of the outcome weights, so the
         * average effect carries the weight uncertainty instead of averaging it away */
        const bnn_net *fn = f_draws ? f_draws + d : &m->f;
        if (m->binary) {
            double tau;
            if (s->individual) {
                /* Y(t) is observed; Y(1 - t) is drawn from the outcome model at this z */
                double cf = outcome_mean(m, fn, u, u->z, v, 1.0 - x);
                double base = cs_softplus_cut30(bgm_f_raw_var(m, u->fout));
                double var = (base + 1e-6) / m->inv_f;
                double y_cf = cf + sqrt(var) * cs_rng_norm(&rng);
                tau = x > 0.5 ? y - y_cf : y_cf - y;
            } else if (m->arm_heads) {
                /* one pass gives both arms' means */
                outcome_mean(m, fn, u, u->z, v, 0.0);
                tau = u->fout[1] - u->fout[0];
            } else {
                tau = outcome_mean(m, fn, u, u->z, v, 1.0) -
                      outcome_mean(m, fn, u, u->z, v, 0.0);
            }
            u->draws[d] = tau;
            acc[d] += tau;
        } else {
            for (int g = 0; g < s->n_grid; g++)
                acc[(size_t) d * s->n_grid + g] +=
                    outcome_mean(m, fn, u, u->z, v, s->grid[g]);
        }
    }
    out->accept[i] = s->n_draws > 0 ? (double) accepted / s->n_draws : 0.0;
    if (out->scale) out->scale[i] = exp(log_s);
    if (m->binary && s->n_draws > 0) {
        double sum = 0.0;
        for (int d = 0; d < s->n_draws; d++) sum += u->draws[d];
        out->tau_mean[i] = sum / s->n_draws;
        if (out->tau_draws)
            memcpy(out->tau_draws + i * (size_t) s->n_draws, u->draws,
                   sizeof(double) * (size_t) s->n_draws);
        qsort(u->draws, s->n_draws, sizeof(double), cmp_double);
        out->tau_lo[i] = quantile_sorted(u->draws, s->n_draws, s->prob_lo);
        out->tau_hi[i] = quantile_sorted(u->draws, s->n_draws, s->prob_hi);
    }
    return 1;
}

cs_status bgm_mcmc(const bgm_model *m, const double *V, const double *x, const double *xt,
                   const double *y, int n, const double *z_start, const mcmc_settings *s,
                   uint64_t seed, mcmc_output *out, cs_interrupt_fn interrupt,
                   cs_step_fn step, void *step_context)
{
    if (n < 1 || s->n_draws < 1 || s->burn_in < 0) return CS_ERR_ARGUMENT;
    int threads = cs_threads(s->threads);
    size_t per_draw = m->binary ? 1 : (size_t) s->n_grid;
    size_t acc_len = per_draw * s->n_draws;
    int n_blocks = (n + UNITS_PER_BLOCK - 1) / UNITS_PER_BLOCK;
    int wave = 4 * threads;
    double *acc = calloc((size_t) wave * acc_len, sizeof(double));
    double *total = calloc(acc_len, sizeof(double));
    /* posterior draws of the outcome network's weights, one per kept draw */
    bnn_net *f_draws = NULL;
    double *f_params = NULL;
    if (s->weight_noise && m->f.bayes) {
        f_draws = malloc(sizeof(bnn_net) * (size_t) s->n_draws);
        f_params = malloc(sizeof(double) * (size_t) m->f.n_params * s->n_draws);
    }
    if (!acc || !total || (s->weight_noise && m->f.bayes && (!f_draws || !f_params))) {
        free(acc); free(total); free(f_draws); free(f_params);
        return CS_ERR_NOMEM;
    }
    cs_status st = CS_OK;
    cs_poll poll;
    cs_poll_init(&poll, interrupt);
    if (f_draws) {
        for (int d = 0; d < s->n_draws && st == CS_OK; d++) {
            double *pd = f_params + (size_t) d * m->f.n_params;
            memcpy(pd, m->f.params, sizeof(double) * m->f.n_params);
            f_draws[d] = m->f;
            f_draws[d].params = pd;
            cs_rng rng;
            cs_rng_init(&rng, seed, ((uint64_t) 1 << 48) + (uint64_t) d);
            bnn_sample_weights(&f_draws[d], &rng, s->weight_sd_scale);
            if (cs_poll_main(&poll)) st = CS_ERR_INTERRUPTED;
        }
    }
    for (int first = 0; first < n_blocks && st == CS_OK; first += wave) {
        int last = first + wave < n_blocks ? first + wave : n_blocks;
        int failed_alloc = 0, failed_value = 0;
        memset(acc, 0, sizeof(double) * (size_t) wave * acc_len);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) \
    reduction(|:failed_alloc, failed_value)
#endif
        for (int blk = first; blk < last; blk++) {
            unit_work u;
            if (!unit_work_alloc(&u, m, s->n_draws)) { failed_alloc = 1; continue; }
            double *a = acc + (size_t) (blk - first) * acc_len;
            int from = blk * UNITS_PER_BLOCK;
            int to = from + UNITS_PER_BLOCK < n ? from + UNITS_PER_BLOCK : n;
            for (int i = from; i < to && !cs_poll_stopped(&poll); i++) {
                size_t ii = (size_t) i;
                if (run_unit(m, f_draws, s, V + ii * m->p, x[ii], xt[ii], y[ii],
                             z_start ? z_start + ii * m->dz : NULL, seed, (uint64_t) ii, &u, a,
                             out, ii, &poll) == 0)
                    failed_value = 1;
            }
            unit_work_free(&u);
        }
        /* add block sums in block order: the total does not depend on the thread count */
        for (int blk = first; blk < last; blk++) {
            const double *a = acc + (size_t) (blk - first) * acc_len;
            for (size_t k = 0; k < acc_len; k++) total[k] += a[k];
        }
        if (failed_alloc) st = CS_ERR_NOMEM;
        else if (cs_poll_stopped(&poll)) st = CS_ERR_INTERRUPTED;
        else if (failed_value) st = CS_ERR_NONFINITE;
        else {
            if (step) {
                int done_to = last * UNITS_PER_BLOCK < n ? last * UNITS_PER_BLOCK : n;
                step(step_context, done_to - first * UNITS_PER_BLOCK);
            }
            if (cs_poll_main(&poll)) st = CS_ERR_INTERRUPTED;
        }
    }
    if (st == CS_OK) {
        if (m->binary) {
            for (int d = 0; d < s->n_draws; d++) out->ate_draws[d] = total[d] / n;
        } else {
            /* adrf_draws is n_grid x n_draws, draw-major as accumulated */
            for (size_t k = 0; k < acc_len; k++) out->adrf_draws[k] = total[k] / n;
        }
    }
    free(acc);
    free(total);
    free(f_draws);
    free(f_params);
    return st;
}
