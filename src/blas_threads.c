/* Why this file exists: network training runs its own OpenMP threads, each calling dgemm on
 * small blocks. A multithreaded BLAS would start its own threads inside every such call, so
 * two training threads would each wake two BLAS threads on a two-core machine: four busy
 * threads on two cores, and the 100k-row benchmark ran five times slower than with a
 * one-thread BLAS. No standard API sets a BLAS's threads, and R may be linked to any BLAS, so
 * the libraries' own setters are looked up at run time in the symbols already loaded into the
 * process; where none is found (the reference BLAS, or no dlsym on the platform) nothing
 * happens. */
#if !defined(_WIN32)
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* RTLD_DEFAULT in glibc's dlfcn.h; must precede every system header */
#endif
#include <dlfcn.h>
#define CS_HAVE_DLSYM 1
#endif

#include <stdint.h>
#include <string.h>
#include "blas_threads.h"

#ifdef CS_HAVE_DLSYM

typedef int (*get_int_fn)(void);
typedef void (*set_int_fn)(int);
typedef int64_t (*get_dim_fn)(void);   /* BLIS: dim_t, 64 bits in its default build */
typedef void (*set_dim_fn)(int64_t);

/* Getter and setter pairs taking and returning int; the first library found is used. */
static const char *const int_api[][2] = {
    { "flexiblas_get_num_threads", "flexiblas_set_num_threads" },  /* before its backend */
    { "openblas_get_num_threads", "openblas_set_num_threads" },
    { "MKL_Get_Max_Threads", "MKL_Set_Num_Threads" },
};
enum { N_INT_API = (int) (sizeof(int_api) / sizeof(int_api[0])), BLIS = N_INT_API };

/* dlsym's object pointer turned into a function pointer without a cast ISO C forbids. */
static int lookup(const char *name, void *fn, size_t size)
{
    void *sym = dlsym(RTLD_DEFAULT, name);
    if (!sym) return 0;
    memcpy(fn, &sym, size);
    return 1;
}

void cs_blas_threads_single(cs_blas_threads *saved)
{
    saved->library = -1;
    saved->previous = 1;
    for (int k = 0; k < N_INT_API; k++) {
        get_int_fn get;
        set_int_fn set;
        if (lookup(int_api[k][0], &get, sizeof(get)) && lookup(int_api[k][1], &set, sizeof(set))) {
            int previous = get();
            if (previous > 1) {
                saved->library = k;
                saved->previous = previous;
                set(1);
            }
            return;
        }
    }
    get_dim_fn get;
    set_dim_fn set;
    if (lookup("bli_thread_get_num_threads", &get, sizeof(get)) &&
        lookup("bli_thread_set_num_threads", &set, sizeof(set))) {
        /* below 1 means "not set": BLIS then runs one thread unless told otherwise in
         * ways per loop, which this leaves alone */
        int64_t previous = get();
        if (previous > 1) {
            saved->library = BLIS;
            saved->previous = previous;
            set(1);
        }
    }
}

void cs_blas_threads_restore(const cs_blas_threads *saved)
{
    if (saved->library < 0) return;
    if (saved->library < N_INT_API) {
        set_int_fn set;
        if (lookup(int_api[saved->library][1], &set, sizeof(set))) set((int) saved->previous);
    } else {
        set_dim_fn set;
        if (lookup("bli_thread_set_num_threads", &set, sizeof(set))) set(saved->previous);
    }
}

#else

void cs_blas_threads_single(cs_blas_threads *saved)
{
    saved->library = -1;
    saved->previous = 1;
}

void cs_blas_threads_restore(const cs_blas_threads *saved) { (void) saved; }

#endif
