/* Euclidean distances between the rows of two numeric tables: nearest-neighbour distances
 * (distance to closest record) and mean pairwise distances (energy distance).
 *
 * Tables are column-major n x d matrices (one row per record), as R stores them. Squared
 * distances come from ||a||^2 + ||b||^2 - 2 a.b with the cross products computed block by
 * block through BLAS dgemm; the distance of each chosen nearest neighbour is then recomputed
 * directly, so exact copies have distance exactly 0. Query blocks run in parallel (OpenMP);
 * every result is independent of the number of threads. */
#ifndef CS_DISTANCE_H
#define CS_DISTANCE_H

#include "status.h"

/* For each row i of x (nx x d), the Euclidean distance to the closest row of ref (nr x d):
 * dist[i] and, when index is not NULL, its 0-based row index (the first one on ties).
 * exclude: NULL, or for each query the 0-based ref row it may not match (-1 for none), e.g.
 * the row itself for leave-one-out distances; nr must then be at least 2.
 * threads: requested thread count (capped by cs_threads). */
/* method: 0 chooses (the AVX2/FMA kernel when the processor has it, else dgemm blocks);
 * 1 forces the dgemm blocks. Both give the same neighbours up to rounding ties. */
cs_status cs_nn_distance(const double *x, int nx, const double *ref, int nr, int d,
                         const int *exclude, int method, int threads,
                         cs_interrupt_fn interrupt, double *dist, int *index);

/* Mean of the Euclidean distances |a_i - b_j| over all pairs (i, j), diagonal included when a
 * and b are the same table (a V-statistic, so identical tables give identical means). */
cs_status cs_mean_distance(const double *a, int na, const double *b, int nb, int d,
                           int threads, cs_interrupt_fn interrupt, double *mean);

#endif
