/* A small neural-network classifier (one hidden ReLU layer, logistic output, binary
 * cross-entropy, AdamW on mini-batches) with cross-validated predictions: the nonlinear
 * classifier of the C2ST fidelity score. Built on the dense networks of nn.h. */
#ifndef CS_CLASSIFIER_H
#define CS_CLASSIFIER_H

#include <stdint.h>
#include "fields.h"
#include "status.h"

/* hidden: width of the hidden layer; max_epochs: upper bound on passes over the training rows;
 * patience: stop after this many epochs without a better validation loss; batch: mini-batch
 * size; lr: Adam learning rate; weight_decay: decoupled weight decay; valid_share: share of each
 * fold's training rows kept for early stopping. */
#define CS_CLASSIFIER_OPTIONS_FIELDS(INT, DOUBLE)                                            \
    INT(hidden) INT(max_epochs) INT(patience) INT(batch) DOUBLE(lr) DOUBLE(weight_decay)      \
    DOUBLE(valid_share)
typedef struct {
    CS_DECLARE_FIELDS(CS_CLASSIFIER_OPTIONS_FIELDS)
} cs_classifier_options;

/* Out-of-fold predicted probabilities.
 * x: d x n (one example per column, inputs already on a common scale); y: n labels 0/1;
 * fold: n fold numbers in 0..k-1 (every fold non-empty and with both labels outside it).
 * For each fold f a network is trained on the rows outside f (a share valid_share of them,
 * chosen at random, only monitors the loss for early stopping; the parameters of the best
 * epoch are kept) and prob[i] is its prediction for each row i of f.
 * Randomness (initial weights, shuffling) comes from streams keyed by (seed, fold), folds run
 * in parallel, so the result does not depend on the thread count. */
cs_status cs_classifier_cv(const double *x, const double *y, const int *fold, int n, int d,
                           int k, const cs_classifier_options *opt, uint64_t seed, int threads,
                           cs_interrupt_fn interrupt, double *prob);

#endif
