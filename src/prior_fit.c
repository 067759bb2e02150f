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
#include "small_gemm.h"
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

/* The E and M steps of a block of rows are matrix products: with z_i = (mu_i, mu_i^2 + var_i)
 * (2L values), the expected quadratic form sum_l ((mu_il - m_kl)^2 + var_il) / v_kl of every
 * row and component is z_i . w_k + sum_l m_kl^2 / v_kl with w_k = (-2 m_k / v_k, 1 / v_k),
 * and the weighted moments the M step needs are sum_i r_ik z_i. */
enum { ROWS_PER_BLOCK = 256 };

/* Responsibilities (K x rows, column-major, into r) of the rows whose z (2L x rows) is given,
 * and the sum of their expected log-densities. wt: K x 2L, the w_k as rows; base: K constants
 * log w_k - (1/2) sum_l (log 2 pi + log v_kl + m_kl^2 / v_kl). */
static double e_step_block(int rows, int L, int K, const double *z, const double *wt,
                           const double *base, double *r)
{
    cs_small_gemm(0, K, rows, 2 * L, wt, K, z, 2 * L, 0, r, K);
    double loglik = 0.0;
    for (int i = 0; i < rows; i++) {
        double *ri = r + (size_t) i * K, best = -INFINITY, sum = 0.0;
        for (int k = 0; k < K; k++) {
            ri[k] = base[k] - 0.5 * ri[k];
            if (ri[k] > best) best = ri[k];
        }
        for (int k = 0; k < K; k++) { ri[k] = exp(ri[k] - best); sum += ri[k]; }
        for (int k = 0; k < K; k++) ri[k] /= sum;
        loglik += best + log(sum);
    }
    return loglik;
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
    int blocks = (n + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK, L2 = 2 * L;
    /* per block: K weights, the 2L x K weighted sums of z, the log-likelihood */
    size_t stride = (size_t) K * (1 + L2) + 1;
    double *acc = malloc(sizeof(double) * stride * blocks);
    double *z = malloc(sizeof(double) * (size_t) L2 * n);
    double *resp = malloc(sizeof(double) * (size_t) K * ROWS_PER_BLOCK * blocks);
    double *wt = malloc(sizeof(double) * (size_t) K * L2), *base = malloc(sizeof(double) * K);
    if (!acc || !z || !resp || !wt || !base) {
        free(acc); free(z); free(resp); free(wt); free(base);
        return CS_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        const double *mi = mu + (size_t) i * L, *vi = var + (size_t) i * L;
        double *zi = z + (size_t) i * L2;
        for (int l = 0; l < L; l++) {
            zi[l] = mi[l];
            zi[L + l] = mi[l] * mi[l] + vi[l];
        }
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
                double prec = exp(-logvar[k * L + l]), m = mean[k * L + l];
                wt[(size_t) l * K + k] = -2.0 * m * prec;
                wt[(size_t) (L + l) * K + k] = prec;
                base[k] -= 0.5 * (LOG_2PI + logvar[k * L + l] + m * m * prec);
            }
        }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(cs_threads(threads))
#endif
        for (int blk = 0; blk < blocks; blk++) {
            double *a = acc + stride * blk, *r = resp + (size_t) K * ROWS_PER_BLOCK * blk;
            int first = blk * ROWS_PER_BLOCK;
            int rows = n - first < ROWS_PER_BLOCK ? n - first : ROWS_PER_BLOCK;
            const double *zb = z + (size_t) first * L2;
            a[stride - 1] = e_step_block(rows, L, K, zb, wt, base, r);
            for (int k = 0; k < K; k++) a[k] = 0.0;
            for (int i = 0; i < rows; i++)
                for (int k = 0; k < K; k++) a[k] += r[(size_t) i * K + k];
            /* sum_i z_i r_ik: (2L x rows) times the transpose of (K x rows) */
            cs_small_gemm(1, L2, K, rows, zb, L2, r, K, 0, a + K, L2);
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
            const double *sums = acc + K + (size_t) k * L2;
            for (int l = 0; l < L; l++) {
                double m = sums[l] / nk;
                double v = sums[L + l] / nk - m * m;
                mean[k * L + l] = m;
                logvar[k * L + l] = log(v > min_var ? v : min_var);
            }
        }
    }
    if (iterations) *iterations = it;
    free(acc); free(z); free(resp); free(wt); free(base);
    return CS_OK;
}
