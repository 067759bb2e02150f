/* .Call entry points of the estimators topic. */
#ifndef CS_R_GLM_H
#define CS_R_GLM_H

#include <R.h>
#include <Rinternals.h>

/* IRLS fit: x (numeric n-by-p matrix), y (numeric n), weights and offset (numeric n or NULL),
 * family ("gaussian" or "binomial"), control (list: maxit, epsilon, tol). */
SEXP glm_irls(SEXP x, SEXP y, SEXP weights, SEXP offset, SEXP family, SEXP control);

#endif
