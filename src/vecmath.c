/* exp and log over arrays (see vecmath.h). Training evaluates a few hundred exponentials and
 * logarithms per row (likelihood heads, the mixture prior, the reparameterisation), as much
 * time as the row's share of the matrix products; the C library computes them one at a time,
 * so on processors with AVX2 and FMA they are computed four at a time here. */
#include <math.h>
#include <string.h>
#include "vecmath.h"

#if defined(__GNUC__) && defined(__x86_64__) && !defined(CS_NO_AVX2)
#define CS_VECMATH_AVX2 1
#include <immintrin.h>

static int have_avx2_fma, have_avx512;

/* Decided once when the package's library is loaded, before any thread can ask. */
__attribute__((constructor)) static void detect_avx2_fma(void)
{
    __builtin_cpu_init();
    have_avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    have_avx512 = have_avx2_fma && __builtin_cpu_supports("avx512f");
}

/* 1 / k! for k = 13 down to 0: the Taylor coefficients of exp(r) for Horner's scheme */
static const double inv_factorial[14] = {
    1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
    1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0,
    1.0 / 6.0, 0.5, 1.0, 1.0 };

/* exp(x) = 2^n exp(r) with n = round(x / log 2) and |r| <= log(2) / 2, where the Taylor
 * polynomial of degree 13 is within 1e-17 relatively. Valid for -708 <= x <= 709, where 2^n is
 * a normal number. */
__attribute__((target("avx2,fma")))
static inline __m256d exp4(__m256d x)
{
    const __m256d shifter = _mm256_set1_pd(6755399441055744.0);  /* 1.5 * 2^52: rounds to integer */
    __m256d t = _mm256_fmadd_pd(x, _mm256_set1_pd(1.4426950408889634074), shifter);
    __m256d n = _mm256_sub_pd(t, shifter);
    /* log 2 in two parts, the first with enough trailing zeros for n * part to be exact */
    __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(6.93147180369123816490e-01), x);
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(1.90821492927058770002e-10), r);
    __m256d p = _mm256_set1_pd(inv_factorial[0]);
    for (int k = 1; k < 14; k++) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(inv_factorial[k]));
    /* the low bits of t hold n; n + 1023 shifted into the exponent field is 2^n */
    __m256i biased = _mm256_add_epi64(_mm256_castpd_si256(t), _mm256_set1_epi64x(1023));
    return _mm256_mul_pd(p, _mm256_castsi256_pd(_mm256_slli_epi64(biased, 52)));
}

/* exp4 eight values wide: the same operations, so the same results. */
__attribute__((target("avx512f")))
static inline __m512d exp8(__m512d x)
{
    const __m512d shifter = _mm512_set1_pd(6755399441055744.0);
    __m512d t = _mm512_fmadd_pd(x, _mm512_set1_pd(1.4426950408889634074), shifter);
    __m512d n = _mm512_sub_pd(t, shifter);
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(6.93147180369123816490e-01), x);
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(1.90821492927058770002e-10), r);
    __m512d p = _mm512_set1_pd(inv_factorial[0]);
    for (int k = 1; k < 14; k++) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(inv_factorial[k]));
    __m512i biased = _mm512_add_epi64(_mm512_castpd_si512(t), _mm512_set1_epi64(1023));
    return _mm512_mul_pd(p, _mm512_castsi512_pd(_mm512_slli_epi64(biased, 52)));
}

/* log(x) = k log 2 + log(m) with x = 2^k m, sqrt(1/2) <= m < sqrt(2), and
 * log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, from 12 terms of the atanh series
 * (the first neglected term is below 1e-19).
 * Valid for positive normal x. */
__attribute__((target("avx2,fma")))
static inline __m256d log4(__m256d x)
{
    const __m256d one = _mm256_set1_pd(1.0), two52 = _mm256_set1_pd(4503599627370496.0);
    __m256i bits = _mm256_castpd_si256(x);
    __m256i field = _mm256_srli_epi64(bits, 52);
    __m256d m = _mm256_castsi256_pd(_mm256_or_si256(
        _mm256_and_si256(bits, _mm256_set1_epi64x(0x000FFFFFFFFFFFFFLL)),
        _mm256_set1_epi64x(0x3FF0000000000000LL)));                       /* in [1, 2) */
    /* the exponent field as a double: OR it into the mantissa of 2^52, subtract 2^52 */
    __m256d k = _mm256_castsi256_pd(_mm256_or_si256(field, _mm256_castpd_si256(two52)));
    k = _mm256_sub_pd(k, two52);
    k = _mm256_sub_pd(k, _mm256_set1_pd(1023.0));
    __m256d big = _mm256_cmp_pd(m, _mm256_set1_pd(1.4142135623730950488), _CMP_GT_OQ);
    m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), big);
    k = _mm256_add_pd(k, _mm256_and_pd(big, one));
    __m256d s = _mm256_div_pd(_mm256_sub_pd(m, one), _mm256_add_pd(m, one));
    __m256d s2 = _mm256_mul_pd(s, s);
    /* q = 2 sum_{j<12} s2^j / (2j + 1) by Estrin's scheme: a shorter chain of dependent steps
     * than Horner's, which made this twice as slow */
    static const double two_over_odd[12] = { 2.0, 2.0 / 3, 2.0 / 5, 2.0 / 7, 2.0 / 9, 2.0 / 11,
        2.0 / 13, 2.0 / 15, 2.0 / 17, 2.0 / 19, 2.0 / 21, 2.0 / 23 };
    __m256d s4 = _mm256_mul_pd(s2, s2), s8 = _mm256_mul_pd(s4, s4), pair[6];
    for (int j = 0; j < 6; j++)
        pair[j] = _mm256_fmadd_pd(_mm256_set1_pd(two_over_odd[2 * j + 1]), s2,
                                  _mm256_set1_pd(two_over_odd[2 * j]));
    __m256d p03 = _mm256_fmadd_pd(pair[1], s4, pair[0]);
    __m256d p47 = _mm256_fmadd_pd(pair[3], s4, pair[2]);
    __m256d p8b = _mm256_fmadd_pd(pair[5], s4, pair[4]);
    __m256d q = _mm256_fmadd_pd(_mm256_fmadd_pd(p8b, s8, p47), s8, p03);
    __m256d lo = _mm256_fmadd_pd(k, _mm256_set1_pd(1.90821492927058770002e-10),
                                 _mm256_mul_pd(s, q));
    return _mm256_fmadd_pd(k, _mm256_set1_pd(6.93147180369123816490e-01), lo);
}

/* Applies the vector function to x[0..n-1], four values at a time; lanes whose value is
 * outside [low, high] (or NaN) are recomputed by the C library; a final partial group is padded,
 * so every value takes the same path wherever it sits. */
#define APPLY4(vector_fn, scalar_fn, low, high)                                               \
    do {                                                                                      \
        const __m256d lo_ = _mm256_set1_pd(low), hi_ = _mm256_set1_pd(high);                  \
        int i = 0;                                                                            \
        for (; i + 4 <= n; i += 4) {                                                          \
            __m256d v = _mm256_loadu_pd(x + i);                                               \
            __m256d ok = _mm256_and_pd(_mm256_cmp_pd(v, lo_, _CMP_GE_OQ),                     \
                                       _mm256_cmp_pd(v, hi_, _CMP_LE_OQ));                    \
            int good = _mm256_movemask_pd(ok);                                                \
            __m256d res = vector_fn(_mm256_blendv_pd(_mm256_set1_pd(1.0), v, ok));            \
            if (good == 0xF) {                                                                \
                _mm256_storeu_pd(y + i, res);                                                 \
                continue;                                                                     \
            }                                                                                 \
            double in[4], out[4];                                                             \
            _mm256_storeu_pd(in, v);                                                          \
            _mm256_storeu_pd(out, res);                                                       \
            for (int l = 0; l < 4; l++) y[i + l] = good >> l & 1 ? out[l] : scalar_fn(in[l]); \
        }                                                                                     \
        if (i < n) {                                                                          \
            double in[4] = { 1.0, 1.0, 1.0, 1.0 }, out[4];                                    \
            memcpy(in, x + i, sizeof(double) * (n - i));                                      \
            __m256d v = _mm256_loadu_pd(in);                                                  \
            __m256d ok = _mm256_and_pd(_mm256_cmp_pd(v, lo_, _CMP_GE_OQ),                     \
                                       _mm256_cmp_pd(v, hi_, _CMP_LE_OQ));                    \
            int good = _mm256_movemask_pd(ok);                                                \
            _mm256_storeu_pd(out, vector_fn(_mm256_blendv_pd(_mm256_set1_pd(1.0), v, ok)));    \
            for (int l = 0; l < n - i; l++)                                                   \
                y[i + l] = good >> l & 1 ? out[l] : scalar_fn(in[l]);                         \
        }                                                                                     \
    } while (0)

/* sin(2 pi u) and cos(2 pi u): u = (q + f) / 4 with q whole and |f| <= 1/2, so the angle is q
 * quarter turns plus t = f pi / 2, |t| <= pi / 4, where Taylor polynomials of degree 17 (sin)
 * and 18 (cos) are within 1e-19; the quarter turns swap and negate the pair. Valid for
 * |u| < 2^49. */
__attribute__((target("avx2,fma")))
static inline void sincos2pi4(__m256d u, __m256d *sin_out, __m256d *cos_out)
{
    const __m256d shifter = _mm256_set1_pd(6755399441055744.0);
    __m256d x = _mm256_mul_pd(u, _mm256_set1_pd(4.0));
    __m256d qd = _mm256_add_pd(x, shifter);              /* low bits: q, rounded to nearest */
    __m256d q = _mm256_sub_pd(qd, shifter);
    __m256d t = _mm256_mul_pd(_mm256_sub_pd(x, q), _mm256_set1_pd(1.57079632679489661923));
    __m256d t2 = _mm256_mul_pd(t, t);
    /* sin t = t (1 - t^2/3! + ...), cos t = 1 - t^2/2! + ... */
    __m256d ps = _mm256_set1_pd(1.0 / 355687428096000.0);           /* 1/17! */
    __m256d pc = _mm256_set1_pd(-1.0 / 6402373705728000.0);         /* -1/18! */
    static const double sin_coef[8] = { -1.0 / 1307674368000.0, 1.0 / 6227020800.0,
        -1.0 / 39916800.0, 1.0 / 362880.0, -1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0, 1.0 };
    static const double cos_coef[9] = { 1.0 / 20922789888000.0, -1.0 / 87178291200.0,
        1.0 / 479001600.0, -1.0 / 3628800.0, 1.0 / 40320.0, -1.0 / 720.0, 1.0 / 24.0, -0.5, 1.0 };
    for (int k = 0; k < 8; k++) ps = _mm256_fmadd_pd(ps, t2, _mm256_set1_pd(sin_coef[k]));
    for (int k = 0; k < 9; k++) pc = _mm256_fmadd_pd(pc, t2, _mm256_set1_pd(cos_coef[k]));
    __m256d s = _mm256_mul_pd(ps, t), c = pc;
    /* quarter turns q mod 4: 1 -> (cos, -sin) as (sin, cos); 2 -> negate both; 3 -> (-cos, sin) */
    __m256i qi = _mm256_castpd_si256(qd);
    __m256i odd = _mm256_and_si256(qi, _mm256_set1_epi64x(1));
    __m256i half = _mm256_and_si256(qi, _mm256_set1_epi64x(2));
    __m256d swap = _mm256_castsi256_pd(_mm256_cmpeq_epi64(odd, _mm256_set1_epi64x(1)));
    __m256d sin_v = _mm256_blendv_pd(s, c, swap), cos_v = _mm256_blendv_pd(c, s, swap);
    /* sign bits: sin is negated for q mod 4 in {2, 3}, cos for q mod 4 in {1, 2} */
    __m256i sin_neg = _mm256_slli_epi64(half, 62);
    __m256i cos_neg = _mm256_slli_epi64(_mm256_xor_si256(half, _mm256_slli_epi64(odd, 1)), 62);
    *sin_out = _mm256_xor_pd(sin_v, _mm256_castsi256_pd(sin_neg));
    *cos_out = _mm256_xor_pd(cos_v, _mm256_castsi256_pd(cos_neg));
}

__attribute__((target("avx2,fma")))
static void vsincos2pi_avx2(const double *u, double *s, double *c, int n)
{
    __m256d vs, vc;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        sincos2pi4(_mm256_loadu_pd(u + i), &vs, &vc);
        _mm256_storeu_pd(s + i, vs);
        _mm256_storeu_pd(c + i, vc);
    }
    if (i < n) {
        double pad[4] = { 0.0, 0.0, 0.0, 0.0 }, so[4], co[4];
        memcpy(pad, u + i, sizeof(double) * (n - i));
        sincos2pi4(_mm256_loadu_pd(pad), &vs, &vc);
        _mm256_storeu_pd(so, vs);
        _mm256_storeu_pd(co, vc);
        memcpy(s + i, so, sizeof(double) * (n - i));
        memcpy(c + i, co, sizeof(double) * (n - i));
    }
}

__attribute__((target("avx2,fma")))
static void vexp_avx2(const double *x, double *y, int n)
{
    APPLY4(exp4, exp, -708.0, 709.0);
}

/* Groups of eight through exp8, the rest (fewer than eight) as vexp_avx2 does them. */
__attribute__((target("avx512f")))
static void vexp_avx512(const double *x, double *y, int n)
{
    const __m512d lo = _mm512_set1_pd(-708.0), hi = _mm512_set1_pd(709.0);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d v = _mm512_loadu_pd(x + i);
        __mmask8 ok = _mm512_cmp_pd_mask(v, lo, _CMP_GE_OQ) & _mm512_cmp_pd_mask(v, hi, _CMP_LE_OQ);
        __m512d res = exp8(_mm512_mask_blend_pd(ok, _mm512_set1_pd(1.0), v));
        if (ok == 0xFF) {
            _mm512_storeu_pd(y + i, res);
            continue;
        }
        double in[8], out[8];
        _mm512_storeu_pd(in, v);
        _mm512_storeu_pd(out, res);
        for (int l = 0; l < 8; l++) y[i + l] = ok >> l & 1 ? out[l] : exp(in[l]);
    }
    if (i < n) vexp_avx2(x + i, y + i, n - i);
}

__attribute__((target("avx2,fma")))
static void vlog_avx2(const double *x, double *y, int n)
{
    APPLY4(log4, log, 2.2250738585072014e-308, 1.7976931348623157e308);
}
#endif

void cs_vexp(const double *x, double *y, int n)
{
#ifdef CS_VECMATH_AVX2
    if (have_avx512) {
        vexp_avx512(x, y, n);
        return;
    }
    if (have_avx2_fma) {
        vexp_avx2(x, y, n);
        return;
    }
#endif
    for (int i = 0; i < n; i++) y[i] = exp(x[i]);
}

void cs_vlog(const double *x, double *y, int n)
{
#ifdef CS_VECMATH_AVX2
    if (have_avx2_fma) {
        vlog_avx2(x, y, n);
        return;
    }
#endif
    for (int i = 0; i < n; i++) y[i] = log(x[i]);
}

void cs_vsincos2pi(const double *u, double *s, double *c, int n)
{
#ifdef CS_VECMATH_AVX2
    if (have_avx2_fma) {
        vsincos2pi_avx2(u, s, c, n);
        return;
    }
#endif
    for (int i = 0; i < n; i++) {
        double angle = 6.283185307179586476925 * u[i];
        s[i] = sin(angle);
        c[i] = cos(angle);
    }
}

int cs_have_avx2_fma(void)
{
#ifdef CS_VECMATH_AVX2
    return have_avx2_fma;
#else
    return 0;
#endif
}
