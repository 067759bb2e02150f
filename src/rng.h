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

/* Seeds are 64-bit; R passes them as two 32-bit halves (see r_util.h). */
void cs_rng_init(cs_rng *rng, uint64_t seed, uint64_t index);
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

#endif
