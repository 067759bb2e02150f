/* Bayesian dense networks: mean-field Gaussian weights q(w) = N(mu, softplus(rho)^2) with a
 * N(0, 1) prior, point-estimated biases, leaky ReLU between layers and an identity output.
 * Training uses the local reparameterisation trick: each pre-activation of each example is
 * drawn from its exact Gaussian given the layer input, a = x'mu + b + sqrt((x^2)'sigma^2) eps.
 *
 * A network with bayes = 0 has point weights only (used for the encoder).
 * Parameter layout (one flat array): for each layer W_mu (in x out, column-major), then
 * W_rho (same size, only when bayes = 1), then b (out). Batches are width x B column-major
 * matrices with one example per column, as in nn.h. */
#ifndef CS_BNN_H
#define CS_BNN_H

#include "rng.h"
#include "status.h"

#define BNN_MAX_LAYERS 12
/* Bounds checked before any size is computed, so every offset and product stays well inside
 * an int and an allocation: a layer at most 65536 wide, a network at most 2^26 parameters. */
#define BNN_MAX_WIDTH 65536
#define BNN_MAX_PARAMS (1 << 26)

typedef struct {
    int n_layers;
    int sizes[BNN_MAX_LAYERS + 1];
    int bayes;
    double leaky_slope;
    int n_params;
    int w_off[BNN_MAX_LAYERS], rho_off[BNN_MAX_LAYERS], b_off[BNN_MAX_LAYERS];
    int max_width;
    int n_weights;        /* number of weights (not biases) */
    int n_units;          /* sum of sizes[1..n_layers] */
    double *params;       /* borrowed */
    const double *var;    /* optional cache of softplus(rho)^2 per weight (bnn_cache_var) */
} bnn_net;

typedef struct {
    int max_batch;
    double *xsq[BNN_MAX_LAYERS];   /* squared layer inputs, in x B */
    double *pre[BNN_MAX_LAYERS];   /* sampled pre-activations, out x B */
    double *sd[BNN_MAX_LAYERS];    /* sqrt of the pre-activation variance, out x B */
    double *eps[BNN_MAX_LAYERS];   /* standard normal noise, out x B */
    double *post[BNN_MAX_LAYERS];  /* activations, out x B */
    double *s2[BNN_MAX_LAYERS];    /* weight variances, in x out */
    double *ds2[BNN_MAX_LAYERS];   /* d(variance)/d(rho) of each weight, in x out */
    double *d_a, *d_b, *tmp;       /* max_width x B each */
    double *g_s2;                  /* max in x out */
    double *w_t;                   /* a layer's weights (or variances) transposed, max in x out */
    int sampled;                   /* the last forward drew noise */
} bnn_work;

/* Number of parameters, or -1 when a width lies outside 1..BNN_MAX_WIDTH or the count
 * exceeds BNN_MAX_PARAMS. */
int bnn_count_params(int n_layers, const int *sizes, int bayes);
cs_status bnn_setup(bnn_net *net, int n_layers, const int *sizes, int bayes, double leaky_slope,
                    double *params);
/* He-scaled normal means, weight sd `sd0`, zero biases. */
void bnn_init_params(bnn_net *net, cs_rng *rng, double sd0);

cs_status bnn_work_alloc(bnn_work *work, const bnn_net *net, int max_batch);
void bnn_work_free(bnn_work *work);

/* Batch forward. rng != NULL and bayes: sampled weights (local reparameterisation);
 * otherwise the mean weights. Returns the output (sizes[n_layers] x B) inside work. */
const double *bnn_forward(const bnn_net *net, bnn_work *work, const double *x, int batch,
                          cs_rng *rng);
/* After bnn_forward on the same x: adds dLoss/dparams to grad, writes dLoss/dx when d_x != NULL.
 * d_out is overwritten. */
void bnn_backward(const bnn_net *net, bnn_work *work, const double *x, int batch, double *d_out,
                  double *grad, double *d_x);
/* KL(q || N(0, 1)) over the weights; adds weight * dKL/dparams to grad when grad != NULL. */
double bnn_kl(const bnn_net *net, double *grad, double weight);

/* Adds weight * dKL/dparams to grad using the weight variances of the last sampled
 * bnn_forward (same result as bnn_kl's gradient, without recomputing them). */
void bnn_kl_grad(const bnn_net *net, const bnn_work *work, double *grad, double weight);

/* Replaces the weight means by one draw from q(w) with its sd multiplied by sd_scale (rho
 * untouched): a posterior draw of the
 * network for use with bnn_forward_one(eps = NULL). */
void bnn_sample_weights(bnn_net *net, cs_rng *rng, double sd_scale);

/* Fills var (n_weights) with softplus(rho)^2 and points net->var at it. */
void bnn_cache_var(bnn_net *net, double *var);
/* Single example, no BLAS, thread safe. act holds 2 * n_units doubles (pre- and
 * post-activations, reused by bnn_backward_one). eps: NULL for the mean weights, or n_units
 * standard normals for a local-reparameterisation draw (needs net->var). */
void bnn_forward_one(const bnn_net *net, const double *x, double *out, double *act,
                     const double *eps);
/* dLoss/dx for one example after bnn_forward_one with eps = NULL. tmp: 2 * max_width. */
void bnn_backward_one(const bnn_net *net, const double *x, const double *act,
                      const double *d_out, double *d_x, double *tmp);

#endif
