/* Include first (before any header with inline functions) in files whose floating-point
 * results must not depend on the build: no product is fused into an addition, whatever the
 * compiler flags (so the AVX2 and baseline builds, and machines with and without FMA, agree).
 * GCC also learns that floating-point exceptions are not watched, which lets it vectorise
 * loops with conditionals; that changes no value. */
#ifndef CS_FP_STRICT_H
#define CS_FP_STRICT_H

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off", "no-trapping-math")
#endif

#endif
