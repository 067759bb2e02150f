/* CausalMix prediction and draws (see causalmix_draw.h).
 *
 * Rows go through in tiles of TILE rows stored lane-major (value v of row r at v * TILE + r),
 * so that every step - random numbers, network layers, sampling, outcome summaries - is a
 * loop over the rows of a tile that the compiler vectorises. A row's result is the same
 * sequence of IEEE operations whichever tile, lane, thread or build computes it: lanes past
 * the last row are computed and dropped, every network output adds its terms in input order,
 * the elementary functions come from lane_math.h, and products are never fused into additions
 * (fp_strict.h), so the AVX2 and the portable builds of the tile code agree bit for bit.
 *
 * Random numbers: row i owns the Philox stream (seed, offset + i). The 32-bit words of its
 * first blocks have fixed uses: one word per choice (mixture component, Bernoulli and
 * categorical draws, missingness), then three words per pair of Box-Muller normals (53 bits
 * for the radius, 32 for the angle; both normals are used). The rare resampling of a
 * truncated Gaussian continues the same stream after those blocks. Of the maths library the
 * draws use only sqrt and rounding, which IEEE arithmetic fixes exactly, so they do not
 * depend on its version either. */
#include "fp_strict.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "causalmix_draw.h"
#include "poll.h"
#include "simd.h"
#include "lane_math.h"
#include "marginal_map.h"
#include "truncnorm.h"
#include "threads.h"
#include "vecmath.h"


enum {
    TILE = 8,             /* rows per tile (tile_dense() is written for 8) */
    OUT_BLOCK = 4,        /* network outputs accumulated together (a register tile) */
    CHUNK_ROWS = 262144,  /* rows between two interrupt checks (about 0.1 s) */
    THREAD_ROWS = 4096,   /* fewest rows worth a thread (about 4 ms of work) */
    TILES_PER_GRAB = 32   /* tiles a thread takes at a time: a thread that lost its processor
                             for a while does not hold the others up */
};

/* ------------------------------------------------------------------ networks on tiles */

typedef struct {
    int n_in, n_out, n_blocks;   /* n_blocks = outputs / OUT_BLOCK, rounded up */
    const double *w;             /* block g, input k: the OUT_BLOCK weights of outputs 4g.. */
    const double *b;             /* biases, zero-padded to n_blocks * OUT_BLOCK */
    cs_activation act;
} tile_layer;

typedef struct {
    int n_layers;
    int width;                   /* widest padded output of a hidden layer */
    double slope;
    tile_layer layer[CS_MLP_MAX_LAYERS];
} tile_net;

static int padded(int n) { return (n + OUT_BLOCK - 1) / OUT_BLOCK * OUT_BLOCK; }

static size_t tile_net_size(const cs_mlp *net)
{
    size_t total = 0;
    for (int l = 0; l < net->n_layers; l++)
        total += (size_t) padded(net->sizes[l + 1]) * (net->sizes[l] + 1);
    return total;
}

/* Packs the weights of `net` into dst (tile_net_size() doubles); returns the end. */
static double *tile_net_pack(const cs_mlp *net, tile_net *t, double *dst)
{
    const double *w = net->params;
    t->n_layers = net->n_layers;
    t->slope = net->leaky_slope;
    t->width = 0;
    for (int l = 0; l < net->n_layers; l++) {
        int n_in = net->sizes[l], n_out = net->sizes[l + 1], n_pad = padded(n_out);
        tile_layer *ly = &t->layer[l];
        ly->n_in = n_in;
        ly->n_out = n_out;
        ly->n_blocks = n_pad / OUT_BLOCK;
        ly->act = net->act[l];
        double *pw = dst, *pb = dst + (size_t) n_pad * n_in;
        for (int g = 0; g < ly->n_blocks; g++)
            for (int k = 0; k < n_in; k++)
                for (int jj = 0; jj < OUT_BLOCK; jj++) {
                    int j = g * OUT_BLOCK + jj;
                    pw[((size_t) g * n_in + k) * OUT_BLOCK + jj] =
                        j < n_out ? w[(size_t) j * n_in + k] : 0.0;
                }
        for (int j = 0; j < n_pad; j++) pb[j] = j < n_out ? w[(size_t) n_in * n_out + j] : 0.0;
        ly->w = pw;
        ly->b = pb;
        dst = pb + n_pad;
        w += (size_t) n_in * n_out + n_out;
        if (l < net->n_layers - 1 && n_pad > t->width) t->width = n_pad;
    }
    return dst;
}

#if defined(__GNUC__)
typedef double vec2 __attribute__((vector_size(2 * sizeof(double))));
typedef double vec4 __attribute__((vector_size(4 * sizeof(double))));

/* OUTPUTS x TILE sums held in registers as vectors of 4 lanes (AVX2: 8 registers) or of 2
 * lanes (SSE2: 2 outputs at a time, 8 registers); each lane adds the same terms in the same
 * order either way. */
CS_LANE_INLINE void dense_block_vec4(const double *w, const double *b, int n_in,
                                     const double *in, double *o)
{
    vec4 a00 = { b[0], b[0], b[0], b[0] }, a01 = a00, a10 = { b[1], b[1], b[1], b[1] }, a11 = a10;
    vec4 a20 = { b[2], b[2], b[2], b[2] }, a21 = a20, a30 = { b[3], b[3], b[3], b[3] }, a31 = a30;
    for (int k = 0; k < n_in; k++) {
        vec4 x0, x1;
        memcpy(&x0, in + (size_t) k * TILE, sizeof x0);
        memcpy(&x1, in + (size_t) k * TILE + 4, sizeof x1);
        const double *wk = w + (size_t) k * OUT_BLOCK;
        vec4 w0 = { wk[0], wk[0], wk[0], wk[0] }, w1 = { wk[1], wk[1], wk[1], wk[1] };
        vec4 w2 = { wk[2], wk[2], wk[2], wk[2] }, w3 = { wk[3], wk[3], wk[3], wk[3] };
        a00 += w0 * x0; a01 += w0 * x1;
        a10 += w1 * x0; a11 += w1 * x1;
        a20 += w2 * x0; a21 += w2 * x1;
        a30 += w3 * x0; a31 += w3 * x1;
    }
    memcpy(o, &a00, sizeof a00); memcpy(o + 4, &a01, sizeof a01);
    memcpy(o + TILE, &a10, sizeof a10); memcpy(o + TILE + 4, &a11, sizeof a11);
    memcpy(o + 2 * TILE, &a20, sizeof a20); memcpy(o + 2 * TILE + 4, &a21, sizeof a21);
    memcpy(o + 3 * TILE, &a30, sizeof a30); memcpy(o + 3 * TILE + 4, &a31, sizeof a31);
}

CS_LANE_INLINE void dense_block_vec2(const double *w, const double *b, int n_in,
                                     const double *in, double *o)
{
    for (int h = 0; h < OUT_BLOCK; h += 2) {
        vec2 a00 = { b[h], b[h] }, a01 = a00, a02 = a00, a03 = a00;
        vec2 a10 = { b[h + 1], b[h + 1] }, a11 = a10, a12 = a10, a13 = a10;
        for (int k = 0; k < n_in; k++) {
            vec2 x0, x1, x2, x3;
            const double *xk = in + (size_t) k * TILE, *wk = w + (size_t) k * OUT_BLOCK + h;
            memcpy(&x0, xk, sizeof x0);
            memcpy(&x1, xk + 2, sizeof x1);
            memcpy(&x2, xk + 4, sizeof x2);
            memcpy(&x3, xk + 6, sizeof x3);
            vec2 w0 = { wk[0], wk[0] }, w1 = { wk[1], wk[1] };
            a00 += w0 * x0; a01 += w0 * x1; a02 += w0 * x2; a03 += w0 * x3;
            a10 += w1 * x0; a11 += w1 * x1; a12 += w1 * x2; a13 += w1 * x3;
        }
        double *oh = o + (size_t) h * TILE;
        memcpy(oh, &a00, sizeof a00); memcpy(oh + 2, &a01, sizeof a01);
        memcpy(oh + 4, &a02, sizeof a02); memcpy(oh + 6, &a03, sizeof a03);
        memcpy(oh + TILE, &a10, sizeof a10); memcpy(oh + TILE + 2, &a11, sizeof a11);
        memcpy(oh + TILE + 4, &a12, sizeof a12); memcpy(oh + TILE + 6, &a13, sizeof a13);
    }
}
#endif

/* One layer: in holds n_in x TILE values, out receives n_blocks * OUT_BLOCK x TILE. wide:
 * 4-lane vectors (a constant once inlined into each build). */
CS_LANE_INLINE void tile_dense(const tile_layer *ly, double slope, const double *in, double *out,
                               int wide)
{
    int n_in = ly->n_in;
    for (int g = 0; g < ly->n_blocks; g++) {
        const double *w = ly->w + (size_t) g * n_in * OUT_BLOCK, *b = ly->b + g * OUT_BLOCK;
        double *o = out + (size_t) g * OUT_BLOCK * TILE;
#if defined(__GNUC__)
        if (wide) dense_block_vec4(w, b, n_in, in, o);
        else dense_block_vec2(w, b, n_in, in, o);
#else
        (void) wide;
        for (int jj = 0; jj < OUT_BLOCK; jj++)
            for (int r = 0; r < TILE; r++) o[jj * TILE + r] = b[jj];
        for (int k = 0; k < n_in; k++) {
            const double *x = in + (size_t) k * TILE, *wk = w + (size_t) k * OUT_BLOCK;
            for (int jj = 0; jj < OUT_BLOCK; jj++)
                for (int r = 0; r < TILE; r++) o[jj * TILE + r] += wk[jj] * x[r];
        }
#endif
        switch (ly->act) {
        case CS_ACT_IDENTITY: break;
        case CS_ACT_LEAKY_RELU:
            CS_LANES
            for (int u = 0; u < OUT_BLOCK * TILE; u++) {
                double leak = o[u] * slope;
                o[u] = o[u] < 0.0 ? leak : o[u];
            }
            break;
        case CS_ACT_RELU:
            CS_LANES
            for (int u = 0; u < OUT_BLOCK * TILE; u++) o[u] = o[u] < 0.0 ? 0.0 : o[u];
            break;
        default:
            CS_LANES
            for (int u = 0; u < OUT_BLOCK * TILE; u++) o[u] = cs_activate(ly->act, o[u], slope);
        }
    }
}

/* The whole network: in (n_in x TILE) -> out (padded outputs x TILE); hidden holds
 * 2 * width * TILE doubles. */
CS_LANE_INLINE void tile_forward(const tile_net *net, const double *in, double *hidden,
                                 double *out, int wide)
{
    const double *src = in;
    for (int l = 0; l < net->n_layers; l++) {
        double *dst = l == net->n_layers - 1 ? out : hidden + (size_t) (l % 2) * net->width * TILE;
        tile_dense(&net->layer[l], net->slope, src, dst, wide);
        src = dst;
    }
}

/* ------------------------------------------------------------------ the plan of a call */

typedef struct {
    int type, levels;
    int head;            /* first decoder output of the column */
    int feature;         /* first network feature */
    int miss;            /* missingness indicator, or -1 */
    int unif, norm;      /* uniform and normal slots, or -1 */
    double center, scale, lower, upper, point_mass, fill;
    double std_lower, std_upper;   /* bounds on the standardised scale */
    int knots;                     /* marginal transform (see marginal_map.h): knots, or 0 */
    cs_marginal_column marginal;   /* the transform with its knot indexes */
} column_plan;

typedef struct {
    int p, m, L, K, D, W;
    int q2, binary, mass, raw, n_res;
    double y_center, y_scale;
    double y_mass, y_lower, y_upper;   /* semicontinuous outcome, standardised */
    int y_knots;                       /* transformed outcome: knots, or 0 */
    const double *y_from, *y_value;
    tile_net dec, prop, out;
    column_plan *col;
    const double *z_mean;       /* K x L latent means of the mixture components */
    double *z_sd;               /* K x L latent standard deviations */
    double *comp_cum;           /* cumulative weights of the components */
    int comp_last;              /* last component with a positive weight */
    int comp_unif, miss_unif, miss_head;
    int n_plain, n_norm, n_blocks;   /* choice words, normals (even), Philox blocks per row */
    int kmax;
    double *block;              /* owns z_sd, comp_cum and the packed networks */
    int *knot_index;            /* owns the entries of the columns' knot indexes */
} draw_plan;

static void plan_free(draw_plan *pl)
{
    free(pl->block);
    free(pl->col);
    free(pl->knot_index);
    pl->block = NULL;
    pl->col = NULL;
    pl->knot_index = NULL;
}

static cs_status plan_make(const cs_causalmix *mdl, double y_center, double y_scale,
                           draw_plan *pl)
{
    const cs_table_spec *s = &mdl->spec;
    memset(pl, 0, sizeof(*pl));
    pl->p = s->p;
    pl->m = s->m;
    pl->L = mdl->latent;
    pl->K = mdl->n_components;
    pl->D = cs_feature_width(s);
    pl->W = cs_decoder_width(s);
    pl->binary = mdl->outcome_binary;
    pl->mass = !mdl->outcome_binary && mdl->outcome_mass;
    pl->q2 = mdl->outcome_binary ? 2 : pl->mass ? 6 : 4;
    pl->n_res = cs_outcome_summaries(mdl);
    pl->y_knots = !mdl->outcome_binary && !pl->mass ? mdl->outcome_knots : 0;
    pl->y_from = mdl->outcome_from;
    pl->y_value = mdl->outcome_value;
    /* raw outputs: as many as the summaries after the propensity logit */
    pl->raw = mdl->outcome_raw;
    if (pl->raw) {
        if (mdl->outcome.sizes[mdl->outcome.n_layers] != CS_SUMMARIES - 1) return CS_ERR_ARGUMENT;
        pl->binary = pl->mass = pl->y_knots = 0;
        pl->q2 = CS_SUMMARIES - 1;
    }
    pl->y_mass = mdl->y_mass;
    pl->y_lower = mdl->y_lower;
    pl->y_upper = mdl->y_upper;
    pl->y_center = y_center;
    pl->y_scale = y_scale;
    int K = pl->K, L = pl->L;
    size_t total = (size_t) K * L + K + tile_net_size(&mdl->decoder) +
                   tile_net_size(&mdl->propensity) + tile_net_size(&mdl->outcome);
    size_t index_entries = 0;
    for (int j = 0; j < s->p; j++)
        if (s->marginal_knots && s->marginal_knots[j] > 0)
            index_entries += 2 * cs_knot_index_entries(s->marginal_knots[j]);
    pl->block = malloc(sizeof(double) * total);
    pl->col = malloc(sizeof(column_plan) * (size_t) s->p);
    pl->knot_index = index_entries ? malloc(sizeof(int) * index_entries) : NULL;
    if (!pl->block || !pl->col || (index_entries && !pl->knot_index)) {
        plan_free(pl);
        return CS_ERR_NOMEM;
    }
    pl->z_sd = pl->block;
    pl->comp_cum = pl->z_sd + (size_t) K * L;
    double *dst = pl->comp_cum + K;
    dst = tile_net_pack(&mdl->decoder, &pl->dec, dst);
    dst = tile_net_pack(&mdl->propensity, &pl->prop, dst);
    tile_net_pack(&mdl->outcome, &pl->out, dst);

    /* the mixture prior is the same for every row: weights and spreads once */
    const double *logit = mdl->prior, *logvar = mdl->prior + K + K * L;
    pl->z_mean = mdl->prior + K;
    for (int u = 0; u < K * L; u++) pl->z_sd[u] = cs_lane_exp(0.5 * logvar[u]);
    double mx = logit[0], cum = 0.0;
    for (int k = 1; k < K; k++) if (logit[k] > mx) mx = logit[k];
    for (int k = 0; k < K; k++) {
        double wk = cs_lane_exp(logit[k] - mx);
        cum += wk;
        pl->comp_cum[k] = cum;
        if (wk > 0.0) pl->comp_last = k;
    }

    /* random-number slots and offsets, in column order */
    int n_plain = 0, n_norm = L, head = 0, feature = 0, *entries = pl->knot_index;
    pl->comp_unif = K > 1 ? n_plain++ : -1;
    pl->kmax = 1;
    for (int j = 0; j < s->p; j++) {
        column_plan *c = &pl->col[j];
        c->type = s->type[j];
        c->levels = s->n_levels[j];
        c->head = head;
        c->feature = feature;
        c->miss = s->miss_index[j];
        c->unif = c->norm = -1;
        c->center = s->center[j];
        c->scale = s->scale[j];
        c->lower = s->lower[j];
        c->upper = s->upper[j];
        c->point_mass = s->point_mass[j];
        c->fill = s->fill[j];
        c->std_lower = (c->lower - c->center) / c->scale;
        c->std_upper = (c->upper - c->center) / c->scale;
        c->knots = s->marginal_knots ? s->marginal_knots[j] : 0;
        if (c->knots > 0) {
            size_t at = (size_t) s->marginal_start[j];
            cs_marginal_column *mc = &c->marginal;
            mc->k = c->knots;
            mc->from = s->marginal_from + at;
            mc->value = s->marginal_value + at;
            mc->score = s->marginal_score + at;
            mc->grid_scale = s->grid_scale[j];
            mc->grid_origin = s->grid_origin[j];
            mc->grid_step = s->grid_step[j];
            mc->grid_last = s->grid_last[j];
            cs_knot_index_build(mc->from, mc->k, entries, &mc->from_index);
            entries += cs_knot_index_entries(mc->k);
            cs_knot_index_build(mc->value, mc->k, entries, &mc->value_index);
            entries += cs_knot_index_entries(mc->k);
        }
        int softmax = c->type == CS_COL_CATEGORICAL || (c->type == CS_COL_COUNT && c->levels > 0);
        switch (c->type) {
        case CS_COL_CONTINUOUS: c->norm = n_norm++; break;
        case CS_COL_COUNT:
            if (softmax) c->unif = n_plain++;
            else c->norm = n_norm++;
            break;
        case CS_COL_SEMICONTINUOUS: c->unif = n_plain++; c->norm = n_norm++; break;
        default: c->unif = n_plain++;
        }
        if (softmax && c->levels > pl->kmax) pl->kmax = c->levels;
        head += cs_head_width(s, j);
        feature += c->type == CS_COL_CATEGORICAL ? c->levels : 1;
    }
    pl->miss_unif = n_plain;
    pl->miss_head = head;
    n_plain += s->m;
    n_norm += n_norm % 2;
    pl->n_plain = n_plain;
    pl->n_norm = n_norm;
    pl->n_blocks = (n_plain + 3 * (n_norm / 2) + 3) / 4;
    return CS_OK;
}

/* ------------------------------------------------------------------ per-thread work space */

typedef struct {
    uint32_t *words;  /* 4 n_blocks x TILE words of the rows' streams */
    double *u;        /* n_plain x TILE uniforms for choices */
    double *z;        /* n_norm x TILE normals */
    double *latent;   /* L x TILE */
    double *dec;      /* padded W x TILE decoder outputs */
    double *x;        /* p x TILE encoded covariates (scores for a marginal transform) */
    double *xval;     /* p x TILE values of the columns with a marginal transform */
    double *miss;     /* m x TILE indicators */
    double *feat;     /* D x TILE features */
    double *hidden;   /* 2 x widest hidden layer x TILE */
    double *prop;     /* OUT_BLOCK x TILE propensity logits */
    double *head;     /* padded q2 x TILE outcome heads */
    double *cat;      /* (kmax + 4) x TILE categorical scratch */
    double *res;      /* n_res x TILE summaries */
    cs_rng more[TILE];      /* the rest of each row's stream, opened when needed */
    int more_open[TILE];
} tile_work;

static int hidden_width(const draw_plan *pl)
{
    int width = pl->dec.width;
    if (pl->prop.width > width) width = pl->prop.width;
    if (pl->out.width > width) width = pl->out.width;
    return width;
}

/* Doubles of one thread's work space (the words take half a double each). */
static size_t work_size(const draw_plan *pl)
{
    size_t rows = 2 * (size_t) pl->n_blocks + pl->n_plain + pl->n_norm + pl->L +
                  padded(pl->W) + 2 * (size_t) pl->p + pl->m + pl->D + 2 * (size_t) hidden_width(pl) +
                  OUT_BLOCK + padded(pl->q2) + pl->kmax + 4 + pl->n_res;
    return rows * TILE;
}

static void work_bind(const draw_plan *pl, double *buf, tile_work *w)
{
    int width = hidden_width(pl);
    w->words = (uint32_t *) buf;
    w->u = buf + (size_t) 2 * pl->n_blocks * TILE;
    w->z = w->u + (size_t) pl->n_plain * TILE;
    w->latent = w->z + (size_t) pl->n_norm * TILE;
    w->dec = w->latent + (size_t) pl->L * TILE;
    w->x = w->dec + (size_t) padded(pl->W) * TILE;
    w->xval = w->x + (size_t) pl->p * TILE;
    w->miss = w->xval + (size_t) pl->p * TILE;
    w->feat = w->miss + (size_t) pl->m * TILE;
    w->hidden = w->feat + (size_t) pl->D * TILE;
    w->prop = w->hidden + (size_t) 2 * width * TILE;
    w->head = w->prop + (size_t) OUT_BLOCK * TILE;
    w->cat = w->head + (size_t) padded(pl->q2) * TILE;
    w->res = w->cat + (size_t) (pl->kmax + 4) * TILE;
}

/* ------------------------------------------------------------------ tile steps */

CS_LANE_INLINE double bound_lv(double raw)
{
    return CS_LV_BOUND * cs_lane_tanh(raw / CS_LV_BOUND);
}

/* Index drawn with cumulative weights cum (cum[k - 1] the total) for target = u * total:
 * the number of cumulative weights at or below the target, never past the last positive
 * weight (the choice of cs_rng_categorical() for the same uniform). */
CS_LANE_INLINE int pick_index(const double *cum, int k, int last, double target)
{
    int idx = 0;
    for (int c = 0; c < k - 1; c++) idx += cum[c] <= target;
    return idx < last ? idx : last;
}

/* A Gaussian truncated to [a, b] whose first proposal was rejected: an exact draw from the
 * rest of the row's stream (truncnorm.h), so that the values follow the truncated law the
 * decoder was fitted to, even where the interval holds little of the Gaussian's mass. */
static double truncated_retry(cs_rng *rng, double mu, double sd, double a, double b)
{
    double v = mu + sd * cs_truncnorm_draw(rng, (a - mu) / sd, (b - mu) / sd);
    v = v < a ? a : v;   /* against the rounding of mu + sd z */
    return v > b ? b : v;
}

static cs_rng *rest_of_stream(const draw_plan *pl, tile_work *w, uint64_t seed, uint64_t first,
                              int r)
{
    if (!w->more_open[r]) {
        cs_rng_init_at(&w->more[r], seed, first + (uint64_t) r, (uint64_t) pl->n_blocks);
        w->more_open[r] = 1;
    }
    return &w->more[r];
}

/* Square roots of a tile's lanes in place, in a loop of their own: with errno set by sqrt()
 * (the C default) the call does not vectorise, and it must not stop the loops around it. */
CS_LANE_INLINE void lane_sqrt(double *v)
{
    for (int r = 0; r < TILE; r++) v[r] = sqrt(v[r]);
}

/* The fixed words of every row of the tile, the choice uniforms, and the normals. */
CS_LANE_INLINE void tile_random(const draw_plan *pl, tile_work *w, uint64_t seed, uint64_t first)
{
    uint32_t k0 = (uint32_t) seed, k1 = (uint32_t) (seed >> 32);
    for (int b = 0; b < pl->n_blocks; b++) {
        uint32_t *word = w->words + (size_t) 4 * b * TILE;
        CS_LANES
        for (int r = 0; r < TILE; r++) {
            uint64_t index = first + (uint64_t) r;
            uint32_t c0 = (uint32_t) index, c1 = (uint32_t) (index >> 32);
            uint32_t c2 = (uint32_t) b, c3 = 0;
            cs_philox4x32_10_rounds(&c0, &c1, &c2, &c3, k0, k1);
            word[r] = c0;
            word[TILE + r] = c1;
            word[2 * TILE + r] = c2;
            word[3 * TILE + r] = c3;
        }
    }
    CS_LANES
    for (int u = 0; u < pl->n_plain * TILE; u++) w->u[u] = cs_rng_unif32_from(w->words[u]);
    const uint32_t *pairs = w->words + (size_t) pl->n_plain * TILE;
    for (int q = 0; q < pl->n_norm / 2; q++) {
        const uint32_t *w0 = pairs + (size_t) 3 * q * TILE, *w1 = w0 + TILE, *w2 = w1 + TILE;
        double *z0 = w->z + (size_t) 2 * q * TILE, *z1 = z0 + TILE, radius[TILE];
        CS_LANES
        for (int r = 0; r < TILE; r++)
            radius[r] = -2.0 * cs_lane_log(cs_rng_unif_from(w0[r], w1[r]));
        lane_sqrt(radius);
        CS_LANES
        for (int r = 0; r < TILE; r++) {
            double c, s;
            cs_lane_sincos_2pi(cs_rng_unif32_from(w2[r]), &c, &s);
            z0[r] = radius[r] * c;
            z1[r] = radius[r] * s;
        }
    }
}

/* Latent draws from the mixture prior. */
CS_LANE_INLINE void tile_latent(const draw_plan *pl, tile_work *w)
{
    int comp[TILE], L = pl->L;
    CS_LANES
    for (int r = 0; r < TILE; r++) comp[r] = 0;
    if (pl->K > 1) {
        const double *u = w->u + (size_t) pl->comp_unif * TILE;
        CS_LANES
        for (int r = 0; r < TILE; r++)
            comp[r] = pick_index(pl->comp_cum, pl->K, pl->comp_last,
                                 u[r] * pl->comp_cum[pl->K - 1]);
    }
    for (int l = 0; l < L; l++) {
        const double *z = w->z + (size_t) l * TILE;
        double *out = w->latent + (size_t) l * TILE;
        CS_LANES
        for (int r = 0; r < TILE; r++)
            out[r] = pl->z_mean[comp[r] * L + l] + pl->z_sd[comp[r] * L + l] * z[r];
    }
}

/* A truncated Gaussian on the standardised scale from the decoder's (mean, raw log-variance)
 * and the row's normal; mass: rows that take the point mass instead. */
CS_LANE_INLINE void tile_truncated(const draw_plan *pl, tile_work *w, const column_plan *c,
                                   const double *mean, const double *raw, const double *z,
                                   const int *mass, double *x, uint64_t seed, uint64_t first)
{
    double sd[TILE];
    int redo[TILE];
    double a = c->std_lower, b = c->std_upper;
    CS_LANES
    for (int r = 0; r < TILE; r++) {
        sd[r] = cs_lane_exp(0.5 * bound_lv(raw[r]));
        double v = mean[r] + sd[r] * z[r];
        int inside = (v >= a) & (v <= b);
        int at_mass = mass[r];
        double value = c->center + c->scale * v;
        x[r] = at_mass ? c->point_mass : value;
        redo[r] = !inside & !at_mass;
    }
    for (int r = 0; r < TILE; r++)
        if (redo[r])
            x[r] = c->center + c->scale * truncated_retry(rest_of_stream(pl, w, seed, first, r),
                                                          mean[r], sd[r], a, b);
}

CS_LANE_INLINE void tile_categorical(const column_plan *c, const double *h, const double *u,
                                     double *scratch, double *x)
{
    int K = c->levels, idx[TILE], last[TILE];
    double *mx = scratch, *total = mx + TILE, *cum = total + TILE, *target = cum + TILE;
    double *prob = target + TILE;
    CS_LANES
    for (int r = 0; r < TILE; r++) mx[r] = h[r];
    for (int l = 1; l < K; l++)
        CS_LANES
        for (int r = 0; r < TILE; r++) mx[r] = h[l * TILE + r] > mx[r] ? h[l * TILE + r] : mx[r];
    for (int l = 0; l < K; l++)
        CS_LANES
        for (int r = 0; r < TILE; r++) prob[l * TILE + r] = cs_lane_exp(h[l * TILE + r] - mx[r]);
    CS_LANES
    for (int r = 0; r < TILE; r++) total[r] = 0.0;
    for (int l = 0; l < K; l++)
        CS_LANES
        for (int r = 0; r < TILE; r++) total[r] += prob[l * TILE + r];
    CS_LANES
    for (int r = 0; r < TILE; r++) {
        target[r] = u[r] * total[r];
        cum[r] = 0.0;
        idx[r] = 0;
        last[r] = 0;
    }
    for (int l = 0; l < K; l++) {
        CS_LANES
        for (int r = 0; r < TILE; r++) {
            cum[r] += prob[l * TILE + r];
            idx[r] += (l < K - 1) & (cum[r] <= target[r]);
            last[r] = prob[l * TILE + r] > 0.0 ? l : last[r];
        }
    }
    CS_LANES
    for (int r = 0; r < TILE; r++) x[r] = (double) (idx[r] < last[r] ? idx[r] : last[r]);
}

/* Covariates (encoded) and missingness indicators from the decoder outputs. */
CS_LANE_INLINE void tile_covariates(const draw_plan *pl, tile_work *w,
                                    const cs_column_out *cols, uint64_t seed, uint64_t first)
{
    for (int j = 0; j < pl->p; j++) {
        const column_plan *c = &pl->col[j];
        const double *h = w->dec + (size_t) c->head * TILE;
        const double *u = c->unif >= 0 ? w->u + (size_t) c->unif * TILE : NULL;
        const double *z = c->norm >= 0 ? w->z + (size_t) c->norm * TILE : NULL;
        double *x = w->x + (size_t) j * TILE;
        switch (c->type) {
        case CS_COL_CONTINUOUS: {
            static const int no_mass[TILE];
            tile_truncated(pl, w, c, h, h + TILE, z, no_mass, x, seed, first);
            break;
        }
        case CS_COL_COUNT:
            if (c->levels > 0) {
                /* a short range of whole numbers: the softmax's level above the lower bound */
                tile_categorical(c, h, u, w->cat, x);
                CS_LANES
                for (int r = 0; r < TILE; r++) x[r] = c->lower + x[r];
                break;
            }
            /* the censored discretised Gaussian of the likelihood: round, bounds absorb tails */
            CS_LANES
            for (int r = 0; r < TILE; r++) {
                double sd = cs_lane_exp(0.5 * bound_lv(h[TILE + r]));
                double v = floor(c->center + c->scale * (h[r] + sd * z[r]) + 0.5);
                int below = v < c->lower, above = v > c->upper;
                v = below ? c->lower : v;
                x[r] = above ? c->upper : v;
            }
            break;
        case CS_COL_SEMICONTINUOUS: {
            int mass[TILE];
            CS_LANES
            for (int r = 0; r < TILE; r++) mass[r] = u[r] < cs_lane_sigmoid(h[r]);
            tile_truncated(pl, w, c, h + TILE, h + 2 * TILE, z, mass, x, seed, first);
            break;
        }
        case CS_COL_BINARY:
            CS_LANES
            for (int r = 0; r < TILE; r++) x[r] = u[r] < cs_lane_sigmoid(h[r]) ? 1.0 : 0.0;
            break;
        default:
            tile_categorical(c, h, u, w->cat, x);
        }
        if (c->knots > 0) {
            /* the score to the column's value, onto its grid, and back to the value's score:
             * the networks see what predict() would compute from the value written */
            cs_marginal_redraw(&c->marginal, cols[j].round_whole, TILE, x,
                               w->xval + (size_t) j * TILE);
            continue;
        }
        if (cols[j].round_whole && c->type != CS_COL_BINARY && c->type != CS_COL_CATEGORICAL)
            CS_LANES
            for (int r = 0; r < TILE; r++) x[r] = nearbyint(x[r]);
    }
    for (int k = 0; k < pl->m; k++) {
        const double *a = w->dec + (size_t) (pl->miss_head + k) * TILE;
        const double *u = w->u + (size_t) (pl->miss_unif + k) * TILE;
        double *mk = w->miss + (size_t) k * TILE;
        CS_LANES
        for (int r = 0; r < TILE; r++) mk[r] = u[r] < cs_lane_sigmoid(a[r]) ? 1.0 : 0.0;
    }
    /* a missing cell carries the fill value, exactly as the encoding of real data does */
    for (int j = 0; j < pl->p; j++) {
        const column_plan *c = &pl->col[j];
        if (c->miss < 0) continue;
        const double *mk = w->miss + (size_t) c->miss * TILE;
        double *x = w->x + (size_t) j * TILE, fill = c->fill;
        CS_LANES
        for (int r = 0; r < TILE; r++) x[r] = mk[r] > 0.5 ? fill : x[r];
    }
}

/* Network features (see cs_features_row) of the encoded covariates in the work space. */
CS_LANE_INLINE void tile_features(const draw_plan *pl, tile_work *w)
{
    for (int j = 0; j < pl->p; j++) {
        const column_plan *c = &pl->col[j];
        const double *x = w->x + (size_t) j * TILE;
        double *f = w->feat + (size_t) c->feature * TILE;
        switch (c->type) {
        case CS_COL_BINARY:
            CS_LANES
            for (int r = 0; r < TILE; r++) f[r] = x[r];
            break;
        case CS_COL_CATEGORICAL:
            for (int l = 0; l < c->levels; l++)
                CS_LANES
                for (int r = 0; r < TILE; r++) f[l * TILE + r] = x[r] == (double) l ? 1.0 : 0.0;
            break;
        default:
            CS_LANES
            for (int r = 0; r < TILE; r++) f[r] = (x[r] - c->center) / c->scale;
        }
    }
    double *f = w->feat + (size_t) (pl->D - pl->m) * TILE;
    CS_LANES
    for (int u = 0; u < pl->m * TILE; u++) f[u] = w->miss[u];
}

/* Summaries of a semicontinuous outcome's arm from its heads h (mass logit, mean, raw
 * log-variance; standardised): the point mass y_mass with probability pi, else the Gaussian
 * truncated to [y_lower, y_upper]. Mean and sd of the mixture into mu and sd, pi, the
 * Gaussian's location and scale into mass, loc and scale, all on the outcome's scale. */
CS_LANE_INLINE void tile_mass_summaries(const draw_plan *pl, const double *h, double *mu,
                                        double *sd, double *mass, double *loc, double *scale)
{
    CS_LANES
    for (int r = 0; r < TILE; r++) {
        double pi = cs_lane_sigmoid(h[r]), m = h[TILE + r];
        double s = cs_lane_exp(0.5 * bound_lv(h[2 * TILE + r])), tm, tv;
        cs_truncnorm_moments((pl->y_lower - m) / s, (pl->y_upper - m) / s, &tm, &tv);
        double cont = m + s * tm, mean = pi * pl->y_mass + (1.0 - pi) * cont;
        double dm = pl->y_mass - mean, dc = cont - mean;
        mu[r] = pl->y_center + pl->y_scale * mean;
        sd[r] = pi * (dm * dm) + (1.0 - pi) * ((s * s) * tv + dc * dc);
        mass[r] = pi;
        loc[r] = pl->y_center + pl->y_scale * m;
        scale[r] = pl->y_scale * s;
    }
    lane_sqrt(sd);
    CS_LANES
    for (int r = 0; r < TILE; r++) sd[r] = pl->y_scale * sd[r];
}

/* Summaries of a transformed outcome's arm from its heads h (mean, raw log-variance of the
 * normal score): mean and sd of the decoded law into mu and sd, exact (cs_marginal_moments),
 * no separate point mass (the masses are flat stretches of the knots), the score's location
 * and scale into loc and scale. */
CS_LANE_INLINE void tile_transform_summaries(const draw_plan *pl, const double *h, double *mu,
                                             double *sd, double *mass, double *loc,
                                             double *scale)
{
    CS_LANES
    for (int r = 0; r < TILE; r++) {
        loc[r] = h[r];
        scale[r] = cs_lane_exp(0.5 * bound_lv(h[TILE + r]));
        mass[r] = 0.0;
    }
    cs_marginal_moments(pl->y_from, pl->y_value, pl->y_knots, TILE, loc, scale, mu, sd);
}

/* Propensity logit and outcome summaries (res: n_res x TILE) from the features. */
CS_LANE_INLINE void tile_summaries(const draw_plan *pl, tile_work *w, int wide)
{
    tile_forward(&pl->prop, w->feat, w->hidden, w->prop, wide);
    tile_forward(&pl->out, w->feat, w->hidden, w->head, wide);
    double *res = w->res;
    CS_LANES
    for (int r = 0; r < TILE; r++) res[r] = w->prop[r];
    if (pl->raw) {
        for (int k = 0; k < pl->q2; k++)
            CS_LANES
            for (int r = 0; r < TILE; r++)
                res[(size_t) (1 + k) * TILE + r] = w->head[(size_t) k * TILE + r];
        return;
    }
    for (int a = 0; a < 2; a++) {
        double *mu = res + (size_t) (1 + a) * TILE, *sd = res + (size_t) (3 + a) * TILE;
        if (pl->binary) {
            const double *h = w->head + (size_t) a * TILE;
            CS_LANES
            for (int r = 0; r < TILE; r++) {
                double pr = cs_lane_sigmoid(h[r]);
                mu[r] = pr;
                sd[r] = pr * (1.0 - pr);
            }
            lane_sqrt(sd);
        } else if (pl->mass) {
            tile_mass_summaries(pl, w->head + (size_t) 3 * a * TILE, mu, sd,
                                res + (size_t) (5 + a) * TILE, res + (size_t) (7 + a) * TILE,
                                res + (size_t) (9 + a) * TILE);
        } else if (pl->y_knots) {
            tile_transform_summaries(pl, w->head + (size_t) 2 * a * TILE, mu, sd,
                                     res + (size_t) (5 + a) * TILE,
                                     res + (size_t) (7 + a) * TILE,
                                     res + (size_t) (9 + a) * TILE);
        } else {
            const double *h = w->head + (size_t) 2 * a * TILE;
            CS_LANES
            for (int r = 0; r < TILE; r++) {
                mu[r] = pl->y_center + pl->y_scale * h[r];
                sd[r] = pl->y_scale * cs_lane_exp(0.5 * bound_lv(h[TILE + r]));
            }
        }
    }
}

/* Rows first .. first + nb - 1 of the output (stream indices offset + i). */
CS_LANE_INLINE void draw_tile(const draw_plan *pl, tile_work *w, uint64_t seed, uint64_t offset,
                              size_t first, int nb, const cs_draw_output *out, int wide)
{
    uint64_t stream = offset + (uint64_t) first;
    CS_LANES
    for (int r = 0; r < TILE; r++) w->more_open[r] = 0;
    tile_random(pl, w, seed, stream);
    tile_latent(pl, w);
    tile_forward(&pl->dec, w->latent, w->hidden, w->dec, wide);
    tile_covariates(pl, w, out->columns, seed, stream);
    if (out->any_pred) {
        tile_features(pl, w);
        tile_summaries(pl, w, wide);
    }
    for (int j = 0; j < pl->p; j++) {
        const column_plan *c = &pl->col[j];
        const double *x = (c->knots > 0 ? w->xval : w->x) + (size_t) j * TILE;
        const double *mk = c->miss >= 0 ? w->miss + (size_t) c->miss * TILE : NULL;
        int discrete = c->type == CS_COL_BINARY || c->type == CS_COL_CATEGORICAL;
        cs_column_write(&out->columns[j], first, nb, x, mk, discrete);
    }
    for (int k = 0; k < pl->n_res; k++)
        if (out->pred[k])
            CS_LANES
            for (int r = 0; r < nb; r++) out->pred[k][first + r] = w->res[k * TILE + r];
}

/* Predictions of rows first .. first + nb - 1 of x (n x p) and miss (n x m) into out
 * (n x n_res). */
CS_LANE_INLINE void predict_tile(const draw_plan *pl, tile_work *w, int n, const double *x,
                                 const double *miss, size_t first, int nb, double *out, int wide)
{
    for (int j = 0; j < pl->p; j++)
        CS_LANES
        for (int r = 0; r < TILE; r++)
            w->x[j * TILE + r] = r < nb ? x[(size_t) j * n + first + r] : 0.0;
    for (int k = 0; k < pl->m; k++)
        CS_LANES
        for (int r = 0; r < TILE; r++)
            w->miss[k * TILE + r] = r < nb ? miss[(size_t) k * n + first + r] : 0.0;
    tile_features(pl, w);
    tile_summaries(pl, w, wide);
    for (int k = 0; k < pl->n_res; k++)
        CS_LANES
        for (int r = 0; r < nb; r++) out[(size_t) k * n + first + r] = w->res[k * TILE + r];
}

/* ------------------------------------------------------------------ the two builds */

typedef void (*draw_tile_fn)(const draw_plan *, tile_work *, uint64_t, uint64_t, size_t, int,
                             const cs_draw_output *);
typedef void (*predict_tile_fn)(const draw_plan *, tile_work *, int, const double *,
                                const double *, size_t, int, double *);

static void draw_tile_portable(const draw_plan *pl, tile_work *w, uint64_t seed,
                               uint64_t offset, size_t first, int nb, const cs_draw_output *out)
{
    draw_tile(pl, w, seed, offset, first, nb, out, 0);
}

static void predict_tile_portable(const draw_plan *pl, tile_work *w, int n, const double *x,
                                  const double *miss, size_t first, int nb, double *out)
{
    predict_tile(pl, w, n, x, miss, first, nb, out, 0);
}

#if defined(__GNUC__) && defined(__x86_64__) && !defined(CS_NO_AVX2)
#define CS_HAVE_AVX2_TILES 1

__attribute__((target("avx2")))
static void draw_tile_avx2(const draw_plan *pl, tile_work *w, uint64_t seed, uint64_t offset,
                           size_t first, int nb, const cs_draw_output *out)
{
    draw_tile(pl, w, seed, offset, first, nb, out, 1);
}

__attribute__((target("avx2")))
static void predict_tile_avx2(const draw_plan *pl, tile_work *w, int n, const double *x,
                              const double *miss, size_t first, int nb, double *out)
{
    predict_tile(pl, w, n, x, miss, first, nb, out, 1);
}
#endif

/* The tile functions of one build: AVX2 when asked for the fastest kernels on a processor with
 * AVX2, else portable. */
typedef struct {
    draw_tile_fn draw;
    predict_tile_fn predict;
} tile_kernels;

static tile_kernels choose_tiles(cs_kernels kernels)
{
    const tile_kernels portable = { draw_tile_portable, predict_tile_portable };
#ifdef CS_HAVE_AVX2_TILES
    const tile_kernels avx2 = { draw_tile_avx2, predict_tile_avx2 };
    if (kernels == CS_KERNELS_FASTEST && cs_have_avx2()) return avx2;
#endif
    (void) kernels;
    return portable;
}

/* ------------------------------------------------------------------ entry points */

int cs_outcome_summaries(const cs_causalmix *mdl)
{
    return !mdl->outcome_raw && !mdl->outcome_binary &&
           (mdl->outcome_mass || mdl->outcome_knots > 0) ? CS_SUMMARIES_MASS :
        CS_SUMMARIES;
}

/* The work of one tile: rows first .. first + nb - 1, with the thread's work buffers. */
typedef void (*tile_job_fn)(const draw_plan *pl, tile_work *w, size_t first, int nb,
                            const void *job);

/* Rows start .. stop - 1 tile by tile over the threads, each thread with its own work
 * buffers. Returns nonzero when a thread's buffers could not be allocated. */
static int run_tiles(const draw_plan *pl, int start, int stop, int threads, tile_job_fn fn,
                     const void *job)
{
    size_t per_thread = work_size(pl);
    int n_tiles = (stop - start + TILE - 1) / TILE, failed = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(cs_threads_for(threads, stop - start, THREAD_ROWS))
#endif
    {
        tile_work w;
        double *buf = malloc(sizeof(double) * per_thread);
        if (!buf) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
            failed = 1;
        } else {
            work_bind(pl, buf, &w);
        }
#ifdef _OPENMP
#pragma omp for schedule(dynamic, TILES_PER_GRAB)
#endif
        for (int t = 0; t < n_tiles; t++) {
            if (!buf) continue;
            size_t first = (size_t) start + (size_t) t * TILE;
            int nb = stop - (int) first < TILE ? stop - (int) first : TILE;
            fn(pl, &w, first, nb, job);
        }
        free(buf);
    }
    (void) threads;
    return failed;
}

typedef struct {
    predict_tile_fn tile;
    int n;
    const double *x, *miss;
    double *out;
} predict_job;

static void predict_job_tile(const draw_plan *pl, tile_work *w, size_t first, int nb,
                             const void *job)
{
    const predict_job *j = job;
    j->tile(pl, w, j->n, j->x, j->miss, first, nb, j->out);
}

cs_status cs_causalmix_predict(const cs_causalmix *mdl, int n, const double *x,
                               const double *miss, double y_center, double y_scale,
                               cs_kernels kernels, int threads, double *out)
{
    draw_plan pl;
    if (n < 0) return CS_ERR_ARGUMENT;
    if (plan_make(mdl, y_center, y_scale, &pl) != CS_OK) return CS_ERR_NOMEM;
    predict_job job = { choose_tiles(kernels).predict, n, x, miss, out };
    int failed = run_tiles(&pl, 0, n, threads, predict_job_tile, &job);
    plan_free(&pl);
    return failed ? CS_ERR_NOMEM : CS_OK;
}

typedef struct {
    draw_tile_fn tile;
    uint64_t seed, offset;
    const cs_draw_output *out;
} draw_job;

static void draw_job_tile(const draw_plan *pl, tile_work *w, size_t first, int nb,
                          const void *job)
{
    const draw_job *j = job;
    j->tile(pl, w, j->seed, j->offset, first, nb, j->out);
}

cs_status cs_causalmix_draw(const cs_causalmix *mdl, int n, uint64_t seed, uint64_t offset,
                            double y_center, double y_scale, cs_kernels kernels, int threads,
                            const cs_draw_output *out, cs_interrupt_fn interrupt)
{
    draw_plan pl;
    if (n < 0) return CS_ERR_ARGUMENT;
    for (int j = 0; j < mdl->spec.p; j++) {
        const cs_column_out *c = &out->columns[j];
        int discrete = mdl->spec.type[j] == CS_COL_BINARY ||
                       mdl->spec.type[j] == CS_COL_CATEGORICAL;
        if (!c->real == !c->integer) return CS_ERR_ARGUMENT;
        if (discrete && !(c->real ? c->real_map != NULL : c->integer_map != NULL))
            return CS_ERR_ARGUMENT;
    }
    if (plan_make(mdl, y_center, y_scale, &pl) != CS_OK) return CS_ERR_NOMEM;
    draw_job job = { choose_tiles(kernels).draw, seed, offset, out };
    int failed = 0;
    cs_poll poll;
    cs_poll_init(&poll, interrupt);
    for (int start = 0; start < n && !failed; start += CHUNK_ROWS) {
        int stop = n - start < CHUNK_ROWS ? n : start + CHUNK_ROWS;
        failed = run_tiles(&pl, start, stop, threads, draw_job_tile, &job);
        if (!failed && stop < n && cs_poll_main(&poll)) {
            plan_free(&pl);
            return CS_ERR_INTERRUPTED;
        }
    }
    plan_free(&pl);
    return failed ? CS_ERR_NOMEM : CS_OK;
}
