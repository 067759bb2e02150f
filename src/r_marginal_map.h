/* .Call entry point of marginal_map.c: scores of values (see R/marginal_transform.R). */
#ifndef CS_R_MARGINAL_MAP_H
#define CS_R_MARGINAL_MAP_H

#include <R.h>
#include <Rinternals.h>

SEXP marginal_encode(SEXP value, SEXP score, SEXP x);

#endif
