/* The knobs: per-row truth of simulate() on a causalmix fit, the knobs applied to the learned
 * propensity and outcome functions, then treatment and potential outcomes. Row i of the outcomes uses
 * the stream (seed, offset + i): chunks drawn with offsets concatenate exactly to a single
 * call, whatever the number of threads. */
#ifndef CS_KNOBS_H
#define CS_KNOBS_H

#include <stdint.h>
#include "columns.h"
#include "fields.h"
#include "status.h"

/* The three row loops poll interrupts through poll.h (between chunks of rows, or between
 * root-finding steps): an interrupt returns CS_ERR_INTERRUPTED with the outputs incomplete.
 *
 * The knobs, resolved by R over the reference draw (see reference_knobs() in R/simulate.R).
 * logit e* = intercept + overlap_scale (eta - eta_bar); tau* = ate + heterogeneity (tau - tau_bar).
 * A binary outcome with effects on the log-odds scale (logit_effect = 1): logit m1* = logit m0 +
 * logit_shift + heterogeneity (lambda - lambda_bar), lambda = logit m1 - logit m0.
 * Confounding k_const unless k is given; for a binary outcome room_sign = +1 or -1 computes the
 * room w(x), the largest |k| of that sign keeping the four probabilities m_t* + k (T - e*) in
 * [0, 1], and with room_mean > 0 (and k NULL) the row confounding is k_const w(x) / room_mean. */
#define CS_KNOBS_FIELDS(INT, DOUBLE)                                                         \
    DOUBLE(intercept) DOUBLE(overlap_scale) DOUBLE(eta_bar) DOUBLE(ate) DOUBLE(heterogeneity) \
    DOUBLE(tau_bar) INT(logit_effect) DOUBLE(logit_shift) DOUBLE(lambda_bar) DOUBLE(k_const)  \
    INT(room_sign) DOUBLE(room_mean)
typedef struct {
    CS_DECLARE_FIELDS(CS_KNOBS_FIELDS)
    const double *effect;   /* per row, tau* (or the conditional log odds ratio), or NULL */
    const double *k;        /* confounding of each row, or NULL for k_const (or shaped) */
} cs_knobs;

/* For n rows with learned logit propensity eta and outcome means mu0, mu1: ps = e*, mu1_out =
 * m1*, tau_out = mu1_out - mu0 (as stored) and, when not NULL, the confounding of each row
 * (k_out) and its room (room_out, binary outcomes with room_sign != 0). For a binary outcome,
 * *n_bad counts the rows where some probability m_t + k (T - e*) (t, T in {0, 1}) leaves
 * [0, 1] by more than 1e-12 and *worst is the largest excess; both are 0 otherwise. */
cs_status cs_apply_knobs(int n, const cs_knobs *knobs, const double *eta, const double *mu0,
                         const double *mu1, int binary, int threads, double *ps, double *mu1_out,
                         double *tau_out, double *k_out, double *room_out, int *n_bad,
                         double *worst, cs_interrupt_fn interrupt);

/* The log-odds constants of a binary outcome over n reference rows: *lambda_bar, the mean
 * learned conditional log odds ratio, and *shift, the c at which the mean of m1* (as
 * cs_apply_knobs computes it with that heterogeneity) equals mean(mu0) + ate. Serial, so
 * the result does not depend on threads. CS_ERR_ARGUMENT when mean(mu0) + ate is not
 * strictly inside (0, 1) or cannot be reached with |c| <= 4096. */
cs_status cs_logit_constants(int n, const double *mu0, const double *mu1, double heterogeneity,
                             double ate, double *lambda_bar, double *shift,
                             cs_interrupt_fn interrupt);

/* The learned law of a numeric outcome that is not Gaussian, per row and arm t; mu[t] is its
 * mean (the networks' prediction before the knobs).
 * - knots == 0, a semicontinuous outcome: the point mass `point_mass` with probability
 *   prob[t], else the Gaussian N(loc[t], scale[t]^2) truncated to [lower, upper];
 * - knots > 0, a transformed outcome: cs_marginal_decode(from, value, knots, S) with the score
 *   S ~ N(loc[t], scale[t]^2) (prob, point_mass, lower and upper unused). */
typedef struct {
    const double *mu[2], *prob[2], *loc[2], *scale[2];
    double point_mass, lower, upper;
    int knots;
    const double *from, *value;
} cs_mass_outcome;

/* ps: propensity used to draw T; m0, m1: E[Y(t) | x] after the knobs; sd0, sd1: noise sd of a
 * continuous outcome (ignored when binary); k: unmeasured confounding per row (NULL = 0).
 * Y(t) = m_t + k (T - ps) + noise: Gaussian for a continuous outcome (rounded to whole numbers
 * when outcome->round_whole), Bernoulli with that probability for a binary one (the caller
 * checks it lies in [0, 1]). Writes y0, y1 (doubles), T into the treatment column (level code
 * 1 = treated) and Y = Y(T) into the outcome column (a level code when binary).
 * With `mass` (not NULL; sd0, sd1 are then ignored) the outcome is semicontinuous: Y(t) is
 * drawn from the learned law of `mass` and moved by m_t - mu[t] + k (T - ps), so
 * E[Y(t) | x] = m_t exactly and, when the knobs leave the means alone, the draws keep the
 * point mass and the bounds. A transformed whole-number outcome is rounded without bias (up
 * with probability the fractional part), which keeps E[Y(t) | x] = m_t exact.
 * T and the noises come from fixed words of the row's stream whatever the knobs (see
 * knobs.c), so changing the outcome knobs never changes T and changing overlap never
 * changes the noise. */
cs_status cs_generate_outcomes(int n, uint64_t seed, uint64_t offset, const double *ps,
                               const double *m0, const double *m1, const double *sd0,
                               const double *sd1, const double *k, int binary,
                               const cs_mass_outcome *mass, int threads, double *y0, double *y1,
                               const cs_column_out *treatment, const cs_column_out *outcome,
                               cs_interrupt_fn interrupt);

#endif
