/* Marginal transforms of numeric covariates: the networks model a column on normal scores,
 * and a draw goes back to the column's scale through a smoothed empirical quantile function
 * stored as knots (flat stretches of knots are the column's point masses), then onto the
 * column's recording grid. Piecewise-linear lookups on plain arrays. */
#ifndef CS_MARGINAL_MAP_H
#define CS_MARGINAL_MAP_H

#include <stddef.h>

/* The value at s of the piecewise-linear function through (from[i], value[i]), i < k, with
 * from non-decreasing: value[0] below from[0], value[k - 1] above from[k - 1]. */
double cs_marginal_decode(const double *from, const double *value, int k, double s);

/* The score of v: where v equals knots value[lo .. hi - 1] (a point mass), the score of
 * their middle knot (of the middle of the mass's ranks); else the linear interpolation between the two knots around v; score[0] or
 * score[k - 1] outside the knots. value non-decreasing. */
double cs_marginal_encode(const double *value, const double *score, int k, double v);

/* Mean and standard deviation of cs_marginal_decode(from, value, k, Z) for Z ~ N(loc[i],
 * scale[i]^2), scale[i] > 0, i < n, into mean[i] and sd[i], in closed form: the decode is
 * constant outside the knots and linear between them, so each piece contributes
 * truncated-normal moments. Knots more than 9 scales from loc hold less than 1e-18 of the
 * law and count as such. */
void cs_marginal_moments(const double *from, const double *value, int k, int n,
                         const double *loc, const double *scale, double *mean, double *sd);

/* v on the grid (origin + step j) / scale, j = 0 .. last, nearest point; origin and step are
 * whole numbers, so the point is the double nearest to the decimal it stands for. */
double cs_grid_snap(double v, double scale, double origin, double step, double last);

/* An index of k sorted knots x for the lookups of many values (the draws): the range
 * [x[0], x[k - 1]] cut into n even buckets, and for each bucket b the first knot whose bucket
 * is b or later. The bucket of a value is a monotone function of it (a subtraction and a
 * multiplication, rounded), so every knot of an earlier bucket lies below the value and every
 * knot of a later one above it: a lookup searches only the knots of the value's own bucket,
 * and counts exactly what a search of all knots counts. The results of the indexed lookups
 * are therefore those of cs_marginal_decode() and cs_marginal_encode(), bit for bit. Knots
 * that are not sorted (or a range that is not finite) get no index (n = 0): the lookups then
 * search all knots. */
typedef struct {
    double origin, inv;   /* bucket of v: floor((v - origin) * inv), within [0, n - 1] */
    int n;                /* buckets; 0: no index */
    const int *first;     /* n + 1 entries: first knot of bucket b or later (first[n] = k) */
} cs_knot_index;

/* Entries of `first` an index of k knots needs. */
size_t cs_knot_index_entries(int k);

/* Builds the index of the k knots x into ix, its entries into first (cs_knot_index_entries()
 * ints). */
void cs_knot_index_build(const double *x, int k, int *first, cs_knot_index *ix);

/* cs_marginal_decode() with the index of `from`; *interval receives i when s lies between
 * from[i] and from[i + 1] (the value then between value[i] and value[i + 1]), else -1. */
double cs_marginal_decode_indexed(const double *from, const double *value, int k,
                                  const cs_knot_index *ix, double s, int *interval);

/* cs_marginal_encode() with the index of `value`. `hint`: a knot i (or -1) such that v
 * probably lies strictly between value[i] and value[i + 1], where the score is found without
 * a search (v strictly inside the interval is counted as the search would count it). */
double cs_marginal_encode_indexed(const double *value, const double *score, int k,
                                  const cs_knot_index *ix, double v, int hint);

/* A column's transform as the draws use it: knots, their indexes and the recording grid. */
typedef struct {
    int k;                                   /* knots */
    const double *from, *value, *score;
    cs_knot_index from_index, value_index;
    double grid_scale, grid_origin, grid_step, grid_last;   /* grid_step 0: no grid */
} cs_marginal_column;

/* The drawn scores x[0 .. n - 1] of a column to its values v (decoded, then on the grid, or
 * without a grid rounded to whole numbers when round_whole) and back to the values' scores in
 * x: cs_marginal_decode(), cs_grid_snap() or nearbyint(), cs_marginal_encode(), bit for bit. */
void cs_marginal_redraw(const cs_marginal_column *c, int round_whole, int n, double *x,
                        double *v);

#endif
