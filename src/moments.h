/* Conditional moments by treatment arm, in one pass over the rows, for the synthetic potential
 * outcomes method (causal mixtures from proxies).
 *
 * Inputs are column-major n x dz and n x dx matrices Z and X (already encoded, including any
 * constant column), a 0/1 arm per row, the outcome y and optional non-negative frequency
 * weights w (NULL means every row has weight 1; bootstrap replicates pass resampling counts).
 *
 * Output `out` has cs_moments_length(dz, dx) doubles: for each arm a = 0, 1 a block of
 * cs_moments_arm_length(dz, dx) weighted sums laid out as
 *     [0]                     sum w
 *     [1]                     sum w y
 *     [2]                     sum w y^2
 *     [3, 3 + dz)             sum w z_j
 *     next dz                 sum w z_j y
 *     next dz*dx              sum w z_j x_k          (dz x dx, column-major)
 *     next dz*dx              sum w z_j x_k y
 *     next dz*dx              sum w (z_j x_k)^2      (for the sampling noise of the previous)
 * followed by dx sums sum w x_k over all rows.
 *
 * Rows are cut into blocks of fixed size; each block is summed sequentially and the block sums
 * are added in block order, so the result is bit-identical for any number of threads. */
#ifndef CS_MOMENTS_H
#define CS_MOMENTS_H

#include <stddef.h>
#include "status.h"

size_t cs_moments_arm_length(int dz, int dx);
size_t cs_moments_length(int dz, int dx);

/* Returns CS_ERR_ARGUMENT for bad sizes or an arm outside {0, 1}, CS_ERR_NONFINITE when a sum
 * is not finite, CS_ERR_NOMEM, or CS_ERR_INTERRUPTED when `interrupt` (may be NULL) says so. */
cs_status cs_moments_by_arm(const double *z, int dz, const double *x, int dx, const int *arm,
                            const double *y, const double *w, size_t n, int threads,
                            cs_interrupt_fn interrupt, double *out);

#endif
