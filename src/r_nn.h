/* .Call entry points for small multilayer perceptrons: initialisation, forward pass, loss with
 * gradients (for finite-difference checks) and Adam training (for the benchmark). */
#ifndef CS_R_NN_H
#define CS_R_NN_H

#include <Rinternals.h>

SEXP nn_init(SEXP seed, SEXP sizes, SEXP activations, SEXP leaky_slope);
SEXP nn_forward(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x,
                SEXP per_example, SEXP threads);
SEXP nn_loss(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x, SEXP y,
             SEXP loss);
SEXP nn_loss_each(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x, SEXP y,
                  SEXP loss, SEXP threads);
SEXP nn_train(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x, SEXP y,
              SEXP steps, SEXP batch_size, SEXP adam, SEXP seed);

#endif
