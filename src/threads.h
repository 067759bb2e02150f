/* The one place that decides how many OpenMP threads a parallel region may use. */
#ifndef CS_THREADS_H
#define CS_THREADS_H

/* requested: the count resolved in R by sandbox_threads(); capped here by OMP_THREAD_LIMIT
 * and the number of processors; 1 when the package was built without OpenMP. */
int cs_threads(int requested);

/* The same for a loop over n items of which every thread should get at least min_items:
 * waking a thread costs more than a small loop, so small loops run on fewer threads. */
int cs_threads_for(int requested, long n, long min_items);

#endif
