/* Piecewise-exponential event and censoring laws per arm (see survival_model.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "survival_model.h"
#include "rng.h"
#include "threads.h"

/* Tag of the seeds derived for survival draws (and, + 1, training). */
#define SURV_STREAM_TAG 2200

int cs_surv_outputs(const cs_surv_model *m) { return 2 * m->J_event + 2 * m->J_censor; }

void cs_surv_expand(const cs_surv_model *m, const double *risk, double *lh)
{
    int Je = m->J_event, Jc = m->J_censor;
    for (int j = 0; j < Je; j++) {
        lh[j] = m->baseline[j] + risk[0];
        lh[Je + j] = m->baseline[Je + j] + risk[1];
    }
    for (int j = 0; j < Jc; j++) {
        lh[2 * Je + j] = m->baseline[2 * Je + j] + risk[2];
        lh[2 * Je + Jc + j] = m->baseline[2 * Je + Jc + j] + risk[3];
    }
}

/* Gradient with respect to the four risk scores of a gradient g with respect to the log
 * hazards. */
static void collapse(const cs_surv_model *m, const double *g, double *d)
{
    int Je = m->J_event, Jc = m->J_censor;
    d[0] = d[1] = d[2] = d[3] = 0.0;
    for (int j = 0; j < Je; j++) { d[0] += g[j]; d[1] += g[Je + j]; }
    for (int j = 0; j < Jc; j++) { d[2] += g[2 * Je + j]; d[3] += g[2 * Je + Jc + j]; }
}

/* Negative log-likelihood of one observation (time y, observed indicator d) under the log
 * hazards lh on cut; adds its gradient with respect to lh into g (unless NULL). */
static double pe_nll(const double *lh, const double *cut, int J, double y, int d, double *g)
{
    double nll = 0.0;
    for (int j = 0; j < J; j++) {
        if (j > 0 && y < cut[j]) break;
        int last = (j + 1 == J) || y < cut[j + 1];
        double exposure = (last ? y : cut[j + 1]) - cut[j];
        double h = exp(lh[j]);
        nll += h * exposure;
        if (g) g[j] += h * exposure;
        if (last) {
            if (d) {
                nll -= lh[j];
                if (g) g[j] -= 1.0;
            }
            break;
        }
    }
    return nll;
}

/* Loss of row i with outputs o; gradient into g (outputs long, zeroed by the caller). */
static double row_loss(const cs_surv_model *m, const double *o, int arm, double y, int event,
                       double *g)
{
    int Je = m->J_event, Jc = m->J_censor;
    const double *le = o + arm * Je, *lc = o + 2 * Je + arm * Jc;
    double *ge = g ? g + arm * Je : NULL, *gc = g ? g + 2 * Je + arm * Jc : NULL;
    /* censoring by the end of follow-up is not a censoring event */
    int censor_event = !event && y < m->end;
    return pe_nll(le, m->cut_event, Je, y, event, ge) +
           pe_nll(lc, m->cut_censor, Jc, y, censor_event, gc);
}

/* Exposure of an observation at time y in each interval of cut (J), written to expo; returns
 * the interval holding y. */
static int interval_exposure(const double *cut, int J, double y, double *expo)
{
    int k = 0;
    for (int j = 0; j < J; j++) {
        expo[j] = 0.0;
        if (j > 0 && y < cut[j]) continue;
        int last = (j + 1 == J) || y < cut[j + 1];
        expo[j] = (last ? y : cut[j + 1]) - cut[j];
        if (last) k = j;
        if (last) { for (int l = j + 1; l < J; l++) expo[l] = 0.0; break; }
    }
    return k;
}

/* Output biases start at the crude log rates of each interval, arm and law over the training
 * rows, and the output weights small, so training starts from the covariate-free
 * piecewise-exponential fit. */
static cs_status start_at_crude_rates(cs_surv_model *m, int n, const int *arm,
                                      const double *time, const int *event, const int *valid)
{
    int Je = m->J_event, Jc = m->J_censor, q = cs_surv_outputs(m);
    double *count = calloc((size_t) 3 * q, sizeof(double));
    if (!count) return CS_ERR_NOMEM;
    double *expo = count + q, *tmp = expo + q;
    for (int i = 0; i < n; i++) {
        if (valid[i]) continue;
        int a = arm[i];
        int k = interval_exposure(m->cut_event, Je, time[i], tmp);
        for (int j = 0; j < Je; j++) expo[a * Je + j] += tmp[j];
        if (event[i]) count[a * Je + k] += 1.0;
        k = interval_exposure(m->cut_censor, Jc, time[i], tmp);
        for (int j = 0; j < Jc; j++) expo[2 * Je + a * Jc + j] += tmp[j];
        if (!event[i] && time[i] < m->end) count[2 * Je + a * Jc + k] += 1.0;
    }
    cs_mlp *net = &m->net;
    int L = net->n_layers, in = net->sizes[L - 1];
    size_t off = 0;
    for (int l = 0; l < L - 1; l++)
        off += (size_t) net->sizes[l] * net->sizes[l + 1] + (size_t) net->sizes[l + 1];
    int out = net->sizes[L];
    double *W = net->params + off, *b = W + (size_t) in * out;
    for (size_t k = 0; k < (size_t) in * out; k++) W[k] *= 0.1;
    for (int k = 0; k < out; k++) b[k] = 0.0;
    for (int k = 0; k < q; k++) m->baseline[k] = log((count[k] + 0.5) / (expo[k] + 1e-3));
    free(count);
    return CS_OK;
}

/* The rows idx[0..rows-1] of the D x n feature table F, one after another into xb. */
static void gather_rows(const double *F, int D, const int *idx, int rows, double *xb)
{
    for (int r = 0; r < rows; r++)
        memcpy(xb + (size_t) r * D, F + (size_t) idx[r] * D, sizeof(double) * (size_t) D);
}

cs_status cs_surv_train(cs_surv_model *m, int n, const double *F, const int *arm,
                        const double *time, const int *event, const int *valid,
                        const cs_surv_settings *set, uint64_t seed, cs_interrupt_fn interrupt,
                        double *history, int *epochs_run, int *best_epoch)
{
    cs_mlp *net = &m->net;
    int D = net->sizes[0], q = cs_surv_outputs(m);
    if (net->sizes[net->n_layers] != CS_SURV_SCORES || q > 256 || n < 1 || set->batch_size < 1)
        return CS_ERR_ARGUMENT;
    int n_train = 0, n_valid = 0;
    for (int i = 0; i < n; i++) valid[i] ? n_valid++ : n_train++;
    if (n_train < 1) return CS_ERR_ARGUMENT;
    int B = set->batch_size < n_train ? set->batch_size : n_train;
    int *train_idx = malloc(sizeof(int) * (size_t) n_train);
    int *valid_idx = malloc(sizeof(int) * (size_t) (n_valid > 0 ? n_valid : 1));
    double *xb = malloc(sizeof(double) * (size_t) D * B);
    double *dout = malloc(sizeof(double) * (size_t) CS_SURV_SCORES * B);
    double *grad = malloc(sizeof(double) * (size_t) (net->n_params + 3 * q));
    double *best = malloc(sizeof(double) * (size_t) (net->n_params + q));
    double *gbase = grad + net->n_params, *lh = gbase + q, *glh = lh + q;
    cs_mlp_work work;
    cs_adam opt, opt_base;
    int have_work = 0, have_opt = 0, have_opt_base = 0;
    cs_status st = CS_OK;
    if (!train_idx || !valid_idx || !xb || !dout || !grad || !best) { st = CS_ERR_NOMEM; goto done; }
    if (cs_mlp_work_alloc(&work, net, B) != CS_OK) { st = CS_ERR_NOMEM; goto done; }
    have_work = 1;
    if (cs_adam_alloc(&opt, net->n_params, set->learning_rate, 0.9, 0.999, 1e-8,
                      set->weight_decay) != CS_OK) { st = CS_ERR_NOMEM; goto done; }
    have_opt = 1;
    if (cs_adam_alloc(&opt_base, q, set->learning_rate, 0.9, 0.999, 1e-8, 0.0) != CS_OK) {
        st = CS_ERR_NOMEM; goto done;
    }
    have_opt_base = 1;
    for (int i = 0, a = 0, b = 0; i < n; i++) {
        if (valid[i]) valid_idx[b++] = i; else train_idx[a++] = i;
    }
    cs_rng rng;
    seed = cs_rng_derive_seed(seed, SURV_STREAM_TAG + 1);
    cs_rng_init(&rng, seed, 0);
    cs_mlp_init_params(net, &rng);
    st = start_at_crude_rates(m, n, arm, time, event, valid);
    if (st != CS_OK) goto done;
    memcpy(best, net->params, sizeof(double) * (size_t) net->n_params);
    memcpy(best + net->n_params, m->baseline, sizeof(double) * (size_t) q);

    double best_loss = INFINITY;
    int since_best = 0, e;
    *best_epoch = 0;
    for (e = 0; e < set->epochs; e++) {
        cs_rng_init(&rng, seed, 1 + (uint64_t) e);
        cs_rng_shuffle(&rng, train_idx, n_train);
        double train_loss = 0.0;
        for (int start = 0; start < n_train; start += B) {
            int rows = n_train - start < B ? n_train - start : B;
            gather_rows(F, D, train_idx + start, rows, xb);
            const double *o = cs_mlp_forward(net, &work, xb, rows);
            memset(grad, 0, sizeof(double) * (size_t) (net->n_params + q));
            for (int r = 0; r < rows; r++) {
                int i = train_idx[start + r];
                cs_surv_expand(m, o + (size_t) r * CS_SURV_SCORES, lh);
                memset(glh, 0, sizeof(double) * (size_t) q);
                train_loss += row_loss(m, lh, arm[i], time[i], event[i], glh);
                for (int k = 0; k < q; k++) gbase[k] += glh[k] / rows;
                double *d = dout + (size_t) r * CS_SURV_SCORES;
                collapse(m, glh, d);
                for (int k = 0; k < CS_SURV_SCORES; k++) d[k] /= rows;
            }
            cs_mlp_backward(net, &work, xb, rows, dout, grad, NULL);
            cs_adam_step(&opt, net->params, grad);
            cs_adam_step(&opt_base, m->baseline, gbase);
        }
        train_loss /= n_train;
        double valid_loss = NAN;
        if (n_valid > 0) {
            valid_loss = 0.0;
            for (int start = 0; start < n_valid; start += B) {
                int rows = n_valid - start < B ? n_valid - start : B;
                gather_rows(F, D, valid_idx + start, rows, xb);
                const double *o = cs_mlp_forward(net, &work, xb, rows);
                for (int r = 0; r < rows; r++) {
                    int i = valid_idx[start + r];
                    cs_surv_expand(m, o + (size_t) r * CS_SURV_SCORES, lh);
                    valid_loss += row_loss(m, lh, arm[i], time[i], event[i], NULL);
                }
            }
            valid_loss /= n_valid;
        }
        history[2 * e] = train_loss;
        history[2 * e + 1] = valid_loss;
        double watched = n_valid > 0 ? valid_loss : train_loss;
        if (!isfinite(watched)) { st = CS_ERR_NONFINITE; e++; break; }
        if (watched < best_loss) {
            best_loss = watched;
            *best_epoch = e + 1;
            since_best = 0;
            memcpy(best, net->params, sizeof(double) * (size_t) net->n_params);
            memcpy(best + net->n_params, m->baseline, sizeof(double) * (size_t) q);
        } else if (++since_best >= set->patience) {
            e++;
            break;
        }
        if (interrupt && interrupt()) { st = CS_ERR_INTERRUPTED; e++; break; }
    }
    *epochs_run = e;
    memcpy(net->params, best, sizeof(double) * (size_t) net->n_params);
    memcpy(m->baseline, best + net->n_params, sizeof(double) * (size_t) q);
done:
    if (have_work) cs_mlp_work_free(&work);
    if (have_opt) cs_adam_free(&opt);
    if (have_opt_base) cs_adam_free(&opt_base);
    free(train_idx); free(valid_idx); free(xb); free(dout); free(grad); free(best);
    return st;
}

/* Inverse of g(S) = S + a S (1 - S) on [0, 1] (|a| <= 1): the root written without
 * cancellation for small a. */
static double confounded_level(double u, double a)
{
    double b = 1.0 + a;
    return 2.0 * u / (b + sqrt(b * b - 4.0 * a * u));
}

/* Features of row i of the column-major n x p matrix x and n x m matrix miss; row is scratch
 * of p + m doubles. */
static void gather_features(const cs_table_spec *spec, int n, int i, const double *x,
                            const double *miss, double *row, double *f)
{
    for (int j = 0; j < spec->p; j++) row[j] = x[i + (size_t) n * j];
    for (int j = 0; j < spec->m; j++) row[spec->p + j] = miss[i + (size_t) n * j];
    cs_features_row(spec, row, row + spec->p, f);
}

/* Rows per thread below which a parallel region costs more than it saves. */
#define SURV_THREAD_ROWS 2048

/* Scratch of a row loop over n rows of a network with D inputs and widest layer `width`:
 * *per doubles for each of the *nt threads the loop will use; NULL when out of memory. */
static double *row_scratch(int threads, int n, int D, int width, int *nt, size_t *per)
{
    *nt = cs_threads_for(threads, n, SURV_THREAD_ROWS);
    *per = (size_t) D + CS_SURV_SCORES + 2 * (size_t) width;
    return malloc(sizeof(double) * *per * (size_t) *nt);
}

/* A baseline hazard on a grid as exp(baseline log hazards) and its cumulative values at the
 * interval starts, so that a row's cumulative hazard is a multiple of it and inverting it
 * needs no exponential per interval. */
typedef struct {
    int J;
    const double *cut;
    double hazard[256], start[256];
} baseline_curve;

static void baseline_make(baseline_curve *b, const double *lh, const double *cut, int J)
{
    b->J = J;
    b->cut = cut;
    double acc = 0.0;
    for (int j = 0; j < J; j++) {
        b->hazard[j] = exp(lh[j]);
        b->start[j] = acc;
        if (j + 1 < J) acc += b->hazard[j] * (cut[j + 1] - cut[j]);
    }
}

static double baseline_cumhaz(const baseline_curve *b, double s)
{
    int j = b->J - 1;
    while (j > 0 && s < b->cut[j]) j--;
    return b->start[j] + b->hazard[j] * (s - b->cut[j]);
}

/* The time at which the baseline cumulative hazard reaches h >= 0. */
static double baseline_inverse(const baseline_curve *b, double h)
{
    int j = b->J - 1;
    while (j > 0 && h < b->start[j]) j--;
    return b->cut[j] + (h - b->start[j]) / b->hazard[j];
}

cs_status cs_surv_draw(const cs_surv_model *m, int n, const double *const risk[CS_SURV_SCORES],
                       const double *ps, const cs_surv_knobs *kn, uint64_t seed,
                       uint64_t offset, int threads, int *arm, double *time, int *event,
                       double *t0, double *t1, double *c, double *s0, double *s1, double *lp)
{
    if (cs_surv_outputs(m) > 256) return CS_ERR_ARGUMENT;
    int Je = m->J_event, Jc = m->J_censor;
    baseline_curve event0, censor[2];
    baseline_make(&event0, m->baseline, m->cut_event, Je);
    baseline_make(&censor[0], m->baseline + 2 * Je, m->cut_censor, Jc);
    baseline_make(&censor[1], m->baseline + 2 * Je + Jc, m->cut_censor, Jc);
    double beta_base = 0.0;
    for (int j = 0; j < Je; j++) beta_base += m->baseline[Je + j] - m->baseline[j];
    beta_base /= Je;
    double base_horizon = baseline_cumhaz(&event0, kn->horizon);
    /* the linear predictor without the row's scores: lp = shift + h (risk1 - risk0) */
    double shift = kn->intercept + kn->heterogeneity * (beta_base - kn->beta_bar);
    /* streams of their own, apart from those of the covariate and treatment draws */
    seed = cs_rng_derive_seed(seed, SURV_STREAM_TAG);
#ifdef _OPENMP
    int nt = cs_threads_for(threads, n, SURV_THREAD_ROWS);
#pragma omp parallel for schedule(static) num_threads(nt)
#else
    (void) threads;
#endif
    for (int i = 0; i < n; i++) {
        /* beta(x): the mean over event intervals of the arms' log hazard difference */
        double l = kn->effect ? kn->effect[i] :
            shift + kn->heterogeneity * (risk[1][i] - risk[0][i]);
        double r = exp(l), e0 = exp(risk[0][i]);
        double H = e0 * base_horizon;
        cs_rng rng;
        cs_rng_init(&rng, seed, offset + (uint64_t) i);
        double u_arm = cs_rng_unif(&rng), u_event = cs_rng_unif(&rng);
        double u_censor = cs_rng_unif(&rng);
        int a = u_arm < ps[i];
        double kappa = kn->kappa_rows ? kn->kappa_rows[i] : kn->kappa;
        double conf = a ? kappa * (1.0 - ps[i]) : -kappa * ps[i];
        /* cumulative hazard the row's event time reaches, on the control arm's scale */
        double level = conf == 0.0 ? u_event : confounded_level(u_event, conf);
        double target = -log(level) / e0;
        double T0 = baseline_inverse(&event0, target);
        double T1 = baseline_inverse(&event0, target / r);
        double C = baseline_inverse(&censor[a], -log(u_censor) / exp(risk[2 + a][i]));
        if (C > m->end) C = m->end;
        double T = a ? T1 : T0;
        arm[i] = a;
        time[i] = T <= C ? T : C;
        event[i] = T <= C;
        t0[i] = T0; t1[i] = T1; c[i] = C;
        double S0 = exp(-H);
        s0[i] = S0;
        /* S1 = S0^r, one exponential saved when the hazard ratio is 1 */
        s1[i] = r == 1.0 ? S0 : exp(-r * H);
        lp[i] = l;
    }
    return CS_OK;
}

cs_status cs_surv_features(const cs_table_spec *spec, int n, const double *x,
                           const double *miss, double *F)
{
    int D = cs_feature_width(spec);
    double *row = malloc(sizeof(double) * (size_t) (spec->p + spec->m + 1));
    if (!row) return CS_ERR_NOMEM;
    for (int i = 0; i < n; i++) gather_features(spec, n, i, x, miss, row, F + (size_t) i * D);
    free(row);
    return CS_OK;
}

cs_status cs_surv_predict(const cs_surv_model *m, const cs_table_spec *spec, int n,
                          const double *x, const double *miss, int threads, double *out)
{
    const cs_mlp *net = &m->net;
    int D = net->sizes[0], q = cs_surv_outputs(m), width = 0;
    for (int l = 0; l <= net->n_layers; l++) if (net->sizes[l] > width) width = net->sizes[l];
    if (cs_feature_width(spec) != D) return CS_ERR_ARGUMENT;
    int nt;
    size_t per;
    double *scratch = row_scratch(threads, n, D, width, &nt, &per);
    if (!scratch) return CS_ERR_NOMEM;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(nt)
#endif
    for (int i = 0; i < n; i++) {
        double *f = scratch + per * (size_t) cs_thread_num();
        double *risk = f + D, *sc = risk + CS_SURV_SCORES;
        gather_features(spec, n, i, x, miss, sc, f);
        cs_mlp_forward_one(net, f, risk, sc);
        cs_surv_expand(m, risk, out + (size_t) i * q);
    }
    free(scratch);
    return CS_OK;
}
