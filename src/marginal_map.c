/* Marginal transforms (see marginal_map.h). */
#include <math.h>
#include "marginal_map.h"

/* Number of knots with x[i] < v, or x[i] <= v with or_equal, by bisection. */
static int count_below(const double *x, int k, double v, int or_equal)
{
    int lo = 0, hi = k;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (x[mid] < v || (or_equal && x[mid] == v)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

double cs_marginal_decode(const double *from, const double *value, int k, double s)
{
    if (!(s > from[0])) return value[0];   /* NaN goes to the lower bound too */
    if (s >= from[k - 1]) return value[k - 1];
    int i = count_below(from, k, s, 1) - 1;   /* from[i] <= s < from[i + 1] */
    double v = value[i] + (s - from[i]) / (from[i + 1] - from[i]) * (value[i + 1] - value[i]);
    /* against rounding past the knots' values */
    if (v < value[i]) v = value[i];
    return v > value[i + 1] ? value[i + 1] : v;
}

double cs_marginal_encode(const double *value, const double *score, int k, double v)
{
    int lo = count_below(value, k, v, 0), hi = count_below(value, k, v, 1);
    if (hi > lo) {
        /* a point mass: the score of its middle knot, i.e. of the middle of its ranks */
        int a = lo + (hi - 1 - lo) / 2, b = lo + (hi - lo) / 2;
        return 0.5 * (score[a] + score[b]);
    }
    if (lo == 0) return score[0];
    if (lo == k) return score[k - 1];
    double t = (v - value[lo - 1]) / (value[lo] - value[lo - 1]);
    return score[lo - 1] + t * (score[lo] - score[lo - 1]);
}

double cs_grid_snap(double v, double scale, double origin, double step, double last)
{
    double j = nearbyint((v * scale - origin) / step);
    if (!(j > 0.0)) j = 0.0;
    if (j > last) j = last;
    return (origin + step * j) / scale;
}
