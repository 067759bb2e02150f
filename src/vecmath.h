/* exp, log, sin and cos over arrays, for the element-wise parts of network training. */
#ifndef CS_VECMATH_H
#define CS_VECMATH_H

/* y[i] = exp(x[i]) and y[i] = log(x[i]) for i < n (y may be x), computed by lane_math.h's
 * functions, four or eight at a time where the processor allows, with fused multiply-adds
 * where it has them (so within rounding of lane_math.h's scalar results, not always the same
 * bits). Each value's result depends on that value alone, never on its place or on n; values
 * outside the functions' range (exp below -708 or above 709, log outside the positive normal
 * numbers) and special values get the C library's result. */
void cs_vexp(const double *x, double *y, int n);
void cs_vlog(const double *x, double *y, int n);
/* s[i] = sin(2 pi u[i]), c[i] = cos(2 pi u[i]) for u[i] in [0, 1) (lane_math.h's); u is not
 * s or c. */
void cs_vsincos2pi(const double *u, double *s, double *c, int n);

/* Compiles a function twice, for AVX2 and for the baseline processor, the loader picking one
 * (GCC on x86-64 Linux; elsewhere the attribute is empty). The AVX2 copy vectorises four
 * values wide; it uses no fused multiply-add, so its results differ from the baseline's only
 * where a vectorised sum adds its terms in another order. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(CS_NO_AVX2)
#define CS_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CS_AVX2_CLONES
#endif

/* Nonzero when the processor has AVX2 (and FMA) and the package was built for x86-64 with a
 * compiler that can target them: the one run-time check of the files with their own AVX2
 * paths (draw tiles; distance, Adam and small-product kernels). */
int cs_have_avx2(void);
int cs_have_avx2_fma(void);

#endif
