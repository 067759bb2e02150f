/* The knobs and the treatment and potential outcomes of each row (see generate.h). */
#include <math.h>
#include "generate.h"
#include "rng.h"
#include "threads.h"

/* Outcome streams use a key distinct from the covariate streams of the same seed. */
#define OUTCOME_KEY 0x9E3779B97F4A7C15ULL

/* Fewest rows worth a thread: waking one costs about as much as these loops on them. */
#define KNOB_THREAD_ROWS 65536
#define OUTCOME_THREAD_ROWS 16384

cs_status cs_apply_knobs(int n, const cs_knobs *kn, const double *eta, const double *mu0,
                         const double *mu1, int binary, int threads, double *ps, double *mu1_out,
                         double *tau_out, double *k_out, int *n_bad, double *worst)
{
    if (n < 0) return CS_ERR_ARGUMENT;
    int bad = 0;
    double most = 0.0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) \
    num_threads(cs_threads_for(threads, n, KNOB_THREAD_ROWS)) reduction(+:bad) reduction(max:most)
#endif
    for (int i = 0; i < n; i++) {
        double e = 1.0 / (1.0 + exp(-(kn->intercept + kn->overlap_scale * (eta[i] - kn->eta_bar))));
        double tau = kn->effect ? kn->effect[i] :
                     kn->ate + kn->heterogeneity * (mu1[i] - mu0[i] - kn->tau_bar);
        double m1 = mu0[i] + tau, k = kn->k ? kn->k[i] : kn->k_const;
        ps[i] = e;
        mu1_out[i] = m1;
        tau_out[i] = m1 - mu0[i];
        if (k_out) k_out[i] = k;
        if (binary) {
            double excess = 0.0;
            for (int arm = 0; arm < 2; arm++) {
                double m = arm ? m1 : mu0[i];
                double p[3] = { m, m + k * (1.0 - e), m - k * e };
                for (int c = 0; c < 3; c++) {
                    if (p[c] - 1.0 > excess) excess = p[c] - 1.0;
                    if (-p[c] > excess) excess = -p[c];
                }
            }
            if (excess > 1e-12) bad++;
            if (excess > most) most = excess;
        }
    }
    (void) threads;
    *n_bad = bad;
    *worst = most;
    return CS_OK;
}

cs_status cs_generate_outcomes(int n, uint64_t seed, uint64_t offset, const double *ps,
                               const double *m0, const double *m1, const double *sd0,
                               const double *sd1, const double *k, int binary, int threads,
                               double *y0, double *y1, const cs_column_out *treatment,
                               const cs_column_out *outcome)
{
    if (n < 0) return CS_ERR_ARGUMENT;
    int bad = 0, whole = !binary && outcome->round_whole;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) \
    num_threads(cs_threads_for(threads, n, OUTCOME_THREAD_ROWS)) reduction(|:bad)
#endif
    for (int i = 0; i < n; i++) {
        cs_rng rng;
        cs_rng_init(&rng, seed ^ OUTCOME_KEY, offset + (uint64_t) i);
        double ti = cs_rng_unif(&rng) < ps[i] ? 1.0 : 0.0;
        double shift = k ? k[i] * (ti - ps[i]) : 0.0;
        double a, b;
        if (binary) {
            double u0 = cs_rng_unif(&rng), u1 = cs_rng_unif(&rng);
            a = u0 < m0[i] + shift ? 1.0 : 0.0;
            b = u1 < m1[i] + shift ? 1.0 : 0.0;
        } else {
            double e0 = cs_rng_norm(&rng), e1 = cs_rng_norm(&rng);
            a = m0[i] + shift + sd0[i] * e0;
            b = m1[i] + shift + sd1[i] * e1;
            if (!(a - a == 0.0) || !(b - b == 0.0)) bad = 1;
            if (whole) {
                a = nearbyint(a);
                b = nearbyint(b);
            }
        }
        y0[i] = a;
        y1[i] = b;
        cs_column_put(treatment, (size_t) i, ti, 1, 0);
        cs_column_put(outcome, (size_t) i, ti == 1.0 ? b : a, binary, 0);
    }
    (void) threads;
    return bad ? CS_ERR_NONFINITE : CS_OK;
}
