/* Refitting the mixture prior of a trained CausalMix covariate VAE to the encoder's aggregate
 * posterior (see prior_fit.c). */
#ifndef CS_PRIOR_FIT_H
#define CS_PRIOR_FIT_H
#include "causalmix_train.h"

/* Posterior means and variances of the latent for n rows (x: n x p, miss: n x m, the
 * encoding of cs_causalmix_train); mu and var are n x L, row-major (latent index fastest). */
cs_status cs_causalmix_posterior(const cs_causalmix *model, int n, const double *x,
                                 const double *miss, double *mu, double *var);

/* EM for the K-component diagonal mixture in `prior` (the layout of cs_causalmix.prior,
 * used as the starting point and overwritten) on the aggregate of the n Gaussians
 * N(mu_i, diag var_i). Stops after max_iter iterations or when the expected log-density per
 * row improves by less than tol (relative). Variances are floored at min_var. loglik
 * receives the expected log-density per row before the first and after the last iteration. */
cs_status cs_prior_fit_aggregate(int n, int L, int K, const double *mu, const double *var,
                                 int max_iter, double tol, double min_var, int threads,
                                 double *prior, int *iterations, double *loglik);
#endif
