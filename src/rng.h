/* Counter-based random streams (Philox4x32-10).
 * A stream is keyed by (seed, index): row i, unit i, chain i or replicate i always gets the same
 * numbers whichever thread runs it, so results never depend on the thread count. */
#ifndef CS_RNG_H
#define CS_RNG_H

#include <stdint.h>

typedef struct {
    uint32_t key[2];      /* from the 64-bit seed drawn by R */
    uint32_t counter[4];  /* (index low, index high, block low, block high) */
    uint32_t buffer[4];   /* output of the last block */
    int used;             /* how many words of buffer were consumed */
    double spare_normal;  /* second value of a polar/Box-Muller pair */
    int has_spare;
} cs_rng;

/* The raw Philox4x32-10 bijection: one 128-bit block from a counter and a key. */
void cs_philox4x32_10(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

#if defined(__GNUC__)
#define CS_RNG_INLINE static inline __attribute__((always_inline))
#else
#define CS_RNG_INLINE static inline
#endif

/* The ten rounds of Philox4x32-10 on a counter held in c0..c3 (replaced by the output), for
 * code that runs many streams side by side: inline, the loop over streams vectorises. */
CS_RNG_INLINE void cs_philox4x32_10_rounds(uint32_t *c0, uint32_t *c1, uint32_t *c2,
                                           uint32_t *c3, uint32_t k0, uint32_t k1)
{
    uint32_t a0 = *c0, a1 = *c1, a2 = *c2, a3 = *c3;
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t) 0xD2511F53u * a0;
        uint64_t p1 = (uint64_t) 0xCD9E8D57u * a2;
        uint32_t n0 = (uint32_t) (p1 >> 32) ^ a1 ^ k0;
        uint32_t n2 = (uint32_t) (p0 >> 32) ^ a3 ^ k1;
        a1 = (uint32_t) p1;
        a3 = (uint32_t) p0;
        a0 = n0;
        a2 = n2;
        k0 += 0x9E3779B9u;   /* golden ratio */
        k1 += 0xBB67AE85u;   /* sqrt(3) - 1 */
    }
    *c0 = a0; *c1 = a1; *c2 = a2; *c3 = a3;
}

/* A uniform on (0, 1) from one 32-bit word, (w + 1/2) 2^-32: for choices where a resolution
 * of 2^-32 is ample (the signed conversion vectorises; the sum is exact). */
CS_RNG_INLINE double cs_rng_unif32_from(uint32_t w)
{
    return ((double) (int32_t) (w ^ 0x80000000u) + 2147483648.5) * (1.0 / 4294967296.0);
}

/* The uniform of cs_rng_unif() made from two consecutive 32-bit words. */
CS_RNG_INLINE double cs_rng_unif_from(uint32_t w0, uint32_t w1)
{
    /* 27 + 26 = 53 random bits, shifted by half a step so 0 and 1 never occur; the signed
     * conversions are exact (both values are below 2^27) and vectorise */
    return ((double) (int32_t) (w0 >> 5) * 67108864.0 + (double) (int32_t) (w1 >> 6) + 0.5) *
           (1.0 / 9007199254740992.0);
}

/* Seeds are 64-bit; R passes them as two 32-bit halves (see r_util.h). */
void cs_rng_init(cs_rng *rng, uint64_t seed, uint64_t index);
/* The same stream, starting at block `block` (code that takes blocks 0 .. block - 1 itself
 * through cs_philox4x32_10_rounds continues the stream here). */
void cs_rng_init_at(cs_rng *rng, uint64_t seed, uint64_t index, uint64_t block);
/* A new 64-bit seed for a separate purpose (e.g. tag 1 = training, 2 = generation), so that
 * stream i of the derived seed is independent of stream i of the original. It uses a block
 * counter (2^64 - 1) that ordinary streams never reach. */
uint64_t cs_rng_derive_seed(uint64_t seed, uint64_t tag);
uint32_t cs_rng_u32(cs_rng *rng);
double cs_rng_unif(cs_rng *rng);                      /* uniform on the open interval (0, 1), 53 bits */
double cs_rng_norm(cs_rng *rng);                      /* standard normal */
int cs_rng_bern(cs_rng *rng, double p);               /* 1 with probability p */
/* index in 0..k-1 drawn with weights prob (need not sum to 1; negative weights count as 0);
 * -1 when no weight is positive or their sum is not finite */
int cs_rng_categorical(cs_rng *rng, const double *prob, int k);
double cs_rng_gamma(cs_rng *rng, double shape);       /* Gamma(shape, scale = 1), shape > 0 (else NaN) */
double cs_rng_poisson(cs_rng *rng, double lambda);    /* Poisson(lambda), lambda >= 0 (else NaN), as double */
double cs_rng_exp(cs_rng *rng);                       /* Exp(1) */
/* A distribution by kind and parameters (validated by the caller): bernoulli (p),
 * categorical (weights; drawn as 1..k), gamma (shape), poisson (mean); u32 as a double. */
typedef enum {
    CS_DIST_U32, CS_DIST_UNIFORM, CS_DIST_NORMAL, CS_DIST_BERNOULLI, CS_DIST_CATEGORICAL,
    CS_DIST_GAMMA, CS_DIST_POISSON, CS_DIST_EXPONENTIAL
} cs_dist_kind;
typedef struct {
    cs_dist_kind kind;
    const double *par;
    int n_par;
} cs_dist;
double cs_rng_draw(cs_rng *rng, const cs_dist *dist);
/* out[i] = the first draw of stream (seed, first + i), i < count, on `threads` threads (the
 * values do not depend on the thread count) */
void cs_rng_fill_streams(uint64_t seed, uint64_t first, int count, const cs_dist *dist,
                         int threads, double *out);
/* Fisher-Yates shuffle of v[0..n-1], one uniform per position from n - 1 down to 1 */
void cs_rng_shuffle(cs_rng *rng, int *v, int n);

#endif
