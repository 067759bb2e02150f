/* Small matrix products for network training (see small_gemm.h). */
#include "blas.h"
#include <stddef.h>
#include <string.h>
#include "small_gemm.h"
#include "vecmath.h"

/* Above this many doubles an m x k block of A no longer sits in the level-2 cache. */
#define SMALL_GEMM_MAX_A 32768

int cs_small_gemm_suits(int m, int k)
{
    return m > 0 && k > 0 && (long long) m * k <= SMALL_GEMM_MAX_A;
}

/* B's element (p, j) is b[p * sp + j * sj]: sp = 1, sj = ldb for B itself, the other way round
 * for its transpose. */
static void gemm_portable(int m, int n, int k, const double *a, int lda, const double *b,
                          size_t sp, size_t sj, int accumulate, double *c, int ldc)
{
    for (int j = 0; j < n; j++) {
        double *cj = c + (size_t) j * ldc;
        if (!accumulate) memset(cj, 0, sizeof(double) * (size_t) m);
        for (int p = 0; p < k; p++) {
            double bpj = b[(size_t) p * sp + (size_t) j * sj];
            const double *ap = a + (size_t) p * lda;
            for (int i = 0; i < m; i++) cj[i] += ap[i] * bpj;
        }
    }
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(CS_NO_AVX2)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

/* C[0..7, 0..3] (+)= A[0..7, :] B[:, 0..3]: eight accumulators, as many as keep both FMA
 * units busy through their latency. */
AVX2 static inline void tile_8x4(int k, const double *a, int lda, const double *b, size_t sp,
                                 size_t sj, int accumulate, double *c, int ldc)
{
    __m256d c00 = _mm256_setzero_pd(), c10 = c00, c01 = c00, c11 = c00;
    __m256d c02 = c00, c12 = c00, c03 = c00, c13 = c00;
    const double *b0 = b, *b1 = b + sj, *b2 = b + 2 * sj, *b3 = b + 3 * sj;
    for (int p = 0; p < k; p++) {
        __m256d a0 = _mm256_loadu_pd(a), a1 = _mm256_loadu_pd(a + 4);
        size_t o = (size_t) p * sp;
        __m256d x = _mm256_broadcast_sd(b0 + o);
        c00 = _mm256_fmadd_pd(a0, x, c00);
        c10 = _mm256_fmadd_pd(a1, x, c10);
        x = _mm256_broadcast_sd(b1 + o);
        c01 = _mm256_fmadd_pd(a0, x, c01);
        c11 = _mm256_fmadd_pd(a1, x, c11);
        x = _mm256_broadcast_sd(b2 + o);
        c02 = _mm256_fmadd_pd(a0, x, c02);
        c12 = _mm256_fmadd_pd(a1, x, c12);
        x = _mm256_broadcast_sd(b3 + o);
        c03 = _mm256_fmadd_pd(a0, x, c03);
        c13 = _mm256_fmadd_pd(a1, x, c13);
        a += lda;
    }
    double *d0 = c, *d1 = c + ldc, *d2 = c + 2 * (size_t) ldc, *d3 = c + 3 * (size_t) ldc;
    if (accumulate) {
        c00 = _mm256_add_pd(c00, _mm256_loadu_pd(d0)); c10 = _mm256_add_pd(c10, _mm256_loadu_pd(d0 + 4));
        c01 = _mm256_add_pd(c01, _mm256_loadu_pd(d1)); c11 = _mm256_add_pd(c11, _mm256_loadu_pd(d1 + 4));
        c02 = _mm256_add_pd(c02, _mm256_loadu_pd(d2)); c12 = _mm256_add_pd(c12, _mm256_loadu_pd(d2 + 4));
        c03 = _mm256_add_pd(c03, _mm256_loadu_pd(d3)); c13 = _mm256_add_pd(c13, _mm256_loadu_pd(d3 + 4));
    }
    _mm256_storeu_pd(d0, c00); _mm256_storeu_pd(d0 + 4, c10);
    _mm256_storeu_pd(d1, c01); _mm256_storeu_pd(d1 + 4, c11);
    _mm256_storeu_pd(d2, c02); _mm256_storeu_pd(d2 + 4, c12);
    _mm256_storeu_pd(d3, c03); _mm256_storeu_pd(d3 + 4, c13);
}

/* C[0..7, 0] (+)= A[0..7, :] B[:, 0]. Two chains per vector half, so the latency of one FMA
 * overlaps the next. */
AVX2 static inline void tile_8x1(int k, const double *a, int lda, const double *b, size_t sp,
                                 int accumulate, double *c)
{
    __m256d c0 = _mm256_setzero_pd(), c1 = c0, e0 = c0, e1 = c0;
    int p = 0;
    for (; p + 1 < k; p += 2) {
        __m256d x = _mm256_broadcast_sd(b + (size_t) p * sp);
        __m256d y = _mm256_broadcast_sd(b + (size_t) (p + 1) * sp);
        c0 = _mm256_fmadd_pd(_mm256_loadu_pd(a), x, c0);
        c1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + 4), x, c1);
        e0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + lda), y, e0);
        e1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + lda + 4), y, e1);
        a += 2 * (size_t) lda;
    }
    if (p < k) {
        __m256d x = _mm256_broadcast_sd(b + (size_t) p * sp);
        c0 = _mm256_fmadd_pd(_mm256_loadu_pd(a), x, c0);
        c1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + 4), x, c1);
    }
    c0 = _mm256_add_pd(c0, e0);
    c1 = _mm256_add_pd(c1, e1);
    if (accumulate) {
        c0 = _mm256_add_pd(c0, _mm256_loadu_pd(c));
        c1 = _mm256_add_pd(c1, _mm256_loadu_pd(c + 4));
    }
    _mm256_storeu_pd(c, c0);
    _mm256_storeu_pd(c + 4, c1);
}

/* Up to four rows (those set in mask) by four columns. */
AVX2 static inline void tile_4x4(int k, __m256i mask, const double *a, int lda, const double *b,
                                 size_t sp, size_t sj, int accumulate, double *c, int ldc)
{
    __m256d c0 = _mm256_setzero_pd(), c1 = c0, c2 = c0, c3 = c0;
    const double *b0 = b, *b1 = b + sj, *b2 = b + 2 * sj, *b3 = b + 3 * sj;
    for (int p = 0; p < k; p++) {
        __m256d av = _mm256_maskload_pd(a, mask);
        size_t o = (size_t) p * sp;
        c0 = _mm256_fmadd_pd(av, _mm256_broadcast_sd(b0 + o), c0);
        c1 = _mm256_fmadd_pd(av, _mm256_broadcast_sd(b1 + o), c1);
        c2 = _mm256_fmadd_pd(av, _mm256_broadcast_sd(b2 + o), c2);
        c3 = _mm256_fmadd_pd(av, _mm256_broadcast_sd(b3 + o), c3);
        a += lda;
    }
    double *d0 = c, *d1 = c + ldc, *d2 = c + 2 * (size_t) ldc, *d3 = c + 3 * (size_t) ldc;
    if (accumulate) {
        c0 = _mm256_add_pd(c0, _mm256_maskload_pd(d0, mask));
        c1 = _mm256_add_pd(c1, _mm256_maskload_pd(d1, mask));
        c2 = _mm256_add_pd(c2, _mm256_maskload_pd(d2, mask));
        c3 = _mm256_add_pd(c3, _mm256_maskload_pd(d3, mask));
    }
    _mm256_maskstore_pd(d0, mask, c0);
    _mm256_maskstore_pd(d1, mask, c1);
    _mm256_maskstore_pd(d2, mask, c2);
    _mm256_maskstore_pd(d3, mask, c3);
}

/* Up to four rows (those set in mask) by one column, in two chains. */
AVX2 static inline void tile_4x1(int k, __m256i mask, const double *a, int lda, const double *b,
                                 size_t sp, int accumulate, double *c)
{
    __m256d c0 = _mm256_setzero_pd(), e0 = c0;
    int p = 0;
    for (; p + 1 < k; p += 2) {
        c0 = _mm256_fmadd_pd(_mm256_maskload_pd(a, mask),
                             _mm256_broadcast_sd(b + (size_t) p * sp), c0);
        e0 = _mm256_fmadd_pd(_mm256_maskload_pd(a + lda, mask),
                             _mm256_broadcast_sd(b + (size_t) (p + 1) * sp), e0);
        a += 2 * (size_t) lda;
    }
    if (p < k)
        c0 = _mm256_fmadd_pd(_mm256_maskload_pd(a, mask), _mm256_broadcast_sd(b + (size_t) p * sp),
                             c0);
    c0 = _mm256_add_pd(c0, e0);
    if (accumulate) c0 = _mm256_add_pd(c0, _mm256_maskload_pd(c, mask));
    _mm256_maskstore_pd(c, mask, c0);
}

/* Rows set in mask (up to four) by `cols` (1 to 4) columns. */
AVX2 static inline void tile_4xc(int k, int cols, __m256i mask, const double *a, int lda,
                                 const double *b, size_t sp, size_t sj, int accumulate,
                                 double *c, int ldc)
{
    if (cols == 4) {
        tile_4x4(k, mask, a, lda, b, sp, sj, accumulate, c, ldc);
        return;
    }
    for (int q = 0; q < cols; q++)
        tile_4x1(k, mask, a, lda, b + (size_t) q * sj, sp, accumulate, c + (size_t) q * ldc);
}

AVX2 static void gemm_avx2(int m, int n, int k, const double *a, int lda, const double *b,
                           size_t sp, size_t sj, int accumulate, double *c, int ldc)
{
    int m8 = m - m % 8, rest = m - m8;
    int first = rest >= 4 ? 4 : rest, second = rest - first;
    __m256i full = _mm256_set1_epi64x(-1);
    __m256i part = _mm256_setr_epi64x(second > 0 ? -1 : 0, second > 1 ? -1 : 0,
                                      second > 2 ? -1 : 0, 0);
    __m256i head = first == 4 ? full : _mm256_setr_epi64x(first > 0 ? -1 : 0, first > 1 ? -1 : 0,
                                                          first > 2 ? -1 : 0, 0);
    int j = 0;
    for (; j < n; j += 4) {
        int cols = n - j < 4 ? n - j : 4;
        const double *bj = b + (size_t) j * sj;
        double *cj = c + (size_t) j * ldc;
        for (int i = 0; i < m8; i += 8) {
            if (cols == 4)
                tile_8x4(k, a + i, lda, bj, sp, sj, accumulate, cj + i, ldc);
            else
                for (int q = 0; q < cols; q++)
                    tile_8x1(k, a + i, lda, bj + (size_t) q * sj, sp, accumulate,
                             cj + i + (size_t) q * ldc);
        }
        if (first > 0)
            tile_4xc(k, cols, head, a + m8, lda, bj, sp, sj, accumulate, cj + m8, ldc);
        if (second > 0)
            tile_4xc(k, cols, part, a + m8 + 4, lda, bj, sp, sj, accumulate, cj + m8 + 4, ldc);
    }
}
#endif

static void small_gemm(int portable, int trans_b, int m, int n, int k, const double *a, int lda,
                       const double *b, int ldb, int accumulate, double *c, int ldc)
{
    if (m < 1 || n < 1) return;
    size_t sp = trans_b ? (size_t) ldb : 1, sj = trans_b ? 1 : (size_t) ldb;
    if (k < 1) {
        if (!accumulate)
            for (int j = 0; j < n; j++) memset(c + (size_t) j * ldc, 0, sizeof(double) * (size_t) m);
        return;
    }
#if defined(__GNUC__) && defined(__x86_64__) && !defined(CS_NO_AVX2)
    if (!portable && cs_have_avx2_fma()) {
        gemm_avx2(m, n, k, a, lda, b, sp, sj, accumulate, c, ldc);
        return;
    }
#else
    (void) portable;  /* only the portable loops are built */
#endif
    gemm_portable(m, n, k, a, lda, b, sp, sj, accumulate, c, ldc);
}

void cs_small_gemm(int trans_b, int m, int n, int k, const double *a, int lda, const double *b,
                   int ldb, int accumulate, double *c, int ldc)
{
    small_gemm(0, trans_b, m, n, k, a, lda, b, ldb, accumulate, c, ldc);
}

void cs_small_gemm_portable(int trans_b, int m, int n, int k, const double *a, int lda,
                            const double *b, int ldb, int accumulate, double *c, int ldc)
{
    small_gemm(1, trans_b, m, n, k, a, lda, b, ldb, accumulate, c, ldc);
}

void cs_product(int trans_b, int m, int n, int k, const double *a, int lda, const double *b,
                int ldb, int accumulate, double *c, int ldc)
{
    if (cs_small_gemm_suits(m, k)) {
        cs_small_gemm(trans_b, m, n, k, a, lda, b, ldb, accumulate, c, ldc);
        return;
    }
    const double one = 1.0, beta = accumulate ? 1.0 : 0.0;
    F77_CALL(dgemm)("N", trans_b ? "T" : "N", &m, &n, &k, &one, a, &lda, b, &ldb, &beta, c, &ldc
                    FCONE FCONE);
}

void cs_transpose(const double *w, int rows, int cols, double *w_t)
{
    const int tile = 32;
    for (int j0 = 0; j0 < cols; j0 += tile) {
        int j1 = j0 + tile < cols ? j0 + tile : cols;
        for (int i0 = 0; i0 < rows; i0 += tile) {
            int i1 = i0 + tile < rows ? i0 + tile : rows;
            for (int j = j0; j < j1; j++)
                for (int i = i0; i < i1; i++) w_t[j + (size_t) i * cols] = w[i + (size_t) j * rows];
        }
    }
}
