/* .Call entry point of new_sandbox_data(): the sample summaries of a cohort's truth. */
#ifndef CS_R_COHORT_H
#define CS_R_COHORT_H

#include <R.h>
#include <Rinternals.h>

SEXP cohort_summary(SEXP tau, SEXP ps, SEXP arm);

#endif
