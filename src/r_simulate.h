/* .Call entry points of simulate() on a causalmix fit. */
#ifndef CS_R_SIMULATE_H
#define CS_R_SIMULATE_H

#include <R.h>
#include <Rinternals.h>

SEXP simulate_knobs(SEXP pred, SEXP knobs, SEXP binary, SEXP threads);
SEXP simulate_logit_constants(SEXP mu0, SEXP mu1, SEXP heterogeneity, SEXP ate);
SEXP simulate_outcomes(SEXP ps, SEXP m0, SEXP m1, SEXP sd0, SEXP sd1, SEXP k, SEXP binary,
                       SEXP mass, SEXP treatment, SEXP outcome, SEXP seed, SEXP offset,
                       SEXP threads);

#endif
