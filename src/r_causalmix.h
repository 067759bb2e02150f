/* Shared by the glue files that read a fitted CausalMix model (r_causalmix.c, r_simulate.c,
 * r_survival.c). */
#ifndef CS_R_CAUSALMIX_H
#define CS_R_CAUSALMIX_H

#include <Rinternals.h>
#include "causalmix_draw.h"

/* Fills `out` from the R description of a fitted model (list built by R/causalmix.R).
 * With with_params = 0 the network parameter pointers are left NULL. Shared with r_simulate.c. */
void r_read_causalmix(SEXP model, cs_causalmix *out, int with_params);

#endif
