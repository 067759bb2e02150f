/* BLAS and LAPACK as R provides them, with the hidden Fortran string-length arguments
 * (FCONE) where R passes them. Include before any other R header. */
#ifndef CS_BLAS_H
#define CS_BLAS_H

#define USE_FC_LEN_T
#include <Rconfig.h>
#include <R_ext/BLAS.h>
#include <R_ext/Lapack.h>
#ifndef FCONE
#define FCONE
#endif

#endif
