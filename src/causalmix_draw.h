/* CausalMix prediction and draws: the fitted propensity and outcome networks evaluated on
 * given covariate rows, and new rows drawn from the fitted covariate model. */
#ifndef CS_CAUSALMIX_DRAW_H
#define CS_CAUSALMIX_DRAW_H

#include "vae.h"

/* Propensity and outcome predictions for n rows: out is n x 5 column-major
 * (logit e, mu0, mu1, sd0, sd1 on the outcome's scale after y_center/y_scale;
 * for a binary outcome mu are probabilities and sd are sqrt(mu (1 - mu))). */
cs_status cs_causalmix_predict(const cs_causalmix *model, int n, const double *x,
                               const double *miss, double y_center, double y_scale,
                               int threads, double *out);

/* Draws n rows from the covariate model (row i uses stream (seed, offset + i)) and evaluates
 * the propensity and outcome networks on them. x_out n x p, miss_out n x m, pred_out n x 5 as
 * in cs_causalmix_predict. */
cs_status cs_causalmix_draw(const cs_causalmix *model, int n, uint64_t seed, uint64_t offset,
                            double y_center, double y_scale, int threads, double *x_out,
                            double *miss_out, double *pred_out, cs_interrupt_fn interrupt);

#endif
