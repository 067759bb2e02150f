/* The standard normal truncated to an interval [a, b]: its mass, mean and variance, and exact
 * draws. Used by the likelihood (vae.c), the outcome summaries (causalmix_draw.c) and the
 * outcome draws (generate.c) of a semicontinuous outcome, so that the mean the networks report
 * is the mean of the law the draws come from.
 *
 * Everything is built on lane_math.h (+, -, *, / and sqrt only), so a value does not depend
 * on the maths library or on the instruction set; files whose results must agree between
 * builds include fp_strict.h first. Far in a tail the mass is kept as w e^-s (see below), and
 * the ratios phi / mass come out without underflow. */
#ifndef CS_TRUNCNORM_H
#define CS_TRUNCNORM_H

#include "lane_math.h"
#include "rng.h"

#define CS_INV_SQRT_PI 0.56418958354775628695
#define CS_INV_SQRT_2PI 0.39894228040143267794
#define CS_SQRT_2PI 2.50662827463100050242
#define CS_INV_SQRT_2 0.70710678118654752440

/* exp(x^2) erfc(x) for x >= 0 (0 at +inf), to about 3e-14 relative: below 2 from the series
 * erf(x) = 2 / sqrt(pi) e^-x^2 sum_n 2^n x^(2n+1) / (2n+1)!! (positive terms), from 2 on from
 * the continued fraction erfc(x) = e^-x^2 / sqrt(pi) / (x + 1/2 / (x + 1 / (x + 3/2 / ...))),
 * 60 levels deep. Both are computed and one is chosen, as everywhere in lane code. */
CS_LANE_INLINE double cs_lane_erfcx(double x)
{
    double xs = x < 2.0 ? x : 2.0, x2 = xs * xs;
    double term = 2.0 * CS_INV_SQRT_PI * xs, sum = 0.0;
    for (int n = 0; n < 60; n++) {
        sum += term;
        term = term * (2.0 * x2) / (2.0 * n + 3.0);
    }
    double series = cs_lane_exp(x2) - sum;
    double xc = x < 2.0 ? 2.0 : x, tail = 0.0;
    for (int k = 60; k >= 1; k--) tail = (0.5 * k) / (xc + tail);
    double fraction = CS_INV_SQRT_PI / (xc + tail);
    return x < 2.0 ? series : fraction;
}

/* The standard normal on [a, b] (a < b; a may be -inf and b +inf): its mass is
 * Phi(b) - Phi(a) = w e^-s, and r_a = phi(a) / mass, r_b = phi(b) / mass (0 at an infinite
 * bound). The mean is r_a - r_b and the variance 1 + a r_a - b r_b - (r_a - r_b)^2, the
 * products taken as 0 at an infinite bound (see cs_truncnorm_moments). An interval on one
 * side of 0 is measured from its bound nearer 0, whose tail area factors out as e^-s. */
CS_LANE_INLINE void cs_truncnorm_mass(double a, double b, double *w, double *s, double *r_a,
                                      double *r_b)
{
    double xa = a < 0.0 ? -a : a, xb = b < 0.0 ? -b : b;
    double Xa = cs_lane_erfcx(CS_INV_SQRT_2 * xa), Xb = cs_lane_erfcx(CS_INV_SQRT_2 * xb);
    double Ea = cs_lane_exp(-0.5 * (a * a)), Eb = cs_lane_exp(-0.5 * (b * b));
    int above = a >= 0.0, below = b <= 0.0;
    /* above 0: mass = Q(a) - Q(b) = e^-a^2/2 (Xa - Xb D) / 2 with D = e^-(b^2 - a^2)/2 */
    double d_above = cs_lane_exp(-0.5 * ((b - a) * (b + a)));
    double w_above = 0.5 * (Xa - Xb * d_above);
    /* below 0, reflected: mass = Q(-b) - Q(-a) = e^-b^2/2 (Xb - Xa D) / 2 */
    double d_below = cs_lane_exp(0.5 * ((b - a) * (b + a)));
    double w_below = 0.5 * (Xb - Xa * d_below);
    /* across 0: mass = 1 - Q(-a) - Q(b) */
    double w_across = 1.0 - 0.5 * (Xa * Ea) - 0.5 * (Xb * Eb);
    double near_above = 1.0 / (CS_SQRT_2PI * w_above);
    double near_below = 1.0 / (CS_SQRT_2PI * w_below);
    double inv_across = CS_INV_SQRT_2PI / w_across;
    double ra = above ? near_above : (below ? d_below * near_below : Ea * inv_across);
    double rb = above ? d_above * near_above : (below ? near_below : Eb * inv_across);
    *w = above ? w_above : (below ? w_below : w_across);
    *s = above ? 0.5 * (a * a) : (below ? 0.5 * (b * b) : 0.0);
    *r_a = ra;
    *r_b = rb;
}

/* Mean and variance of the standard normal on [a, b]. */
CS_LANE_INLINE void cs_truncnorm_moments(double a, double b, double *mean, double *var)
{
    double w, s, ra, rb;
    cs_truncnorm_mass(a, b, &w, &s, &ra, &rb);
    double m = ra - rb;
    double ara = a - a == 0.0 ? a * ra : 0.0, brb = b - b == 0.0 ? b * rb : 0.0;
    double v = 1.0 + (ara - brb) - m * m;
    *mean = m;
    *var = v > 0.0 ? v : 0.0;
}

/* A standard normal from the stream (Box-Muller on three words, the cosine only). */
static inline double cs_truncnorm_normal(cs_rng *rng)
{
    uint32_t w0 = cs_rng_u32(rng), w1 = cs_rng_u32(rng), w2 = cs_rng_u32(rng);
    double c, s;
    cs_lane_sincos_2pi(cs_rng_unif32_from(w2), &c, &s);
    return sqrt(-2.0 * cs_lane_log(cs_rng_unif_from(w0, w1))) * c;
}

static inline double cs_truncnorm_unif(cs_rng *rng)
{
    uint32_t w0 = cs_rng_u32(rng), w1 = cs_rng_u32(rng);
    return cs_rng_unif_from(w0, w1);
}

/* An exact draw of the standard normal on [a, b] (a < b) by rejection from the stream:
 * normal proposals when the interval holds 0 and is wide, uniform ones when it is narrow,
 * and in a tail beyond a > 0 (or, reflected, below b < 0) shifted exponential proposals
 * with the rate that maximises acceptance (Robert 1995). Each proposal is accepted with
 * probability above 0.2. NaN when a < b fails or 10,000 proposals are all refused. */
static inline double cs_truncnorm_draw(cs_rng *rng, double a, double b)
{
    if (!(a < b)) return NAN;
    int flip = b <= 0.0;
    double lo = flip ? -b : a, hi = flip ? -a : b;   /* now hi > 0 */
    for (int tries = 0; tries < 10000; tries++) {
        double z, accept;
        if (lo <= 0.0 && hi - lo >= 1.0) {
            z = cs_truncnorm_normal(rng);
            accept = 1.0;
        } else if (lo <= 0.0) {
            z = lo + (hi - lo) * cs_truncnorm_unif(rng);
            accept = cs_lane_exp(-0.5 * (z * z));
        } else if ((hi - lo) * (lo > 1.0 ? lo : 1.0) < 1.0) {
            z = lo + (hi - lo) * cs_truncnorm_unif(rng);
            accept = cs_lane_exp(0.5 * ((lo - z) * (lo + z)));
        } else {
            double rate = 0.5 * (lo + sqrt(lo * lo + 4.0));
            z = lo - cs_lane_log(cs_truncnorm_unif(rng)) / rate;
            accept = cs_lane_exp(-0.5 * ((z - rate) * (z - rate)));
        }
        if (z >= lo && z <= hi && (accept >= 1.0 || cs_truncnorm_unif(rng) < accept))
            return flip ? -z : z;
    }
    return NAN;
}

#endif
