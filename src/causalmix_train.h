/* CausalMix engine: a VAE over mixed-type covariates with a learned mixture-of-Gaussians prior,
 * a propensity network and a two-headed outcome network, trained jointly on mini-batches.
 *
 * Covariates arrive as an n x p column-major matrix in the schema's encoding (raw values for
 * numeric columns, integer codes for binary/categorical, NA already replaced by the fill value)
 * plus an n x m matrix of missingness indicators. The networks see "features": standardised
 * numeric columns, 0/1 binary codes, one-hot categoricals and the missingness indicators. */
#ifndef CS_CAUSALMIX_TRAIN_H
#define CS_CAUSALMIX_TRAIN_H

#include "fields.h"
#include "nn.h"
#include "rng.h"
#include "status.h"

/* Column type codes (same as type_code() in R). */
enum { CS_COL_CONTINUOUS = 0, CS_COL_COUNT = 1, CS_COL_SEMICONTINUOUS = 2,
       CS_COL_BINARY = 3, CS_COL_CATEGORICAL = 4 };

/* Soft bound on log-variances: lv = CS_LV_BOUND * tanh(raw / CS_LV_BOUND). */
#define CS_LV_BOUND 7.0

/* The point masses of a transformed outcome as the training sees them: the rows
 * at atom a all have the score score[a] (increasing in a), while the scores that decode to
 * its value span [lower[a], upper[a]] (infinite at the ends of the range). Such rows are
 * fitted by the Gaussian's mass on that interval, not by a density at one score, which would
 * reward shrinking the variance of rows believed to be at a mass without limit. */
typedef struct {
    int n;
    const double *score, *lower, *upper;
} cs_atoms;

/* Description of the covariate table (all arrays borrowed, length p unless stated). */
typedef struct {
    int p;                    /* covariates */
    int m;                    /* covariates with a missingness indicator */
    const int *type;          /* CS_COL_* */
    const int *n_levels;      /* levels for binary (2) / categorical (K); for a count, 0 (a
                                 discretised Gaussian head) or upper - lower + 1 (a softmax
                                 over the whole numbers lower .. upper); else 0 */
    const int *miss_index;    /* column of the indicator in the missing matrix, or -1 */
    const double *center, *scale;      /* standardisation of numeric columns */
    const double *lower, *upper;       /* observed bounds of numeric columns */
    const double *point_mass;          /* semicontinuous: value of the mass */
    const double *fill;                /* value used in place of NA */
    /* Marginal transforms, used by the draws only (NULL when no column has one; the other
     * engines get such columns already on normal scores, see marginal_map.h): column j
     * with marginal_knots[j] = k > 0 is a continuous column of scores to the networks; a
     * drawn score goes to the column's scale through knots marginal_from -> marginal_value
     * (k each, from offset marginal_start[j]) and onto the grid (grid_step[j] > 0: values
     * (grid_origin + grid_step i) / grid_scale, i = 0 .. grid_last), and the networks see
     * the score of that value again (marginal_value -> marginal_score). */
    const int *marginal_knots, *marginal_start;
    const double *marginal_from, *marginal_value, *marginal_score;
    const double *grid_scale, *grid_origin, *grid_step, *grid_last;
} cs_table_spec;

/* Decoder outputs of covariate j; widths of the encoded inputs and of the decoder output. */
int cs_head_width(const cs_table_spec *spec, int j);
int cs_feature_width(const cs_table_spec *spec);
int cs_decoder_width(const cs_table_spec *spec);
/* Features of one row: x (p raw values / codes), miss (m indicators, may be NULL when m == 0). */
void cs_features_row(const cs_table_spec *spec, const double *x, const double *miss, double *out);

/* A complete model: networks share the flat-parameter layout of nn.h. */
typedef struct {
    cs_table_spec spec;
    int latent;               /* L */
    int n_components;         /* K (1 for the N(0, I) prior) */
    cs_mlp encoder;           /* features -> 2L (means, raw log-variances) */
    cs_mlp decoder;           /* L -> decoder width */
    cs_mlp propensity;        /* features -> 1 logit */
    cs_mlp outcome;           /* features -> 2 q: per arm (logit), (mean, raw logvar) or
                                 (mass logit, mean, raw logvar) */
    int outcome_binary;       /* 1: Bernoulli outcome (q = 1); 0: numeric (q = 2 or 3) */
    int outcome_mass;         /* 1: semicontinuous outcome (q = 3): a point mass y_mass and
                                 otherwise a Gaussian truncated to [y_lower, y_upper] */
    double y_mass, y_lower, y_upper;   /* on the standardised scale of the outcome */
    int outcome_knots;        /* > 0: a transformed numeric outcome (q = 2; y_center 0,
                                 y_scale 1): the networks model normal scores s, and
                                 Y = cs_marginal_decode(outcome_from, outcome_value, s) */
    const double *outcome_from, *outcome_value;
    cs_atoms outcome_atoms;   /* a transformed outcome's atoms (training only) */
    int outcome_split;        /* 1: the outcome net is two nets side by side, one per arm
                                 (training keeps the weights between the halves at 0, so each
                                 arm stops early on its own; draws see one net) */
    int outcome_raw;          /* 1 (draws and predictions only): the outcome network's outputs
                                 are returned as they are, e.g. the risk scores of a
                                 time-to-event fit's survival network (survival_model.h) */
    double *prior;            /* K logits, K*L means (component-major), K*L log-variances */
} cs_causalmix;

int cs_prior_size(int n_components, int latent);

/* learn_prior: 0 for the fixed N(0, I) ablation */
#define CS_TRAIN_SETTINGS_FIELDS(INT, DOUBLE)                                                \
    INT(epochs) INT(batch_size) INT(patience) DOUBLE(learning_rate) DOUBLE(validation_share)  \
    DOUBLE(kl_weight) INT(learn_prior)
typedef struct {
    CS_DECLARE_FIELDS(CS_TRAIN_SETTINGS_FIELDS)
    uint64_t seed;
} cs_train_settings;

/* Per-epoch report: losses has 6 values (train and held-out loss for vae, propensity,
 * outcome; held-out NaN when there is no held-out set). */
typedef void (*cs_train_progress_fn)(void *context, int epoch, const double *losses);

/* Trains all parameters of `model` in place (they must be initialised by the caller or by
 * cs_causalmix_init). x: n x p, miss: n x m, t, y: n. history: epochs x 6 column-major,
 * filled up to *epochs_run rows (the outcome's loss summed over the arms). best_epoch and
 * best_loss: 4 values, the epoch of the kept weights and its monitored loss per row for the
 * VAE, the propensity and the outcome of the control and of the treated arm (with an
 * outcome net that is not split, the third is both arms' and the fourth repeats its epoch).
 * threads: OpenMP threads (two at most are used: each batch is worked on in two halves; results
 * do not depend on it). A multithreaded BLAS is kept on one thread while training runs. */
cs_status cs_causalmix_train(cs_causalmix *model, const cs_train_settings *set, int n,
                             const double *x, const double *miss, const double *t,
                             const double *y, int threads, double *history, int *epochs_run,
                             int *best_epoch, double *best_loss, cs_interrupt_fn interrupt,
                             cs_train_progress_fn progress, void *progress_context);

/* Random initialisation of every network and of the prior from `seed`. */
void cs_causalmix_init(cs_causalmix *model, uint64_t seed);

#endif
