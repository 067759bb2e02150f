/* Cross-validated small neural-network classifier (see classifier.h). */
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "classifier.h"
#include "links.h"
#include "poll.h"
#include "nn.h"
#include "rng.h"
#include "threads.h"

/* Everything one fold needs: its rows, its network, its optimiser and its random stream. */
typedef struct {
    int n_train, n_valid, n_test;
    int *rows;                /* training rows, then validation rows */
    int *test;
    double *params, *best, *grad;
    double *xb, *yb, *dout;   /* one mini-batch */
    cs_mlp net;
    cs_mlp_work work;
    cs_adam adam;
    cs_rng rng;
    double best_loss;
    int since_best, done, has_work, has_adam;
    cs_status status;
} fold_state;

/* Binary cross-entropy of a logit z against label y, computed stably. */
static double bce(double z, double y)
{
    return cs_softplus(z) - y * z;
}

static void gather(const double *x, const double *y, int d, const int *rows, int m,
                   double *xb, double *yb)
{
    for (int b = 0; b < m; b++) {
        memcpy(xb + (size_t)b * d, x + (size_t)rows[b] * d, (size_t)d * sizeof(double));
        if (yb != NULL) yb[b] = y[rows[b]];
    }
}

static void fold_free(fold_state *s)
{
    free(s->rows);
    free(s->test);
    free(s->params);
    free(s->best);
    free(s->grad);
    free(s->xb);
    free(s->yb);
    free(s->dout);
    if (s->has_work) cs_mlp_work_free(&s->work);
    if (s->has_adam) cs_adam_free(&s->adam);
}

static cs_status fold_setup(fold_state *s, int f, const int *fold, int n, int d,
                            const cs_classifier_options *opt, uint64_t seed)
{
    memset(s, 0, sizeof(*s));
    int n_out = 0, n_in = 0;
    for (int i = 0; i < n; i++) {
        if (fold[i] == f) n_in++;
        else n_out++;
    }
    if (n_in == 0 || n_out < 2) return CS_ERR_ARGUMENT;
    int sizes[3] = {d, opt->hidden, 1};
    cs_activation act[2] = {CS_ACT_RELU, CS_ACT_IDENTITY};
    int n_params = cs_mlp_count_params(2, sizes);
    s->rows = malloc((size_t)n_out * sizeof(int));
    s->test = malloc((size_t)n_in * sizeof(int));
    s->params = malloc((size_t)n_params * sizeof(double));
    s->best = malloc((size_t)n_params * sizeof(double));
    s->grad = malloc((size_t)n_params * sizeof(double));
    s->xb = malloc((size_t)d * opt->batch * sizeof(double));
    s->yb = malloc((size_t)opt->batch * sizeof(double));
    s->dout = malloc((size_t)opt->batch * sizeof(double));
    if (!s->rows || !s->test || !s->params || !s->best || !s->grad || !s->xb || !s->yb ||
        !s->dout)
        return CS_ERR_NOMEM;
    n_out = n_in = 0;
    for (int i = 0; i < n; i++) {
        if (fold[i] == f) s->test[n_in++] = i;
        else s->rows[n_out++] = i;
    }
    s->n_test = n_in;
    cs_rng_init(&s->rng, seed, (uint64_t)f);
    cs_status status = cs_mlp_setup(&s->net, 2, sizes, act, 0.0, s->params);
    if (status != CS_OK) return status;
    cs_mlp_init_params(&s->net, &s->rng);
    memcpy(s->best, s->params, (size_t)n_params * sizeof(double));
    status = cs_mlp_work_alloc(&s->work, &s->net, opt->batch);
    if (status != CS_OK) return status;
    s->has_work = 1;
    status = cs_adam_alloc(&s->adam, n_params, opt->lr, 0.9, 0.999, 1e-8, opt->weight_decay);
    if (status != CS_OK) return status;
    s->has_adam = 1;
    /* validation rows: a random share of the training rows, kept at the end of rows */
    cs_rng_shuffle(&s->rng, s->rows, n_out);
    int n_valid = (int)(opt->valid_share * n_out);
    if (opt->valid_share > 0.0 && n_valid < 1) n_valid = 1;
    if (n_out - n_valid < 1) n_valid = n_out - 1;
    s->n_valid = n_valid;
    s->n_train = n_out - n_valid;
    s->best_loss = HUGE_VAL;
    return CS_OK;
}

/* Mean cross-entropy of the current network on rows (no gradient). */
static double mean_loss(fold_state *s, const double *x, const double *y, int d,
                        const int *rows, int m, int batch)
{
    double total = 0.0;
    for (int b0 = 0; b0 < m; b0 += batch) {
        int nb = m - b0 < batch ? m - b0 : batch;
        gather(x, y, d, rows + b0, nb, s->xb, s->yb);
        const double *z = cs_mlp_forward(&s->net, &s->work, s->xb, nb);
        for (int b = 0; b < nb; b++) total += bce(z[b], s->yb[b]);
    }
    return total / m;
}

static void fold_epoch(fold_state *s, const double *x, const double *y, int d,
                       const cs_classifier_options *opt)
{
    int n_params = s->net.n_params;
    cs_rng_shuffle(&s->rng, s->rows, s->n_train);
    for (int b0 = 0; b0 < s->n_train; b0 += opt->batch) {
        int nb = s->n_train - b0 < opt->batch ? s->n_train - b0 : opt->batch;
        gather(x, y, d, s->rows + b0, nb, s->xb, s->yb);
        const double *z = cs_mlp_forward(&s->net, &s->work, s->xb, nb);
        for (int b = 0; b < nb; b++) s->dout[b] = (cs_sigmoid(z[b]) - s->yb[b]) / nb;
        memset(s->grad, 0, (size_t)n_params * sizeof(double));
        cs_mlp_backward(&s->net, &s->work, s->xb, nb, s->dout, s->grad, NULL);
        cs_adam_step(&s->adam, s->params, s->grad);
    }
    double loss = s->n_valid > 0
        ? mean_loss(s, x, y, d, s->rows + s->n_train, s->n_valid, opt->batch)
        : mean_loss(s, x, y, d, s->rows, s->n_train, opt->batch);
    if (!isfinite(loss)) {
        s->status = CS_ERR_NONFINITE;
        s->done = 1;
        return;
    }
    if (loss < s->best_loss - 1e-7) {
        s->best_loss = loss;
        s->since_best = 0;
        memcpy(s->best, s->params, (size_t)n_params * sizeof(double));
    } else if (s->n_valid > 0 && ++s->since_best >= opt->patience) {
        s->done = 1;
    }
}

cs_status cs_classifier_cv(const double *x, const double *y, const int *fold, int n, int d,
                           int k, const cs_classifier_options *opt, uint64_t seed, int threads,
                           cs_interrupt_fn interrupt, double *prob)
{
    if (n < 2 || d < 1 || k < 2 || opt == NULL || opt->hidden < 1 || opt->batch < 1 ||
        opt->max_epochs < 1 || opt->patience < 1 || !(opt->lr > 0.0) ||
        opt->valid_share < 0.0 || opt->valid_share >= 1.0)
        return CS_ERR_ARGUMENT;
    for (int i = 0; i < n; i++)
        if (fold[i] < 0 || fold[i] >= k) return CS_ERR_ARGUMENT;
    fold_state *states = calloc((size_t)k, sizeof(fold_state));
    if (states == NULL) return CS_ERR_NOMEM;
    cs_status status = CS_OK;
    int n_set = 0;
    for (int f = 0; f < k && status == CS_OK; f++, n_set++)
        status = fold_setup(&states[f], f, fold, n, d, opt, seed);
    int nthreads = cs_threads(threads);
    (void) nthreads;  /* unused without OpenMP */
    cs_poll poll;
    cs_poll_init(&poll, interrupt);
    for (int epoch = 0; epoch < opt->max_epochs && status == CS_OK; epoch++) {
        int active = 0;
        for (int f = 0; f < k; f++) active += !states[f].done;
        if (active == 0) break;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads)
#endif
        for (int f = 0; f < k; f++)
            if (!states[f].done) fold_epoch(&states[f], x, y, d, opt);
        for (int f = 0; f < k; f++)
            if (states[f].status != CS_OK && status == CS_OK) status = states[f].status;
        if (status == CS_OK && cs_poll_main(&poll)) status = CS_ERR_INTERRUPTED;
    }
    if (status == CS_OK) {
        for (int f = 0; f < k; f++) {
            fold_state *s = &states[f];
            memcpy(s->params, s->best, (size_t)s->net.n_params * sizeof(double));
            for (int b0 = 0; b0 < s->n_test; b0 += opt->batch) {
                int nb = s->n_test - b0 < opt->batch ? s->n_test - b0 : opt->batch;
                gather(x, NULL, d, s->test + b0, nb, s->xb, NULL);
                const double *z = cs_mlp_forward(&s->net, &s->work, s->xb, nb);
                for (int b = 0; b < nb; b++) prob[s->test[b0 + b]] = cs_sigmoid(z[b]);
            }
        }
    }
    for (int f = 0; f < n_set; f++) fold_free(&states[f]);
    free(states);
    return status;
}
