/* .Call entry point that evaluates the elementary functions of lane_math.h (for tests). */
#ifndef CS_R_LANE_MATH_H
#define CS_R_LANE_MATH_H

#include <R.h>
#include <Rinternals.h>

SEXP lane_math(SEXP x, SEXP fun);

#endif
