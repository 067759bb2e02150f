/* The knobs and the treatment and potential outcomes of each row (see generate.h).
 *
 * Row i's outcomes use one Philox block of the stream (seed ^ OUTCOME_KEY, offset + i): word 0
 * decides T; words 1 to 3 give the pair of normals of the two noises (53 bits for the radius,
 * 32 for the angle), or words 1 and 2 the two Bernoulli uniforms of a binary outcome or the
 * point-mass uniforms of a semicontinuous one, whose truncated Gaussians (Y(0)'s, then
 * Y(1)'s, both always drawn) continue the stream from its second block. As in
 * the covariate draws, the arithmetic avoids the maths library and fused multiply-adds, so
 * the values do not depend on the machine's library or instruction set. */
#include "fp_strict.h"

#include <math.h>
#include "generate.h"
#include "lane_math.h"
#include "rng.h"
#include "truncnorm.h"
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
    /* the default effect knobs keep the learned m_1 itself, not a rounding of it, so that a
     * semicontinuous outcome is not moved off its point mass */
    int learned_effect = !kn->effect && kn->heterogeneity == 1.0 && kn->ate == kn->tau_bar;
    double most = 0.0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) \
    num_threads(cs_threads_for(threads, n, KNOB_THREAD_ROWS)) reduction(+:bad) reduction(max:most)
#endif
    for (int i = 0; i < n; i++) {
        double e = cs_lane_sigmoid(kn->intercept + kn->overlap_scale * (eta[i] - kn->eta_bar));
        double tau = kn->effect ? kn->effect[i] :
                     kn->ate + kn->heterogeneity * (mu1[i] - mu0[i] - kn->tau_bar);
        double m1 = learned_effect ? mu1[i] : mu0[i] + tau, k = kn->k ? kn->k[i] : kn->k_const;
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

/* Y(t) of a semicontinuous outcome before the knobs' shift: the point mass if u < prob,
 * else the truncated Gaussian from the rest of the row's stream (drawn either way). The
 * bounds are enforced against the rounding of loc + scale z. */
static double mass_outcome_draw(const cs_mass_outcome *mo, int arm, int i, double u,
                                cs_rng *rest)
{
    double loc = mo->loc[arm][i], scale = mo->scale[arm][i];
    double z = cs_truncnorm_draw(rest, (mo->lower - loc) / scale, (mo->upper - loc) / scale);
    double v = loc + scale * z;
    v = v < mo->lower ? mo->lower : v;
    v = v > mo->upper ? mo->upper : v;
    return u < mo->prob[arm][i] ? mo->point_mass : v;
}

cs_status cs_generate_outcomes(int n, uint64_t seed, uint64_t offset, const double *ps,
                               const double *m0, const double *m1, const double *sd0,
                               const double *sd1, const double *k, int binary,
                               const cs_mass_outcome *mass, int threads, double *y0, double *y1,
                               const cs_column_out *treatment, const cs_column_out *outcome)
{
    if (n < 0) return CS_ERR_ARGUMENT;
    int bad = 0, whole = !binary && outcome->round_whole;
    uint64_t key = seed ^ OUTCOME_KEY;
    uint32_t k0 = (uint32_t) key, k1 = (uint32_t) (key >> 32);
#ifdef _OPENMP
#pragma omp parallel for schedule(static) \
    num_threads(cs_threads_for(threads, n, OUTCOME_THREAD_ROWS)) reduction(|:bad)
#endif
    for (int i = 0; i < n; i++) {
        uint64_t index = offset + (uint64_t) i;
        uint32_t w0 = (uint32_t) index, w1 = (uint32_t) (index >> 32), w2 = 0, w3 = 0;
        cs_philox4x32_10_rounds(&w0, &w1, &w2, &w3, k0, k1);
        double ti = cs_rng_unif32_from(w0) < ps[i] ? 1.0 : 0.0;
        double shift = k ? k[i] * (ti - ps[i]) : 0.0;
        double a, b;
        if (binary) {
            a = cs_rng_unif32_from(w1) < m0[i] + shift ? 1.0 : 0.0;
            b = cs_rng_unif32_from(w2) < m1[i] + shift ? 1.0 : 0.0;
        } else if (mass) {
            cs_rng rest;
            cs_rng_init_at(&rest, key, index, 1);
            a = mass_outcome_draw(mass, 0, i, cs_rng_unif32_from(w1), &rest);
            b = mass_outcome_draw(mass, 1, i, cs_rng_unif32_from(w2), &rest);
            a += (m0[i] - mass->mu[0][i]) + shift;
            b += (m1[i] - mass->mu[1][i]) + shift;
            if (!(a - a == 0.0) || !(b - b == 0.0)) bad = 1;
            if (whole) {
                a = nearbyint(a);
                b = nearbyint(b);
            }
        } else {
            double radius = sqrt(-2.0 * cs_lane_log(cs_rng_unif_from(w1, w2))), c, s;
            cs_lane_sincos_2pi(cs_rng_unif32_from(w3), &c, &s);
            a = m0[i] + shift + sd0[i] * (radius * c);
            b = m1[i] + shift + sd1[i] * (radius * s);
            if (!(a - a == 0.0) || !(b - b == 0.0)) bad = 1;
            if (whole) {
                a = nearbyint(a);
                b = nearbyint(b);
            }
        }
        y0[i] = a;
        y1[i] = b;
        double y = ti == 1.0 ? b : a;
        cs_column_write(treatment, (size_t) i, 1, &ti, NULL, 1);
        cs_column_write(outcome, (size_t) i, 1, &y, NULL, binary);
    }
    (void) threads;
    return bad ? CS_ERR_NONFINITE : CS_OK;
}
