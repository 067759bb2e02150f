/* Dense feed-forward networks on mini-batches through small matrix-product kernels (BLAS dgemm
 * for wider layers), and the Adam(W) optimiser.
 *
 * Layout: a batch of B examples of width w is a w x B column-major matrix (one example per
 * column, contiguous). All parameters of a network live in one flat array, layer by layer:
 * W_l (sizes[l] x sizes[l+1], column-major) then b_l (sizes[l+1]). Gradients use the same
 * layout, so the optimiser and R see a network as one numeric vector. */
#ifndef CS_NN_H
#define CS_NN_H

#include <stddef.h>
#include "rng.h"
#include "status.h"

#define CS_MLP_MAX_LAYERS 16
/* Bounds checked before any size is computed: a layer at most 65536 wide, a network at most
 * 2^26 parameters, so every offset and product stays well inside an int and an allocation. */
#define CS_MLP_MAX_WIDTH 65536
#define CS_MLP_MAX_PARAMS (1 << 26)

typedef enum {
    CS_ACT_IDENTITY = 0,
    CS_ACT_RELU = 1,
    CS_ACT_LEAKY_RELU = 2,
    CS_ACT_TANH = 3,
    CS_ACT_SIGMOID = 4,
    CS_ACT_SOFTPLUS = 5
} cs_activation;

typedef struct {
    int n_layers;                          /* number of dense layers */
    int sizes[CS_MLP_MAX_LAYERS + 1];      /* input width, hidden widths..., output width */
    cs_activation act[CS_MLP_MAX_LAYERS];  /* activation after each layer */
    double leaky_slope;                    /* slope of leaky ReLU for negative inputs */
    int n_params;
    double *params;                        /* borrowed, n_params long */
} cs_mlp;

/* Per-network scratch for forward/backward on batches of at most max_batch examples. */
typedef struct {
    int max_batch;
    double *pre[CS_MLP_MAX_LAYERS];        /* pre-activations of layer l: sizes[l+1] x B
                                              (the same buffer as post[l] for identity layers) */
    double *post[CS_MLP_MAX_LAYERS];       /* outputs of layer l after activation */
    double *delta_a, *delta_b;             /* backward scratch, max width x B each */
    double *w_t;                           /* a transposed weight matrix (largest layer), so
                                              the forward product runs in its N,N form */
} cs_mlp_work;

typedef struct {
    double lr, beta1, beta2, eps, weight_decay; /* weight_decay is decoupled (AdamW) */
    long step;
    int n;
    double *m, *v;                         /* owned */
} cs_adam;

double cs_activate(cs_activation act, double x, double leaky_slope);

int cs_mlp_count_params(int n_layers, const int *sizes);
/* Fills the description; params is borrowed and must hold cs_mlp_count_params() values. */
cs_status cs_mlp_setup(cs_mlp *net, int n_layers, const int *sizes, const cs_activation *act,
                       double leaky_slope, double *params);
/* He (ReLU family) or Glorot (others) uniform initialisation; biases zero. */
void cs_mlp_init_params(cs_mlp *net, cs_rng *rng);
/* Makes output heads head[0..n_heads-1] of an initialised network with (leaky) ReLU hidden
 * layers equal to the linear functions coef[h * (sizes[0] + 1) + ...] (intercept, then one
 * coefficient per input) of its input: hidden units 2h and 2h + 1 of every hidden layer carry
 * +u and -u for u = the h-th linear predictor (relu(u) - relu(-u) = u, (1 + slope) u for a
 * leaky ReLU), the linear heads read only those pairs and the other heads do not read them.
 * With `split` (a net of two halves side by side, see causalmix_train.h) a head among the
 * second half of the outputs takes its pair from the second half of every hidden layer, the
 * pairs of each half counted from its first unit (at most 16 heads).
 * The rest of the network keeps its weights, so it can learn what the linear part misses.
 * CS_ERR_ARGUMENT (network unchanged) without hidden layers, with another activation or with a
 * hidden layer narrower than 2 n_heads. */
cs_status cs_mlp_linear_start(cs_mlp *net, int n_heads, const int *head, const double *coef,
                              int split);
/* Makes output head `head` the constant `value`: its output weights 0, its bias value. */
void cs_mlp_constant_head(cs_mlp *net, int head, double value);

cs_status cs_mlp_work_alloc(cs_mlp_work *work, const cs_mlp *net, int max_batch);
void cs_mlp_work_free(cs_mlp_work *work);

/* x: sizes[0] x batch. Returns a pointer to the output (sizes[n_layers] x batch) inside work,
 * or NULL when batch is not in 1..work->max_batch. */
const double *cs_mlp_forward(const cs_mlp *net, cs_mlp_work *work, const double *x, int batch);
/* The same with the weights transposed beforehand by cs_mlp_transpose into w_t
 * (cs_mlp_weight_count(net) doubles), so that workers sharing a network share one transposition
 * per update of its parameters. */
size_t cs_mlp_weight_count(const cs_mlp *net);
void cs_mlp_transpose(const cs_mlp *net, double *w_t);
const double *cs_mlp_forward_transposed(const cs_mlp *net, const double *w_t, cs_mlp_work *work,
                                        const double *x, int batch);
/* After cs_mlp_forward on the same x: d_out is dLoss/dOutput (sizes[n_layers] x batch).
 * Adds dLoss/dParams into grad (n_params). If d_x is not NULL, writes dLoss/dx (sizes[0] x batch). */
void cs_mlp_backward(const cs_mlp *net, cs_mlp_work *work, const double *x, int batch,
                     const double *d_out, double *grad, double *d_x);

/* Single-example forward without BLAS, safe inside OpenMP loops. scratch holds
 * 2 * max(sizes) doubles; the output (sizes[n_layers]) is written to out. */
void cs_mlp_forward_one(const cs_mlp *net, const double *x, double *out, double *scratch);

/* Single-example forward and backward without BLAS, safe inside OpenMP loops (e.g. per-unit
 * gradients with respect to the input for MALA). scratch holds cs_mlp_one_scratch(net) doubles
 * per thread. cs_mlp_forward_keep_one writes the output to out and keeps the activations in
 * scratch; cs_mlp_backward_one then takes d_out = dLoss/dOutput and adds dLoss/dParams into
 * grad (unless NULL) and writes dLoss/dx into d_x (unless NULL). */
int cs_mlp_one_scratch(const cs_mlp *net);
void cs_mlp_forward_keep_one(const cs_mlp *net, const double *x, double *out, double *scratch);
void cs_mlp_backward_one(const cs_mlp *net, const double *x, double *scratch, const double *d_out,
                         double *grad, double *d_x);

cs_status cs_adam_alloc(cs_adam *opt, int n, double lr, double beta1, double beta2, double eps,
                        double weight_decay);
void cs_adam_free(cs_adam *opt);
void cs_adam_step(cs_adam *opt, double *params, const double *grad);

/* Mean loss over len outputs times scale, and d_out = its gradient with respect to out.
 * kind 0: squared error; kind 1: logistic loss with the output read as a logit, y in [0, 1]. */
double cs_mlp_loss_gradient(int kind, const double *out, const double *y, size_t len,
                            double scale, double *d_out);

/* Example by example on `threads` threads (single-example kernels, no BLAS): outputs y
 * (sizes[L] x batch) of x (sizes[0] x batch). */
cs_status cs_mlp_forward_each(const cs_mlp *net, const double *x, int batch, int threads,
                              double *y);
/* The loss of cs_mlp_loss_gradient (scale 1 / (sizes[L] x batch)) example by example on
 * `threads` threads, its gradient with respect to the parameters (summed per thread, then
 * over threads in thread order) and to the inputs (sizes[0] x batch). */
cs_status cs_mlp_loss_each(const cs_mlp *net, int kind, const double *x, const double *y,
                           int batch, int threads, double *loss, double *grad,
                           double *grad_x);

/* n_steps AdamW steps (adam = lr, beta1, beta2, eps, weight_decay) of the mean squared error
 * on mini-batches of batch examples of (x, y) (sizes[0] x n and sizes[L] x n, one example per
 * column), reshuffled from stream (seed, epoch) whenever a pass runs out. Updates net->params
 * in place; losses[step] receives each step's batch loss. */
cs_status cs_mlp_train(cs_mlp *net, const double *x, const double *y, int n, int n_steps,
                       int batch, const double adam[5], uint64_t seed, double *losses,
                       cs_interrupt_fn interrupt);

#endif
