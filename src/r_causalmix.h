/* .Call entry points of causalmix(): training, prior refit, prediction and covariate draws. */
#ifndef CS_R_CAUSALMIX_H
#define CS_R_CAUSALMIX_H

#include <R.h>
#include <Rinternals.h>
#include "causalmix_draw.h"

SEXP causalmix_train(SEXP model, SEXP settings, SEXP x, SEXP miss, SEXP t, SEXP y, SEXP seed,
                     SEXP verbose, SEXP threads, SEXP progress);
SEXP causalmix_predict(SEXP model, SEXP x, SEXP miss, SEXP kernels, SEXP threads);
SEXP causalmix_draw(SEXP model, SEXP decoding, SEXP n, SEXP seed, SEXP offset, SEXP kernels,
                    SEXP threads);
SEXP causalmix_posterior(SEXP model, SEXP x, SEXP miss);
SEXP prior_fit_aggregate(SEXP mu, SEXP var, SEXP prior, SEXP settings, SEXP threads);

/* Fills `out` from the R description of a fitted model (list built by R/causalmix.R).
 * With with_params = 0 the network parameter pointers are left NULL. Shared with r_simulate.c. */
void r_read_causalmix(SEXP model, cs_causalmix *out, int with_params);

#endif
