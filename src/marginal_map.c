/* Marginal transforms (see marginal_map.h). */
#include "fp_strict.h"

#include <math.h>
#include "marginal_map.h"

/* Number of knots with x[i] < v, or x[i] <= v with or_equal, by bisection. */
static inline int count_below(const double *x, int k, double v, int or_equal)
{
    int lo = 0, hi = k;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (x[mid] < v || (or_equal && x[mid] == v)) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The interpolation of the decode between knots i and i + 1 (from[i] <= s < from[i + 1]). */
static inline double decode_between(const double *from, const double *value, int i, double s)
{
    double v = value[i] + (s - from[i]) / (from[i + 1] - from[i]) * (value[i + 1] - value[i]);
    /* against rounding past the knots' values */
    if (v < value[i]) v = value[i];
    return v > value[i + 1] ? value[i + 1] : v;
}

/* The score of v from lo = #(value < v) and hi = #(value <= v). */
static inline double encode_counts(const double *value, const double *score, int k, int lo, int hi,
                            double v)
{
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

double cs_marginal_decode(const double *from, const double *value, int k, double s)
{
    if (!(s > from[0])) return value[0];   /* NaN goes to the lower bound too */
    if (s >= from[k - 1]) return value[k - 1];
    int i = count_below(from, k, s, 1) - 1;   /* from[i] <= s < from[i + 1] */
    return decode_between(from, value, i, s);
}

double cs_marginal_encode(const double *value, const double *score, int k, double v)
{
    int lo = count_below(value, k, v, 0), hi = count_below(value, k, v, 1);
    return encode_counts(value, score, k, lo, hi, v);
}

double cs_grid_snap(double v, double scale, double origin, double step, double last)
{
    double j = nearbyint((v * scale - origin) / step);
    if (!(j > 0.0)) j = 0.0;
    if (j > last) j = last;
    return (origin + step * j) / scale;
}

/* ------------------------------------------------------------------ indexed lookups */

/* Buckets per knot: about two, so that a bucket holds a knot or two where knots are dense. */
enum { BUCKETS_PER_KNOT = 2 };

size_t cs_knot_index_entries(int k)
{
    return k > 0 ? (size_t) BUCKETS_PER_KNOT * (size_t) k + 1 : 1;
}

/* Bucket of v (not NaN): monotone non-decreasing in v. */
static inline int bucket_of(const cs_knot_index *ix, double v)
{
    double b = (v - ix->origin) * ix->inv;
    if (!(b >= 0.0)) return 0;
    return b < (double) ix->n ? (int) b : ix->n - 1;
}

void cs_knot_index_build(const double *x, int k, int *first, cs_knot_index *ix)
{
    ix->origin = 0.0;
    ix->inv = 0.0;
    ix->n = 0;
    ix->first = first;
    if (k < 2) return;
    for (int i = 0; i < k; i++)
        if (!isfinite(x[i]) || (i > 0 && !(x[i - 1] <= x[i]))) return;
    double range = x[k - 1] - x[0];
    int n = BUCKETS_PER_KNOT * k;
    double inv = (double) n / range;
    if (!(range > 0.0) || !isfinite(inv)) return;
    ix->origin = x[0];
    ix->inv = inv;
    ix->n = n;
    int b = 0;
    for (int i = 0; i < k; i++) {
        int bi = bucket_of(ix, x[i]);
        while (b <= bi) first[b++] = i;
    }
    while (b <= n) first[b++] = k;
}

static inline double decode_indexed(const double *from, const double *value, int k,
                                    const cs_knot_index *ix, double s, int *interval)
{
    *interval = -1;
    if (!(s > from[0])) return value[0];
    if (s >= from[k - 1]) return value[k - 1];
    int i;
    if (ix->n == 0) {
        i = count_below(from, k, s, 1) - 1;
    } else {
        int b = bucket_of(ix, s), lo = ix->first[b];
        i = lo + count_below(from + lo, ix->first[b + 1] - lo, s, 1) - 1;
    }
    *interval = i;
    return decode_between(from, value, i, s);
}

static inline double encode_indexed(const double *value, const double *score, int k,
                                    const cs_knot_index *ix, double v, int hint)
{
    /* sorted knots (indexed) with value[hint] < v < value[hint + 1]: hint + 1 knots lie below
     * v, none equals it */
    if (ix->n > 0 && hint >= 0 && hint < k - 1 && value[hint] < v && v < value[hint + 1])
        return encode_counts(value, score, k, hint + 1, hint + 1, v);
    if (ix->n == 0) return cs_marginal_encode(value, score, k, v);
    if (!(v >= value[0])) return score[0];       /* below the knots, or NaN: no knot counted */
    if (v > value[k - 1]) return score[k - 1];   /* above them: all counted */
    int b = bucket_of(ix, v), base = ix->first[b], m = ix->first[b + 1] - base;
    int lo = base + count_below(value + base, m, v, 0);
    int hi = base + count_below(value + base, m, v, 1);
    return encode_counts(value, score, k, lo, hi, v);
}

double cs_marginal_decode_indexed(const double *from, const double *value, int k,
                                  const cs_knot_index *ix, double s, int *interval)
{
    return decode_indexed(from, value, k, ix, s, interval);
}

double cs_marginal_encode_indexed(const double *value, const double *score, int k,
                                  const cs_knot_index *ix, double v, int hint)
{
    return encode_indexed(value, score, k, ix, v, hint);
}

void cs_marginal_redraw(const cs_marginal_column *c, int round_whole, int n, double *x,
                        double *v)
{
    /* in blocks of lanes, step by step, so that the lanes' divisions overlap */
    enum { BLOCK = 8 };
    for (int r0 = 0; r0 < n; r0 += BLOCK) {
        int nb = n - r0 < BLOCK ? n - r0 : BLOCK, interval[BLOCK];
        double *xb = x + r0, *vb = v + r0;
        for (int r = 0; r < nb; r++)
            vb[r] = decode_indexed(c->from, c->value, c->k, &c->from_index, xb[r], &interval[r]);
        if (c->grid_step > 0.0) {
            for (int r = 0; r < nb; r++)
                vb[r] = cs_grid_snap(vb[r], c->grid_scale, c->grid_origin, c->grid_step,
                                     c->grid_last);
        } else if (round_whole) {
            for (int r = 0; r < nb; r++) vb[r] = nearbyint(vb[r]);
        }
        for (int r = 0; r < nb; r++)
            xb[r] = encode_indexed(c->value, c->score, c->k, &c->value_index, vb[r], interval[r]);
    }
}
