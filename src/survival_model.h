/* Time-to-event outcome model of a CausalMix fit: for each arm the law of the event time
 * T(t) | x and of the censoring time C | x, both with piecewise-constant hazards on a grid of
 * intervals (a piecewise-exponential law), the log hazards of every interval given by one
 * dense network of the covariate features. Trained on the censored likelihood, with
 * censoring independent of the event time given x and the arm.
 *
 * Times are on the engine's scale (the R side divides them by a time unit). Interval j of a
 * grid `cut` of J intervals is [cut[j], cut[j + 1]) for j < J - 1 and [cut[J - 1], inf) for the
 * last; cut[0] = 0. Log hazards, in order: event of arm 0 (J_event), of arm 1 (J_event),
 * censoring of arm 0 (J_censor), of arm 1 (J_censor). Each is a learned baseline of its
 * interval plus one of four risk scores of x given by the network (event arm 0, event arm 1,
 * censoring arm 0, censoring arm 1): proportional hazards within each arm and law, with
 * baselines free per arm, so the hazard ratio between arms varies over time and with x. With
 * a free function of x per interval the network fitted noise (each interval holds a few dozen
 * events) and early stopping held it near the covariate-free fit. */
#ifndef CS_SURVIVAL_MODEL_H
#define CS_SURVIVAL_MODEL_H

#include <stdint.h>
#include "fields.h"
#include "nn.h"
#include "status.h"
#include "causalmix_train.h"

typedef struct {
    int J_event, J_censor;
    const double *cut_event, *cut_censor;   /* borrowed */
    double end;        /* end of follow-up: censoring times beyond it are set to it */
    cs_mlp net;        /* features -> CS_SURV_SCORES risk scores */
    double *baseline;  /* 2 J_event + 2 J_censor baseline log hazards (borrowed) */
} cs_surv_model;

#define CS_SURV_SCORES 4

/* Log hazards (cs_surv_outputs(m)) from the four risk scores of a row. */
void cs_surv_expand(const cs_surv_model *m, const double *risk, double *lh);

#define CS_SURV_SETTINGS_FIELDS(INT, DOUBLE)                                                 \
    INT(epochs) INT(batch_size) INT(patience) DOUBLE(learning_rate) DOUBLE(weight_decay)
typedef struct {
    CS_DECLARE_FIELDS(CS_SURV_SETTINGS_FIELDS)
} cs_surv_settings;

int cs_surv_outputs(const cs_surv_model *m);

/* Trains m->net (parameters initialised here from `seed`) on rows with features F (D x n,
 * column per row), arm (0/1), time (> 0), event (0/1) and valid (1: held out). A censored row
 * at time >= m->end was censored by the end of follow-up, not by a censoring event. Keeps the
 * parameters of the epoch with the smallest held-out loss (the training loss without held-out
 * rows). history: 2 x epochs (training, held-out loss per row). */
cs_status cs_surv_train(cs_surv_model *m, int n, const double *F, const int *arm,
                        const double *time, const int *event, const int *valid,
                        const cs_surv_settings *set, uint64_t seed, cs_interrupt_fn interrupt,
                        double *history, int *epochs_run, int *best_epoch);

/* Knob settings of a draw. The treated arm's hazard is the control hazard times exp(lp(x)),
 * lp = effect[i] when effect is not NULL, else intercept + heterogeneity (beta(x) - beta_bar).
 * Confounding: S_t(s | x, A) = S + a_A S (1 - S), S = S_t(s | x), a_1 = kappa (1 - e),
 * a_0 = -kappa e, |kappa| <= 1. */
#define CS_SURV_KNOBS_FIELDS(INT, DOUBLE)                                                    \
    DOUBLE(intercept) DOUBLE(heterogeneity) DOUBLE(beta_bar) DOUBLE(kappa) DOUBLE(horizon)
typedef struct {
    CS_DECLARE_FIELDS(CS_SURV_KNOBS_FIELDS)
    const double *effect;       /* n or NULL */
    const double *kappa_rows;   /* n or NULL: kappa of each row (a confounding function) */
} cs_surv_knobs;

/* Per-row draws from the four risk scores of every row (risk[k][i]: event arm 0, event
 * arm 1, censoring arm 0, censoring arm 1; the survival network's outputs at the row's
 * covariates) and ps (e*(x)). Row i uses the random stream (seed, offset + i). Outputs (n
 * each): arm, time = min(T(arm), C), event, t0, t1, c, s0, s1 (survival at the horizon), lp
 * (conditional log HR). */
cs_status cs_surv_draw(const cs_surv_model *m, int n, const double *const risk[CS_SURV_SCORES],
                       const double *ps, const cs_surv_knobs *kn, uint64_t seed,
                       uint64_t offset, int threads, int *arm, double *time, int *event,
                       double *t0, double *t1, double *c, double *s0, double *s1, double *lp);

/* Features (D x n, column per row) of the rows of x (n x p, column-major raw encoded
 * covariates) and miss (n x m). */
cs_status cs_surv_features(const cs_table_spec *spec, int n, const double *x,
                           const double *miss, double *F);

/* Network outputs (log hazards) of rows x, miss as above: outputs x n. */
cs_status cs_surv_predict(const cs_surv_model *m, const cs_table_spec *spec, int n,
                          const double *x, const double *miss, int threads, double *out);

#endif
