/* Bayesian dense layers with the local reparameterisation trick (see bnn.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bnn.h"
#include "links.h"
#include "small_gemm.h"
#include "vecmath.h"

/* y[j] = sum_i w[i, j] x[i] (w: in x out, column-major) and, when v is not NULL,
 * y2[j] = sum_i v[i, j] x[i]^2: each sum in four interleaved partial sums, so they vectorise. */
CS_AVX2_CLONES
static void dots(const double *w, const double *v, int in, int out, const double *x, double *y,
                 double *y2)
{
    for (int j = 0; j < out; j++) {
        const double *wj = w + (size_t) j * in;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        int i = 0;
        for (; i + 4 <= in; i += 4) {
            s0 += wj[i] * x[i];
            s1 += wj[i + 1] * x[i + 1];
            s2 += wj[i + 2] * x[i + 2];
            s3 += wj[i + 3] * x[i + 3];
        }
        for (; i < in; i++) s0 += wj[i] * x[i];
        y[j] = (s0 + s1) + (s2 + s3);
        if (!v) continue;
        const double *vj = v + (size_t) j * in;
        s0 = s1 = s2 = s3 = 0.0;
        for (i = 0; i + 4 <= in; i += 4) {
            s0 += vj[i] * x[i] * x[i];
            s1 += vj[i + 1] * x[i + 1] * x[i + 1];
            s2 += vj[i + 2] * x[i + 2] * x[i + 2];
            s3 += vj[i + 3] * x[i + 3] * x[i + 3];
        }
        for (; i < in; i++) s0 += vj[i] * x[i] * x[i];
        y2[j] = (s0 + s1) + (s2 + s3);
    }
}

int bnn_count_params(int n_layers, const int *sizes, int bayes)
{
    if (n_layers < 1 || n_layers > BNN_MAX_LAYERS) return -1;
    for (int l = 0; l <= n_layers; l++)
        if (sizes[l] < 1 || sizes[l] > BNN_MAX_WIDTH) return -1;
    size_t n = 0;
    for (int l = 0; l < n_layers; l++) {
        n += (size_t) sizes[l] * (size_t) sizes[l + 1] * (bayes ? 2u : 1u) + (size_t) sizes[l + 1];
        if (n > (size_t) BNN_MAX_PARAMS) return -1;
    }
    return (int) n;
}

cs_status bnn_setup(bnn_net *net, int n_layers, const int *sizes, int bayes, double leaky_slope,
                    double *params)
{
    if (bnn_count_params(n_layers, sizes, bayes) < 0) return CS_ERR_ARGUMENT;
    memset(net, 0, sizeof(*net));
    net->n_layers = n_layers;
    net->bayes = bayes ? 1 : 0;
    net->leaky_slope = leaky_slope;
    int off = 0, maxw = 0;
    for (int l = 0; l <= n_layers; l++) {
        if (sizes[l] < 1) return CS_ERR_ARGUMENT;
        net->sizes[l] = sizes[l];
        if (sizes[l] > maxw) maxw = sizes[l];
    }
    for (int l = 0; l < n_layers; l++) {
        int nw = sizes[l] * sizes[l + 1];
        net->w_off[l] = off;
        off += nw;
        net->rho_off[l] = off;
        if (net->bayes) off += nw;
        net->b_off[l] = off;
        off += sizes[l + 1];
        net->n_weights += nw;
        net->n_units += sizes[l + 1];
    }
    net->n_params = off;
    net->max_width = maxw;
    net->params = params;
    return CS_OK;
}

void bnn_init_params(bnn_net *net, cs_rng *rng, double sd0)
{
    double rho0 = log(expm1(sd0));
    for (int l = 0; l < net->n_layers; l++) {
        int in = net->sizes[l], out = net->sizes[l + 1], nw = in * out;
        double scale = sqrt((l + 1 < net->n_layers ? 2.0 : 1.0) / in);
        double *w = net->params + net->w_off[l];
        for (int i = 0; i < nw; i++) w[i] = scale * cs_rng_norm(rng);
        if (net->bayes) {
            double *rho = net->params + net->rho_off[l];
            for (int i = 0; i < nw; i++) rho[i] = rho0;
        }
        memset(net->params + net->b_off[l], 0, sizeof(double) * out);
    }
}

cs_status bnn_work_alloc(bnn_work *work, const bnn_net *net, int max_batch)
{
    memset(work, 0, sizeof(*work));
    work->max_batch = max_batch;
    size_t B = (size_t) max_batch, mw = (size_t) net->max_width;
    int fail = 0, max_w = 0;
    for (int l = 0; l < net->n_layers; l++) {
        size_t in = net->sizes[l], out = net->sizes[l + 1];
        if ((int) (in * out) > max_w) max_w = (int) (in * out);
        work->pre[l] = malloc(sizeof(double) * out * B);
        work->post[l] = malloc(sizeof(double) * out * B);
        fail |= !work->pre[l] || !work->post[l];
        if (net->bayes) {
            work->xsq[l] = malloc(sizeof(double) * in * B);
            work->sd[l] = malloc(sizeof(double) * out * B);
            work->eps[l] = malloc(sizeof(double) * out * B);
            work->s2[l] = malloc(sizeof(double) * in * out);
            work->ds2[l] = malloc(sizeof(double) * in * out);
            fail |= !work->xsq[l] || !work->sd[l] || !work->eps[l] || !work->s2[l] || !work->ds2[l];
        }
    }
    work->d_a = malloc(sizeof(double) * mw * B);
    work->d_b = malloc(sizeof(double) * mw * B);
    work->tmp = malloc(sizeof(double) * mw * B);
    work->g_s2 = malloc(sizeof(double) * (size_t) max_w);
    work->w_t = malloc(sizeof(double) * (size_t) max_w);
    fail |= !work->d_a || !work->d_b || !work->tmp || !work->g_s2 || !work->w_t;
    if (fail) {
        bnn_work_free(work);
        return CS_ERR_NOMEM;
    }
    return CS_OK;
}

void bnn_work_free(bnn_work *work)
{
    for (int l = 0; l < BNN_MAX_LAYERS; l++) {
        free(work->xsq[l]); free(work->pre[l]); free(work->sd[l]);
        free(work->eps[l]); free(work->post[l]); free(work->s2[l]); free(work->ds2[l]);
    }
    free(work->d_a); free(work->d_b); free(work->tmp); free(work->g_s2); free(work->w_t);
    memset(work, 0, sizeof(*work));
}

const double *bnn_forward(const bnn_net *net, bnn_work *work, const double *x, int batch,
                          cs_rng *rng)
{
    int sample = net->bayes && rng != NULL;
    work->sampled = sample;
    const double *in_x = x;
    for (int l = 0; l < net->n_layers; l++) {
        int in = net->sizes[l], out = net->sizes[l + 1];
        size_t n_out = (size_t) out * batch;
        const double *w = net->params + net->w_off[l];
        const double *b = net->params + net->b_off[l];
        double *pre = work->pre[l];
        for (int j = 0; j < batch; j++) memcpy(pre + (size_t) j * out, b, sizeof(double) * out);
        /* pre += W' x, with W' copied once so the product reads its columns in order */
        cs_transpose(w, in, out, work->w_t);
        cs_product(0, out, batch, in, work->w_t, out, in_x, in, 1, pre, out);
        if (sample) {
            const double *rho = net->params + net->rho_off[l];
            double *s2 = work->s2[l], *xsq = work->xsq[l], *sd = work->sd[l], *eps = work->eps[l];
            double *ds2 = work->ds2[l];
            for (int i = 0; i < in * out; i++) {
                /* one exp per weight: sigma = cs_softplus_cut30(rho),
                 * dsigma^2/drho = 2 sigma cs_sigmoid(rho) */
                double r = rho[i], s, sig;
                if (r > 30.0) { s = r; sig = 1.0; }
                else { double e = exp(r); s = log1p(e); sig = e / (1.0 + e); }
                s2[i] = s * s;
                ds2[i] = 2.0 * s * sig;
            }
            for (size_t i = 0; i < (size_t) in * batch; i++) xsq[i] = in_x[i] * in_x[i];
            cs_transpose(s2, in, out, work->w_t);
            cs_product(0, out, batch, in, work->w_t, out, xsq, in, 0, sd, out);
            for (size_t i = 0; i < n_out; i++) {
                sd[i] = sqrt(sd[i] + 1e-12);
                eps[i] = cs_rng_norm(rng);
                pre[i] += sd[i] * eps[i];
            }
        }
        double *post = work->post[l];
        if (l + 1 < net->n_layers) {
            double a = net->leaky_slope;
            for (size_t i = 0; i < n_out; i++) post[i] = pre[i] > 0 ? pre[i] : a * pre[i];
        } else {
            memcpy(post, pre, sizeof(double) * n_out);
        }
        in_x = post;
    }
    return work->post[net->n_layers - 1];
}

void bnn_backward(const bnn_net *net, bnn_work *work, const double *x, int batch, double *d_out,
                  double *grad, double *d_x)
{
    double *d_a = d_out;   /* gradient wrt the pre-activation of the current layer */
    double *spare[2] = { work->d_a, work->d_b };
    int which = 0;
    for (int l = net->n_layers - 1; l >= 0; l--) {
        int in = net->sizes[l], out = net->sizes[l + 1];
        const double *in_x = l > 0 ? work->post[l - 1] : x;
        const double *w = net->params + net->w_off[l];
        size_t n_out = (size_t) out * batch;
        if (l + 1 < net->n_layers) {
            const double *pre = work->pre[l];
            double a = net->leaky_slope;
            for (size_t i = 0; i < n_out; i++) if (pre[i] <= 0) d_a[i] *= a;
        }
        cs_product(1, in, out, batch, in_x, in, d_a, out, 1, grad + net->w_off[l], in);
        double *gb = grad + net->b_off[l];
        for (int j = 0; j < batch; j++) {
            const double *col = d_a + (size_t) j * out;
            for (int k = 0; k < out; k++) gb[k] += col[k];
        }
        int need_dx = l > 0 || d_x != NULL;
        double *d_in = NULL;
        if (need_dx) {
            d_in = l > 0 ? spare[which] : d_x;
            which ^= 1;
            cs_product(0, in, batch, out, w, in, d_a, out, 0, d_in, in);
        }
        if (work->sampled) {
            /* d_delta = d_a * eps / (2 sd), stored in tmp */
            double *d_delta = work->tmp;
            const double *eps = work->eps[l], *sd = work->sd[l];
            for (size_t i = 0; i < n_out; i++) d_delta[i] = d_a[i] * eps[i] / (2.0 * sd[i]);
            double *g_s2 = work->g_s2;
            cs_product(1, in, out, batch, work->xsq[l], in, d_delta, out, 0, g_s2, in);
            const double *ds2 = work->ds2[l];
            double *g_rho = grad + net->rho_off[l];
            for (int i = 0; i < in * out; i++) g_rho[i] += g_s2[i] * ds2[i];
            if (need_dx) {
                /* d_in += 2 x * (S2 d_delta); reuse xsq as the product buffer after use */
                double *prod = work->xsq[l];
                cs_product(0, in, batch, out, work->s2[l], in, d_delta, out, 0, prod, in);
                for (size_t i = 0; i < (size_t) in * batch; i++) d_in[i] += 2.0 * in_x[i] * prod[i];
            }
        }
        d_a = d_in;
    }
}

double bnn_kl(const bnn_net *net, double *grad, double weight)
{
    if (!net->bayes) return 0.0;
    double kl = 0.0;
    for (int l = 0; l < net->n_layers; l++) {
        int nw = net->sizes[l] * net->sizes[l + 1];
        const double *mu = net->params + net->w_off[l], *rho = net->params + net->rho_off[l];
        double *gmu = grad ? grad + net->w_off[l] : NULL;
        double *grho = grad ? grad + net->rho_off[l] : NULL;
        for (int i = 0; i < nw; i++) {
            double s = cs_softplus_cut30(rho[i]);
            kl += 0.5 * (s * s + mu[i] * mu[i] - 1.0) - log(s);
            if (grad) {
                gmu[i] += weight * mu[i];
                grho[i] += weight * (s - 1.0 / s) * cs_sigmoid(rho[i]);
            }
        }
    }
    return kl;
}

void bnn_kl_grad(const bnn_net *net, const bnn_work *work, double *grad, double weight)
{
    if (!net->bayes) return;
    for (int l = 0; l < net->n_layers; l++) {
        int nw = net->sizes[l] * net->sizes[l + 1];
        const double *mu = net->params + net->w_off[l];
        const double *s2 = work->s2[l], *ds2 = work->ds2[l];
        double *gmu = grad + net->w_off[l], *grho = grad + net->rho_off[l];
        /* dKL/dsigma = sigma - 1/sigma, and dsigma/drho = ds2 / (2 sigma) */
        for (int i = 0; i < nw; i++) {
            gmu[i] += weight * mu[i];
            grho[i] += weight * (s2[i] - 1.0) * ds2[i] / (2.0 * s2[i]);
        }
    }
}

void bnn_sample_weights(bnn_net *net, cs_rng *rng, double sd_scale)
{
    if (!net->bayes) return;
    for (int l = 0; l < net->n_layers; l++) {
        int nw = net->sizes[l] * net->sizes[l + 1];
        double *mu = net->params + net->w_off[l];
        const double *rho = net->params + net->rho_off[l];
        for (int i = 0; i < nw; i++)
            mu[i] += sd_scale * cs_softplus_cut30(rho[i]) * cs_rng_norm(rng);
    }
}

void bnn_cache_var(bnn_net *net, double *var)
{
    int k = 0;
    if (net->bayes) {
        for (int l = 0; l < net->n_layers; l++) {
            int nw = net->sizes[l] * net->sizes[l + 1];
            const double *rho = net->params + net->rho_off[l];
            for (int i = 0; i < nw; i++, k++) {
                double s = cs_softplus_cut30(rho[i]);
                var[k] = s * s;
            }
        }
    } else {
        memset(var, 0, sizeof(double) * net->n_weights);
    }
    net->var = var;
}

void bnn_forward_one(const bnn_net *net, const double *x, double *out, double *act,
                     const double *eps)
{
    const double *in_x = x;
    double *pre = act, *post = act + net->n_units;
    int var_off = 0;
    for (int l = 0; l < net->n_layers; l++) {
        int in = net->sizes[l], o = net->sizes[l + 1];
        const double *w = net->params + net->w_off[l];
        const double *b = net->params + net->b_off[l];
        int noisy = eps && net->var;
        /* the weighted sums into pre, the variances' into post, before post gets its values */
        dots(w, noisy ? net->var + var_off : NULL, in, o, in_x, pre, post);
        for (int j = 0; j < o; j++) {
            double s = b[j] + pre[j];
            if (noisy) s += sqrt(post[j]) * eps[j];
            pre[j] = s;
            post[j] = (l + 1 < net->n_layers && s <= 0) ? net->leaky_slope * s : s;
        }
        if (eps) eps += o;
        var_off += in * o;
        in_x = post;
        pre += o;
        post += o;
    }
    memcpy(out, in_x, sizeof(double) * net->sizes[net->n_layers]);
}

void bnn_backward_one(const bnn_net *net, const double *x, const double *act,
                      const double *d_out, double *d_x, double *tmp)
{
    int L = net->n_layers;
    /* offsets of each layer's units inside act */
    int unit_off[BNN_MAX_LAYERS];
    int off = 0;
    for (int l = 0; l < L; l++) { unit_off[l] = off; off += net->sizes[l + 1]; }
    double *cur = tmp, *nxt = tmp + net->max_width;
    memcpy(cur, d_out, sizeof(double) * net->sizes[L]);
    for (int l = L - 1; l >= 0; l--) {
        int in = net->sizes[l], o = net->sizes[l + 1];
        const double *w = net->params + net->w_off[l];
        double *dst = l > 0 ? nxt : d_x;
        for (int i = 0; i < in; i++) dst[i] = 0.0;
        for (int j = 0; j < o; j++) {
            const double *wj = w + (size_t) j * in;
            double g = cur[j];
            for (int i = 0; i < in; i++) dst[i] += wj[i] * g;
        }
        if (l > 0) {
            const double *pre_prev = act + unit_off[l - 1];
            for (int i = 0; i < in; i++) if (pre_prev[i] <= 0) dst[i] *= net->leaky_slope;
            double *t = cur; cur = nxt; nxt = t;
        }
    }
    (void) x;
}
