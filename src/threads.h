/* The one place that decides how many OpenMP threads a parallel region may use. */
#ifndef CS_THREADS_H
#define CS_THREADS_H

/* requested: the count resolved in R by sandbox_threads(), which caps it by the processors;
 * capped here by OMP_THREAD_LIMIT; 1 when the package was built without OpenMP. (Not by the
 * processors again: the tests run their one-against-two-thread comparisons on two threads
 * even on a one-processor machine.) */
int cs_threads(int requested);

/* The same for a loop over n items of which every thread should get at least min_items:
 * waking a thread costs more than a small loop, so small loops run on fewer threads. */
int cs_threads_for(int requested, long n, long min_items);

/* The calling thread's number inside a parallel region: 0 outside one or without OpenMP
 * (per-thread scratch is indexed by it). A function, not an inline one, so that this header
 * does not bring omp.h into glue files (clang's omp.h clashes with Rinternals.h's macros). */
int cs_thread_num(void);

/* Puts the calling thread to sleep (a thread waiting for others in a parallel region). */
void cs_sleep_seconds(double seconds);

/* Chooses, batch by batch, between one thread and `max` threads for a loop of many short
 * parallel regions whose results do not depend on the thread count. On an idle machine
 * `max` threads finish a batch sooner; when another process holds a core, every batch
 * waits at the region's barrier for the descheduled thread (measured: 50 times slower per
 * row). So the first batches of every cycle alternate one and `max` threads, timed, and the
 * rest of the cycle runs with the faster per row; a cycle is 256 batches, doubling up to
 * 4096 while one choice wins by more than a factor of 2, so that probing the losing choice
 * costs little. Without OpenMP it always answers 1. */
typedef struct {
    int max, current, teams;    /* allowed, chosen for the cycle, used by the open batch */
    long batch, cycle_start, cycle_length;
    double start;               /* wall clock at the open batch's start */
    double seconds[2], rows[2]; /* this cycle's probes with one ([0]) and max ([1]) threads */
} cs_team_tuner;

void cs_team_tuner_init(cs_team_tuner *tuner, int max);
/* Thread count for the next batch; starts its clock. */
int cs_team_tuner_begin(cs_team_tuner *tuner);
/* Stops the clock of the batch begun last, which processed `rows` rows. */
void cs_team_tuner_end(cs_team_tuner *tuner, long rows);

#endif
