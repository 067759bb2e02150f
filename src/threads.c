/* The one place that caps the thread count of parallel regions. */
#include "threads.h"

#ifdef _OPENMP
#include <omp.h>
#endif

int cs_threads(int requested)
{
    int threads = requested < 1 ? 1 : requested;
#ifdef _OPENMP
    int limit = omp_get_thread_limit();   /* OMP_THREAD_LIMIT, or INT_MAX when unset */
    int procs = omp_get_num_procs();
    if (limit >= 1 && threads > limit) threads = limit;
    if (procs >= 1 && threads > procs) threads = procs;
#else
    threads = 1;
#endif
    return threads;
}

int cs_threads_for(int requested, long n, long min_items)
{
    int threads = cs_threads(requested);
    long useful = min_items > 0 ? n / min_items : n;
    if (useful < threads) threads = useful < 1 ? 1 : (int) useful;
    return threads;
}
