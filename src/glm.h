/* Iteratively reweighted least squares for Gaussian (identity link) and binomial (logit link)
 * generalised linear models on a dense design matrix, mirroring stats::glm.fit: same starting
 * values, same convergence rule (relative change in deviance), same clamping of the logit, and
 * columns found collinear are aliased (coefficient 0, flagged) as R reports NA. */
#ifndef CS_GLM_H
#define CS_GLM_H

#include "status.h"

typedef enum { CS_GLM_GAUSSIAN = 0, CS_GLM_BINOMIAL = 1 } cs_glm_family;

typedef struct {
    int maxit;        /* iteration cap (glm.fit: 25) */
    double epsilon;   /* convergence: |dev - dev_old| / (|dev| + 0.1) < epsilon (glm.fit: 1e-8) */
    double tol;       /* rank tolerance on the QR diagonal relative to the column scale */
} cs_glm_control;

typedef struct {
    double deviance;
    int iterations;
    int converged;    /* 0 when the iteration cap was reached */
    int boundary;     /* 1 when step halving could not recover a finite deviance */
    int separated;    /* binomial: some fitted probabilities are numerically 0 or 1 */
    int rank;
} cs_glm_info;

/* x: n-by-p column-major design; y: response (binomial: proportions in [0, 1]); weights and
 * offset may be NULL (all 1, all 0). Outputs: beta (p; aliased entries 0), aliased (p; 1 when
 * dropped), fitted (n; mean), cov_unscaled (p*p; inverse of X'WX at the solution with zero
 * rows/columns for aliased coefficients; may be NULL). Rows with zero weight do not enter the
 * fit but get fitted values. */
cs_status cs_glm_irls(int n, int p, const double *x, const double *y, const double *weights,
                      const double *offset, cs_glm_family family, const cs_glm_control *control,
                      cs_interrupt_fn interrupt, double *beta, int *aliased, double *fitted,
                      double *cov_unscaled, cs_glm_info *info);

#endif
