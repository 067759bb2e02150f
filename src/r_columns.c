/* Glue for columns.h (see r_columns.h). */
#include <string.h>
#include "r_columns.h"
#include "r_util.h"

/* Column types of a decoding list (see column_decoding() in R/causalmix.R). */
enum { DECODE_DOUBLE = 0, DECODE_INTEGER = 1, DECODE_LOGICAL = 2, DECODE_CHARACTER = 3 };

SEXP r_column_alloc(SEXP decoding, int n_levels, int n, const char *what, cs_column_out *out)
{
    if (TYPEOF(decoding) != VECSXP) error("internal error: no decoding for %s", what);
    int type = r_list_int(decoding, "type");
    if (type < DECODE_DOUBLE || type > DECODE_CHARACTER)
        error("internal error: decoding type %d for %s", type, what);
    SEXPTYPE st = type == DECODE_DOUBLE ? REALSXP : (type == DECODE_LOGICAL ? LGLSXP : INTSXP);
    SEXP v = r_alloc_output(st, n);
    memset(out, 0, sizeof(*out));
    if (st == REALSXP) out->real = REAL(v);
    else out->integer = st == LGLSXP ? LOGICAL(v) : INTEGER(v);
    out->round_whole = r_list_int(decoding, "whole");
    out->na_real = NA_REAL;
    out->na_integer = NA_INTEGER;
    SEXP map = r_list_get(decoding, "map");
    if (n_levels > 0) {
        if ((SEXPTYPE) TYPEOF(map) != (st == REALSXP ? REALSXP : INTSXP) || LENGTH(map) != n_levels)
            error("internal error: the level map of %s does not fit its column", what);
        if (st == REALSXP) out->real_map = REAL(map);
        else out->integer_map = INTEGER(map);
    } else if (map != R_NilValue || type == DECODE_LOGICAL || type == DECODE_CHARACTER) {
        error("internal error: numeric %s has a level decoding", what);
    }
    if (type == DECODE_CHARACTER) {
        SEXP levels = r_list_get(decoding, "levels");
        if (TYPEOF(levels) != STRSXP || LENGTH(levels) != n_levels)
            error("internal error: %s needs its %d levels", what, n_levels);
        for (int l = 0; l < n_levels; l++)
            if (out->integer_map[l] < 1 || out->integer_map[l] > n_levels)
                error("internal error: the level map of %s must index its levels", what);
    }
    return v;
}

SEXP r_column_finish(SEXP column, SEXP decoding)
{
    SEXP levels = r_list_get(decoding, "levels");
    if (r_list_int(decoding, "type") == DECODE_CHARACTER) {
        R_xlen_t n = XLENGTH(column);
        SEXP out = PROTECT(allocVector(STRSXP, n));
        const int *code = INTEGER(column);
        for (R_xlen_t i = 0; i < n; i++)
            SET_STRING_ELT(out, i,
                           code[i] == NA_INTEGER ? NA_STRING : STRING_ELT(levels, code[i] - 1));
        UNPROTECT(1);
        return out;
    }
    if (levels != R_NilValue) {
        setAttrib(column, R_LevelsSymbol, levels);
        classgets(column, r_list_get(decoding, "class"));
    }
    return column;
}
