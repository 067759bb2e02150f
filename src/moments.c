#include "moments.h"
#include "poll.h"
#include "threads.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Rows per block and blocks per parallel round. Both are fixed so that the summation order,
 * and hence every bit of the result, does not depend on the thread count. A round of
 * 64 x 4096 rows takes well under 0.1 s, which is how often interrupts are polled. */
#define BLOCK_ROWS 4096
#define ROUND_BLOCKS 64

size_t cs_moments_arm_length(int dz, int dx)
{
    return 3 + 2 * (size_t) dz + 3 * (size_t) dz * (size_t) dx;
}

size_t cs_moments_length(int dz, int dx)
{
    return 2 * cs_moments_arm_length(dz, dx) + (size_t) dx;
}

/* Adds the weighted sums of rows [from, to) into acc (zeroed by the caller). Returns 0, or 1 if
 * an arm is not 0/1. */
static int sum_block(const double *z, int dz, const double *x, int dx, const int *arm,
                     const double *y, const double *w, size_t n, size_t from, size_t to,
                     double *acc)
{
    const size_t arm_len = cs_moments_arm_length(dz, dx);
    const size_t dzx = (size_t) dz * (size_t) dx;
    double *sum_x = acc + 2 * arm_len;
    double zrow[64], xrow[64];
    double *zbuf = dz <= 64 ? zrow : malloc((size_t) dz * sizeof(double));
    double *xbuf = dx <= 64 ? xrow : malloc((size_t) dx * sizeof(double));
    int bad = 0;
    if (!zbuf || !xbuf) bad = 2;

    for (size_t i = from; i < to && !bad; i++) {
        const double wi = w ? w[i] : 1.0;
        if (wi == 0.0) continue;
        const int a = arm[i];
        if (a != 0 && a != 1) { bad = 1; break; }
        double *s = acc + (size_t) a * arm_len;
        /* The five blocks never overlap each other or the row buffers. */
        double *restrict s_z = s + 3, *restrict s_zy = s_z + dz, *restrict s_zx = s_zy + dz;
        double *restrict s_zxy = s_zx + dzx, *restrict s_zx2 = s_zxy + dzx;
        const double yi = y[i], wy = wi * yi;
        s[0] += wi;
        s[1] += wy;
        s[2] += wy * yi;
        for (int j = 0; j < dz; j++) zbuf[j] = z[i + (size_t) j * n];
        for (int k = 0; k < dx; k++) {
            xbuf[k] = x[i + (size_t) k * n];
            sum_x[k] += wi * xbuf[k];
        }
        for (int j = 0; j < dz; j++) {
            s_z[j] += wi * zbuf[j];
            s_zy[j] += wy * zbuf[j];
        }
        for (int k = 0; k < dx; k++) {
            const size_t col = (size_t) k * (size_t) dz;
            for (int j = 0; j < dz; j++) {
                const double p = zbuf[j] * xbuf[k];
                s_zx[col + j] += wi * p;
                s_zxy[col + j] += wy * p;
                s_zx2[col + j] += wi * p * p;
            }
        }
    }
    if (zbuf != zrow) free(zbuf);
    if (xbuf != xrow) free(xbuf);
    return bad;
}

cs_status cs_moments_by_arm(const double *z, int dz, const double *x, int dx, const int *arm,
                            const double *y, const double *w, size_t n, int threads,
                            cs_interrupt_fn interrupt, double *out)
{
    if (dz < 1 || dx < 1 || !z || !x || !arm || !y || !out) return CS_ERR_ARGUMENT;
    const size_t len = cs_moments_length(dz, dx);
    memset(out, 0, len * sizeof(double));
    if (n == 0) return CS_OK;

    const size_t n_blocks = (n + BLOCK_ROWS - 1) / BLOCK_ROWS;
    const size_t round_blocks = n_blocks < ROUND_BLOCKS ? n_blocks : ROUND_BLOCKS;
    double *partial = calloc(round_blocks * len, sizeof(double));
    if (!partial) return CS_ERR_NOMEM;
    (void) threads;

    cs_status status = CS_OK;
    cs_poll poll;
    cs_poll_init(&poll, interrupt);
    for (size_t first = 0; first < n_blocks && status == CS_OK; first += round_blocks) {
        const size_t count = n_blocks - first < round_blocks ? n_blocks - first : round_blocks;
        int bad = 0;
        memset(partial, 0, count * len * sizeof(double));
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(cs_threads(threads)) reduction(|:bad)
#endif
        for (long b = 0; b < (long) count; b++) {
            const size_t from = (first + (size_t) b) * BLOCK_ROWS;
            const size_t to = from + BLOCK_ROWS < n ? from + BLOCK_ROWS : n;
            bad |= sum_block(z, dz, x, dx, arm, y, w, n, from, to, partial + (size_t) b * len);
        }
        if (bad & 2) status = CS_ERR_NOMEM;
        else if (bad) status = CS_ERR_ARGUMENT;
        /* Block sums are added in block order: the same order for every thread count. */
        for (size_t b = 0; b < count && status == CS_OK; b++) {
            const double *p = partial + b * len;
            for (size_t s = 0; s < len; s++) out[s] += p[s];
        }
        if (status == CS_OK && first + count < n_blocks && cs_poll_main(&poll))
            status = CS_ERR_INTERRUPTED;
    }
    free(partial);
    if (status != CS_OK) return status;
    for (size_t s = 0; s < len; s++)
        if (!isfinite(out[s])) return CS_ERR_NONFINITE;
    return CS_OK;
}
