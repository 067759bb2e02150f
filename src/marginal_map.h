/* Marginal transforms of numeric covariates: the networks model a column on normal scores,
 * and a draw goes back to the column's scale through a smoothed empirical quantile function
 * stored as knots (flat stretches of knots are the column's point masses), then onto the
 * column's recording grid. Piecewise-linear lookups on plain arrays. */
#ifndef CS_MARGINAL_MAP_H
#define CS_MARGINAL_MAP_H

/* The value at s of the piecewise-linear function through (from[i], value[i]), i < k, with
 * from non-decreasing: value[0] below from[0], value[k - 1] above from[k - 1]. */
double cs_marginal_decode(const double *from, const double *value, int k, double s);

/* The score of v: where v equals knots value[lo .. hi - 1] (a point mass), the score of
 * their middle knot (of the middle of the mass's ranks); else the linear interpolation between the two knots around v; score[0] or
 * score[k - 1] outside the knots. value non-decreasing. */
double cs_marginal_encode(const double *value, const double *score, int k, double v);

/* v on the grid (origin + step j) / scale, j = 0 .. last, nearest point; origin and step are
 * whole numbers, so the point is the double nearest to the decimal it stands for. */
double cs_grid_snap(double v, double scale, double origin, double step, double last);

#endif
