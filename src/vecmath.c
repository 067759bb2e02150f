/* exp, log and the sine and cosine of 2 pi u over arrays (see vecmath.h), from the one
 * implementation of these functions in lane_math.h. Training evaluates a few hundred of them
 * per row (likelihood heads, the mixture prior, the reparameterisation); looping over arrays
 * lets the compiler compute four or eight at a time.
 *
 * Unlike the draws, this file lets the compiler fuse products into additions (fp_strict.h is
 * not included): the copies for processors with FMA evaluate the polynomials in half the
 * operations, so these results can differ from lane_math.h's scalar ones in the last bit, and
 * between processors with and without FMA. GCC is told that floating-point exceptions are not
 * watched, which lets it vectorise the functions' conditionals; that changes no value. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
/* Without OpenMP, GCC at -O2 weighs vectorising these loops as not worth it (its cheapest cost
 * model); they are the reason this file exists. */
#if defined(__GNUC__) && !defined(__clang__) && !defined(_OPENMP)
#pragma GCC optimize("vect-cost-model=cheap")
#endif

#include <float.h>
#include <math.h>
#include <string.h>
#include "lane_math.h"
#include "simd.h"
#include "vecmath.h"

/* Copies for x86-64 levels 4 (AVX-512) and 3 (AVX2 and FMA) and the baseline, the loader
 * picking one (GCC 11 and later on x86-64 Linux). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 && defined(__x86_64__) && \
    defined(__linux__) && !defined(CS_NO_AVX2)
#define CS_MATH_CLONES                                                                      \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CS_MATH_CLONES
#endif

/* Arrays are taken in blocks; a block holding a value outside the polynomials' range is
 * copied first, so that y may be x and those values can still be handed to the C library. */
enum { BLOCK = 256 };

CS_MATH_CLONES
static void exp_block(const double *x, double *y, int n)
{
    CS_LANES
    for (int i = 0; i < n; i++) y[i] = cs_lane_exp(x[i]);
}

CS_MATH_CLONES
static void log_block(const double *x, double *y, int n)
{
    CS_LANES
    for (int i = 0; i < n; i++) y[i] = cs_lane_log(x[i]);
}

CS_MATH_CLONES
static void sincos2pi_block(const double *u, double *s, double *c, int n)
{
    CS_LANES
    for (int i = 0; i < n; i++) cs_lane_sincos_2pi(u[i], c + i, s + i);
}

/* Nonzero when some x[i], i < n, is outside [low, high] or NaN. */
CS_MATH_CLONES
static int any_outside(const double *x, int n, double low, double high)
{
    int outside = 0;
    CS_SIMD_OR(outside)
    for (int i = 0; i < n; i++) outside |= !(x[i] >= low) | !(x[i] <= high);
    return outside;
}

/* y = f(x) by block_fn where lane_math.h covers x, [low, high] (exp: [-708, 709], log: the
 * positive normal numbers), elsewhere (subnormal results, overflow, zero, negative numbers,
 * NaN) by the C library's function. */
static void apply_blocks(void (*block_fn)(const double *, double *, int),
                         double (*library_fn)(double), double low, double high,
                         const double *x, double *y, int n)
{
    double in[BLOCK];
    for (int start = 0; start < n; start += BLOCK) {
        int m = n - start < BLOCK ? n - start : BLOCK;
        if (!any_outside(x + start, m, low, high)) {
            block_fn(x + start, y + start, m);
            continue;
        }
        memcpy(in, x + start, sizeof(double) * (size_t) m);
        block_fn(in, y + start, m);
        for (int i = 0; i < m; i++)
            if (!(in[i] >= low && in[i] <= high)) y[start + i] = library_fn(in[i]);
    }
}

void cs_vexp(const double *x, double *y, int n)
{
    apply_blocks(exp_block, exp, -708.0, 709.0, x, y, n);
}

void cs_vlog(const double *x, double *y, int n)
{
    apply_blocks(log_block, log, DBL_MIN, DBL_MAX, x, y, n);
}

void cs_vsincos2pi(const double *u, double *s, double *c, int n)
{
    sincos2pi_block(u, s, c, n);
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(CS_NO_AVX2)
static int have_avx2, have_avx2_fma;

/* Decided once when the package's library is loaded, before any thread can ask. */
__attribute__((constructor)) static void detect_avx2(void)
{
    __builtin_cpu_init();
    have_avx2 = __builtin_cpu_supports("avx2");
    have_avx2_fma = have_avx2 && __builtin_cpu_supports("fma");
}

int cs_have_avx2(void)
{
    return have_avx2;
}

int cs_have_avx2_fma(void)
{
    return have_avx2_fma;
}
#else
int cs_have_avx2(void)
{
    return 0;
}

int cs_have_avx2_fma(void)
{
    return 0;
}
#endif
