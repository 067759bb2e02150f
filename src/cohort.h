/* Sample summaries that the truth of a synthetic cohort reports (see new_sandbox_data() in
 * R/sandbox_data.R), in one pass over the rows without temporary vectors. Sums are
 * accumulated in long double and means refined by a second pass, as R's sum() and mean() do,
 * so the results equal those of the R expressions they replace. */
#ifndef CS_COHORT_H
#define CS_COHORT_H

#include <stddef.h>
#include "status.h"

typedef struct {
    size_t n_treated, n_control;
    double att, atc;                  /* mean of tau over treated and over control rows */
    double share_inside;              /* share of ps inside [0.1, 0.9] */
    double ess_treated, ess_control;  /* Kish effective sample size of 1 / ps over the treated
                                         rows and of 1 / (1 - ps) over the control rows */
} cs_cohort_summary;                  /* the means and sizes of an empty arm are NaN */

/* The treatment column comes as doubles (arm_real) or integers (arm_int), exactly one of them
 * set; `treated` and `control` are the values of the two arms. CS_ERR_ARGUMENT when a row
 * holds another value (NA included). */
cs_status cs_cohort_summarise(size_t n, const double *tau, const double *ps,
                              const double *arm_real, const int *arm_int, double treated,
                              double control, cs_cohort_summary *out);

#endif
