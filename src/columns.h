/* Where the values of one column of the user's table go: the storage of an R vector of the
 * column's type, filled by engine code through plain pointers (from any thread). The glue
 * (r_columns.c) allocates the vector and sets the pointers; R attaches the attributes. */
#ifndef CS_COLUMNS_H
#define CS_COLUMNS_H

#include <stddef.h>

typedef struct {
    double *real;               /* n values of a double column, or NULL */
    int *integer;               /* n values of an integer, logical or coded column, or NULL */
    const double *real_map;     /* binary or categorical: the value written for each level code */
    const int *integer_map;
    int round_whole;            /* numeric column: the values are whole numbers (the producer
                                   rounds them before use) */
    double na_real;             /* written for a missing cell */
    int na_integer;
} cs_column_out;

/* Row i of the column: a level code (discrete) or a numeric value, or NA when missing.
 * Numeric values outside the range of an integer column become NA as well. */
static inline void cs_column_put(const cs_column_out *c, size_t i, double value, int discrete,
                                 int missing)
{
    if (c->real) {
        c->real[i] = missing ? c->na_real : (discrete ? c->real_map[(int) value] : value);
        return;
    }
    int v = c->na_integer;
    if (!missing) {
        if (discrete) v = c->integer_map[(int) value];
        else if (value >= -2147483647.0 && value <= 2147483647.0) v = (int) value;
    }
    c->integer[i] = v;
}

#endif
