/* Glue for time-to-event outcomes (survival_model.c). */
#ifndef CS_R_SURVIVAL_H
#define CS_R_SURVIVAL_H

#include <Rinternals.h>

SEXP survival_train(SEXP model, SEXP surv, SEXP x, SEXP miss, SEXP arm, SEXP time, SEXP event,
                    SEXP valid, SEXP settings, SEXP seed);
SEXP survival_predict(SEXP model, SEXP surv, SEXP x, SEXP miss, SEXP threads);
SEXP survival_draw(SEXP surv, SEXP risk, SEXP ps, SEXP knobs, SEXP seed, SEXP offset,
                   SEXP threads);
SEXP survival_aipcw(SEXP time, SEXP censored, SEXP u, SEXP L0, SEXP Lc0_left, SEXP dLc0,
                    SEXP r, SEXP c, SEXP s_tau);

SEXP survival_step_areas(SEXP r, SEXP u, SEXP L0, SEXP tau, SEXP with_mean);
SEXP survival_aipcw_rmst(SEXP u, SEXP L0, SEXP tau, SEXP cu, SEXP Lc0_left, SEXP dLc0, SEXP r,
                         SEXP c, SEXP time, SEXP censored);

#endif
