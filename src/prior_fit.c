/* The mixture prior refitted to the aggregate posterior of a trained covariate VAE.
 *
 * Gradient training of the prior leaves it short of the encoder's aggregate posterior
 * q(z) = (1/n) sum_i N(z; mu_i, diag s2_i), so draws from the prior fall where the decoder
 * was never trained. Expectation-maximisation on q itself moves the mixture onto it: the
 * E step weighs component k for row i by pi_k exp(E_{q_i} log N(z; m_k, v_k)), the M step
 * sets m_k to the weighted mean of the mu_i and v_k to the weighted mean of
 * s2_i + (mu_i - m_k)^2, i.e. each row counts as its whole Gaussian, not as a point. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "prior_fit.h"
#include "threads.h"

#define LOG_2PI 1.8378770664093454836

static double bound_lv(double raw) { return CS_LV_BOUND * tanh(raw / CS_LV_BOUND); }

cs_status cs_causalmix_posterior(const cs_causalmix *mdl, int n, const double *x,
                                 const double *miss, double *mu, double *var)
{
    enum { BATCH = 256 };
    const cs_table_spec *s = &mdl->spec;
    int D = cs_feature_width(s), L = mdl->latent;
    cs_mlp_work work;
    memset(&work, 0, sizeof(work));
    double *F = malloc(sizeof(double) * (size_t) D * BATCH);
    double *xr = malloc(sizeof(double) * (s->p + 1)), *mr = malloc(sizeof(double) * (s->m + 1));
    cs_status st = CS_OK;
    if (!F || !xr || !mr || cs_mlp_work_alloc(&work, &mdl->encoder, BATCH) != CS_OK) {
        st = CS_ERR_NOMEM;
        goto done;
    }
    for (int start = 0; start < n; start += BATCH) {
        int nb = n - start < BATCH ? n - start : BATCH;
        for (int b = 0; b < nb; b++) {
            size_t i = (size_t) (start + b);
            for (int j = 0; j < s->p; j++) xr[j] = x[(size_t) j * n + i];
            for (int r = 0; r < s->m; r++) mr[r] = miss[(size_t) r * n + i];
            cs_features_row(s, xr, mr, F + (size_t) b * D);
        }
        const double *eo = cs_mlp_forward(&mdl->encoder, &work, F, nb);
        for (int b = 0; b < nb; b++)
            for (int l = 0; l < L; l++) {
                size_t i = (size_t) (start + b);
                mu[i * L + l] = eo[(size_t) b * 2 * L + l];
                var[i * L + l] = exp(bound_lv(eo[(size_t) b * 2 * L + L + l]));
            }
    }
done:
    free(F); free(xr); free(mr);
    cs_mlp_work_free(&work);
    return st;
}

/* Responsibilities of the K components for row i (written to r), and the row's expected
 * log-density under the mixture. prec: K x L inverse variances; base: K constants
 * log w_k - (1/2) sum_l (log 2 pi + log v_kl). */
static double e_step_row(const double *mu, const double *var, int L, int K,
                         const double *base, const double *mean, const double *prec,
                         double *r)
{
    double best = -INFINITY;
    for (int k = 0; k < K; k++) {
        double q = 0.0;
        for (int l = 0; l < L; l++) {
            double d = mu[l] - mean[k * L + l];
            q += (d * d + var[l]) * prec[k * L + l];
        }
        r[k] = base[k] - 0.5 * q;
        if (r[k] > best) best = r[k];
    }
    double sum = 0.0;
    for (int k = 0; k < K; k++) { r[k] = exp(r[k] - best); sum += r[k]; }
    for (int k = 0; k < K; k++) r[k] /= sum;
    return best + log(sum);
}

cs_status cs_prior_fit_aggregate(int n, int L, int K, const double *mu, const double *var,
                                 int max_iter, double tol, double min_var, int threads,
                                 double *prior, int *iterations, double *loglik)
{
    if (n < 1 || L < 1 || K < 1 || max_iter < 0 || !(min_var > 0)) return CS_ERR_ARGUMENT;
    (void) threads;  /* unused without OpenMP */
    double *log_w = prior, *mean = prior + K, *logvar = prior + K + K * L;
    /* rows are summed in fixed blocks, and the blocks in order, so the result does not
     * depend on the thread count */
    enum { ROWS_PER_BLOCK = 1024 };
    int blocks = (n + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    size_t stride = (size_t) K * (1 + 2 * L) + 1;  /* weights, first, second moments, loglik */
    double *acc = malloc(sizeof(double) * stride * blocks);
    double *resp = malloc(sizeof(double) * (size_t) K * blocks);
    double *prec = malloc(sizeof(double) * (size_t) K * L), *base = malloc(sizeof(double) * K);
    if (!acc || !resp || !prec || !base) {
        free(acc); free(resp); free(prec); free(base);
        return CS_ERR_NOMEM;
    }
    /* normalise the stored logits to log-weights */
    double mx = log_w[0], lse = 0.0;
    for (int k = 1; k < K; k++) if (log_w[k] > mx) mx = log_w[k];
    for (int k = 0; k < K; k++) lse += exp(log_w[k] - mx);
    for (int k = 0; k < K; k++) log_w[k] -= mx + log(lse);

    double previous = -INFINITY;
    int it;
    for (it = 0; it < max_iter; it++) {
        for (int k = 0; k < K; k++) {
            base[k] = log_w[k];
            for (int l = 0; l < L; l++) {
                prec[k * L + l] = exp(-logvar[k * L + l]);
                base[k] -= 0.5 * (LOG_2PI + logvar[k * L + l]);
            }
        }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(cs_threads(threads))
#endif
        for (int blk = 0; blk < blocks; blk++) {
            double *a = acc + stride * blk, *r = resp + (size_t) K * blk;
            memset(a, 0, sizeof(double) * stride);
            int stop = (blk + 1) * ROWS_PER_BLOCK < n ? (blk + 1) * ROWS_PER_BLOCK : n;
            for (int i = blk * ROWS_PER_BLOCK; i < stop; i++) {
                const double *mi = mu + (size_t) i * L, *vi = var + (size_t) i * L;
                a[stride - 1] += e_step_row(mi, vi, L, K, base, mean, prec, r);
                for (int k = 0; k < K; k++) {
                    double rk = r[k];
                    a[k] += rk;
                    for (int l = 0; l < L; l++) {
                        a[K + k * L + l] += rk * mi[l];
                        a[K + K * L + k * L + l] += rk * (mi[l] * mi[l] + vi[l]);
                    }
                }
            }
        }
        for (int blk = 1; blk < blocks; blk++)
            for (size_t u = 0; u < stride; u++) acc[u] += acc[stride * blk + u];
        double current = acc[stride - 1] / n;
        if (it == 0 && loglik) loglik[0] = current;
        if (loglik) loglik[1] = current;
        if (it > 0 && current - previous < tol * fabs(current)) break;
        previous = current;
        for (int k = 0; k < K; k++) {
            double nk = acc[k];
            if (nk < 1e-10 * n) { log_w[k] = log(1e-10); continue; }  /* an emptied component */
            log_w[k] = log(nk / n);
            for (int l = 0; l < L; l++) {
                double m = acc[K + k * L + l] / nk;
                double v = acc[K + K * L + k * L + l] / nk - m * m;
                mean[k * L + l] = m;
                logvar[k * L + l] = log(v > min_var ? v : min_var);
            }
        }
    }
    if (iterations) *iterations = it;
    free(acc); free(resp); free(prec); free(base);
    return CS_OK;
}
