/* CausalMix prediction and draws: the fitted propensity and outcome networks evaluated on
 * given covariate rows, and new rows drawn from the fitted covariate model, written straight
 * into the typed columns of the user's table.
 *
 * Both run the same tile code, built twice on x86-64 with GCC or clang (AVX2, chosen at run
 * time when the processor has it, and the baseline instruction set); the two builds give
 * identical results, as do any thread count, chunking and row offset. */
#ifndef CS_CAUSALMIX_DRAW_H
#define CS_CAUSALMIX_DRAW_H

#include "columns.h"
#include "causalmix_train.h"

/* Which build of the tile code runs. */
typedef enum { CS_KERNELS_FASTEST = 0, CS_KERNELS_PORTABLE = 1 } cs_kernels;

/* Summaries of the outcome law per row: logit e, mu0, mu1, sd0, sd1 (mean and sd of Y(t) | x
 * on the outcome's scale after y_center/y_scale; for a binary outcome mu are probabilities
 * and sd are sqrt(mu (1 - mu))), and for a semicontinuous outcome six more that the draws
 * need: mass0, mass1 (probability of the point mass), loc0, loc1, scale0, scale1 (the
 * Gaussian on the outcome's scale that is truncated to the bounds). A transformed outcome
 * (outcome_knots > 0) has the same eleven: mass0, mass1 are 0 (its point masses are in the
 * transform) and loc, scale are the normal law of its score. With outcome_raw (see
 * causalmix_train.h) the four summaries after eta are the outcome network's raw outputs. */
enum { CS_SUMMARIES = 5, CS_SUMMARIES_MASS = 11 };
int cs_outcome_summaries(const cs_causalmix *model);

/* Propensity and outcome predictions for n rows of encoded covariates (x: n x p, miss: n x m,
 * as in causalmix_train.h): out is n x cs_outcome_summaries(model) column-major, as above. */
cs_status cs_causalmix_predict(const cs_causalmix *model, int n, const double *x,
                               const double *miss, double y_center, double y_scale,
                               cs_kernels kernels, int threads, double *out);

typedef struct {
    cs_column_out *columns;    /* p: where each covariate goes (columns.h); numeric columns
                                  with round_whole are rounded before the networks see them */
    double *pred[CS_SUMMARIES_MASS];   /* the summaries of cs_causalmix_predict: n values
                                          each, or NULL when not wanted */
    int any_pred;                      /* 0: no summary wanted, the networks are not run */
} cs_draw_output;

/* Draws n rows from the covariate model and evaluates the propensity and outcome networks on
 * them. Row i uses only the random stream (seed, offset + i). */
cs_status cs_causalmix_draw(const cs_causalmix *model, int n, uint64_t seed, uint64_t offset,
                            double y_center, double y_scale, cs_kernels kernels, int threads,
                            const cs_draw_output *out, cs_interrupt_fn interrupt);

#endif
