/* Dense feed-forward networks on column-major mini-batches (one example per column) through
 * the small-product kernels of small_gemm.h (BLAS dgemm for wider layers), their gradients,
 * and AdamW. Hot loops switch on the activation once per layer,
 * never per element, and add the bias in the same pass as the activation. */

#include "nn.h"
#include "links.h"
#include "poll.h"
#include "simd.h"
#include "small_gemm.h"
#include "vecmath.h"
#include "threads.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__GNUC__) && defined(__x86_64__) && !defined(CS_NO_AVX2)
#define CS_ADAM_AVX2 1
#include <immintrin.h>
#endif

double cs_activate(cs_activation act, double x, double leaky_slope)
{
    switch (act) {
    case CS_ACT_IDENTITY: return x;
    case CS_ACT_RELU: return x > 0.0 ? x : 0.0;
    case CS_ACT_LEAKY_RELU: return x > 0.0 ? x : leaky_slope * x;
    case CS_ACT_TANH: return tanh(x);
    case CS_ACT_SIGMOID: return cs_sigmoid(x);
    case CS_ACT_SOFTPLUS: return cs_softplus(x);
    }
    return x;
}

int cs_mlp_count_params(int n_layers, const int *sizes)
{
    /* int64_t, not long: long is 32 bits on Windows */
    int64_t total = 0;
    for (int l = 0; l < n_layers; l++) {
        if (sizes[l] < 1 || sizes[l + 1] < 1 || sizes[l] > CS_MLP_MAX_WIDTH ||
            sizes[l + 1] > CS_MLP_MAX_WIDTH)
            return -1;
        total += (int64_t) sizes[l] * sizes[l + 1] + sizes[l + 1];
        if (total > CS_MLP_MAX_PARAMS) return -1;
    }
    return (int) total;
}

cs_status cs_mlp_setup(cs_mlp *net, int n_layers, const int *sizes, const cs_activation *act,
                       double leaky_slope, double *params)
{
    if (n_layers < 1 || n_layers > CS_MLP_MAX_LAYERS) return CS_ERR_ARGUMENT;
    for (int l = 0; l <= n_layers; l++)
        if (sizes[l] < 1) return CS_ERR_ARGUMENT;
    for (int l = 0; l < n_layers; l++)
        if ((int) act[l] < CS_ACT_IDENTITY || (int) act[l] > CS_ACT_SOFTPLUS) return CS_ERR_ARGUMENT;
    if (!isfinite(leaky_slope)) return CS_ERR_ARGUMENT;
    int n_params = cs_mlp_count_params(n_layers, sizes);
    if (n_params < 0) return CS_ERR_ARGUMENT;
    memset(net, 0, sizeof(*net));
    net->n_layers = n_layers;
    for (int l = 0; l <= n_layers; l++) net->sizes[l] = sizes[l];
    for (int l = 0; l < n_layers; l++) net->act[l] = act[l];
    net->leaky_slope = leaky_slope;
    net->n_params = n_params;
    net->params = params;
    return CS_OK;
}

void cs_mlp_init_params(cs_mlp *net, cs_rng *rng)
{
    double *p = net->params;
    for (int l = 0; l < net->n_layers; l++) {
        int n_in = net->sizes[l], n_out = net->sizes[l + 1];
        double limit;
        if (net->act[l] == CS_ACT_RELU)
            limit = sqrt(6.0 / n_in);
        else if (net->act[l] == CS_ACT_LEAKY_RELU)
            limit = sqrt(6.0 / ((1.0 + net->leaky_slope * net->leaky_slope) * n_in));
        else
            limit = sqrt(6.0 / (n_in + n_out));
        size_t n_w = (size_t) n_in * n_out;
        for (size_t i = 0; i < n_w; i++) p[i] = limit * (2.0 * cs_rng_unif(rng) - 1.0);
        p += n_w;
        for (int i = 0; i < n_out; i++) p[i] = 0.0;
        p += n_out;
    }
}

cs_status cs_mlp_linear_start(cs_mlp *net, int n_heads, const int *head, const double *coef,
                              int split)
{
    int last = net->n_layers - 1, n_out_last = net->sizes[net->n_layers];
    if (last < 1) return CS_ERR_ARGUMENT;
    /* head h's pair in a layer of width `width`: units 2 rank .. 2 rank + 1 of its half (split)
     * or of the layer */
    enum { MAX_LINEAR_HEADS = 16 };
    int half[MAX_LINEAR_HEADS], rank[MAX_LINEAR_HEADS], count[2] = { 0, 0 };
    if (n_heads > MAX_LINEAR_HEADS) return CS_ERR_ARGUMENT;
    for (int h = 0; h < n_heads; h++) {
        if (head[h] < 0 || head[h] >= n_out_last) return CS_ERR_ARGUMENT;
        half[h] = split ? head[h] >= n_out_last / 2 : 0;
        rank[h] = count[half[h]]++;
    }
    int pairs = split ? (count[0] > count[1] ? count[0] : count[1]) : n_heads;
    for (int l = 0; l < last; l++)
        if ((net->act[l] != CS_ACT_RELU && net->act[l] != CS_ACT_LEAKY_RELU) ||
            (split ? net->sizes[l + 1] / 2 : net->sizes[l + 1]) < 2 * pairs)
            return CS_ERR_ARGUMENT;
#define PAIR(h, width) ((split && half[h] ? (width) / 2 : 0) + 2 * rank[h])
    double *p = net->params;
    for (int l = 0; l <= last; l++) {
        int n_in = net->sizes[l], n_out = net->sizes[l + 1];
        double *w = p, *b = p + (size_t) n_in * n_out;
        /* what a pair of the previous layer passes on: (relu(u) - relu(-u)) c = u */
        double c = l == 0 ? 1.0 :
                   1.0 / (1.0 + (net->act[l - 1] == CS_ACT_LEAKY_RELU ? net->leaky_slope : 0.0));
        if (l < last) {
            for (int h = 0; h < n_heads; h++)
                for (int sign = 0; sign < 2; sign++) {
                    int o = PAIR(h, n_out) + sign;
                    double s = sign ? -1.0 : 1.0, *col = w + (size_t) n_in * o;
                    for (int i = 0; i < n_in; i++) col[i] = 0.0;
                    if (l == 0) {
                        for (int i = 0; i < n_in; i++) col[i] = s * coef[(size_t) h * (n_in + 1) + 1 + i];
                        b[o] = s * coef[(size_t) h * (n_in + 1)];
                    } else {
                        col[PAIR(h, n_in)] = s * c;
                        col[PAIR(h, n_in) + 1] = -s * c;
                        b[o] = 0.0;
                    }
                }
        } else {
            for (int o = 0; o < n_out; o++) {
                double *col = w + (size_t) n_in * o;
                int linear = -1;
                for (int h = 0; h < n_heads; h++)
                    if (head[h] == o) linear = h;
                if (linear >= 0) {
                    for (int i = 0; i < n_in; i++) col[i] = 0.0;
                    col[PAIR(linear, n_in)] = c;
                    col[PAIR(linear, n_in) + 1] = -c;
                    b[o] = 0.0;
                } else {
                    for (int h = 0; h < n_heads; h++)
                        col[PAIR(h, n_in)] = col[PAIR(h, n_in) + 1] = 0.0;
                }
            }
        }
        p += (size_t) n_in * n_out + n_out;
    }
#undef PAIR
    return CS_OK;
}

void cs_mlp_constant_head(cs_mlp *net, int head, double value)
{
    int last = net->n_layers - 1, n_in = net->sizes[last], n_out = net->sizes[last + 1];
    double *w = net->params + cs_mlp_count_params(last, net->sizes);
    for (int i = 0; i < n_in; i++) w[(size_t) n_in * head + i] = 0.0;
    w[(size_t) n_in * n_out + head] = value;
}

void cs_mlp_work_free(cs_mlp_work *work)
{
    for (int l = 0; l < CS_MLP_MAX_LAYERS; l++) {
        if (work->pre[l] != work->post[l]) free(work->pre[l]);
        free(work->post[l]);
        work->pre[l] = work->post[l] = NULL;
    }
    free(work->delta_a);
    free(work->delta_b);
    free(work->w_t);
    work->delta_a = work->delta_b = work->w_t = NULL;
    work->max_batch = 0;
}

cs_status cs_mlp_work_alloc(cs_mlp_work *work, const cs_mlp *net, int max_batch)
{
    memset(work, 0, sizeof(*work));
    if (max_batch < 1) return CS_ERR_ARGUMENT;
    work->max_batch = max_batch;
    int max_width = 0;
    for (int l = 0; l <= net->n_layers; l++)
        if (net->sizes[l] > max_width) max_width = net->sizes[l];
    for (int l = 0; l < net->n_layers; l++) {
        size_t len = (size_t) net->sizes[l + 1] * max_batch;
        work->post[l] = malloc(len * sizeof(double));
        /* an identity layer's pre-activation is its output: share the buffer */
        work->pre[l] = net->act[l] == CS_ACT_IDENTITY ? work->post[l] : malloc(len * sizeof(double));
        if (!work->post[l] || !work->pre[l]) {
            cs_mlp_work_free(work);
            return CS_ERR_NOMEM;
        }
    }
    size_t len = (size_t) max_width * max_batch;
    size_t max_weights = 0;
    for (int l = 0; l < net->n_layers; l++) {
        size_t n_w = (size_t) net->sizes[l] * net->sizes[l + 1];
        if (n_w > max_weights) max_weights = n_w;
    }
    work->delta_a = malloc(len * sizeof(double));
    work->delta_b = malloc(len * sizeof(double));
    work->w_t = malloc(max_weights * sizeof(double));
    if (!work->delta_a || !work->delta_b || !work->w_t) {
        cs_mlp_work_free(work);
        return CS_ERR_NOMEM;
    }
    return CS_OK;
}

/* One loop of bias_activate(): z = pre + bias and a = ACT(v) of the biased value v, row by
 * row. A macro, so that each activation keeps its own inner loop (no call or branch per
 * element; the simd ones vectorise). */
#define BIAS_ACT_LOOP(SIMD, ACT)                                                  \
    for (int j = 0; j < batch; j++) {                                             \
        double *z = pre + j * stride, *a = post + j * stride;                     \
        SIMD                                                                      \
        for (int i = 0; i < n_out; i++) {                                         \
            double v = z[i] + bias[i];                                            \
            z[i] = v;                                                             \
            a[i] = ACT;                                                           \
        }                                                                         \
    }
#define CS_NO_SIMD

/* pre = pre + bias (per row), post = act(pre), over an n_out x batch block. */
CS_AVX2_CLONES
static void bias_activate(cs_activation act, double slope, const double *bias, double *pre,
                          double *post, int n_out, int batch)
{
    size_t stride = (size_t) n_out;
    switch (act) {
    case CS_ACT_IDENTITY:
        for (int j = 0; j < batch; j++) {
            double *z = pre + j * stride;
            CS_SIMD
            for (int i = 0; i < n_out; i++) z[i] += bias[i];
        }
        break;
    case CS_ACT_RELU:
        BIAS_ACT_LOOP(CS_SIMD, v > 0.0 ? v : 0.0)
        break;
    case CS_ACT_LEAKY_RELU:
        /* two selects instead of a branch, so the loop vectorises; exact either way */
        BIAS_ACT_LOOP(CS_SIMD, (v > 0.0 ? v : 0.0) + slope * (v < 0.0 ? v : 0.0))
        break;
    case CS_ACT_TANH:
        BIAS_ACT_LOOP(CS_NO_SIMD, tanh(v))
        break;
    case CS_ACT_SIGMOID:
        BIAS_ACT_LOOP(CS_NO_SIMD, cs_sigmoid(v))
        break;
    case CS_ACT_SOFTPLUS:
        BIAS_ACT_LOOP(CS_NO_SIMD, cs_softplus(v))
        break;
    }
}
#undef BIAS_ACT_LOOP
#undef CS_NO_SIMD

size_t cs_mlp_weight_count(const cs_mlp *net)
{
    size_t total = 0;
    for (int l = 0; l < net->n_layers; l++) total += (size_t) net->sizes[l] * net->sizes[l + 1];
    return total;
}

void cs_mlp_transpose(const cs_mlp *net, double *w_t)
{
    const double *w = net->params;
    for (int l = 0; l < net->n_layers; l++) {
        int n_in = net->sizes[l], n_out = net->sizes[l + 1];
        cs_transpose(w, n_in, n_out, w_t);
        w_t += (size_t) n_in * n_out;
        w += (size_t) n_in * n_out + n_out;
    }
}

/* The forward pass, with every layer's weights transposed in w_t (cs_mlp_transpose), or, when
 * w_t is NULL, each transposed here in turn. */
static const double *forward(const cs_mlp *net, const double *w_t, cs_mlp_work *work,
                             const double *x, int batch)
{
    if (batch < 1 || batch > work->max_batch) return NULL;
    const double *in = x;
    const double *w = net->params;
    for (int l = 0; l < net->n_layers; l++) {
        int n_in = net->sizes[l], n_out = net->sizes[l + 1];
        const double *bias = w + (size_t) n_in * n_out, *layer_t = w_t;
        /* pre (n_out x B) = W' (n_out x n_in) * in (n_in x B); the explicit transpose costs
         * n_in n_out copies against 2 n_in n_out B flops, and the N,N product reads its first
         * operand's columns contiguously (also the BLAS's fastest form) */
        if (!w_t) {
            cs_transpose(w, n_in, n_out, work->w_t);
            layer_t = work->w_t;
        }
        cs_product(0, n_out, batch, n_in, layer_t, n_out, in, n_in, 0, work->pre[l], n_out);
        bias_activate(net->act[l], net->leaky_slope, bias, work->pre[l], work->post[l], n_out,
                      batch);
        in = work->post[l];
        w = bias + n_out;
        if (w_t) w_t += (size_t) n_in * n_out;
    }
    return work->post[net->n_layers - 1];
}

const double *cs_mlp_forward(const cs_mlp *net, cs_mlp_work *work, const double *x, int batch)
{
    return forward(net, NULL, work, x, batch);
}

const double *cs_mlp_forward_transposed(const cs_mlp *net, const double *w_t, cs_mlp_work *work,
                                        const double *x, int batch)
{
    return forward(net, w_t, work, x, batch);
}

/* d = d_post * act'(pre), written into out (which may alias d_post). */
CS_AVX2_CLONES
static void activation_backward(cs_activation act, double slope, const double *pre,
                                const double *post, const double *d_post, double *out, size_t len)
{
    switch (act) {
    case CS_ACT_IDENTITY:
        if (out != d_post) memcpy(out, d_post, len * sizeof(double));
        break;
    case CS_ACT_RELU:
        CS_SIMD
        for (size_t i = 0; i < len; i++) {
            double d = d_post[i]; /* loaded unconditionally so the select vectorises */
            out[i] = pre[i] > 0.0 ? d : 0.0;
        }
        break;
    case CS_ACT_LEAKY_RELU:
        CS_SIMD
        for (size_t i = 0; i < len; i++) {
            double gain = pre[i] > 0.0 ? 1.0 : slope;
            out[i] = gain * d_post[i];
        }
        break;
    case CS_ACT_TANH:
        CS_SIMD
        for (size_t i = 0; i < len; i++) out[i] = d_post[i] * (1.0 - post[i] * post[i]);
        break;
    case CS_ACT_SIGMOID:
        CS_SIMD
        for (size_t i = 0; i < len; i++) out[i] = d_post[i] * post[i] * (1.0 - post[i]);
        break;
    case CS_ACT_SOFTPLUS:
        for (size_t i = 0; i < len; i++) out[i] = d_post[i] * cs_sigmoid(pre[i]);
        break;
    }
}

/* g_b (n_out) += the sum of the columns of d (n_out x batch) */
CS_AVX2_CLONES
static void add_column_sums(const double *d, int n_out, int batch, double *g_b)
{
    for (int j = 0; j < batch; j++) {
        const double *col = d + (size_t) j * n_out;
        CS_SIMD
        for (int i = 0; i < n_out; i++) g_b[i] += col[i];
    }
}

void cs_mlp_backward(const cs_mlp *net, cs_mlp_work *work, const double *x, int batch,
                     const double *d_out, double *grad, double *d_x)
{
    int L = net->n_layers;

    /* offsets of each layer's weights in the flat parameter vector */
    size_t offset[CS_MLP_MAX_LAYERS];
    size_t pos = 0;
    for (int l = 0; l < L; l++) {
        offset[l] = pos;
        pos += (size_t) net->sizes[l] * net->sizes[l + 1] + net->sizes[l + 1];
    }

    const double *d_post = d_out;
    for (int l = L - 1; l >= 0; l--) {
        int n_in = net->sizes[l], n_out = net->sizes[l + 1];
        size_t len = (size_t) n_out * batch;
        const double *w = net->params + offset[l];
        double *g_w = grad + offset[l];
        double *g_b = g_w + (size_t) n_in * n_out;
        const double *in = l == 0 ? x : work->post[l - 1];

        /* gradient with respect to the pre-activation */
        const double *d_pre;
        if (net->act[l] == CS_ACT_IDENTITY) {
            d_pre = d_post;
        } else {
            double *dst = d_post == work->delta_a || d_post == work->delta_b
                ? (double *) d_post : work->delta_a;
            activation_backward(net->act[l], net->leaky_slope, work->pre[l], work->post[l],
                                d_post, dst, len);
            d_pre = dst;
        }

        /* dW (n_in x n_out) += in (n_in x B) * d_pre' (B x n_out) */
        cs_product(1, n_in, n_out, batch, in, n_in, d_pre, n_out, 1, g_w, n_in);
        add_column_sums(d_pre, n_out, batch, g_b);

        /* d_in (n_in x B) = W (n_in x n_out) * d_pre (n_out x B) */
        double *d_in;
        if (l > 0)
            d_in = d_pre == work->delta_a ? work->delta_b : work->delta_a;
        else if (d_x)
            d_in = d_x;
        else
            break;
        cs_product(0, n_in, batch, n_out, w, n_in, d_pre, n_out, 0, d_in, n_in);
        d_post = d_in;
    }
}

/* One example through a dense layer without BLAS: dst[j] = sum_i w[j n_in + i] in[i] (the
 * layer's weights column by column, bias not added). */
static inline void dense_one(const double *w, const double *in, int n_in, int n_out,
                             double *dst)
{
    for (int j = 0; j < n_out; j++) {
        const double *col = w + (size_t) j * n_in;
        double s = 0.0;
        for (int i = 0; i < n_in; i++) s += col[i] * in[i];
        dst[j] = s;
    }
}

void cs_mlp_forward_one(const cs_mlp *net, const double *x, double *out, double *scratch)
{
    int max_width = 0;
    for (int l = 0; l <= net->n_layers; l++)
        if (net->sizes[l] > max_width) max_width = net->sizes[l];
    double *buf_a = scratch, *buf_b = scratch + max_width;
    const double *in = x;
    const double *w = net->params;
    for (int l = 0; l < net->n_layers; l++) {
        int n_in = net->sizes[l], n_out = net->sizes[l + 1];
        const double *bias = w + (size_t) n_in * n_out;
        double *dst = l == net->n_layers - 1 ? out : (in == buf_a ? buf_b : buf_a);
        dense_one(w, in, n_in, n_out, dst);
        /* one pass adds the bias and applies the activation; pre and post coincide here */
        bias_activate(net->act[l], net->leaky_slope, bias, dst, dst, n_out, 1);
        in = dst;
        w = bias + n_out;
    }
}

/* Layout of the single-example scratch: pre and post of every layer, then two delta vectors. */
static int one_max_width(const cs_mlp *net)
{
    int max_width = 0;
    for (int l = 0; l <= net->n_layers; l++)
        if (net->sizes[l] > max_width) max_width = net->sizes[l];
    return max_width;
}

int cs_mlp_one_scratch(const cs_mlp *net)
{
    int total = 0;
    for (int l = 0; l < net->n_layers; l++) total += 2 * net->sizes[l + 1];
    return total + 2 * one_max_width(net);
}

void cs_mlp_forward_keep_one(const cs_mlp *net, const double *x, double *out, double *scratch)
{
    const double *in = x;
    const double *w = net->params;
    double *slot = scratch;
    for (int l = 0; l < net->n_layers; l++) {
        int n_in = net->sizes[l], n_out = net->sizes[l + 1];
        const double *bias = w + (size_t) n_in * n_out;
        double *pre = slot, *post = slot + n_out;
        dense_one(w, in, n_in, n_out, pre);
        bias_activate(net->act[l], net->leaky_slope, bias, pre, post, n_out, 1);
        if (net->act[l] == CS_ACT_IDENTITY) memcpy(post, pre, (size_t) n_out * sizeof(double));
        in = post;
        w = bias + n_out;
        slot += 2 * n_out;
    }
    memcpy(out, in, (size_t) net->sizes[net->n_layers] * sizeof(double));
}

void cs_mlp_backward_one(const cs_mlp *net, const double *x, double *scratch, const double *d_out,
                         double *grad, double *d_x)
{
    int L = net->n_layers;
    int max_width = one_max_width(net);
    size_t offset[CS_MLP_MAX_LAYERS], slot[CS_MLP_MAX_LAYERS];
    size_t pos = 0, spos = 0;
    for (int l = 0; l < L; l++) {
        offset[l] = pos;
        slot[l] = spos;
        pos += (size_t) net->sizes[l] * net->sizes[l + 1] + net->sizes[l + 1];
        spos += 2 * (size_t) net->sizes[l + 1];
    }
    double *delta_a = scratch + spos, *delta_b = delta_a + max_width;
    const double *d_post = d_out;
    for (int l = L - 1; l >= 0; l--) {
        int n_in = net->sizes[l], n_out = net->sizes[l + 1];
        const double *pre = scratch + slot[l], *post = pre + n_out;
        const double *in = l == 0 ? x : scratch + slot[l - 1] + net->sizes[l];
        const double *w = net->params + offset[l];
        double *d_pre = d_post == delta_a ? delta_a : (d_post == delta_b ? delta_b : delta_a);
        activation_backward(net->act[l], net->leaky_slope, pre, post, d_post, d_pre, (size_t) n_out);
        if (grad) {
            double *g_w = grad + offset[l];
            double *g_b = g_w + (size_t) n_in * n_out;
            for (int j = 0; j < n_out; j++) {
                double d = d_pre[j];
                double *col = g_w + (size_t) j * n_in;
                for (int i = 0; i < n_in; i++) col[i] += in[i] * d;
                g_b[j] += d;
            }
        }
        double *d_in;
        if (l > 0)
            d_in = d_pre == delta_a ? delta_b : delta_a;
        else if (d_x)
            d_in = d_x;
        else
            break;
        for (int i = 0; i < n_in; i++) d_in[i] = 0.0;
        for (int j = 0; j < n_out; j++) {
            double d = d_pre[j];
            const double *col = w + (size_t) j * n_in;
            for (int i = 0; i < n_in; i++) d_in[i] += col[i] * d;
        }
        d_post = d_in;
    }
}

cs_status cs_adam_alloc(cs_adam *opt, int n, double lr, double beta1, double beta2, double eps,
                        double weight_decay)
{
    memset(opt, 0, sizeof(*opt));
    if (n < 1 || !(lr > 0.0) || !(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0) ||
        !(eps > 0.0) || !(weight_decay >= 0.0))
        return CS_ERR_ARGUMENT;
    opt->m = calloc((size_t) n, sizeof(double));
    opt->v = calloc((size_t) n, sizeof(double));
    if (!opt->m || !opt->v) {
        cs_adam_free(opt);
        return CS_ERR_NOMEM;
    }
    opt->n = n;
    opt->lr = lr;
    opt->beta1 = beta1;
    opt->beta2 = beta2;
    opt->eps = eps;
    opt->weight_decay = weight_decay;
    opt->step = 0;
    return CS_OK;
}

void cs_adam_free(cs_adam *opt)
{
    free(opt->m);
    free(opt->v);
    opt->m = opt->v = NULL;
    opt->n = 0;
}

#ifdef CS_ADAM_AVX2
/* The loop of cs_adam_step four parameters at a time, by the same correctly rounded operations
 * (no fused multiply-adds), so results are those of the loop. Returns how many it updated. */
__attribute__((target("avx2")))
static int adam_avx2(int n, double *params, double *m, double *v, const double *grad, double b1,
                     double b2, double step_size, double inv_sqrt_c2, double eps, double decay)
{
    const __m256d v_b1 = _mm256_set1_pd(b1), v_c1 = _mm256_set1_pd(1.0 - b1);
    const __m256d v_b2 = _mm256_set1_pd(b2), v_c2 = _mm256_set1_pd(1.0 - b2);
    const __m256d v_step = _mm256_set1_pd(step_size), v_isc2 = _mm256_set1_pd(inv_sqrt_c2);
    const __m256d v_eps = _mm256_set1_pd(eps), v_decay = _mm256_set1_pd(decay);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d g = _mm256_loadu_pd(grad + i), p = _mm256_loadu_pd(params + i);
        __m256d mi = _mm256_add_pd(_mm256_mul_pd(v_b1, _mm256_loadu_pd(m + i)),
                                   _mm256_mul_pd(v_c1, g));
        __m256d vi = _mm256_add_pd(_mm256_mul_pd(v_b2, _mm256_loadu_pd(v + i)),
                                   _mm256_mul_pd(_mm256_mul_pd(v_c2, g), g));
        __m256d denom = _mm256_add_pd(_mm256_mul_pd(_mm256_sqrt_pd(vi), v_isc2), v_eps);
        __m256d change = _mm256_add_pd(_mm256_div_pd(_mm256_mul_pd(v_step, mi), denom),
                                       _mm256_mul_pd(v_decay, p));
        _mm256_storeu_pd(m + i, mi);
        _mm256_storeu_pd(v + i, vi);
        _mm256_storeu_pd(params + i, _mm256_sub_pd(p, change));
    }
    return i;
}
#endif

void cs_adam_step(cs_adam *opt, double *params, const double *grad)
{
    opt->step++;
    double b1 = opt->beta1, b2 = opt->beta2;
    double correction1 = 1.0 - pow(b1, (double) opt->step);
    double correction2 = 1.0 - pow(b2, (double) opt->step);
    double step_size = opt->lr / correction1;
    double inv_sqrt_c2 = 1.0 / sqrt(correction2);
    double decay = opt->lr * opt->weight_decay, eps = opt->eps;
    double *m = opt->m, *v = opt->v;
    int n = opt->n, i = 0;
    /* Several parameters at a time: compilers do not vectorise sqrt themselves (it may set
     * errno). The vector paths use the same correctly rounded operations in the same order as
     * the loop at the end, so every parameter gets the same result whichever path updates it. */
#ifdef CS_ADAM_AVX2
    if (cs_have_avx2_fma())
        i = adam_avx2(n, params, m, v, grad, b1, b2, step_size, inv_sqrt_c2, eps, decay);
#endif
#if defined(__SSE2__)
    const __m128d v_b1 = _mm_set1_pd(b1), v_c1 = _mm_set1_pd(1.0 - b1);
    const __m128d v_b2 = _mm_set1_pd(b2), v_c2 = _mm_set1_pd(1.0 - b2);
    const __m128d v_step = _mm_set1_pd(step_size), v_isc2 = _mm_set1_pd(inv_sqrt_c2);
    const __m128d v_eps = _mm_set1_pd(eps), v_decay = _mm_set1_pd(decay);
    for (; i + 2 <= n; i += 2) {
        __m128d g = _mm_loadu_pd(grad + i), p = _mm_loadu_pd(params + i);
        __m128d mi = _mm_add_pd(_mm_mul_pd(v_b1, _mm_loadu_pd(m + i)), _mm_mul_pd(v_c1, g));
        __m128d vi = _mm_add_pd(_mm_mul_pd(v_b2, _mm_loadu_pd(v + i)),
                                _mm_mul_pd(_mm_mul_pd(v_c2, g), g));
        __m128d denom = _mm_add_pd(_mm_mul_pd(_mm_sqrt_pd(vi), v_isc2), v_eps);
        __m128d change = _mm_add_pd(_mm_div_pd(_mm_mul_pd(v_step, mi), denom),
                                    _mm_mul_pd(v_decay, p));
        _mm_storeu_pd(m + i, mi);
        _mm_storeu_pd(v + i, vi);
        _mm_storeu_pd(params + i, _mm_sub_pd(p, change));
    }
#endif
    for (; i < n; i++) {
        double g = grad[i];
        m[i] = b1 * m[i] + (1.0 - b1) * g;
        v[i] = b2 * v[i] + (1.0 - b2) * g * g;
        double denom = sqrt(v[i]) * inv_sqrt_c2 + eps;
        params[i] -= step_size * m[i] / denom + decay * params[i];
    }
}

cs_status cs_mlp_train(cs_mlp *net, const double *x, const double *y, int n, int n_steps,
                       int batch, const double adam[5], uint64_t seed, double *losses,
                       cs_interrupt_fn interrupt)
{
    if (n < 1 || n_steps < 0 || batch < 1 || batch > n) return CS_ERR_ARGUMENT;
    int n_in = net->sizes[0], n_out = net->sizes[net->n_layers];
    size_t len = (size_t) n_out * batch;
    int *order = malloc(sizeof(int) * (size_t) n);
    double *xb = malloc(sizeof(double) * n_in * (size_t) batch);
    double *yb = malloc(sizeof(double) * len);
    double *d_out = malloc(sizeof(double) * len);
    double *grad = malloc(sizeof(double) * (size_t) net->n_params);
    cs_adam opt;
    cs_mlp_work work;
    memset(&opt, 0, sizeof(opt));
    memset(&work, 0, sizeof(work));
    cs_status status = order && xb && yb && d_out && grad ? CS_OK : CS_ERR_NOMEM;
    if (status == CS_OK)
        status = cs_adam_alloc(&opt, net->n_params, adam[0], adam[1], adam[2], adam[3], adam[4]);
    if (status == CS_OK) status = cs_mlp_work_alloc(&work, net, batch);
    cs_poll poll;
    cs_poll_init(&poll, interrupt);
    int position = n; /* forces a shuffle before the first step */
    uint64_t epoch = 0;
    for (int step = 0; step < n_steps && status == CS_OK; step++) {
        if (position + batch > n) {
            cs_rng rng;
            cs_rng_init(&rng, seed, epoch++);
            for (int i = 0; i < n; i++) order[i] = i;
            cs_rng_shuffle(&rng, order, n);
            position = 0;
        }
        for (int j = 0; j < batch; j++) {
            size_t src = (size_t) order[position + j];
            memcpy(xb + (size_t) j * n_in, x + src * n_in, sizeof(double) * n_in);
            memcpy(yb + (size_t) j * n_out, y + src * n_out, sizeof(double) * n_out);
        }
        position += batch;
        const double *out = cs_mlp_forward(net, &work, xb, batch);
        double value = cs_mlp_loss_gradient(0, out, yb, len, 1.0 / (double) len, d_out);
        losses[step] = value;
        if (!isfinite(value)) {
            status = CS_ERR_NONFINITE;
            break;
        }
        memset(grad, 0, sizeof(double) * (size_t) net->n_params);
        cs_mlp_backward(net, &work, xb, batch, d_out, grad, NULL);
        cs_adam_step(&opt, net->params, grad);
        if (cs_poll_main(&poll)) status = CS_ERR_INTERRUPTED;
    }
    cs_mlp_work_free(&work);
    cs_adam_free(&opt);
    free(order); free(xb); free(yb); free(d_out); free(grad);
    return status;
}

double cs_mlp_loss_gradient(int kind, const double *out, const double *y, size_t len,
                            double scale, double *d_out)
{
    double total = 0.0;
    if (kind == 0) {
        for (size_t i = 0; i < len; i++) {
            double r = out[i] - y[i];
            total += r * r;
            d_out[i] = 2.0 * r * scale;
        }
    } else {
        for (size_t i = 0; i < len; i++) {
            double z = out[i];
            total += cs_softplus(z) - y[i] * z;
            d_out[i] = (cs_sigmoid(z) - y[i]) * scale;
        }
    }
    return total * scale;
}


cs_status cs_mlp_forward_each(const cs_mlp *net, const double *x, int batch, int threads,
                              double *y)
{
    int n_in = net->sizes[0], n_out = net->sizes[net->n_layers], max_width = 0;
    for (int l = 0; l <= net->n_layers; l++)
        if (net->sizes[l] > max_width) max_width = net->sizes[l];
    double *scratch = malloc(sizeof(double) * (size_t) threads * 2 * max_width);
    if (!scratch) return CS_ERR_NOMEM;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
    {
        double *mine = scratch + (size_t) cs_thread_num() * 2 * max_width;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (int j = 0; j < batch; j++)
            cs_mlp_forward_one(net, x + (size_t) j * n_in, y + (size_t) j * n_out, mine);
    }
    free(scratch);
    return CS_OK;
}

cs_status cs_mlp_loss_each(const cs_mlp *net, int kind, const double *x, const double *y,
                           int batch, int threads, double *loss, double *grad,
                           double *grad_x)
{
    int n_in = net->sizes[0], n_out = net->sizes[net->n_layers];
    size_t per_scratch = (size_t) cs_mlp_one_scratch(net) + 2 * (size_t) n_out;
    size_t n_params = (size_t) net->n_params;
    double *scratch = malloc(sizeof(double) * (size_t) threads * per_scratch);
    double *thread_grad = calloc((size_t) threads * n_params, sizeof(double));
    double *thread_loss = calloc((size_t) threads, sizeof(double));
    if (!scratch || !thread_grad || !thread_loss) {
        free(scratch); free(thread_grad); free(thread_loss);
        return CS_ERR_NOMEM;
    }
    double scale = 1.0 / ((double) n_out * batch);
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
    {
        int tid = cs_thread_num();
        double *mine = scratch + (size_t) tid * per_scratch;
        double *out = mine + cs_mlp_one_scratch(net), *d_out = out + n_out;
        double *g = thread_grad + (size_t) tid * n_params;
        double total = 0.0;
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (int j = 0; j < batch; j++) {
            const double *xj = x + (size_t) j * n_in;
            cs_mlp_forward_keep_one(net, xj, out, mine);
            total += cs_mlp_loss_gradient(kind, out, y + (size_t) j * n_out, (size_t) n_out,
                                          scale, d_out);
            cs_mlp_backward_one(net, xj, mine, d_out, g, grad_x + (size_t) j * n_in);
        }
        thread_loss[tid] = total;
    }
    double value = 0.0;
    memset(grad, 0, n_params * sizeof(double));
    for (int t = 0; t < threads; t++) {
        value += thread_loss[t];
        const double *g = thread_grad + (size_t) t * n_params;
        for (size_t i = 0; i < n_params; i++) grad[i] += g[i];
    }
    *loss = value;
    free(scratch); free(thread_grad); free(thread_loss);
    return CS_OK;
}
