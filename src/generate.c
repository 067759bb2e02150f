/* Treatment and potential outcomes, one random stream per row (see generate.h). */
#include "generate.h"
#include "rng.h"
#include "threads.h"

/* Outcome streams use a key distinct from the covariate streams of the same seed. */
#define OUTCOME_KEY 0x9E3779B97F4A7C15ULL

cs_status cs_generate_outcomes(int n, uint64_t seed, uint64_t offset, const double *ps,
                               const double *m0, const double *m1, const double *sd0,
                               const double *sd1, const double *k, int binary, int threads,
                               double *t, double *y0, double *y1)
{
    if (n < 0) return CS_ERR_ARGUMENT;
    int bad = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(cs_threads(threads)) reduction(|:bad)
#endif
    for (int i = 0; i < n; i++) {
        cs_rng rng;
        cs_rng_init(&rng, seed ^ OUTCOME_KEY, offset + (uint64_t) i);
        double ti = cs_rng_unif(&rng) < ps[i] ? 1.0 : 0.0;
        double shift = k ? k[i] * (ti - ps[i]) : 0.0;
        if (binary) {
            double u0 = cs_rng_unif(&rng), u1 = cs_rng_unif(&rng);
            y0[i] = u0 < m0[i] + shift ? 1.0 : 0.0;
            y1[i] = u1 < m1[i] + shift ? 1.0 : 0.0;
        } else {
            double e0 = cs_rng_norm(&rng), e1 = cs_rng_norm(&rng);
            y0[i] = m0[i] + shift + sd0[i] * e0;
            y1[i] = m1[i] + shift + sd1[i] * e1;
            if (!(y0[i] - y0[i] == 0.0) || !(y1[i] - y1[i] == 0.0)) bad = 1;
        }
        t[i] = ti;
    }
    (void) threads;
    return bad ? CS_ERR_NONFINITE : CS_OK;
}
