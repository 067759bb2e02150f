/* .Call entry points of the random streams (used by tests and by other topics for checking). */
#ifndef CS_R_RNG_H
#define CS_R_RNG_H

#include <Rinternals.h>

SEXP rng_draw(SEXP seed, SEXP n, SEXP distribution, SEXP parameters, SEXP first_index,
              SEXP threads);
SEXP rng_stream(SEXP seed, SEXP index, SEXP n, SEXP distribution, SEXP parameters);
SEXP rng_philox(SEXP counter, SEXP key);
SEXP rng_derive_seed(SEXP seed, SEXP tag);

#endif
