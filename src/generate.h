/* Per-row generation of treatment and potential outcomes for simulate() on a causalmix fit.
 * Row i uses the stream (seed, offset + i): chunks drawn with offsets concatenate exactly to
 * a single call, whatever the number of threads. */
#ifndef CS_GENERATE_H
#define CS_GENERATE_H

#include <stdint.h>
#include "status.h"

/* ps: propensity used to draw T; m0, m1: E[Y(t) | x] after the knobs; sd0, sd1: noise sd of a
 * continuous outcome (ignored when binary); k: unmeasured confounding per row (NULL = 0).
 * Y(t) = m_t + k (T - ps) + noise: Gaussian for a continuous outcome, Bernoulli with that
 * probability for a binary one (the caller checks it lies in [0, 1]).
 * The uniform deciding T is drawn first and the outcome noise after it, whatever the knobs,
 * so changing the outcome knobs never changes T and changing overlap never changes the noise. */
cs_status cs_generate_outcomes(int n, uint64_t seed, uint64_t offset, const double *ps,
                               const double *m0, const double *m1, const double *sd0,
                               const double *sd1, const double *k, int binary, int threads,
                               double *t, double *y0, double *y1);

#endif
