/* Per-unit posterior sampling of the CausalBGM latent Z given (V, X, Y) with the trained
 * networks (mean weights): random-walk Metropolis or MALA, proposal scale adapted during
 * burn-in towards a target acceptance rate, one random stream per unit and OpenMP over
 * fixed blocks of units, so results do not depend on the number of threads. */
#ifndef CS_MCMC_H
#define CS_MCMC_H

#include "bgm.h"
#include "status.h"

typedef enum { MCMC_RWM = 0, MCMC_MALA = 1 } mcmc_sampler;

typedef struct {
    mcmc_sampler sampler;
    int burn_in, n_draws;
    int n_grid;              /* continuous treatment: dose grid (standardised scale) */
    const double *grid;
    int weight_noise;        /* kept draw d uses posterior weight draw d of the outcome network */
    double weight_sd_scale;  /* multiplies the posterior sd of those weights (1: as trained) */
    int individual;          /* binary: effect Y(1) - Y(0) with the observed outcome and a
                                draw of the counterfactual one (else E[Y(1) - Y(0) | z]) */
    double prob_lo, prob_hi; /* quantiles of the per-unit intervals */
    int threads;
} mcmc_settings;

typedef struct {
    double *accept;          /* n: acceptance rate after burn-in */
    double *scale;           /* n: adapted proposal scale */
    double *z_mean;          /* dz x n: posterior mean of Z */
    double *tau_mean, *tau_lo, *tau_hi; /* n each (binary treatment) */
    double *tau_draws;       /* n_draws x n (binary, optional: NULL keeps no draws) */
    double *ate_draws;       /* n_draws (binary): mean over units of each draw's effect */
    double *adrf_draws;      /* n_grid x n_draws (continuous): mean over units */
} mcmc_output;

/* V: p x n, x and xt: the treatment as f's input and as h's target (see bgm.h), z_start:
 * dz x n (NULL: start at 0). Outputs must be allocated by the caller
 * (tau_* and ate_draws for a binary treatment, adrf_draws for a continuous one). */
cs_status bgm_mcmc(const bgm_model *m, const double *V, const double *x, const double *xt,
                   const double *y, int n, const double *z_start, const mcmc_settings *s,
                   uint64_t seed, mcmc_output *out, cs_interrupt_fn interrupt,
                   cs_step_fn step, void *step_context);

#endif
