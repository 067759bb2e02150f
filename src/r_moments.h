/* .Call entry points of the synthetic potential outcomes moments (engine in moments.c). */
#ifndef CS_R_MOMENTS_H
#define CS_R_MOMENTS_H

#include <R.h>
#include <Rinternals.h>

SEXP moments_by_arm(SEXP z, SEXP x, SEXP arm, SEXP y, SEXP weights, SEXP threads);

#endif
