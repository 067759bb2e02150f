/* Keeps a multithreaded BLAS on one thread while our own OpenMP threads call it. */
#ifndef CS_BLAS_THREADS_H
#define CS_BLAS_THREADS_H

/* What cs_blas_threads_single() changed, for cs_blas_threads_restore(). */
typedef struct {
    int library;          /* which BLAS was changed; -1: none */
    long long previous;   /* its thread count before the change */
} cs_blas_threads;

/* Sets the loaded BLAS (OpenBLAS, FlexiBLAS, MKL or BLIS, found at run time) to one thread and
 * records the previous setting in *saved; does nothing for a BLAS without threads (the
 * reference BLAS) or where run-time symbol lookup is not available. */
void cs_blas_threads_single(cs_blas_threads *saved);
/* Puts back what cs_blas_threads_single() recorded; safe to call when it changed nothing. */
void cs_blas_threads_restore(const cs_blas_threads *saved);

#endif
