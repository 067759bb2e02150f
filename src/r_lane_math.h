/* The one .Call entry point for accuracy tests of the elementary functions: the scalar ones of
 * lane_math.h and truncnorm.h ("exp", "log", "tanh", "cos2pi", "sin2pi", "erfcx") and the
 * array ones of vecmath.h that training uses ("exp_array", "log_array", "sincos2pi_array",
 * the last a 2-column matrix of sin and cos). */
#ifndef CS_R_LANE_MATH_H
#define CS_R_LANE_MATH_H

#include <R.h>
#include <Rinternals.h>

SEXP lane_math(SEXP x, SEXP fun);

#endif
