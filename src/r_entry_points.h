/* Every .Call entry point of the package, by glue file (r_<topic>.c); src/init.c registers
 * them all. Each takes and returns SEXPs and is called from R/engine.R or its topic's R file. */
#ifndef CS_R_ENTRY_POINTS_H
#define CS_R_ENTRY_POINTS_H

#include <R.h>
#include <Rinternals.h>

/* r_rng.c: the random streams (used by tests and by other topics for checking). */
SEXP rng_draw(SEXP seed, SEXP n, SEXP distribution, SEXP parameters, SEXP first_index,
              SEXP threads);
SEXP rng_stream(SEXP seed, SEXP index, SEXP n, SEXP distribution, SEXP parameters);
SEXP rng_philox(SEXP counter, SEXP key);
SEXP rng_derive_seed(SEXP seed, SEXP tag);

/* r_lane_math.c: one entry point for accuracy tests of the elementary functions: the scalar
 * ones of lane_math.h and truncnorm.h ("exp", "log", "tanh", "cos2pi", "sin2pi", "erfcx") and
 * the array ones of vecmath.h that training uses ("exp_array", "log_array", "sincos2pi_array",
 * the last a 2-column matrix of sin and cos). */
SEXP lane_math(SEXP x, SEXP fun);

/* r_small_gemm.c: computes one product with the kernels of small_gemm.h (for tests). */
SEXP small_gemm_product(SEXP a, SEXP b, SEXP c, SEXP trans_b, SEXP portable);

/* r_nn.c: small multilayer perceptrons: initialisation, forward pass, loss with gradients
 * (for finite-difference checks) and Adam training (for the benchmark). */
SEXP nn_init(SEXP seed, SEXP sizes, SEXP activations, SEXP leaky_slope);
SEXP nn_forward(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x,
                SEXP per_example, SEXP threads);
SEXP nn_loss(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x, SEXP y,
             SEXP loss);
SEXP nn_loss_each(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x, SEXP y,
                  SEXP loss, SEXP threads);
SEXP nn_train(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x, SEXP y,
              SEXP steps, SEXP batch_size, SEXP adam, SEXP seed);

/* r_threads.c: the C-side thread cap (tests). */
SEXP threads_cap(SEXP requested);

/* r_moments.c: the synthetic potential outcomes moments (engine in moments.c). */
SEXP moments_by_arm(SEXP z, SEXP x, SEXP arm, SEXP y, SEXP weights, SEXP threads);

/* r_glm.c: the estimators' regressions. */

/* IRLS fit: x (numeric n-by-p matrix), y (numeric n), weights and offset (numeric n or NULL),
 * family ("gaussian" or "binomial"), control (list: maxit, epsilon, tol). */
SEXP glm_irls(SEXP x, SEXP y, SEXP weights, SEXP offset, SEXP family, SEXP control);

/* r_classifier.c: the neural-network classifier (C2ST in fidelity()). */

/* Out-of-fold probabilities: x an n x d double matrix, y 0/1 doubles, fold 1-based integer
 * fold numbers 1..k, options list(hidden, max_epochs, patience, batch, lr, weight_decay,
 * valid_share), seed an engine seed (integer(2)), threads a count. */
SEXP classifier_cv(SEXP x, SEXP y, SEXP fold, SEXP options, SEXP seed, SEXP threads);

/* r_distance.c: distances (fidelity, dcr). */

/* list(distance, index): for each row of x, the distance to (and 1-based row of) its closest
 * row of ref. exclude: NULL or an integer vector (one per row of x) of the 1-based ref row
 * that row may not match (NA for none): x's own row numbers give leave-one-out distances.
 * method: 0 automatic, 1 dgemm blocks (see distance.h). */
SEXP distance_nearest(SEXP x, SEXP ref, SEXP exclude, SEXP method, SEXP threads);
/* Mean Euclidean distance over all pairs of rows of a and b. */
SEXP distance_mean(SEXP a, SEXP b, SEXP threads);

/* r_causalmix.c: causalmix(): training, prior refit, prediction and covariate draws. */
SEXP causalmix_train(SEXP model, SEXP settings, SEXP x, SEXP miss, SEXP t, SEXP y, SEXP seed,
                     SEXP verbose, SEXP threads, SEXP progress);
SEXP causalmix_predict(SEXP model, SEXP x, SEXP miss, SEXP kernels, SEXP threads);
SEXP causalmix_draw(SEXP model, SEXP decoding, SEXP n, SEXP seed, SEXP offset, SEXP kernels,
                    SEXP threads, SEXP summaries);
SEXP causalmix_posterior(SEXP model, SEXP x, SEXP miss);
SEXP prior_fit_aggregate(SEXP mu, SEXP var, SEXP prior, SEXP settings, SEXP threads);

/* r_marginal_map.c: scores of values (marginal_map.c; see R/marginal_transform.R). */
SEXP marginal_encode(SEXP value, SEXP score, SEXP x);
SEXP marginal_moments(SEXP from, SEXP value, SEXP loc, SEXP scale);

/* r_simulate.c: simulate() on a causalmix fit. */
SEXP simulate_knobs(SEXP pred, SEXP knobs, SEXP binary, SEXP threads);
SEXP simulate_logit_constants(SEXP mu0, SEXP mu1, SEXP heterogeneity, SEXP ate);
SEXP simulate_outcomes(SEXP ps, SEXP m0, SEXP m1, SEXP sd0, SEXP sd1, SEXP k, SEXP binary,
                       SEXP mass, SEXP treatment, SEXP outcome, SEXP seed, SEXP offset,
                       SEXP threads);

/* r_cohort.c: new_sandbox_data(): the sample summaries of a cohort's truth. */
SEXP cohort_summary(SEXP tau, SEXP ps, SEXP arm);

/* r_bgm.c: CausalBGM (R/causalbgm.R). */
SEXP bgm_fit(SEXP columns, SEXP center, SEXP scale, SEXP x, SEXP y, SEXP spec,
             SEXP settings, SEXP seeds, SEXP progress);
SEXP bgm_predict(SEXP columns, SEXP center, SEXP scale, SEXP x, SEXP y, SEXP spec,
                 SEXP params, SEXP z_start, SEXP settings, SEXP seed, SEXP progress);
SEXP bgm_encode(SEXP columns, SEXP center, SEXP scale, SEXP spec, SEXP params);

/* r_survival.c: time-to-event outcomes (survival_model.c, survival_estimators.c). */
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
