/* Blocked Euclidean distances through dgemm cross products (see distance.h). */
#define USE_FC_LEN_T
#include <Rconfig.h>
#include <R_ext/BLAS.h>
#ifndef FCONE
#define FCONE
#endif
#include <stdlib.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "distance.h"
#include "threads.h"

/* A query block times a reference block: 256 x 512 doubles (1 MB) of cross products per
 * thread, small enough to stay in the outer caches while it is scanned. */
#define QUERY_BLOCK 256
#define REF_BLOCK 512

/* The reference rows transposed (d x nr, one record contiguous) and their squared norms. */
static cs_status transpose_with_norms(const double *m, int n, int d, double **mt,
                                      double **norms)
{
    double *t = malloc((size_t)n * (size_t)d * sizeof(double) + 1);
    double *s = malloc((size_t)n * sizeof(double) + 1);
    if (t == NULL || s == NULL) {
        free(t);
        free(s);
        return CS_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        double acc = 0.0;
        for (int k = 0; k < d; k++) {
            double v = m[i + (size_t)k * n];
            t[(size_t)i * d + k] = v;
            acc += v * v;
        }
        s[i] = acc;
    }
    *mt = t;
    *norms = s;
    return CS_OK;
}

static void query_norms(const double *x, int nx, int d, double *norms)
{
    for (int i = 0; i < nx; i++) norms[i] = 0.0;
    for (int k = 0; k < d; k++) {
        const double *col = x + (size_t)k * nx;
        for (int i = 0; i < nx; i++) norms[i] += col[i] * col[i];
    }
}

/* c (nq x nb) = x[i0 .. i0 + nq - 1, ] %*% t(ref[j0 .. j0 + nb - 1, ]). */
static void cross_block(const double *x, int nx, int i0, int nq, const double *ref_t, int j0,
                        int nb, int d, double *c)
{
    const double one = 1.0, zero = 0.0;
    F77_CALL(dgemm)("N", "N", &nq, &nb, &d, &one, x + i0, &nx, ref_t + (size_t)j0 * d, &d,
                    &zero, c, &nq FCONE FCONE);
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Blocks handed to the threads between two interrupt checks: enough work to keep every
 * thread busy, little enough that Ctrl-C answers within a fraction of a second. */
static int blocks_per_round(int nthreads, int nr)
{
    int per_thread = (int)(4000000 / ((double)QUERY_BLOCK * (nr > 0 ? nr : 1))) + 1;
    return nthreads * (per_thread < 64 ? per_thread : 64);
}

cs_status cs_nn_distance(const double *x, int nx, const double *ref, int nr, int d,
                         const int *exclude, int threads, cs_interrupt_fn interrupt,
                         double *dist, int *index)
{
    if (nx < 0 || nr < 1 || d < 1 || (exclude != NULL && nr < 2)) return CS_ERR_ARGUMENT;
    if (exclude != NULL)
        for (int i = 0; i < nx; i++)
            if (exclude[i] < -1 || exclude[i] >= nr) return CS_ERR_ARGUMENT;
    if (nx == 0) return CS_OK;
    int nthreads = cs_threads(threads);
    double *ref_t = NULL, *rnorm = NULL;
    cs_status status = transpose_with_norms(ref, nr, d, &ref_t, &rnorm);
    if (status != CS_OK) return status;
    size_t per_thread = (size_t)QUERY_BLOCK * REF_BLOCK + 2 * (size_t)QUERY_BLOCK;
    double *scratch = malloc((size_t)nthreads * per_thread * sizeof(double));
    int *best_j = malloc((size_t)nthreads * QUERY_BLOCK * sizeof(int));
    if (scratch == NULL || best_j == NULL) {
        free(ref_t);
        free(rnorm);
        free(scratch);
        free(best_j);
        return CS_ERR_NOMEM;
    }
    int nblocks = (nx + QUERY_BLOCK - 1) / QUERY_BLOCK;
    int round = blocks_per_round(nthreads, nr);
    for (int b0 = 0; b0 < nblocks && status == CS_OK; b0 += round) {
        int b1 = b0 + round < nblocks ? b0 + round : nblocks;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
#endif
        for (int b = b0; b < b1; b++) {
            int tid = thread_id();
            double *c = scratch + (size_t)tid * per_thread;
            double *best = c + (size_t)QUERY_BLOCK * REF_BLOCK;
            int *bj = best_j + (size_t)tid * QUERY_BLOCK;
            int i0 = b * QUERY_BLOCK;
            int nq = nx - i0 < QUERY_BLOCK ? nx - i0 : QUERY_BLOCK;
            for (int i = 0; i < nq; i++) {
                best[i] = HUGE_VAL;
                bj[i] = -1;
            }
            for (int j0 = 0; j0 < nr; j0 += REF_BLOCK) {
                int nb = nr - j0 < REF_BLOCK ? nr - j0 : REF_BLOCK;
                cross_block(x, nx, i0, nq, ref_t, j0, nb, d, c);
                if (exclude != NULL) {
                    /* e.g. a record is never its own neighbour */
                    for (int i = 0; i < nq; i++) {
                        int j = exclude[i0 + i];
                        if (j >= j0 && j < j0 + nb) c[i + (size_t)(j - j0) * nq] = -HUGE_VAL;
                    }
                }
                /* ||q||^2 is the same for every candidate, so rank by ||r||^2 - 2 q.r */
                for (int jj = 0; jj < nb; jj++) {
                    const double *cj = c + (size_t)jj * nq;
                    double rn = rnorm[j0 + jj];
                    for (int i = 0; i < nq; i++) {
                        double v = rn - 2.0 * cj[i];
                        if (v < best[i]) {
                            best[i] = v;
                            bj[i] = j0 + jj;
                        }
                    }
                }
            }
            /* exact distance to the chosen neighbour, free of cancellation */
            for (int i = 0; i < nq; i++) {
                int j = bj[i];
                double acc = 0.0;
                for (int k = 0; k < d; k++) {
                    double diff = x[i0 + i + (size_t)k * nx] - ref_t[(size_t)j * d + k];
                    acc += diff * diff;
                }
                dist[i0 + i] = sqrt(acc);
                if (index != NULL) index[i0 + i] = j;
            }
        }
        if (interrupt != NULL && b1 < nblocks && interrupt()) status = CS_ERR_INTERRUPTED;
    }
    free(ref_t);
    free(rnorm);
    free(scratch);
    free(best_j);
    return status;
}

cs_status cs_mean_distance(const double *a, int na, const double *b, int nb, int d,
                           int threads, cs_interrupt_fn interrupt, double *mean)
{
    if (na < 1 || nb < 1 || d < 1) return CS_ERR_ARGUMENT;
    int nthreads = cs_threads(threads);
    double *b_t = NULL, *bnorm = NULL;
    cs_status status = transpose_with_norms(b, nb, d, &b_t, &bnorm);
    if (status != CS_OK) return status;
    int nblocks = (na + QUERY_BLOCK - 1) / QUERY_BLOCK;
    double *anorm = malloc((size_t)na * sizeof(double));
    double *partial = malloc((size_t)nblocks * sizeof(double));
    double *scratch = malloc((size_t)nthreads * QUERY_BLOCK * REF_BLOCK * sizeof(double));
    if (anorm == NULL || partial == NULL || scratch == NULL) {
        free(b_t);
        free(bnorm);
        free(anorm);
        free(partial);
        free(scratch);
        return CS_ERR_NOMEM;
    }
    query_norms(a, na, d, anorm);
    int round = blocks_per_round(nthreads, nb);
    for (int b0 = 0; b0 < nblocks && status == CS_OK; b0 += round) {
        int b1 = b0 + round < nblocks ? b0 + round : nblocks;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
#endif
        for (int blk = b0; blk < b1; blk++) {
            double *c = scratch + (size_t)thread_id() * QUERY_BLOCK * REF_BLOCK;
            int i0 = blk * QUERY_BLOCK;
            int nq = na - i0 < QUERY_BLOCK ? na - i0 : QUERY_BLOCK;
            double sum = 0.0;
            for (int j0 = 0; j0 < nb; j0 += REF_BLOCK) {
                int ncol = nb - j0 < REF_BLOCK ? nb - j0 : REF_BLOCK;
                cross_block(a, na, i0, nq, b_t, j0, ncol, d, c);
                for (int jj = 0; jj < ncol; jj++) {
                    const double *cj = c + (size_t)jj * nq;
                    double bn = bnorm[j0 + jj];
                    for (int i = 0; i < nq; i++) {
                        double scale = anorm[i0 + i] + bn;
                        double d2 = scale - 2.0 * cj[i];
                        /* rounding noise around coincident records counts as 0 */
                        if (d2 > 1e-12 * scale) sum += sqrt(d2);
                    }
                }
            }
            partial[blk] = sum;
        }
        if (interrupt != NULL && b1 < nblocks && interrupt()) status = CS_ERR_INTERRUPTED;
    }
    if (status == CS_OK) {
        double total = 0.0;  /* summed in block order: the same with any thread count */
        for (int blk = 0; blk < nblocks; blk++) total += partial[blk];
        *mean = total / ((double)na * (double)nb);
    }
    free(b_t);
    free(bnorm);
    free(anorm);
    free(partial);
    free(scratch);
    return status;
}
