/* The one place that caps the thread count of parallel regions. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L   /* nanosleep */
#endif
#include "threads.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <time.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

int cs_threads(int requested)
{
    int threads = requested < 1 ? 1 : requested;
#ifdef _OPENMP
    int limit = omp_get_thread_limit();   /* OMP_THREAD_LIMIT, or INT_MAX when unset */
    if (limit >= 1 && threads > limit) threads = limit;
#else
    threads = 1;
#endif
    return threads;
}

int cs_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

void cs_sleep_seconds(double seconds)
{
    if (!(seconds > 0)) return;
#if defined(_WIN32)
    Sleep((DWORD) (seconds * 1000.0));
#else
    struct timespec ts;
    ts.tv_sec = (time_t) seconds;
    ts.tv_nsec = (long) ((seconds - (double) ts.tv_sec) * 1e9);
    nanosleep(&ts, NULL);
#endif
}

int cs_threads_for(int requested, long n, long min_items)
{
    int threads = cs_threads(requested);
    long useful = min_items > 0 ? n / min_items : n;
    if (useful < threads) threads = useful < 1 ? 1 : (int) useful;
    return threads;
}

/* batches per cycle (shortest and longest), and how many of them probe */
#define TUNER_CYCLE 256
#define TUNER_CYCLE_MAX 4096
#define TUNER_PROBES 8

static double wall_seconds(void)
{
#ifdef _OPENMP
    return omp_get_wtime();
#else
    return 0.0;
#endif
}

void cs_team_tuner_init(cs_team_tuner *tuner, int max)
{
    tuner->max = max < 1 ? 1 : max;
    tuner->current = tuner->teams = tuner->max;
    tuner->batch = tuner->cycle_start = 0;
    tuner->cycle_length = TUNER_CYCLE;
    tuner->start = 0.0;
    tuner->seconds[0] = tuner->seconds[1] = tuner->rows[0] = tuner->rows[1] = 0.0;
}

int cs_team_tuner_begin(cs_team_tuner *tuner)
{
    if (tuner->batch - tuner->cycle_start >= tuner->cycle_length) tuner->cycle_start = tuner->batch;
    long pos = tuner->batch - tuner->cycle_start;
    if (tuner->max < 2) {
        tuner->teams = 1;
    } else if (pos < TUNER_PROBES) {
        if (pos == 0) tuner->seconds[0] = tuner->seconds[1] = tuner->rows[0] = tuner->rows[1] = 0.0;
        tuner->teams = pos % 2 ? tuner->max : 1;
    } else {
        if (pos == TUNER_PROBES && tuner->rows[0] > 0 && tuner->rows[1] > 0) {
            double one = tuner->seconds[0] / tuner->rows[0];
            double many = tuner->seconds[1] / tuner->rows[1];
            int choice = one < many ? 1 : tuner->max;
            int clear = one > 2.0 * many || many > 2.0 * one;
            tuner->cycle_length = choice == tuner->current && clear ?
                (tuner->cycle_length * 2 < TUNER_CYCLE_MAX ? tuner->cycle_length * 2 :
                 TUNER_CYCLE_MAX) : TUNER_CYCLE;
            tuner->current = choice;
        }
        tuner->teams = tuner->current;
    }
    tuner->start = wall_seconds();
    return tuner->teams;
}

void cs_team_tuner_end(cs_team_tuner *tuner, long rows)
{
    long pos = tuner->batch - tuner->cycle_start;
    if (tuner->max >= 2 && pos < TUNER_PROBES) {
        int slot = tuner->teams == 1 ? 0 : 1;
        tuner->seconds[slot] += wall_seconds() - tuner->start;
        tuner->rows[slot] += (double) rows;
    }
    tuner->batch++;
}
