/* .Call entry points for distances (fidelity, dcr). */
#ifndef CS_R_DISTANCE_H
#define CS_R_DISTANCE_H

#include <R.h>
#include <Rinternals.h>

/* list(distance, index): for each row of x, the distance to (and 1-based row of) its closest
 * row of ref. exclude: NULL or an integer vector (one per row of x) of the 1-based ref row
 * that row may not match (NA for none): x's own row numbers give leave-one-out distances.
 * method: 0 automatic, 1 dgemm blocks (see distance.h). */
SEXP distance_nearest(SEXP x, SEXP ref, SEXP exclude, SEXP method, SEXP threads);
/* Mean Euclidean distance over all pairs of rows of a and b. */
SEXP distance_mean(SEXP a, SEXP b, SEXP threads);

#endif
