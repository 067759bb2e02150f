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

/* Rows first .. first + count - 1 of the column from values[0 .. count - 1]: level codes
 * (discrete) or numeric values; rows whose missing[] entry (when missing is not NULL) exceeds
 * 1/2 get NA, as do numeric values outside the range of an integer column. Each case is a
 * plain loop, so the compiler can vectorise it. */
#if defined(__GNUC__)
__attribute__((always_inline))   /* into each build of the callers' tile code */
#endif
static inline void cs_column_write(const cs_column_out *c, size_t first, int count,
                                   const double *values, const double *missing, int discrete)
{
    if (c->real) {
        double *dst = c->real + first;
        if (discrete) {
            for (int r = 0; r < count; r++) dst[r] = c->real_map[(int) values[r]];
        } else {
            for (int r = 0; r < count; r++) dst[r] = values[r];
        }
        if (missing)
            for (int r = 0; r < count; r++) dst[r] = missing[r] > 0.5 ? c->na_real : dst[r];
    } else {
        int *dst = c->integer + first;
        if (discrete) {
            for (int r = 0; r < count; r++) dst[r] = c->integer_map[(int) values[r]];
        } else {
            for (int r = 0; r < count; r++) {
                double v = values[r];
                dst[r] = v >= -2147483647.0 && v <= 2147483647.0 ? (int) v : c->na_integer;
            }
        }
        if (missing)
            for (int r = 0; r < count; r++) dst[r] = missing[r] > 0.5 ? c->na_integer : dst[r];
    }
}

#endif
