/* Vectorisation requests for loops over rows, one definition for every engine file.
 * CS_SIMD: iterations independent; CS_SIMD_SUM(s): they also add into s, which is then split
 * into partial sums, always the same way in one build (so a result can depend on the build,
 * never on the data's place or the thread count); CS_SIMD_OR(f): they also OR into the
 * integer f (exact in any order). These act only with OpenMP.
 * CS_LANES: the lanes of a tile (lane_math.h), independent by construction; GCC is also asked
 * without OpenMP, Clang is left to its own vectoriser (a forced one warns, -Wpass-failed, on
 * lane loops it cannot vectorise). */
#ifndef CS_SIMD_H
#define CS_SIMD_H

#ifdef _OPENMP
#define CS_PRAGMA(text) _Pragma(#text)
#define CS_SIMD CS_PRAGMA(omp simd)
#define CS_SIMD_SUM(x) CS_PRAGMA(omp simd reduction(+ : x))
#define CS_SIMD_OR(x) CS_PRAGMA(omp simd reduction(| : x))
#else
#define CS_SIMD
#define CS_SIMD_SUM(x)
#define CS_SIMD_OR(x)
#endif

#if defined(__clang__)
#define CS_LANES
#elif defined(_OPENMP)
#define CS_LANES _Pragma("omp simd")
#elif defined(__GNUC__)
#define CS_LANES _Pragma("GCC ivdep")
#else
#define CS_LANES
#endif

#endif
