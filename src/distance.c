/* Blocked Euclidean distances through dgemm cross products (see distance.h). */
#include "blas.h"
#include <stdlib.h>
#include <math.h>
#include "distance.h"
#include "poll.h"
#include "threads.h"
#include "vecmath.h"

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


/* Closest row of ref to query row i of x by direct differences (no cancellation, no
 * overflow of the norms): the fallback when the fast score overflowed for every candidate,
 * e.g. values near 1e200. Returns the squared distance and sets *best. */
static double direct_nearest(const double *x, int nx, int i, const double *ref, int nr,
                             int d, int skip, int *best)
{
    double best_d2 = HUGE_VAL;
    *best = skip == 0 ? 1 : 0;
    for (int j = 0; j < nr; j++) {
        if (j == skip) continue;
        double acc = 0.0;
        for (int k = 0; k < d; k++) {
            double diff = x[i + (size_t)k * nx] - ref[j + (size_t)k * nr];
            acc += diff * diff;
        }
        if (acc < best_d2) {
            best_d2 = acc;
            *best = j;
        }
    }
    return best_d2;
}

/* Distances from query rows i0 .. i0 + nq - 1 of x to the neighbours the fast score chose
 * (bj), by direct differences, free of the score's cancellation; where the score chose none
 * (bj < 0) the neighbour is searched directly. */
static void exact_distances(const double *x, int nx, int i0, int nq, const double *ref, int nr,
                            int d, const int *exclude, const int *bj, double *dist, int *index)
{
    for (int i = 0; i < nq; i++) {
        int j = bj[i];
        double acc = 0.0;
        if (j < 0) {
            acc = direct_nearest(x, nx, i0 + i, ref, nr, d,
                                 exclude != NULL ? exclude[i0 + i] : -1, &j);
        } else {
            for (int k = 0; k < d; k++) {
                double diff = x[i0 + i + (size_t)k * nx] - ref[j + (size_t)k * nr];
                acc += diff * diff;
            }
        }
        dist[i0 + i] = sqrt(acc);
        if (index != NULL) index[i0 + i] = j;
    }
}

/* Blocks handed to the threads between two interrupt checks: enough work to keep every
 * thread busy, little enough that Ctrl-C answers within a fraction of a second. */
static int blocks_per_round(int nthreads, int nr)
{
    int per_thread = (int)(4000000 / ((double)QUERY_BLOCK * (nr > 0 ? nr : 1))) + 1;
    return nthreads * (per_thread < 64 ? per_thread : 64);
}

/* What a kernel searches: the queries x (nx x d), the references prepared for it (ref:
 * transposed for dgemm or packed by panels for AVX2) with their squared norms, and the
 * reference each query must skip (exclude, or NULL). */
typedef struct {
    const double *x, *ref, *rnorm;
    const int *exclude;
    int nx, nr, d, n_panels;
} block_search;

/* One query block's search: the best candidate of query rows i0 .. i0 + nq - 1 into best,
 * using the calling thread's scratch. */
typedef void (*block_search_fn)(const block_search *search, int i0, int nq, double *scratch,
                                 int *best);

/* Work on query rows i0 .. i0 + nq - 1 (block blk) by thread tid. */
typedef void (*query_block_fn)(void *job, int blk, int i0, int nq, int tid);

/* Runs fn over the blocks of nx query rows on nthreads threads. Blocks go out in rounds
 * with an interrupt check between rounds. */
static cs_status for_query_blocks(int nx, int nr, int nthreads, query_block_fn fn, void *job,
                                  cs_interrupt_fn interrupt)
{
    cs_status status = CS_OK;
    int nblocks = (nx + QUERY_BLOCK - 1) / QUERY_BLOCK;
    int round = blocks_per_round(nthreads, nr);
    cs_poll poll;
    cs_poll_init(&poll, interrupt);
    for (int b0 = 0; b0 < nblocks && status == CS_OK; b0 += round) {
        int b1 = b0 + round < nblocks ? b0 + round : nblocks;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
#endif
        for (int b = b0; b < b1; b++) {
            int i0 = b * QUERY_BLOCK;
            fn(job, b, i0, nx - i0 < QUERY_BLOCK ? nx - i0 : QUERY_BLOCK, cs_thread_num());
        }
        if (b1 < nblocks && cs_poll_main(&poll)) status = CS_ERR_INTERRUPTED;
    }
    return status;
}

typedef struct {
    const block_search *search;
    block_search_fn search_block;
    const double *ref;        /* the references as given, for the exact distances */
    double *scratch;          /* per_thread doubles per thread */
    int *best_j;              /* QUERY_BLOCK per thread */
    size_t per_thread;
    double *dist;
    int *index;
} nn_job;

static void nn_block(void *job, int blk, int i0, int nq, int tid)
{
    nn_job *j = job;
    const block_search *s = j->search;
    int *bj = j->best_j + (size_t)tid * QUERY_BLOCK;
    (void)blk;
    j->search_block(s, i0, nq, j->scratch + (size_t)tid * j->per_thread, bj);
    exact_distances(s->x, s->nx, i0, nq, j->ref, s->nr, s->d, s->exclude, bj, j->dist,
                    j->index);
}

/* Nearest-neighbour driver shared by the kernels: each query block is searched by
 * search_block (per_thread: the scratch doubles it needs), then its distances are
 * recomputed exactly from ref. */
static cs_status search_blocks(const block_search *search, const double *ref, int nthreads,
                               size_t per_thread, block_search_fn search_block,
                               cs_interrupt_fn interrupt, double *dist, int *index)
{
    nn_job job = { search, search_block, ref, NULL, NULL, per_thread, dist, index };
    job.scratch = malloc((size_t)nthreads * per_thread * sizeof(double));
    job.best_j = malloc((size_t)nthreads * QUERY_BLOCK * sizeof(int));
    cs_status status = CS_ERR_NOMEM;
    if (job.scratch != NULL && job.best_j != NULL)
        status = for_query_blocks(search->nx, search->nr, nthreads, nn_block, &job, interrupt);
    free(job.scratch);
    free(job.best_j);
    return status;
}

/* ---- AVX2/FMA kernel ------------------------------------------------------------------
 * With the reference BLAS, dgemm reaches a few GFLOP/s; on x86-64 processors with AVX2 and
 * FMA (checked at run time) a register-tiled kernel does the search several times faster:
 * 4 queries x 8 references per tile, running minimum and its index kept per lane. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(CS_NO_AVX2)
#define CS_HAVE_AVX2_KERNEL 1
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4i __attribute__((vector_size(32)));

#define PANEL 8          /* references per panel (two 4-wide vectors) */
#define QUAD 4           /* queries per tile */
#define PANEL_BLOCK 64   /* panels per reference block: 512 records stay in L2 */

/* References packed by panels of 8: panel p holds, for each k, the 8 values ref[8p..8p+7, k]
 * contiguously; padding records get norm +inf so they are never chosen. */
static cs_status pack_reference(const double *ref, int nr, int d, double **packed,
                                double **norms, int *n_panels)
{
    int np = (nr + PANEL - 1) / PANEL;
    double *pk = calloc((size_t)np * PANEL * d, sizeof(double));
    double *rn = malloc((size_t)np * PANEL * sizeof(double));
    if (pk == NULL || rn == NULL) {
        free(pk);
        free(rn);
        return CS_ERR_NOMEM;
    }
    for (int j = 0; j < np * PANEL; j++) rn[j] = HUGE_VAL;
    for (int j = 0; j < nr; j++) {
        int p = j / PANEL, lane = j % PANEL;
        double acc = 0.0;
        for (int k = 0; k < d; k++) {
            double v = ref[j + (size_t)k * nr];
            pk[((size_t)p * d + k) * PANEL + lane] = v;
            acc += v * v;
        }
        rn[j] = acc;
    }
    *packed = pk;
    *norms = rn;
    *n_panels = np;
    return CS_OK;
}

/* Nearest reference (by ||r||^2 - 2 q.r) of the queries i0 .. i0 + nq - 1 (nq <= 256).
 * q: the block of queries, one record contiguous (nq padded to a multiple of 4 with zeros);
 * state: 16 doubles per query (8 lane minima, 8 lane indices). */
__attribute__((target("avx2,fma")))
static void avx2_block(const double *q, int nq, int d, const double *packed,
                       const double *rnorm, int n_panels, const int *exclude, int i0,
                       double *state, int *best)
{
    int nquad = (nq + QUAD - 1) / QUAD;
    for (int i = 0; i < nquad * QUAD; i++) {
        for (int l = 0; l < PANEL; l++) {
            state[(size_t)i * 16 + l] = HUGE_VAL;
            state[(size_t)i * 16 + 8 + l] = -1.0;
        }
    }
    for (int p0 = 0; p0 < n_panels; p0 += PANEL_BLOCK) {
        int p1 = p0 + PANEL_BLOCK < n_panels ? p0 + PANEL_BLOCK : n_panels;
        for (int g = 0; g < nquad; g++) {
            const double *qg = q + (size_t)g * QUAD * d;
            for (int p = p0; p < p1; p++) {
                const double *pp = packed + (size_t)p * d * PANEL;
                v4d a00 = {0, 0, 0, 0}, a01 = a00, a10 = a00, a11 = a00;
                v4d a20 = a00, a21 = a00, a30 = a00, a31 = a00;
                for (int k = 0; k < d; k++) {
                    v4d r0, r1;
                    __builtin_memcpy(&r0, pp + (size_t)k * PANEL, sizeof(v4d));
                    __builtin_memcpy(&r1, pp + (size_t)k * PANEL + 4, sizeof(v4d));
                    v4d b0 = {qg[k], qg[k], qg[k], qg[k]};
                    v4d b1 = {qg[d + k], qg[d + k], qg[d + k], qg[d + k]};
                    v4d b2 = {qg[2 * d + k], qg[2 * d + k], qg[2 * d + k], qg[2 * d + k]};
                    v4d b3 = {qg[3 * d + k], qg[3 * d + k], qg[3 * d + k], qg[3 * d + k]};
                    a00 += b0 * r0; a01 += b0 * r1;
                    a10 += b1 * r0; a11 += b1 * r1;
                    a20 += b2 * r0; a21 += b2 * r1;
                    a30 += b3 * r0; a31 += b3 * r1;
                }
                v4d n0, n1;
                __builtin_memcpy(&n0, rnorm + (size_t)p * PANEL, sizeof(v4d));
                __builtin_memcpy(&n1, rnorm + (size_t)p * PANEL + 4, sizeof(v4d));
                double base = (double)p * PANEL;
                v4d j0 = {base, base + 1, base + 2, base + 3};
                v4d j1 = {base + 4, base + 5, base + 6, base + 7};
                v4d acc[QUAD][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
                for (int t = 0; t < QUAD; t++) {
                    int i = g * QUAD + t;
                    double *st = state + (size_t)i * 16;
                    v4d v0 = n0 - 2.0 * acc[t][0];
                    v4d v1 = n1 - 2.0 * acc[t][1];
                    if (exclude != NULL && i < nq) {
                        int e = exclude[i0 + i];
                        if (e >= 0 && e / PANEL == p) {
                            if (e % PANEL < 4) v0[e % PANEL] = HUGE_VAL;
                            else v1[e % PANEL - 4] = HUGE_VAL;
                        }
                    }
                    v4d m0, m1, x0, x1;
                    __builtin_memcpy(&m0, st, sizeof(v4d));
                    __builtin_memcpy(&m1, st + 4, sizeof(v4d));
                    __builtin_memcpy(&x0, st + 8, sizeof(v4d));
                    __builtin_memcpy(&x1, st + 12, sizeof(v4d));
                    v4i lt0 = v0 < m0, lt1 = v1 < m1;  /* strict: the first index wins ties */
                    m0 = (v4d)(((v4i)v0 & lt0) | ((v4i)m0 & ~lt0));
                    m1 = (v4d)(((v4i)v1 & lt1) | ((v4i)m1 & ~lt1));
                    x0 = (v4d)(((v4i)j0 & lt0) | ((v4i)x0 & ~lt0));
                    x1 = (v4d)(((v4i)j1 & lt1) | ((v4i)x1 & ~lt1));
                    __builtin_memcpy(st, &m0, sizeof(v4d));
                    __builtin_memcpy(st + 4, &m1, sizeof(v4d));
                    __builtin_memcpy(st + 8, &x0, sizeof(v4d));
                    __builtin_memcpy(st + 12, &x1, sizeof(v4d));
                }
            }
        }
    }
    /* across lanes: the smallest value, then the smallest index among equal values */
    for (int i = 0; i < nq; i++) {
        const double *st = state + (size_t)i * 16;
        double bv = HUGE_VAL, bi = -1.0;
        for (int l = 0; l < PANEL; l++) {
            if (st[8 + l] < 0) continue;
            if (st[l] < bv || (st[l] == bv && st[8 + l] < bi)) {
                bv = st[l];
                bi = st[8 + l];
            }
        }
        best[i] = (int)bi;
    }
}

static void avx2_search_block(const block_search *a, int i0, int nq, double *scratch,
                              int *best)
{
    int d = a->d;
    double *q = scratch, *state = scratch + (size_t)QUERY_BLOCK * d;
    int padded = (nq + QUAD - 1) / QUAD * QUAD;
    for (int i = 0; i < padded; i++)
        for (int k = 0; k < d; k++)
            q[(size_t)i * d + k] = i < nq ? a->x[i0 + i + (size_t)k * a->nx] : 0.0;
    avx2_block(q, nq, d, a->ref, a->rnorm, a->n_panels, a->exclude, i0, state, best);
}

static cs_status nn_distance_avx2(const double *x, int nx, const double *ref, int nr, int d,
                                  const int *exclude, int nthreads, cs_interrupt_fn interrupt,
                                  double *dist, int *index)
{
    double *packed = NULL, *rnorm = NULL;
    int n_panels = 0;
    cs_status status = pack_reference(ref, nr, d, &packed, &rnorm, &n_panels);
    if (status != CS_OK) return status;
    block_search a = { x, packed, rnorm, exclude, nx, nr, d, n_panels };
    status = search_blocks(&a, ref, nthreads, (size_t)QUERY_BLOCK * d + (size_t)QUERY_BLOCK * 16,
                           avx2_search_block, interrupt, dist, index);
    free(packed);
    free(rnorm);
    return status;
}
#endif

/* The portable search: dgemm cross products of the query block with reference blocks. */
static void gemm_search_block(const block_search *g, int i0, int nq, double *scratch, int *bj)
{
    double *c = scratch, *best = scratch + (size_t)QUERY_BLOCK * REF_BLOCK;
    for (int i = 0; i < nq; i++) {
        best[i] = HUGE_VAL;
        bj[i] = -1;
    }
    for (int j0 = 0; j0 < g->nr; j0 += REF_BLOCK) {
        int nb = g->nr - j0 < REF_BLOCK ? g->nr - j0 : REF_BLOCK;
        cross_block(g->x, g->nx, i0, nq, g->ref, j0, nb, g->d, c);
        if (g->exclude != NULL) {
            /* e.g. a record is never its own neighbour */
            for (int i = 0; i < nq; i++) {
                int j = g->exclude[i0 + i];
                if (j >= j0 && j < j0 + nb) c[i + (size_t)(j - j0) * nq] = -HUGE_VAL;
            }
        }
        /* ||q||^2 is the same for every candidate, so rank by ||r||^2 - 2 q.r */
        for (int jj = 0; jj < nb; jj++) {
            const double *cj = c + (size_t)jj * nq;
            double rn = g->rnorm[j0 + jj];
            for (int i = 0; i < nq; i++) {
                double v = rn - 2.0 * cj[i];
                if (v < best[i]) {
                    best[i] = v;
                    bj[i] = j0 + jj;
                }
            }
        }
    }
}

cs_status cs_nn_distance(const double *x, int nx, const double *ref, int nr, int d,
                         const int *exclude, int method, int threads,
                         cs_interrupt_fn interrupt, double *dist, int *index)
{
    if (nx < 0 || nr < 1 || d < 1 || (exclude != NULL && nr < 2)) return CS_ERR_ARGUMENT;
    if (exclude != NULL)
        for (int i = 0; i < nx; i++)
            if (exclude[i] < -1 || exclude[i] >= nr) return CS_ERR_ARGUMENT;
    if (nx == 0) return CS_OK;
    int nthreads = cs_threads(threads);
#ifdef CS_HAVE_AVX2_KERNEL
    if (method == 0 && cs_have_avx2_fma())
        return nn_distance_avx2(x, nx, ref, nr, d, exclude, nthreads, interrupt, dist, index);
#else
    (void) method;  /* only the dgemm kernel is built */
#endif
    double *ref_t = NULL, *rnorm = NULL;
    cs_status status = transpose_with_norms(ref, nr, d, &ref_t, &rnorm);
    if (status != CS_OK) return status;
    block_search g = { x, ref_t, rnorm, exclude, nx, nr, d, 0 };
    status = search_blocks(&g, ref, nthreads,
                           (size_t)QUERY_BLOCK * REF_BLOCK + 2 * (size_t)QUERY_BLOCK,
                           gemm_search_block, interrupt, dist, index);
    free(ref_t);
    free(rnorm);
    return status;
}

typedef struct {
    const double *a, *b_t, *anorm, *bnorm;
    int na, nb, d;
    double *scratch;          /* QUERY_BLOCK x REF_BLOCK per thread */
    double *partial;          /* one sum per query block */
} mean_job;

static void mean_block(void *job, int blk, int i0, int nq, int tid)
{
    mean_job *m = job;
    double *c = m->scratch + (size_t)tid * QUERY_BLOCK * REF_BLOCK;
    double sum = 0.0;
    for (int j0 = 0; j0 < m->nb; j0 += REF_BLOCK) {
        int ncol = m->nb - j0 < REF_BLOCK ? m->nb - j0 : REF_BLOCK;
        cross_block(m->a, m->na, i0, nq, m->b_t, j0, ncol, m->d, c);
        for (int jj = 0; jj < ncol; jj++) {
            const double *cj = c + (size_t)jj * nq;
            double bn = m->bnorm[j0 + jj];
            for (int i = 0; i < nq; i++) {
                double scale = m->anorm[i0 + i] + bn;
                double d2 = scale - 2.0 * cj[i];
                /* rounding noise around coincident records counts as 0 */
                if (d2 > 1e-12 * scale) sum += sqrt(d2);
            }
        }
    }
    m->partial[blk] = sum;
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
    mean_job job = { a, b_t, anorm, bnorm, na, nb, d, NULL, NULL };
    job.partial = malloc((size_t)nblocks * sizeof(double));
    job.scratch = malloc((size_t)nthreads * QUERY_BLOCK * REF_BLOCK * sizeof(double));
    status = CS_ERR_NOMEM;
    if (anorm != NULL && job.partial != NULL && job.scratch != NULL) {
        query_norms(a, na, d, anorm);
        status = for_query_blocks(na, nb, nthreads, mean_block, &job, interrupt);
    }
    if (status == CS_OK) {
        double total = 0.0;  /* summed in block order: the same with any thread count */
        for (int blk = 0; blk < nblocks; blk++) total += job.partial[blk];
        *mean = total / ((double)na * (double)nb);
    }
    free(b_t);
    free(bnorm);
    free(anorm);
    free(job.partial);
    free(job.scratch);
    return status;
}
