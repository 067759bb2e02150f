/* .Call entry points for the neural-network classifier (C2ST in fidelity()). */
#ifndef CS_R_CLASSIFIER_H
#define CS_R_CLASSIFIER_H

#include <R.h>
#include <Rinternals.h>

/* Out-of-fold probabilities: x an n x d double matrix, y 0/1 doubles, fold 1-based integer
 * fold numbers 1..k, options list(hidden, max_epochs, patience, batch, lr, weight_decay,
 * valid_share), seed an engine seed (integer(2)), threads a count. */
SEXP classifier_cv(SEXP x, SEXP y, SEXP fold, SEXP options, SEXP seed, SEXP threads);

#endif
