/* Philox4x32-10 counter-based streams and the draws built on them.
 * Written from Salmon, Moraes, Dror & Shaw (2011), "Parallel random numbers: as easy as 1, 2, 3";
 * checked against the Random123 known-answer vectors in tests/testthat/test-rng.R. */
#include "rng.h"

#include <math.h>
#include <stddef.h>

void cs_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
    cs_philox4x32_10_rounds(&c0, &c1, &c2, &c3, key[0], key[1]);
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

void cs_rng_init(cs_rng *rng, uint64_t seed, uint64_t index)
{
    rng->key[0] = (uint32_t) seed;
    rng->key[1] = (uint32_t)(seed >> 32);
    rng->counter[0] = (uint32_t) index;
    rng->counter[1] = (uint32_t)(index >> 32);
    rng->counter[2] = 0;
    rng->counter[3] = 0;
    rng->buffer[0] = rng->buffer[1] = rng->buffer[2] = rng->buffer[3] = 0;
    rng->used = 4; /* empty: the first call computes block 0 */
    rng->spare_normal = 0.0;
    rng->has_spare = 0;
}

void cs_rng_init_at(cs_rng *rng, uint64_t seed, uint64_t index, uint64_t block)
{
    cs_rng_init(rng, seed, index);
    rng->counter[2] = (uint32_t) block;
    rng->counter[3] = (uint32_t) (block >> 32);
}

uint64_t cs_rng_derive_seed(uint64_t seed, uint64_t tag)
{
    uint32_t counter[4] = { (uint32_t) tag, (uint32_t)(tag >> 32), 0xFFFFFFFFu, 0xFFFFFFFFu };
    uint32_t key[2] = { (uint32_t) seed, (uint32_t)(seed >> 32) };
    uint32_t out[4];
    cs_philox4x32_10(counter, key, out);
    return ((uint64_t) out[1] << 32) | out[0];
}

uint32_t cs_rng_u32(cs_rng *rng)
{
    if (rng->used >= 4) {
        cs_philox4x32_10(rng->counter, rng->key, rng->buffer);
        /* next block of this stream; the index words never change */
        if (++rng->counter[2] == 0) ++rng->counter[3];
        rng->used = 0;
    }
    return rng->buffer[rng->used++];
}

double cs_rng_unif(cs_rng *rng)
{
    uint32_t w0 = cs_rng_u32(rng);
    return cs_rng_unif_from(w0, cs_rng_u32(rng));
}

/* Box-Muller: exactly two uniforms per pair of normals, the second kept as the spare. */
double cs_rng_norm(cs_rng *rng)
{
    if (rng->has_spare) {
        rng->has_spare = 0;
        return rng->spare_normal;
    }
    double u1 = cs_rng_unif(rng);
    double u2 = cs_rng_unif(rng);
    double radius = sqrt(-2.0 * log(u1));
    double angle = 6.283185307179586476925 * u2;
    rng->spare_normal = radius * sin(angle);
    rng->has_spare = 1;
    return radius * cos(angle);
}

int cs_rng_bern(cs_rng *rng, double p)
{
    double u = cs_rng_unif(rng);
    return u < p;
}

int cs_rng_categorical(cs_rng *rng, const double *prob, int k)
{
    double total = 0.0;
    int last_positive = -1;
    for (int j = 0; j < k; j++) {
        if (prob[j] > 0.0) {
            total += prob[j];
            last_positive = j;
        }
    }
    if (last_positive < 0 || !isfinite(total)) return -1;
    double target = cs_rng_unif(rng) * total;
    double cumulative = 0.0;
    for (int j = 0; j < last_positive; j++) {
        if (prob[j] > 0.0) {
            cumulative += prob[j];
            if (target < cumulative) return j;
        }
    }
    /* also catches rounding in the running sum */
    return last_positive;
}

double cs_rng_exp(cs_rng *rng)
{
    return -log(cs_rng_unif(rng));
}

/* Marsaglia & Tsang (2000); shape < 1 via Gamma(shape + 1) * U^(1 / shape). */
double cs_rng_gamma(cs_rng *rng, double shape)
{
    if (!(shape > 0.0) || !isfinite(shape)) return NAN;
    if (shape < 1.0) {
        double g = cs_rng_gamma(rng, shape + 1.0);
        double u = cs_rng_unif(rng);
        return g * exp(log(u) / shape);
    }
    double d = shape - 1.0 / 3.0;
    double c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x, v;
        do {
            x = cs_rng_norm(rng);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        double u = cs_rng_unif(rng);
        double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
        if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))) return d * v;
    }
}

/* log(k!) without lgamma (which writes the global signgam, a race inside OpenMP loops). */
static double log_factorial(double k)
{
    static const double small[16] = {
        0.0, 0.0, 0.69314718055994530942, 1.79175946922805500081,
        3.17805383034794561964, 4.78749174278204599425, 6.57925121201010099506,
        8.52516136106541430017, 10.6046029027452502284, 12.8018274800814696112,
        15.1044125730755152952, 17.5023078458738858393, 19.9872144956618861495,
        22.5521638531234228856, 25.1912211827386815001, 27.8992713838408915661
    };
    if (k < 16.0) return small[(int) k];
    /* Stirling series; the first omitted term is below 1e-13 for k >= 16 */
    double n = k + 1.0;
    double inv = 1.0 / n, inv2 = inv * inv;
    return (n - 0.5) * log(n) - n + 0.91893853320467274178 +
           inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)));
}

/* Inversion by sequential search for small lambda; Hoermann's (1993) transformed rejection
 * with squeeze (PTRS) otherwise. */
double cs_rng_poisson(cs_rng *rng, double lambda)
{
    if (!(lambda >= 0.0) || !isfinite(lambda)) return NAN;
    if (lambda == 0.0) return 0.0;
    if (lambda < 10.0) {
        double u = cs_rng_unif(rng);
        double p = exp(-lambda);
        double cdf = p;
        double k = 0.0;
        /* the cap only matters if rounding leaves the cdf just below u */
        while (u > cdf && k < 1000.0) {
            k += 1.0;
            p *= lambda / k;
            cdf += p;
        }
        return k;
    }
    double slam = sqrt(lambda);
    double loglam = log(lambda);
    double b = 0.931 + 2.53 * slam;
    double a = -0.059 + 0.02483 * b;
    double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    double v_r = 0.9277 - 3.6224 / (b - 2.0);
    for (;;) {
        double u = cs_rng_unif(rng) - 0.5;
        double v = cs_rng_unif(rng);
        double us = 0.5 - fabs(u);
        double k = floor((2.0 * a / us + b) * u + lambda + 0.43);
        if (us >= 0.07 && v <= v_r) return k;
        if (k < 0.0 || (us < 0.013 && v > us)) continue;
        if (log(v) + log(inv_alpha) - log(a / (us * us) + b) <=
            -lambda + k * loglam - log_factorial(k))
            return k;
    }
}

void cs_rng_shuffle(cs_rng *rng, int *v, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int) (cs_rng_unif(rng) * (i + 1));
        if (j > i) j = i;
        int t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

double cs_rng_draw(cs_rng *rng, const cs_dist *dist)
{
    switch (dist->kind) {
    case CS_DIST_U32: return (double) cs_rng_u32(rng);
    case CS_DIST_UNIFORM: return cs_rng_unif(rng);
    case CS_DIST_NORMAL: return cs_rng_norm(rng);
    case CS_DIST_BERNOULLI: return (double) cs_rng_bern(rng, dist->par[0]);
    case CS_DIST_CATEGORICAL: return (double) cs_rng_categorical(rng, dist->par, dist->n_par) + 1.0;
    case CS_DIST_GAMMA: return cs_rng_gamma(rng, dist->par[0]);
    case CS_DIST_POISSON: return cs_rng_poisson(rng, dist->par[0]);
    case CS_DIST_EXPONENTIAL: return cs_rng_exp(rng);
    }
    return NAN;
}

void cs_rng_fill_streams(uint64_t seed, uint64_t first, int count, const cs_dist *dist,
                         int threads, double *out)
{
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads)
#endif
    for (int i = 0; i < count; i++) {
        cs_rng rng;
        cs_rng_init(&rng, seed, first + (uint64_t) i);
        out[i] = cs_rng_draw(&rng, dist);
    }
    (void) threads;
}
