/* .Call entry point exposing the C-side thread cap to R (tests). */
#ifndef CS_R_THREADS_H
#define CS_R_THREADS_H

#include <Rinternals.h>

SEXP threads_cap(SEXP requested);

#endif
