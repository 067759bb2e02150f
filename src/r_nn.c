/* Glue for the MLP entry points. Networks arrive as (params, sizes, activations, leaky_slope):
 * sizes is the integer vector of widths (input first), activations one integer code per layer
 * (see cs_activation), params the flat vector laid out as in nn.h. Batches are column-major
 * matrices with one example per column (sizes[0] x B in, sizes[L] x B out). */
#include "r_entry_points.h"
#include "r_util.h"
#include "nn.h"
#include "rng.h"
#include "threads.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


static void read_network(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope,
                         cs_mlp *net, int need_params)
{
    if (!isInteger(sizes) || XLENGTH(sizes) < 2 || XLENGTH(sizes) > CS_MLP_MAX_LAYERS + 1)
        error("`sizes` must be an integer vector of length 2 to %d", CS_MLP_MAX_LAYERS + 1);
    int n_layers = (int) XLENGTH(sizes) - 1;
    const int *s = INTEGER(sizes);
    for (int l = 0; l <= n_layers; l++)
        if (s[l] == NA_INTEGER || s[l] < 1) error("`sizes` must be positive whole numbers");
    if (!isInteger(activations) || XLENGTH(activations) != n_layers)
        error("`activations` must be an integer vector with one code per layer (%d)", n_layers);
    cs_activation act[CS_MLP_MAX_LAYERS];
    for (int l = 0; l < n_layers; l++) {
        int a = INTEGER(activations)[l];
        if (a == NA_INTEGER || a < CS_ACT_IDENTITY || a > CS_ACT_SOFTPLUS)
            error("`activations` codes must lie in 0..5");
        act[l] = (cs_activation) a;
    }
    double slope = r_double(leaky_slope, "leaky_slope");
    if (cs_mlp_count_params(n_layers, s) < 0) error("`sizes` describe too many parameters");
    double *p = NULL;
    if (need_params) {
        if (!isReal(params) || XLENGTH(params) != cs_mlp_count_params(n_layers, s))
            error("`params` must be a double vector of length %d", cs_mlp_count_params(n_layers, s));
        p = REAL(params);
    }
    r_stop_on_status(cs_mlp_setup(net, n_layers, s, act, slope, p), "network setup");
}

static int read_batch(SEXP x, int width, const char *name)
{
    if (!isReal(x)) error("`%s` must be a double matrix", name);
    SEXP dim = getAttrib(x, R_DimSymbol);
    if (isNull(dim) || XLENGTH(dim) != 2 || INTEGER(dim)[0] != width || INTEGER(dim)[1] < 1)
        error("`%s` must be a matrix with %d rows (one column per example)", name, width);
    return INTEGER(dim)[1];
}

SEXP nn_init(SEXP seed, SEXP sizes, SEXP activations, SEXP leaky_slope)
{
    cs_mlp net;
    read_network(R_NilValue, sizes, activations, leaky_slope, &net, 0);
    SEXP out = PROTECT(allocVector(REALSXP, net.n_params));
    net.params = REAL(out);
    cs_rng rng;
    cs_rng_init(&rng, r_seed(seed), 0);
    cs_mlp_init_params(&net, &rng);
    UNPROTECT(1);
    return out;
}

SEXP nn_forward(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x,
                SEXP per_example, SEXP threads)
{
    cs_mlp net;
    read_network(params, sizes, activations, leaky_slope, &net, 1);
    int batch = read_batch(x, net.sizes[0], "x");
    int n_out = net.sizes[net.n_layers];
    int one_by_one = r_int(per_example, "per_example");
    int n_threads = cs_threads(r_int(threads, "threads"));
    SEXP out = PROTECT(allocMatrix(REALSXP, n_out, batch));
    const double *xx = REAL(x);
    double *yy = REAL(out);
    if (one_by_one) {
        r_stop_on_status(cs_mlp_forward_each(&net, xx, batch, n_threads, yy),
                         "network forward pass");
    } else {
        cs_mlp_work work;
        r_stop_on_status(cs_mlp_work_alloc(&work, &net, batch), "network forward pass");
        const double *res = cs_mlp_forward(&net, &work, xx, batch);
        memcpy(yy, res, (size_t) n_out * batch * sizeof(double));
        cs_mlp_work_free(&work);
    }
    UNPROTECT(1);
    return out;
}

static double loss_and_gradient(int kind, const double *out, const double *y, size_t len,
                                double *d_out)
{
    return cs_mlp_loss_gradient(kind, out, y, len, 1.0 / (double) len, d_out);
}

/* x and y: one example per column, as many of each; returns the number of examples. */
static int read_examples(SEXP x, SEXP y, const cs_mlp *net)
{
    int n = read_batch(x, net->sizes[0], "x");
    if (read_batch(y, net->sizes[net->n_layers], "y") != n)
        error("`y` must have as many columns as `x`");
    return n;
}

static int read_loss_kind(SEXP loss)
{
    int kind = r_int(loss, "loss");
    if (kind != 0 && kind != 1) error("`loss` must be 0 (squared error) or 1 (logistic)");
    return kind;
}

/* list(loss, grad, grad_x): what nn_loss and nn_loss_each return. */
static SEXP loss_result(double value, SEXP grad, SEXP grad_x)
{
    const char *names[] = { "loss", "grad", "grad_x", "" };
    SEXP result = PROTECT(mkNamed(VECSXP, names));
    SET_VECTOR_ELT(result, 0, ScalarReal(value));
    SET_VECTOR_ELT(result, 1, grad);
    SET_VECTOR_ELT(result, 2, grad_x);
    UNPROTECT(1);
    return result;
}

SEXP nn_loss(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x, SEXP y,
             SEXP loss)
{
    cs_mlp net;
    read_network(params, sizes, activations, leaky_slope, &net, 1);
    int batch = read_examples(x, y, &net);
    int n_out = net.sizes[net.n_layers];
    int kind = read_loss_kind(loss);

    size_t len = (size_t) n_out * batch;
    double *d_out = (double *) R_alloc(len, sizeof(double));
    SEXP grad = PROTECT(allocVector(REALSXP, net.n_params));
    SEXP grad_x = PROTECT(allocMatrix(REALSXP, net.sizes[0], batch));
    memset(REAL(grad), 0, (size_t) net.n_params * sizeof(double));

    cs_mlp_work work;
    r_stop_on_status(cs_mlp_work_alloc(&work, &net, batch), "network loss");
    const double *out = cs_mlp_forward(&net, &work, REAL(x), batch);
    double value = loss_and_gradient(kind, out, REAL(y), len, d_out);
    cs_mlp_backward(&net, &work, REAL(x), batch, d_out, REAL(grad), REAL(grad_x));
    cs_mlp_work_free(&work);

    SEXP result = loss_result(value, grad, grad_x);
    UNPROTECT(2);
    return result;
}

/* The same as nn_loss through the BLAS-free single-example path, in parallel over examples:
 * checks cs_mlp_forward_keep_one / cs_mlp_backward_one and their thread safety. Parameter
 * gradients are summed per thread, then over threads in thread order. */
SEXP nn_loss_each(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x, SEXP y,
                  SEXP loss, SEXP threads)
{
    cs_mlp net;
    read_network(params, sizes, activations, leaky_slope, &net, 1);
    int batch = read_examples(x, y, &net);
    int kind = read_loss_kind(loss);
    int n_threads = cs_threads(r_int(threads, "threads"));

    SEXP grad = PROTECT(allocVector(REALSXP, net.n_params));
    SEXP grad_x = PROTECT(allocMatrix(REALSXP, net.sizes[0], batch));
    double value;
    r_stop_on_status(cs_mlp_loss_each(&net, kind, REAL(x), REAL(y), batch, n_threads, &value,
                                      REAL(grad), REAL(grad_x)), "network loss");
    SEXP result = loss_result(value, grad, grad_x);
    UNPROTECT(2);
    return result;
}

SEXP nn_train(SEXP params, SEXP sizes, SEXP activations, SEXP leaky_slope, SEXP x, SEXP y,
              SEXP steps, SEXP batch_size, SEXP adam, SEXP seed)
{
    cs_mlp net;
    read_network(params, sizes, activations, leaky_slope, &net, 1);
    int n = read_examples(x, y, &net);
    int n_steps = r_int(steps, "steps");
    if (n_steps < 0) error("`steps` must be non-negative");
    int batch = r_int(batch_size, "batch_size");
    if (batch < 1) error("`batch_size` must be positive");
    if (batch > n) batch = n;
    if (!isReal(adam) || XLENGTH(adam) != 5)
        error("`adam` must be c(lr, beta1, beta2, eps, weight_decay)");
    const double *a = REAL(adam);
    uint64_t key = r_seed(seed);

    const char *result_names[] = { "params", "loss", "" };
    SEXP result = PROTECT(mkNamed(VECSXP, result_names));
    SEXP new_params = PROTECT(duplicate(params));
    SEXP losses = PROTECT(allocVector(REALSXP, n_steps));
    net.params = REAL(new_params);

    cs_status status = cs_mlp_train(&net, REAL(x), REAL(y), n, n_steps, batch, a, key,
                                    REAL(losses), r_interrupt_pending);
    r_stop_on_status(status, "network training");

    SET_VECTOR_ELT(result, 0, new_params);
    SET_VECTOR_ELT(result, 1, losses);
    UNPROTECT(3);
    return result;
}
