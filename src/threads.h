/* The one place that decides how many OpenMP threads a parallel region may use. */
#ifndef CS_THREADS_H
#define CS_THREADS_H

/* requested: the count resolved in R by sandbox_threads(); capped here by OMP_THREAD_LIMIT
 * and the number of processors; 1 when the package was built without OpenMP. */
int cs_threads(int requested);

#endif
