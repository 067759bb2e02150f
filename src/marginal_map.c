/* Marginal transforms (see marginal_map.h). */
#include "fp_strict.h"

#include <math.h>
#include "marginal_map.h"
#include "simd.h"
#include "truncnorm.h"
#include "vecmath.h"

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

/* Phi(a), phi(a) and a phi(a) of the standard normal (a phi(a) is 0 where phi underflows, also
 * at an infinite a). */
CS_LANE_INLINE void normal_at(double a, double *cdf, double *pdf, double *apdf)
{
    double x = CS_INV_SQRT_2 * (a < 0.0 ? -a : a), e = cs_lane_exp(-0.5 * (a * a));
    double tail = 0.5 * cs_lane_erfcx(x) * e;
    *cdf = a < 0.0 ? tail : 1.0 - tail;
    *pdf = CS_INV_SQRT_2PI * e;
    *apdf = e > 0.0 ? a * *pdf : 0.0;
}

/* Rows in blocks of MOMENT_LANES: each knot's normal law is evaluated for the block's rows side
 * by side (vectorised). Only the knots within `reach` scales of some row of the block are
 * evaluated; beyond, Phi is 0 or 1 and phi 0 to below 1e-18. */
enum { MOMENT_LANES = 8 };

CS_AVX2_CLONES
void cs_marginal_moments(const double *from, const double *value, int k, int n,
                         const double *loc, const double *scale, double *mean, double *sd)
{
    const double reach = 9.0;
    for (int r0 = 0; r0 < n; r0 += MOMENT_LANES) {
        int nb = n - r0 < MOMENT_LANES ? n - r0 : MOMENT_LANES;
        double l[MOMENT_LANES], sc[MOMENT_LANES], inv[MOMENT_LANES], c[MOMENT_LANES];
        double cdf[MOMENT_LANES], pdf[MOMENT_LANES], apdf[MOMENT_LANES];
        double m1[MOMENT_LANES], m2[MOMENT_LANES];
        double low = INFINITY, high = -INFINITY;
        /* the lanes past the rows repeat the first row */
        for (int r = 0; r < MOMENT_LANES; r++) {
            int i = r0 + (r < nb ? r : 0);
            l[r] = loc[i];
            sc[r] = scale[i];
            inv[r] = 1.0 / sc[r];
            /* moments about the decode of loc, so that the variance is not a difference of
             * large second moments */
            c[r] = cs_marginal_decode(from, value, k, l[r]);
            double lo = l[r] - reach * sc[r], hi = l[r] + reach * sc[r];
            if (lo < low) low = lo;
            if (hi > high) high = hi;
        }
        /* knots before `first` lie below every row's reach (Phi 0), knots from `last` on
         * above it (Phi 1) */
        int first = count_below(from, k, low, 0), last = count_below(from, k, high, 1);
        CS_LANES
        for (int r = 0; r < MOMENT_LANES; r++) {
            if (first > 0 || last == 0) {
                cdf[r] = first > 0 ? 0.0 : 1.0;
                pdf[r] = apdf[r] = 0.0;
            } else {
                normal_at((from[0] - l[r]) * inv[r], &cdf[r], &pdf[r], &apdf[r]);
            }
            m1[r] = (value[0] - c[r]) * cdf[r];
            m2[r] = (value[0] - c[r]) * m1[r];
        }
        /* the pieces between knots j and j + 1 with an end inside the reach */
        int j0 = first > 0 ? first - 1 : 0, j1 = last < k - 1 ? last : k - 1;
        for (int j = j0; j < j1; j++) {
            double width = from[j + 1] - from[j];
            /* on this piece the decode is A + B u, u = (s - loc) / scale; a piece of width 0
             * holds no mass (its two knots have the same Phi) */
            double slope = width > 0.0 ? (value[j + 1] - value[j]) / width : 0.0;
            double next = from[j + 1];
            int outside = j + 1 >= last;
            CS_LANES
            for (int r = 0; r < MOMENT_LANES; r++) {
                double cn = 1.0, pn = 0.0, an = 0.0;
                if (!outside) normal_at((next - l[r]) * inv[r], &cn, &pn, &an);
                double A = (value[j] - c[r]) + slope * (l[r] - from[j]), B = slope * sc[r];
                double dcdf = cn - cdf[r], dpdf = pdf[r] - pn;
                m1[r] += A * dcdf + B * dpdf;
                m2[r] += (A * A) * dcdf + 2.0 * (A * B) * dpdf + (B * B) * (dcdf + apdf[r] - an);
                cdf[r] = cn;
                pdf[r] = pn;
                apdf[r] = an;
            }
        }
        /* cdf now holds Phi at knot j1: at the last knot, or 1 when it lies beyond the reach */
        if (j1 < k - 1)
            for (int r = 0; r < MOMENT_LANES; r++) cdf[r] = 1.0;
        for (int r = 0; r < nb; r++) {
            double top = value[k - 1] - c[r], upper = 1.0 - cdf[r];
            double t1 = m1[r] + top * upper, t2 = m2[r] + (top * top) * upper;
            double var = t2 - t1 * t1;
            mean[r0 + r] = c[r] + t1;
            sd[r0 + r] = var > 0.0 ? sqrt(var) : 0.0;
        }
    }
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
