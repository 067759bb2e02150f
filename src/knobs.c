/* The knobs and the treatment and potential outcomes of each row (see knobs.h).
 *
 * Row i's outcomes use one Philox block of the stream (seed ^ OUTCOME_KEY, offset + i): word 0
 * decides T; words 1 to 3 give the pair of normals of the two noises (53 bits for the radius,
 * 32 for the angle), or words 1 and 2 the two Bernoulli uniforms of a binary outcome or the
 * point-mass uniforms of a semicontinuous one, whose truncated Gaussians (Y(0)'s, then
 * Y(1)'s, both always drawn) continue the stream from its second block. A transformed
 * whole-number outcome is rounded without bias, up with probability its fractional part,
 * from the uniforms of the stream's third block (Y(0)'s, then Y(1)'s), so that
 * E[Y(t) | x] = m_t stays exact under knobs that move the decoded point masses off whole
 * numbers. As in
 * the covariate draws, the arithmetic avoids the maths library and fused multiply-adds, so
 * the values do not depend on the machine's library or instruction set. */
#include "fp_strict.h"

#include <math.h>
#include <stdlib.h>
#include "knobs.h"
#include "marginal_map.h"
#include "lane_math.h"
#include "poll.h"
#include "rng.h"
#include "truncnorm.h"
#include "threads.h"

/* Outcome streams use a key distinct from the covariate streams of the same seed. */
#define OUTCOME_KEY 0x9E3779B97F4A7C15ULL

/* Fewest rows worth a thread: waking one costs about as much as these loops on them. */
#define KNOB_THREAD_ROWS 65536
#define OUTCOME_THREAD_ROWS 16384
/* Rows between two interrupt checks (a few ms of work; the poll itself asks R at most every
 * 0.1 s of wall-clock time). */
#define KNOB_CHUNK_ROWS 262144

/* v rounded to a neighbouring whole number, up with probability its fractional part (u
 * uniform on (0, 1)), so that E[round] = v. */
static double unbiased_round(double v, double u)
{
    double lo = floor(v);
    return lo + (u < v - lo ? 1.0 : 0.0);
}

/* The pair of independent standard normals of a row's words 1 to 3 (Box-Muller: 53 bits for
 * the radius, 32 for the angle). */
static inline void normal_pair(uint32_t w1, uint32_t w2, uint32_t w3, double *z0, double *z1)
{
    double radius = sqrt(-2.0 * cs_lane_log(cs_rng_unif_from(w1, w2))), c, s;
    cs_lane_sincos_2pi(cs_rng_unif32_from(w3), &c, &s);
    *z0 = radius * c;
    *z1 = radius * s;
}

/* logit p, with p clamped to [1e-300, 1 - 2^-53] so that a learned risk of exactly 0 or 1
 * still has a finite log odds. */
static double clamped_logit(double p)
{
    p = p < 1e-300 ? 1e-300 : p;
    p = p > 1.0 - 0x1p-53 ? 1.0 - 0x1p-53 : p;
    return cs_lane_log(p) - cs_lane_log(1.0 - p);
}

/* The part of logit m1* that varies with x, before the shift c: logit m0 + h (lambda -
 * lambda_bar). One function for the root finding and the rows, so that the mean of m1*
 * over the reference rows is exactly the one the shift was solved for. */
static double logit_offset(double m0, double m1, double heterogeneity, double lambda_bar)
{
    double l0 = clamped_logit(m0);
    return l0 + heterogeneity * (clamped_logit(m1) - l0 - lambda_bar);
}

/* num / den, +inf when den is 0 (the constraint does not bind). */
static double room_ratio(double num, double den)
{
    return den > 0.0 ? num / den : HUGE_VAL;
}

/* Largest |k| of the given sign keeping m + k (T - e) in [0, 1] for T = 0, 1 and m = m0, m1. */
static double confounding_room(double m0, double m1, double e, int sign)
{
    double w = HUGE_VAL;
    for (int arm = 0; arm < 2; arm++) {
        double m = arm ? m1 : m0, a, b;
        if (sign > 0) {   /* T = 1 raises the risk by k (1 - e), T = 0 lowers it by k e */
            a = room_ratio(1.0 - m, 1.0 - e);
            b = room_ratio(m, e);
        } else {
            a = room_ratio(m, 1.0 - e);
            b = room_ratio(1.0 - m, e);
        }
        w = a < w ? a : w;
        w = b < w ? b : w;
    }
    return w > 0.0 ? w : 0.0;
}

cs_status cs_apply_knobs(int n, const cs_knobs *kn, const double *eta, const double *mu0,
                         const double *mu1, int binary, int threads, double *ps, double *mu1_out,
                         double *tau_out, double *k_out, double *room_out, int *n_bad,
                         double *worst, cs_interrupt_fn interrupt)
{
    if (n < 0) return CS_ERR_ARGUMENT;
    int bad = 0;
    /* the default effect knobs keep the learned m_1 itself, not a rounding of it, so that a
     * semicontinuous outcome is not moved off its point mass */
    int learned_effect = !kn->effect && kn->heterogeneity == 1.0 && kn->ate == kn->tau_bar;
    int logit = binary && kn->logit_effect;
    int room = binary && kn->room_sign != 0;
    int shaped = room && !kn->k && kn->room_mean > 0.0;
    double most = 0.0;
    cs_poll poll;
    cs_poll_init(&poll, interrupt);
    for (int start = 0; start < n; start += KNOB_CHUNK_ROWS) {
        int stop = n - start < KNOB_CHUNK_ROWS ? n : start + KNOB_CHUNK_ROWS;
        if (start > 0 && cs_poll_main(&poll)) return CS_ERR_INTERRUPTED;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) \
        num_threads(cs_threads_for(threads, stop - start, KNOB_THREAD_ROWS)) \
        reduction(+:bad) reduction(max:most)
#endif
        for (int i = start; i < stop; i++) {
            double e = cs_lane_sigmoid(kn->intercept + kn->overlap_scale * (eta[i] - kn->eta_bar));
            double m1;
            if (learned_effect) {
                m1 = mu1[i];
            } else if (logit) {
                double a = kn->effect ? clamped_logit(mu0[i]) + kn->effect[i] :
                           logit_offset(mu0[i], mu1[i], kn->heterogeneity, kn->lambda_bar) +
                           kn->logit_shift;
                m1 = cs_lane_sigmoid(a);
            } else {
                m1 = mu0[i] + (kn->effect ? kn->effect[i] :
                               kn->ate + kn->heterogeneity * (mu1[i] - mu0[i] - kn->tau_bar));
            }
            double w = room ? confounding_room(mu0[i], m1, e, kn->room_sign) : 0.0;
            double k = kn->k ? kn->k[i] : shaped ? kn->k_const * (w / kn->room_mean) : kn->k_const;
            ps[i] = e;
            mu1_out[i] = m1;
            tau_out[i] = m1 - mu0[i];
            if (k_out) k_out[i] = k;
            if (room_out && room) room_out[i] = w;
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
    }
    (void) threads;
    *n_bad = bad;
    *worst = most;
    return CS_OK;
}

/* Mean of sigmoid(offset_i + c) over the rows, in row order. */
static double mean_risk(int n, const double *offset, double c)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += cs_lane_sigmoid(offset[i] + c);
    return s / n;
}

cs_status cs_logit_constants(int n, const double *mu0, const double *mu1, double heterogeneity,
                             double ate, double *lambda_bar, double *shift,
                             cs_interrupt_fn interrupt)
{
    if (n < 1) return CS_ERR_ARGUMENT;
    double lam = 0.0, m0 = 0.0;
    for (int i = 0; i < n; i++) {
        lam += clamped_logit(mu1[i]) - clamped_logit(mu0[i]);
        m0 += mu0[i];
    }
    lam /= n;
    m0 /= n;
    *lambda_bar = lam;
    double target = m0 + ate;
    if (!(target > 0.0 && target < 1.0)) return CS_ERR_ARGUMENT;
    double *offset = malloc((size_t) n * sizeof *offset);
    if (!offset) return CS_ERR_NOMEM;
    for (int i = 0; i < n; i++) offset[i] = logit_offset(mu0[i], mu1[i], heterogeneity, lam);
    /* the mean risk increases with c: bracket the root by doubling steps, then Newton steps
     * kept inside the bracket (bisection when a step would leave it) */
    double lo = -1.0, hi = 1.0, f_lo = mean_risk(n, offset, lo) - target,
           f_hi = mean_risk(n, offset, hi) - target;
    while (f_lo > 0.0 && lo > -4096.0) { hi = lo; f_hi = f_lo; lo *= 2.0;
                                         f_lo = mean_risk(n, offset, lo) - target; }
    while (f_hi < 0.0 && hi < 4096.0) { lo = hi; f_lo = f_hi; hi *= 2.0;
                                        f_hi = mean_risk(n, offset, hi) - target; }
    if (f_lo > 0.0 || f_hi < 0.0) {
        free(offset);
        return CS_ERR_ARGUMENT;
    }
    double c = f_hi - f_lo > 0.0 ? lo - f_lo * (hi - lo) / (f_hi - f_lo) : 0.5 * (lo + hi);
    cs_poll poll;
    cs_poll_init(&poll, interrupt);
    for (int it = 0; it < 400; it++) {
        if (cs_poll_main(&poll)) {
            free(offset);
            return CS_ERR_INTERRUPTED;
        }
        double f = 0.0, slope = 0.0;
        for (int i = 0; i < n; i++) {
            double p = cs_lane_sigmoid(offset[i] + c);
            f += p;
            slope += p * (1.0 - p);
        }
        f = f / n - target;
        slope /= n;
        if (f == 0.0 || fabs(f) < 1e-15) break;
        if (f < 0.0) lo = c; else hi = c;
        if (hi - lo <= 1e-15 * (1.0 + fabs(c))) break;
        double next = slope > 0.0 ? c - f / slope : 0.5 * (lo + hi);
        c = next > lo && next < hi ? next : 0.5 * (lo + hi);
    }
    free(offset);
    *shift = c;
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
                               const cs_column_out *treatment, const cs_column_out *outcome,
                               cs_interrupt_fn interrupt)
{
    if (n < 0) return CS_ERR_ARGUMENT;
    cs_poll poll;
    cs_poll_init(&poll, interrupt);
    int bad = 0, whole = !binary && outcome->round_whole;
    uint64_t key = seed ^ OUTCOME_KEY;
    uint32_t k0 = (uint32_t) key, k1 = (uint32_t) (key >> 32);
    for (int start = 0; start < n; start += KNOB_CHUNK_ROWS) {
        int stop = n - start < KNOB_CHUNK_ROWS ? n : start + KNOB_CHUNK_ROWS;
        if (start > 0 && cs_poll_main(&poll)) return CS_ERR_INTERRUPTED;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) \
        num_threads(cs_threads_for(threads, stop - start, OUTCOME_THREAD_ROWS)) reduction(|:bad)
#endif
        for (int i = start; i < stop; i++) {
            uint64_t index = offset + (uint64_t) i;
            uint32_t w0 = (uint32_t) index, w1 = (uint32_t) (index >> 32), w2 = 0, w3 = 0;
            cs_philox4x32_10_rounds(&w0, &w1, &w2, &w3, k0, k1);
            double ti = cs_rng_unif32_from(w0) < ps[i] ? 1.0 : 0.0;
            double shift = k ? k[i] * (ti - ps[i]) : 0.0;
            double a, b;
            if (binary) {
                a = cs_rng_unif32_from(w1) < m0[i] + shift ? 1.0 : 0.0;
                b = cs_rng_unif32_from(w2) < m1[i] + shift ? 1.0 : 0.0;
            } else {
                int transformed = mass && mass->knots > 0;
                if (mass) {
                    if (transformed) {
                        double z0, z1;
                        normal_pair(w1, w2, w3, &z0, &z1);
                        a = cs_marginal_decode(mass->from, mass->value, mass->knots,
                                               mass->loc[0][i] + mass->scale[0][i] * z0);
                        b = cs_marginal_decode(mass->from, mass->value, mass->knots,
                                               mass->loc[1][i] + mass->scale[1][i] * z1);
                    } else {
                        cs_rng rest;
                        cs_rng_init_at(&rest, key, index, 1);
                        a = mass_outcome_draw(mass, 0, i, cs_rng_unif32_from(w1), &rest);
                        b = mass_outcome_draw(mass, 1, i, cs_rng_unif32_from(w2), &rest);
                    }
                    /* the learned law moved by the change of its mean the knobs ask for */
                    a += (m0[i] - mass->mu[0][i]) + shift;
                    b += (m1[i] - mass->mu[1][i]) + shift;
                } else {
                    double z0, z1;
                    normal_pair(w1, w2, w3, &z0, &z1);
                    a = m0[i] + shift + sd0[i] * z0;
                    b = m1[i] + shift + sd1[i] * z1;
                }
                if (!(a - a == 0.0) || !(b - b == 0.0)) bad = 1;
                if (whole && transformed) {
                    cs_rng round;
                    cs_rng_init_at(&round, key, index, 2);
                    a = unbiased_round(a, cs_rng_unif(&round));
                    b = unbiased_round(b, cs_rng_unif(&round));
                } else if (whole) {
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
    }
    (void) threads;
    return bad ? CS_ERR_NONFINITE : CS_OK;
}
