/* The package's elementary functions, for code that runs over a tile of rows (the draws) or an
 * array (training, through vecmath.h): exp, log, tanh and the sine and cosine of 2 pi u,
 * written with +, -, *, / and bit operations only (no library calls, and every conditional a
 * choice between values already computed, so that nothing has to be speculated), so the
 * compiler can vectorise a loop that calls them and a lane gives the
 * same bits whether it was computed alone or in a vector of any width.
 * That holds as long as products are not fused into the following addition: files that
 * include this header include fp_strict.h first (except vecmath.c, whose array versions for
 * training trade those bits for speed, see there).
 *
 * Accuracy: a few units in the last place over the ranges stated; these feed random draws
 * and network heads, where that is far below any statistical effect. */
#ifndef CS_LANE_MATH_H
#define CS_LANE_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define CS_LANE_INLINE static inline __attribute__((always_inline))
#else
#define CS_LANE_INLINE static inline
#endif

#define CS_LANE_LN2_HI 6.93147180369123816490e-01   /* ln 2 with 21 trailing zero bits */
#define CS_LANE_LN2_LO 1.90821492927058770002e-10   /* ln 2 - CS_LANE_LN2_HI */
#define CS_LANE_LOG2E 1.44269504088896338700
#define CS_LANE_SHIFTER 6755399441055744.0          /* 1.5 * 2^52: x + it rounds x to an integer */

/* Fully unrolled, so that a loop over lanes calling these functions stays one straight block. */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define CS_LANE_UNROLL _Pragma("GCC unroll 32")
#else
#define CS_LANE_UNROLL
#endif

/* c[0] + x (c[1] + x (... + x c[n - 1])): Horner's scheme, the same operations in the same
 * order wherever it is inlined. */
CS_LANE_INLINE double cs_lane_horner(double x, const double *c, int n)
{
    double p = c[n - 1];
    CS_LANE_UNROLL
    for (int k = n - 2; k >= 0; k--) p = c[k] + x * p;
    return p;
}

CS_LANE_INLINE uint64_t cs_lane_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

CS_LANE_INLINE double cs_lane_double(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* e^x; 0 below -708 (no subnormal results), +inf above 709, NaN for NaN. */
CS_LANE_INLINE double cs_lane_exp(double x)
{
    int under = x < -708.0, over = x > 709.0;
    double xc = under ? -708.0 : x;
    xc = over ? 709.0 : xc;
    double t = xc * CS_LANE_LOG2E + CS_LANE_SHIFTER;
    double n = t - CS_LANE_SHIFTER;                        /* nearest integer to x / ln 2 */
    double r = (xc - n * CS_LANE_LN2_HI) - n * CS_LANE_LN2_LO;   /* |r| <= 0.35 */
    /* Taylor series of e^r to r^13: the first omitted term is below 2e-17 */
    static const double inv_factorial[14] = {
        1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0, 1.0 / 5040.0,
        1.0 / 40320.0, 1.0 / 362880.0, 1.0 / 3628800.0, 1.0 / 39916800.0, 1.0 / 479001600.0,
        1.0 / 6227020800.0 };
    double p = cs_lane_horner(r, inv_factorial, 14);
    /* 2^n from the exponent field: the low bits of t hold n (|n| <= 1023) */
    double scale = cs_lane_double((cs_lane_bits(t) + 1023u) << 52);
    double y = p * scale;
    y = under ? 0.0 : y;
    return over ? HUGE_VAL : y;
}

/* Natural logarithm of a positive normal number u (the uniforms of rng.c are in [2^-54, 1)). */
CS_LANE_INLINE double cs_lane_log(double u)
{
    uint64_t bits = cs_lane_bits(u);
    /* u = 2^e m with m in [1, 2); e as a double from the exponent field, exactly */
    double e = cs_lane_double(0x4330000000000000u | (bits >> 52)) - (4503599627370496.0 + 1023.0);
    double m = cs_lane_double((bits & 0x000FFFFFFFFFFFFFu) | 0x3FF0000000000000u);
    /* m in [sqrt(1/2), sqrt(2)) keeps |s| below 0.172 */
    int big = m > 1.41421356237309504880;
    double half = 0.5 * m, e_next = e + 1.0;
    m = big ? half : m;
    e = big ? e_next : e;
    double f = m - 1.0;                                    /* exact */
    double s = f / (2.0 + f), z = s * s;
    /* log(m) = 2 atanh(s) = 2 (s + s^3/3 + ... + s^21/21); the next term is below 1e-18 */
    static const double inv_odd[10] = { 1.0 / 3.0, 1.0 / 5.0, 1.0 / 7.0, 1.0 / 9.0, 1.0 / 11.0,
                                        1.0 / 13.0, 1.0 / 15.0, 1.0 / 17.0, 1.0 / 19.0,
                                        1.0 / 21.0 };
    double q = cs_lane_horner(z, inv_odd, 10);
    double log_m = 2.0 * s + 2.0 * s * (z * q);
    return e * CS_LANE_LN2_HI + (e * CS_LANE_LN2_LO + log_m);
}

/* tanh(x), to an absolute error of a few 1e-16. */
CS_LANE_INLINE double cs_lane_tanh(double x)
{
    int negative = x < 0.0;
    double a = negative ? -x : x;
    double e = cs_lane_exp(-2.0 * a);
    double t = (1.0 - e) / (1.0 + e);
    return negative ? -t : t;
}

/* 1 / (1 + e^-a). */
CS_LANE_INLINE double cs_lane_sigmoid(double a)
{
    return 1.0 / (1.0 + cs_lane_exp(-a));
}

/* cos(2 pi u) and sin(2 pi u) for u in [0, 1) given as a multiple of 2^-54 (the uniforms of
 * rng.c): 4u splits exactly into a quadrant q and f in [-1/2, 1/2], and the Taylor series
 * of sin and cos on |x| = |f pi / 2| <= pi / 4 are truncated below 1e-17. */
CS_LANE_INLINE void cs_lane_sincos_2pi(double u, double *cos_out, double *sin_out)
{
    double t = 4.0 * u;
    double q = (t + CS_LANE_SHIFTER) - CS_LANE_SHIFTER;    /* 0, 1, 2, 3 or 4 */
    double x = (t - q) * 1.57079632679489661923;
    double x2 = x * x;
    /* sin x = x - x (x^2 / 3! - x^4 / 5! + ...) to x^17, cos x = 1 - x^2 / 2! + ... to x^16 */
    static const double sin_tail[8] = { 1.0 / 6.0, -1.0 / 120.0, 1.0 / 5040.0, -1.0 / 362880.0,
                                        1.0 / 39916800.0, -1.0 / 6227020800.0,
                                        1.0 / 1307674368000.0, -1.0 / 355687428096000.0 };
    static const double cos_series[9] = { 1.0, -0.5, 1.0 / 24.0, -1.0 / 720.0, 1.0 / 40320.0,
                                          -1.0 / 3628800.0, 1.0 / 479001600.0,
                                          -1.0 / 87178291200.0, 1.0 / 20922789888000.0 };
    double s = x - x * (x2 * cs_lane_horner(x2, sin_tail, 8));
    double c = cs_lane_horner(x2, cos_series, 9);
    /* rotate by q quarter turns */
    int q1 = q == 1.0, q2 = q == 2.0, q3 = q == 3.0;
    double cq = (q1 | q3) ? s : c, sq = (q1 | q3) ? c : s;
    *cos_out = (q1 | q2) ? -cq : cq;
    *sin_out = (q2 | q3) ? -sq : sq;
}

#endif
