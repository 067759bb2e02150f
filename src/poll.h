/* The one interrupt policy of every long loop: ask the R side (the engine's cs_interrupt_fn)
 * at most every CS_POLL_SECONDS of wall-clock time. Wall clock, not process CPU time: CPU
 * time counts every thread and runs late on a busy machine, so Ctrl-C would wait.
 *
 * The R-side callback only runs on the thread that called into the engine: cs_poll_main()
 * outside parallel regions, or from thread 0 of a parallel region (the calling thread itself,
 * whose callback catches R's jumps and never leaves the region). Other threads only read the
 * stop flag, so they end their work soon after the main thread saw an interrupt. */
#ifndef CS_POLL_H
#define CS_POLL_H

#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "status.h"

#define CS_POLL_SECONDS 0.1

typedef struct {
    cs_interrupt_fn fn;   /* NULL: never interrupted */
    double last;          /* wall-clock seconds of the last call of fn */
    int stop;             /* set once fn reported an interrupt; read by every thread */
} cs_poll;

static inline double cs_wall_seconds(void)
{
#if defined(_OPENMP)
    return omp_get_wtime();
#elif defined(CLOCK_MONOTONIC)
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
#else
    return (double) time(NULL);
#endif
}

static inline void cs_poll_init(cs_poll *p, cs_interrupt_fn fn)
{
    p->fn = fn;
    p->last = cs_wall_seconds();
    p->stop = 0;
}

/* Any thread: has an interrupt been seen? */
static inline int cs_poll_stopped(const cs_poll *p)
{
    int s;
#ifdef _OPENMP
#pragma omp atomic read
#endif
    s = p->stop;
    return s;
}

/* Calling thread only: asks the R side when CS_POLL_SECONDS have passed; returns non-zero
 * once an interrupt was seen. */
static inline int cs_poll_main(cs_poll *p)
{
    if (p->fn == NULL) return 0;
    if (cs_poll_stopped(p)) return 1;
    double now = cs_wall_seconds();
    if (now - p->last < CS_POLL_SECONDS) return 0;
    p->last = now;
    if (!p->fn()) return 0;
#ifdef _OPENMP
#pragma omp atomic write
#endif
    p->stop = 1;
    return 1;
}

/* Inside a parallel region: thread 0 polls, every thread learns the answer. */
static inline int cs_poll_any(cs_poll *p)
{
#ifdef _OPENMP
    if (omp_in_parallel() && omp_get_thread_num() != 0) return cs_poll_stopped(p);
#endif
    return cs_poll_main(p);
}

#endif
