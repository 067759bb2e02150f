/* Glue for columns.h: R vectors of the user's column types filled by the engine. */
#ifndef CS_R_COLUMNS_H
#define CS_R_COLUMNS_H

#include <R.h>
#include <Rinternals.h>
#include "columns.h"

/* Allocates the n-row R vector described by `decoding` (a list built by column_decoding() in
 * R/causalmix.R) and points `out` at it. n_levels: the levels of a binary or categorical
 * column (its level map must have that length), 0 for a numeric column. `what` names the
 * column in internal errors. The result is not protected. */
SEXP r_column_alloc(SEXP decoding, int n_levels, int n, const char *what, cs_column_out *out);

/* After the engine filled `column`: the strings of a character column (a new vector, not
 * protected), or `column` itself with the levels and class of a factor attached. */
SEXP r_column_finish(SEXP column, SEXP decoding);

#endif
