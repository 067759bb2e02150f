/* CausalBGM: a Bayesian generative model with latent Z = (Z0, Z1, Z2, Z3) ~ N(0, I),
 *   covariates V ~ N(g_mean(Z), g_var(Z))          (g: all of Z)
 *   treatment  X ~ N(h_mean, h_var) or Bernoulli(logit h_mean)   (h: Z0, Z2)
 *   outcome    Y ~ N(f_mean, f_var)                (f: Z0, Z1, X; optionally also V)
 * Each network is a bnn (mean-field Gaussian weights). Its last output is a raw variance r
 * shared over the k mean outputs; output j has variance (softplus(r) + 1e-6) exp(c_j) where the
 * log-scale offsets c (k values) follow the network's parameters in the same vector.
 * Data are standardised by the caller; V is p x N (one unit per column). The treatment
 * enters f as x (the dose input) and is h's target as xt: the same 0/1 values for a binary
 * treatment; for a continuous one the caller may pass a transformed target (a normal score),
 * so that a heavy-tailed dose does not dominate h's Gaussian likelihood. */
#ifndef CS_BGM_H
#define CS_BGM_H

#include <stdint.h>
#include "bnn.h"
#include "fields.h"
#include "status.h"

/* Largest latent width Z0 + Z1 + Z2 + Z3: the moment penalty keeps a dz x dz covariance. */
#define BGM_MAX_LATENT 1024

typedef struct {
    int p, dz, d[4];      /* covariates, latent width, latent block widths */
    int binary;           /* treatment is 0/1 */
    /* f sees the (standardised) dose x and, when n_dose == 2, also asinh((x - dose_shift) /
     * dose_scale): the standardised scale of a skewed dose squeezes the range where most
     * units sit, the asinh input resolves it while x keeps the tail linear */
    int n_dose;
    double dose_shift, dose_scale;
    /* binary treatment: f reads (Z0, Z1) only and has one mean output per arm, (mu0, mu1,
     * raw variance), the likelihood of a unit using its own arm's mean; else f reads the
     * treatment as an input and outputs (mean, raw variance) */
    int arm_heads;
    /* f also reads the (standardised) covariates V, between (Z0, Z1) and the dose inputs:
     * the outcome mean need not pass all of the covariates' prognostic information through
     * the few latent dimensions Z0, Z1 */
    int f_reads_v;
    /* the outcome variance is one learned constant, exp(c_f), instead of depending on the
     * latents (and covariates): f's raw variance output is then unused */
    int f_const_var;
    bnn_net g, h, f;      /* params of each: bnn params followed by the k variance offsets */
    bnn_net e;            /* encoder V -> Z (point weights); used when has_encoder */
    int has_encoder;
    /* posterior of z given the covariates and treatment only (new units without an
     * outcome): the outcome term of bgm_neg_log_post() is left out */
    int skip_outcome;
    /* exp(-c) and sum(c) of the variance offsets, kept current by bgm_refresh_heads();
     * inv_g (p values) is owned by the caller */
    double *inv_g, inv_h, inv_f, sum_off_g, sum_off_h, sum_off_f;
} bgm_model;

/* Training settings.
 * xy_weight: weight of the treatment and outcome terms during the encoder phase.
 * init_treatment_moves_z0: in the encoder phase the treatment term's gradient also moves the
 *   Z0 codes (the published method) rather than Z2's only, which lets treatment-only
 *   information (instruments) settle in Z0, where the outcome network must then extrapolate
 *   over it.
 * cosine_decay: in the iterative phase the learning rates decay to 0 along a half cosine.
 * latent_outcome_weight: weight of the outcome likelihood in the latents' update in the
 *   iterative phase (1: the published method; 0: the latents follow the covariates and
 *   treatment only, so a unit's latent cannot absorb its own outcome noise).
 * latent_treatment_weight: the same for the treatment likelihood (1: the published method;
 *   0: a unit's latent cannot encode its own received treatment, which the outcome network
 *   would then read in place of the treatment input). */
#define BGM_SETTINGS_FIELDS(INT, DOUBLE)                                                     \
    INT(epochs) INT(batch_size) INT(init_iterations) DOUBLE(lr_nets) DOUBLE(lr_z)             \
    DOUBLE(lr_encoder) DOUBLE(kl_weight) DOUBLE(moment_weight) DOUBLE(xy_weight)              \
    INT(init_treatment_moves_z0) INT(cosine_decay) DOUBLE(latent_outcome_weight)              \
    DOUBLE(latent_treatment_weight) INT(verbose)
typedef struct {
    CS_DECLARE_FIELDS(BGM_SETTINGS_FIELDS)
} bgm_settings;

/* Training history: per epoch total, nll_v, nll_x, nll_y, kl (5 x epochs); per init record
 * (every init_every iterations) total and moment loss (2 x n_init_records). */
typedef struct {
    double *epoch_loss;
    double *init_loss;
    int init_every, n_init_records;
} bgm_history;

/* Called on the calling thread after every recorded encoder-initialisation step and every
 * epoch (phase "init" or "epoch") of member `member` (0-based) of an ensemble, whatever the
 * settings' verbose flag; the glue decides what to show. */
typedef void (*bgm_progress_fn)(void *context, int member, const char *phase, int step,
                                int total, double loss);

/* One member of an ensemble: its model (shape and networks set up by the caller on the
 * member's own parameter vectors and inv_g; the weights are initialised by the engine from
 * `seed`), its outputs and its engine seed. */
typedef struct {
    bgm_model model;
    double *Z;            /* dz x n output */
    bgm_history hist;     /* output (arrays owned by the caller) */
    uint64_t seed;
    double seconds;       /* output: wall-clock seconds of the member's training */
} bgm_member;

/* Input of f (Z0, Z1, the covariates v when f_reads_v, and the dose inputs) for latent z,
 * standardised covariates v (p values; unused unless f_reads_v) and dose x; f's input width
 * is bgm_f_width(m). */
int bgm_f_width(const bgm_model *m);
void bgm_f_input(const bgm_model *m, const double *z, const double *v, double x, double *fin);
/* Number of f's outputs (2, or 3 with arm heads), the mean of f's output `out` for
 * treatment x, and its raw variance. */
int bgm_f_out(const bgm_model *m);
double bgm_f_mean(const bgm_model *m, const double *out, double x);
double bgm_f_raw_var(const bgm_model *m, const double *out);

/* Recomputes the cached exp(-c) and sum(c) after the offsets changed. */
void bgm_refresh_heads(bgm_model *m);

/* Fills the variance offsets after network init (raw variance start = softplus^-1(1)). */
void bgm_init_offsets(bgm_model *m);

/* Initial weights of the four networks from their own streams of `seed`, unit variances. */
void bgm_init_weights(bgm_model *m, uint64_t seed, double init_sd);

/* Fits the n_members members of an ensemble: each member's weights initialised by
 * bgm_init_weights(member seed) and trained by the whole fit (encoder initialisation or
 * random latent starts, then the iterative phase; Z receives the refined latents). Each
 * member runs on one thread and depends only on its seed, so the results do not depend on
 * `threads`, the number of members trained at once. Interrupt polls and progress reports
 * happen on the calling thread only (while other threads train, it keeps polling until they
 * finish); a failed member stops the others. Returns the status of the first failed member
 * in member order (CS_ERR_INTERRUPTED after Ctrl-C). */
cs_status bgm_train_members(bgm_member *members, int n_members, const bgm_settings *s,
                            const double *V, const double *x, const double *xt,
                            const double *y, int n, int use_encoder, double init_sd,
                            int threads, cs_interrupt_fn interrupt, bgm_progress_fn progress,
                            void *progress_context);

/* Encoder codes e(V) for n units into Z (dz x n). */
cs_status bgm_encoder_codes(const bgm_model *m, const double *V, int n, double *Z);

/* Per-unit negative log posterior of z (up to a constant) with the mean weights; when grad
 * is not NULL it receives the gradient wrt z. scratch: bgm_one_scratch_size(m) doubles. */
double bgm_neg_log_post(const bgm_model *m, const double *z, const double *v, double x,
                        double xt, double y, double *scratch, double *grad);
int bgm_one_scratch_size(const bgm_model *m);

#endif
