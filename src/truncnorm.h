/* The standard normal truncated to an interval [a, b]: its mass, mean and variance, and exact
 * draws. Used by the likelihood (causalmix_train.c), the outcome summaries (causalmix_draw.c) and the
 * outcome draws (knobs.c) of a semicontinuous outcome, so that the mean the networks report
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

/* exp(x^2) erfc(x) for x >= 0 (0 at +inf), to about 1e-14 relative: with t = 2 / (2 + x),
 * erfcx(x) = t exp(P(t)) for a smooth P, here its Chebyshev series in 2t - 1 on [0, 1]
 * truncated after 24 terms (the next are below 1e-15; coefficients fitted to erfcx computed
 * from R's normal tail area below x = 5 and from a 300-level continued fraction above). */
CS_LANE_INLINE double cs_lane_erfcx(double x)
{
    static const double cheb[24] = {
        -6.51326859890855037e-01, 6.41969792356490210e-01, 1.94764732041863529e-02,
        -9.56151478680903472e-03, -9.46595344482168972e-04, 3.66839497852983220e-04,
        4.25233248071137267e-05, -2.02785781129056115e-05, -1.62429000442833229e-06,
        1.30365583547819149e-06, 1.56264418849354668e-08, -8.52380962906157497e-08,
        6.52905469866369402e-09, 5.05934370189546986e-09, -9.91364272493128543e-10,
        -2.27364325858323717e-10, 9.64677947061769978e-11, 2.39420199974176736e-12,
        -6.88604321675591357e-12, 8.94697131052085703e-13, 3.12922452706809760e-13,
        -1.12901772349530143e-13, 9.68073277790582015e-16, 5.68921266434069325e-15 };
    double t = 2.0 / (2.0 + x), u = 2.0 * t - 1.0, twice_u = 2.0 * u, b1 = 0.0, b2 = 0.0, b0;
    /* Clenshaw's recurrence written out: with no inner loop, a loop over rows that calls
     * this vectorises */
#define CS_CLENSHAW(j) (b0 = (twice_u * b1 - b2) + cheb[j], b2 = b1, b1 = b0)
    CS_CLENSHAW(23); CS_CLENSHAW(22); CS_CLENSHAW(21); CS_CLENSHAW(20); CS_CLENSHAW(19);
    CS_CLENSHAW(18); CS_CLENSHAW(17); CS_CLENSHAW(16); CS_CLENSHAW(15); CS_CLENSHAW(14);
    CS_CLENSHAW(13); CS_CLENSHAW(12); CS_CLENSHAW(11); CS_CLENSHAW(10); CS_CLENSHAW(9);
    CS_CLENSHAW(8); CS_CLENSHAW(7); CS_CLENSHAW(6); CS_CLENSHAW(5); CS_CLENSHAW(4);
    CS_CLENSHAW(3); CS_CLENSHAW(2); CS_CLENSHAW(1);
#undef CS_CLENSHAW
    return t * cs_lane_exp((u * b1 - b2) + cheb[0]);
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
