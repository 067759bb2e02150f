/* CausalMix engine: training (see causalmix_train.h); prediction and draws are in
 * causalmix_draw.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "causalmix_train.h"
#include "poll.h"
#include "simd.h"
#include "small_gemm.h"
#include "threads.h"
#include "blas_threads.h"
#include "vecmath.h"
#include "truncnorm.h"
#include "glm.h"

#define LOG_2PI 1.8378770664093454836
#define SQRT_2 1.4142135623730950488
#define INV_SQRT_2PI 0.39894228040143267794

/* ------------------------------------------------------------------ small numerics */

static double bound_lv_slope(double lv) { double r = lv / CS_LV_BOUND; return 1.0 - r * r; }
static double norm_cdf(double x) { return 0.5 * erfc(-x / SQRT_2); }
static double norm_upper(double x) { return 0.5 * erfc(x / SQRT_2); }

static int head_width(const cs_table_spec *s, int j)
{
    switch (s->type[j]) {
    case CS_COL_COUNT: return s->n_levels[j] > 0 ? s->n_levels[j] : 2;
    case CS_COL_CONTINUOUS: return 2;
    case CS_COL_SEMICONTINUOUS: return 3;
    case CS_COL_BINARY: return 1;
    default: return s->n_levels[j];
    }
}

int cs_head_width(const cs_table_spec *s, int j) { return head_width(s, j); }

int cs_feature_width(const cs_table_spec *s)
{
    int w = s->m;
    for (int j = 0; j < s->p; j++) w += s->type[j] == CS_COL_CATEGORICAL ? s->n_levels[j] : 1;
    return w;
}

int cs_decoder_width(const cs_table_spec *s)
{
    int w = s->m;
    for (int j = 0; j < s->p; j++) w += head_width(s, j);
    return w;
}

int cs_prior_size(int n_components, int latent) { return n_components * (1 + 2 * latent); }

void cs_features_row(const cs_table_spec *s, const double *x, const double *miss, double *out)
{
    int k = 0;
    for (int j = 0; j < s->p; j++) {
        switch (s->type[j]) {
        case CS_COL_BINARY: out[k++] = x[j]; break;
        case CS_COL_CATEGORICAL: {
            int K = s->n_levels[j], code = (int) x[j];
            for (int l = 0; l < K; l++) out[k + l] = (l == code) ? 1.0 : 0.0;
            k += K;
            break;
        }
        default: out[k++] = (x[j] - s->center[j]) / s->scale[j];
        }
    }
    for (int r = 0; r < s->m; r++) out[k++] = miss[r];
}

/* ------------------------------------------------------------------ likelihood terms over rows */

/* The terms below evaluate one likelihood head for the n rows of a shard at once: each head's
 * values (and gradients) are contiguous over the rows, the exponentials and logarithms go
 * through cs_vexp and cs_vlog in arrays, and the remaining loops have no branches, so they
 * vectorise. `keep` (NULL: every row) holds 1 for the rows that count and 0 for the others,
 * which get no loss and a zero gradient; gradients are multiplied by `scale`. */

/* lv[i] = CS_LV_BOUND tanh(raw[i] / CS_LV_BOUND) for i < n from one exponential,
 * (1 - e) / (1 + e) with e = exp(-2 |y|), the same up to rounding. */
CS_AVX2_CLONES
static void bound_lv_rows(int n, const double *raw, double *lv)
{
    CS_SIMD
    for (int i = 0; i < n; i++) lv[i] = -2.0 * fabs(raw[i]) / CS_LV_BOUND;
    cs_vexp(lv, lv, n);
    CS_SIMD
    for (int i = 0; i < n; i++) lv[i] = copysign(CS_LV_BOUND * (1.0 - lv[i]) / (1.0 + lv[i]), raw[i]);
}

/* The bounded log-variances lv of the raw heads (bound_lv_rows) and sd = exp(lv / 2); raw may
 * be sd itself. */
CS_AVX2_CLONES
static void bounded_sd_rows(int n, const double *raw, double *lv, double *sd)
{
    bound_lv_rows(n, raw, lv);
    CS_SIMD
    for (int i = 0; i < n; i++) sd[i] = 0.5 * lv[i];
    cs_vexp(sd, sd, n);
}

/* Zeroes the gradients (g1, and g2 unless NULL) of the rows that do not count and returns the
 * sum of the rows' losses that do. */
CS_AVX2_CLONES
static double kept_sum(int n, const double *loss, const double *keep, double *g1, double *g2)
{
    double sum = 0.0;
    if (!keep) {
        CS_SIMD_SUM(sum)
        for (int i = 0; i < n; i++) sum += loss[i];
        return sum;
    }
    CS_SIMD_SUM(sum)
    for (int i = 0; i < n; i++) {
        sum += keep[i] * loss[i];
        g1[i] *= keep[i];
    }
    if (g2) {
        CS_SIMD
        for (int i = 0; i < n; i++) g2[i] *= keep[i];
    }
    return sum;
}

/* Bernoulli: softplus(a) - v a for logits a[i] and targets v[i]; the gradient is
 * sigmoid(a) - v. Both come from e = exp(-|a|) and log(1 + e). tmp: 2n doubles. */
CS_AVX2_CLONES
static double bernoulli_terms(int n, const double *a, const double *v, const double *keep,
                              double scale, double *g, double *tmp)
{
    double *e = tmp, *loss = tmp + n;
    CS_SIMD
    for (int i = 0; i < n; i++) e[i] = -fabs(a[i]);
    cs_vexp(e, e, n);
    CS_SIMD
    for (int i = 0; i < n; i++) loss[i] = 1.0 + e[i];
    cs_vlog(loss, loss, n);
    CS_SIMD
    for (int i = 0; i < n; i++) {
        double inv = 1.0 / (1.0 + e[i]);
        /* sigmoid(a) = 1 / (1 + e) for a >= 0, 1 - 1 / (1 + e) below; max(a, 0) = (a + |a|) / 2 */
        double sigmoid = 0.5 + copysign(inv - 0.5, a[i]);
        loss[i] += 0.5 * (a[i] + fabs(a[i])) - v[i] * a[i];
        g[i] = (sigmoid - v[i]) * scale;
    }
    return kept_sum(n, loss, keep, g, NULL);
}

/* Gaussian: standardised values v[i], means mean[i], raw log-variances raw[i] (bounded as
 * bound_lv_rows()); gradients to g_mean and g_raw. tmp: 2n. */
CS_AVX2_CLONES
static double gauss_terms(int n, const double *mean, const double *raw, const double *v,
                          const double *keep, double scale, double *g_mean, double *g_raw,
                          double *tmp)
{
    double *lv = tmp, *prec = tmp + n;
    bound_lv_rows(n, raw, lv);
    CS_SIMD
    for (int i = 0; i < n; i++) prec[i] = -lv[i];
    cs_vexp(prec, prec, n);
    CS_SIMD
    for (int i = 0; i < n; i++) {
        double r = v[i] - mean[i], rp = r * prec[i], rrp = r * rp;
        g_mean[i] = -rp * scale;
        g_raw[i] = 0.5 * (1.0 - rrp) * bound_lv_slope(lv[i]) * scale;
        prec[i] = 0.5 * (LOG_2PI + lv[i] + rrp);   /* the row's loss */
    }
    return kept_sum(n, prec, keep, g_mean, g_raw);
}

/* Gaussian truncated to [lower, upper] (standardised, lower < upper): as gauss_terms() plus
 * the log of the mass the interval holds, so that the continuous part of a semicontinuous
 * column or outcome is fitted as the law it is drawn from. With keep, only the kept rows are
 * computed (their inputs gathered side by side first: the interval's mass costs two erfcx and
 * four exponentials a row, and the point-mass rows need none). tmp: 6n. */
CS_AVX2_CLONES
static double truncated_gauss_terms(int n, const double *mean, const double *raw,
                                    const double *v, double lower, double upper,
                                    const double *keep, double scale, double *g_mean,
                                    double *g_raw, double *tmp)
{
    double *lv = tmp, *sd = tmp + n, *w = tmp + 2 * n;
    double *vc = tmp + 3 * n, *kc = tmp + 4 * n, *row = tmp + 5 * n;
    int m = n;
    if (keep) {
        m = 0;
        for (int i = 0; i < n; i++)
            if (keep[i] != 0.0) {
                g_mean[m] = mean[i];
                g_raw[m] = raw[i];
                vc[m] = v[i];
                kc[m] = keep[i];
                row[m] = i;
                m++;
            }
        mean = g_mean;
        raw = g_raw;
        v = vc;
    }
    int finite_lower = isfinite(lower), finite_upper = isfinite(upper);
    bounded_sd_rows(m, raw, lv, sd);
    CS_SIMD
    for (int i = 0; i < m; i++) {
        double r = (v[i] - mean[i]) / sd[i], e, ra, rb;
        double a = (lower - mean[i]) / sd[i], b = (upper - mean[i]) / sd[i];
        cs_truncnorm_mass(a, b, &w[i], &e, &ra, &rb);
        double ara = finite_lower ? a * ra : 0.0, brb = finite_upper ? b * rb : 0.0;
        /* d log(mass) / d mean = (phi(a) - phi(b)) / (sd mass); d / d lv = (a phi(a) - b phi(b)) / (2 mass) */
        g_mean[i] = (-r + (ra - rb)) / sd[i] * scale;
        g_raw[i] = 0.5 * ((1.0 - r * r) + (ara - brb)) * bound_lv_slope(lv[i]) * scale;
        lv[i] = 0.5 * (LOG_2PI + lv[i] + r * r) - e;   /* the row's loss but log w */
    }
    cs_vlog(w, w, m);
    CS_SIMD
    for (int i = 0; i < m; i++) lv[i] += w[i];
    if (!keep) return kept_sum(n, lv, NULL, g_mean, g_raw);
    double sum = kept_sum(m, lv, kc, g_mean, g_raw);
    /* back to the rows' places, from the last (a kept row never moved forward), zeros between */
    for (int i = n - 1, k = m - 1; i >= 0; i--) {
        if (k >= 0 && (int) row[k] == i) {
            g_mean[i] = g_mean[k];
            g_raw[i] = g_raw[k];
            k--;
        } else {
            g_mean[i] = g_raw[i] = 0.0;
        }
    }
    return sum;
}

/* Gaussians censored to intervals: the sum over the rows with keep[i] != 0 of -log of the mass
 * of N(mean[i], sd^2) on [lower[i], upper[i]] (either bound may be infinite); those rows'
 * gradients, times `scale`, are written to g_mean and g_raw (the other rows' are left
 * alone). */
static double interval_gauss_terms(int n, const double *mean, const double *raw,
                                   const double *lower, const double *upper, const double *keep,
                                   double scale, double *g_mean, double *g_raw)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        if (keep[i] == 0.0) continue;
        double lv, sd, w, e, ra, rb;
        bounded_sd_rows(1, raw + i, &lv, &sd);
        double a = (lower[i] - mean[i]) / sd, b = (upper[i] - mean[i]) / sd;
        cs_truncnorm_mass(a, b, &w, &e, &ra, &rb);
        double ara = isfinite(lower[i]) ? a * ra : 0.0, brb = isfinite(upper[i]) ? b * rb : 0.0;
        /* d log(mass) / d mean = (phi(a) - phi(b)) / (sd mass); d / d lv = (a phi(a) - b phi(b)) / (2 mass) */
        g_mean[i] = (rb - ra) / sd * scale;
        g_raw[i] = -0.5 * (ara - brb) * bound_lv_slope(lv) * scale;
        sum += e - log(w);
    }
    return sum;
}

/* The atom whose score is s, or -1. */
static int atom_of(const cs_atoms *at, double s)
{
    int lo = 0, hi = at->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (at->score[mid] < s) lo = mid + 1;
        else hi = mid;
    }
    return lo < at->n && at->score[lo] == s ? lo : -1;
}

/* gauss_terms() for a transformed outcome with atoms: the rows at an atom by the
 * Gaussian's mass on its interval of scores (see cs_atoms), the others by the density.
 * tmp: 6n. */
static double atom_gauss_terms(int n, const double *mean, const double *raw, const double *v,
                               const cs_atoms *at, const double *keep, double scale,
                               double *g_mean, double *g_raw, double *tmp)
{
    double *dense = tmp, *atom = tmp + n, *lo = tmp + 2 * n, *hi = tmp + 3 * n;
    for (int i = 0; i < n; i++) {
        int k = atom_of(at, v[i]), kept = !keep || keep[i] != 0.0;
        atom[i] = k >= 0 && kept ? 1.0 : 0.0;
        dense[i] = k < 0 && kept ? 1.0 : 0.0;
        lo[i] = k >= 0 ? at->lower[k] : 0.0;
        hi[i] = k >= 0 ? at->upper[k] : 0.0;
    }
    return gauss_terms(n, mean, raw, v, dense, scale, g_mean, g_raw, tmp + 4 * n) +
           interval_gauss_terms(n, mean, raw, lo, hi, atom, scale, g_mean, g_raw);
}

/* Categorical with K levels: softmax of the K heads o[l * n + i] (l < K), observed level
 * code[i]; gradients laid out likewise in g. tmp: (K + 2) n. */
CS_AVX2_CLONES
static double categorical_terms(int n, int K, const double *o, const double *code,
                                const double *keep, double scale, double *g, double *tmp)
{
    double *ex = tmp, *mx = tmp + (size_t) K * n, *sum = mx + n, nll = 0.0;
    for (int i = 0; i < n; i++) mx[i] = o[i];
    for (int l = 1; l < K; l++)
        for (int i = 0; i < n; i++)
            if (o[(size_t) l * n + i] > mx[i]) mx[i] = o[(size_t) l * n + i];
    for (int l = 0; l < K; l++) {
        CS_SIMD
        for (int i = 0; i < n; i++) ex[(size_t) l * n + i] = o[(size_t) l * n + i] - mx[i];
    }
    cs_vexp(ex, ex, K * n);
    for (int i = 0; i < n; i++) sum[i] = 0.0;
    for (int l = 0; l < K; l++) {
        CS_SIMD
        for (int i = 0; i < n; i++) sum[i] += ex[(size_t) l * n + i];
    }
    for (int i = 0; i < n; i++) {
        double w = keep ? keep[i] : 1.0, inv = w * scale / sum[i];
        int c = (int) code[i];
        for (int l = 0; l < K; l++) g[(size_t) l * n + i] = ex[(size_t) l * n + i] * inv;
        g[(size_t) c * n + i] -= w * scale;
        /* -log p(c) = log(sum) + mx - o_c; log(sum) below, over all rows at once */
        nll += w * (mx[i] - o[(size_t) c * n + i]);
    }
    cs_vlog(sum, sum, n);
    for (int i = 0; i < n; i++) nll += (keep ? keep[i] : 1.0) * sum[i];
    return nll;
}

/* Count: a Gaussian on the raw scale discretised to unit bins and censored at the observed
 * bounds, so P(k) = Phi(b) - Phi(a) with a = -inf at the lower bound and b = +inf at the upper.
 * The heads are on the standardised scale: mu_raw = center + scale * mu,
 * sd_raw = scale * exp(lv / 2). Counts k[i], heads mu[i] and raw[i]; the exponentials and
 * logarithms in arrays, the normal tail areas (erfc) row by row. tmp: 6n. */
CS_AVX2_CLONES
static double count_terms(int n, const double *k, const double *mu, const double *raw,
                          double center, double scale, double lower, double upper,
                          const double *keep, double gscale, double *g_mu, double *g_raw,
                          double *tmp)
{
    double *lv = tmp, *sd = lv + n, *a = sd + n, *b = a + n, *pa = b + n, *pb = pa + n;
    bounded_sd_rows(n, raw, lv, sd);
    CS_SIMD
    for (int i = 0; i < n; i++) {
        double m = center + scale * mu[i];
        sd[i] *= scale;
        a[i] = (k[i] - 0.5 - m) / sd[i];
        b[i] = (k[i] + 0.5 - m) / sd[i];
        pa[i] = -0.5 * a[i] * a[i];
        pb[i] = -0.5 * b[i] * b[i];
    }
    cs_vexp(pa, pa, n);
    cs_vexp(pb, pb, n);
    /* a becomes P(k) (b = 1), or minus the loss where the density stands in for it (b = 0) */
    for (int i = 0; i < n; i++) {
        int open_a = k[i] <= lower, open_b = k[i] >= upper;
        double P;
        if (open_a && open_b) {
            g_mu[i] = g_raw[i] = 0.0;
            a[i] = b[i] = 1.0;   /* P = 1 */
            continue;
        }
        if (open_a) P = norm_cdf(b[i]);
        else if (open_b) P = norm_upper(a[i]);
        else if (a[i] > 0) P = norm_upper(a[i]) - norm_upper(b[i]);
        else P = norm_cdf(b[i]) - norm_cdf(a[i]);
        if (!(P > 1e-12)) {
            /* far tail: the bin probability is the density at k (bin width 1) */
            double v = (a[i] + b[i]) / 2;
            g_mu[i] = -v / sd[i] * scale * gscale;
            g_raw[i] = 0.5 * (1.0 - v * v) * bound_lv_slope(lv[i]) * gscale;
            a[i] = -(0.5 * LOG_2PI + log(sd[i]) + 0.5 * v * v);
            b[i] = 0.0;
            continue;
        }
        double phi_a = open_a ? 0.0 : INV_SQRT_2PI * pa[i];
        double phi_b = open_b ? 0.0 : INV_SQRT_2PI * pb[i];
        double apa = open_a ? 0.0 : a[i] * phi_a, bpb = open_b ? 0.0 : b[i] * phi_b;
        /* dP/dm = (phi(a) - phi(b)) / sd; dP/dsd = (a phi(a) - b phi(b)) / sd; dsd/dlv = sd / 2 */
        g_mu[i] = -(phi_a - phi_b) / sd[i] * scale / P * gscale;
        g_raw[i] = -0.5 * (apa - bpb) / P * bound_lv_slope(lv[i]) * gscale;
        a[i] = P;
        b[i] = 1.0;
    }
    /* loss = -log P, or the density's loss kept above */
    CS_SIMD
    for (int i = 0; i < n; i++) pa[i] = b[i] != 0.0 ? a[i] : 1.0;
    cs_vlog(pa, pa, n);
    for (int i = 0; i < n; i++) a[i] = b[i] != 0.0 ? -pa[i] : -a[i];
    return kept_sum(n, a, keep, g_mu, g_raw);
}

/* Scratch doubles per row that decoder_nll needs (W decoder outputs, R raw values per row,
 * kmax: most categorical levels). */
static int decoder_scratch(int W, int R, int kmax)
{
    return 2 * W + R + 3 + (kmax + 2 > 6 ? kmax + 2 : 6);
}

/* Negative log-likelihood of rows idx[0..rows-1] under the decoder outputs `out` (W x rows, one
 * row per column); raw holds every row's p values then m missingness indicators (R = p + m per
 * row). Writes the gradient with respect to `out`, times `scale`, into d (W x rows). The
 * outputs and the rows' values are first turned head by head (contiguous over the rows).
 * scratch: decoder_scratch() doubles per row. */
CS_AVX2_CLONES
static double decoder_nll(const cs_table_spec *s, int W, int rows, const double *out,
                          const double *raw, int R, const int *idx, double scale, double *d,
                          double *scratch)
{
    size_t n = (size_t) rows;
    double *o = scratch, *g = o + W * n, *x = g + W * n, *keep = x + R * n, *target = keep + n;
    double *keep2 = target + n, *tmp = keep2 + n, nll = 0.0;
    for (int b = 0; b < rows; b++) {
        const double *ob = out + (size_t) b * W, *xb = raw + (size_t) idx[b] * R;
        for (int h = 0; h < W; h++) o[h * n + b] = ob[h];
        for (int j = 0; j < R; j++) x[j * n + b] = xb[j];
    }
    int off = 0;
    for (int j = 0; j < s->p; j++) {
        int w = head_width(s, j);
        const double *xj = x + j * n, *kept = NULL;
        double center = s->center[j], sc = s->scale[j];
        double *oj = o + off * n, *gj = g + off * n;
        if (s->miss_index[j] >= 0) {
            const double *missing = x + (s->p + s->miss_index[j]) * n;
            for (int b = 0; b < rows; b++) keep[b] = missing[b] > 0.5 ? 0.0 : 1.0;
            kept = keep;
        }
        switch (s->type[j]) {
        case CS_COL_CONTINUOUS:
            CS_SIMD
            for (int b = 0; b < rows; b++) target[b] = (xj[b] - center) / sc;
            nll += gauss_terms(rows, oj, oj + n, target, kept, scale, gj, gj + n, tmp);
            break;
        case CS_COL_COUNT:
            if (s->n_levels[j] > 0) {
                /* a short range of whole numbers: a softmax over lower .. upper */
                for (int b = 0; b < rows; b++) target[b] = xj[b] - s->lower[j];
                nll += categorical_terms(rows, w, oj, target, kept, scale, gj, tmp);
                break;
            }
            nll += count_terms(rows, xj, oj, oj + n, center, sc, s->lower[j], s->upper[j], kept,
                               scale, gj, gj + n, tmp);
            break;
        case CS_COL_SEMICONTINUOUS:
            /* the point mass is a Bernoulli; the other values a Gaussian truncated to the
             * observed range, the law the draws come from */
            for (int b = 0; b < rows; b++) {
                int mass = xj[b] == s->point_mass[j];
                target[b] = mass ? 1.0 : 0.0;
                keep2[b] = (!kept || kept[b]) && !mass ? 1.0 : 0.0;
            }
            nll += bernoulli_terms(rows, oj, target, kept, scale, gj, tmp);
            CS_SIMD
            for (int b = 0; b < rows; b++) target[b] = (xj[b] - center) / sc;
            nll += truncated_gauss_terms(rows, oj + n, oj + 2 * n, target,
                                         (s->lower[j] - center) / sc, (s->upper[j] - center) / sc,
                                         keep2, scale, gj + n, gj + 2 * n, tmp);
            break;
        case CS_COL_BINARY:
            nll += bernoulli_terms(rows, oj, xj, kept, scale, gj, tmp);
            break;
        default:
            nll += categorical_terms(rows, w, oj, xj, kept, scale, gj, tmp);
        }
        off += w;
    }
    for (int r = 0; r < s->m; r++)
        nll += bernoulli_terms(rows, o + (off + r) * n, x + (s->p + r) * n, NULL, scale,
                               g + (off + r) * n, tmp);
    for (int b = 0; b < rows; b++) {
        double *db = d + (size_t) b * W;
        for (int h = 0; h < W; h++) db[h] = g[h * n + b];
    }
    return nll;
}

/* ------------------------------------------------------------------ prior */

/* What the mixture prior's density needs beyond the rows, computed once per optimiser step:
 * -log N(z; m_k, diag v_k) = -log_norm_k + 1/2 sum_l p_lk (z_l - m_lk)^2 with p = 1 / v, and the
 * quadratic form of a batch is one matrix product, sum_l p_lk z_l^2 - 2 sum_l p_lk m_lk z_l
 * = stack' [z^2; -2 z], with the constant sum_l p_lk m_lk^2 folded into log_norm. */
typedef struct {
    double *mean;        /* L x K (component index fastest) */
    double *prec;        /* L x K: exp(-logvar) */
    double *stack;       /* 2L x K: p_lk above p_lk m_lk */
    double *stack_t;     /* K x 2L: its transpose */
    double *log_norm;    /* K: log pi_k - 1/2 sum_l (log 2 pi + logvar_lk + p_lk m_lk^2) */
    double *weight;      /* K: pi_k */
} prior_cache;

static void prior_cache_fill(prior_cache *pc, const double *prior, int K, int L)
{
    const double *logit = prior, *mean = prior + K, *logvar = prior + K + K * L;
    double mx = logit[0], lse = 0.0;
    for (int k = 1; k < K; k++) if (logit[k] > mx) mx = logit[k];
    for (int k = 0; k < K; k++) lse += exp(logit[k] - mx);
    lse = mx + log(lse);
    for (int k = 0; k < K; k++) {
        double c = logit[k] - lse;
        pc->weight[k] = exp(c);
        for (int l = 0; l < L; l++) {
            double v = logvar[k * L + l], m = mean[k * L + l], p = exp(-v);
            pc->mean[l * K + k] = m;
            pc->prec[l * K + k] = p;
            pc->stack[l + 2 * L * k] = p;
            pc->stack[L + l + 2 * L * k] = p * m;
            c -= 0.5 * (LOG_2PI + v + p * m * m);
        }
        pc->log_norm[k] = c;
    }
    for (int k = 0; k < K; k++)
        for (int r = 0; r < 2 * L; r++) pc->stack_t[k + (size_t) K * r] = pc->stack[r + 2 * L * k];
}

/* Scratch doubles that prior_nll needs: per row (beside resp) and in all. */
static int prior_scratch_rows(int L) { return 2 + 2 * L; }
static int prior_scratch_fixed(int K, int L) { return 2 * K + 2 * K * L; }

/* Sum over rows of -log p(z) under the mixture prior, for z (L x n); adds d(-log p)/dz * w
 * into dz (L x n, if not NULL) and the gradient with respect to the prior parameters * w into
 * gprior (if not NULL). The sums over the latent dimensions and over the rows are matrix
 * products. resp: K n doubles; tmp: prior_scratch_rows() n + prior_scratch_fixed(). */
CS_AVX2_CLONES
static double prior_nll(const prior_cache *pc, int K, int L, int n, const double *z, double w,
                        double *dz, double *gprior, double *resp, double *tmp)
{
    int L2 = 2 * L;
    double *best = tmp, *log_sum = best + n, *zz = log_sum + n;   /* zz: 2L x n */
    double *s = zz + (size_t) L2 * n, *g = s + K;                   /* g: 2L x K */
    double nll = 0.0;
    for (int i = 0; i < n; i++)
        for (int l = 0; l < L; l++) {
            double zl = z[(size_t) i * L + l];
            zz[(size_t) i * L2 + l] = zl * zl;
            zz[(size_t) i * L2 + L + l] = -2.0 * zl;
        }
    /* resp (K x n) = stack' zz: the quadratic forms less their constant */
    cs_small_gemm(0, K, n, L2, pc->stack_t, K, zz, L2, 0, resp, K);
    for (int i = 0; i < n; i++) {
        double *ri = resp + (size_t) i * K, top = -INFINITY;
        for (int k = 0; k < K; k++) {
            ri[k] = pc->log_norm[k] - 0.5 * ri[k];
            if (ri[k] > top) top = ri[k];
        }
        best[i] = top;
        for (int k = 0; k < K; k++) ri[k] -= top;
    }
    cs_vexp(resp, resp, K * n);
    for (int i = 0; i < n; i++) {
        double sum = 0.0;
        for (int k = 0; k < K; k++) sum += resp[(size_t) i * K + k];
        log_sum[i] = sum;
    }
    /* responsibilities times w */
    for (int i = 0; i < n; i++) {
        double *ri = resp + (size_t) i * K, scale = w / log_sum[i];
        for (int k = 0; k < K; k++) ri[k] *= scale;
    }
    cs_vlog(log_sum, log_sum, n);
    for (int i = 0; i < n; i++) nll -= best[i] + log_sum[i];
    if (dz) {
        /* dz_l += z_l sum_k rw_k p_lk - sum_k rw_k p_lk m_lk: (2L x n) = stack resp */
        cs_small_gemm(0, L2, n, K, pc->stack, L2, resp, K, 0, zz, L2);
        for (int i = 0; i < n; i++)
            for (int l = 0; l < L; l++) {
                const double *c = zz + (size_t) i * L2;
                dz[(size_t) i * L + l] += z[(size_t) i * L + l] * c[l] - c[L + l];
            }
    }
    if (gprior) {
        /* per component: s_k = sum_i rw_ik, and (2L x K) g = [z^2; z] rw' */
        for (int i = 0; i < n; i++)
            for (int l = 0; l < L; l++) {
                double zl = z[(size_t) i * L + l];
                zz[(size_t) i * L2 + l] = zl * zl;
                zz[(size_t) i * L2 + L + l] = zl;
            }
        cs_small_gemm(1, L2, K, n, zz, L2, resp, K, 0, g, L2);
        for (int k = 0; k < K; k++) s[k] = 0.0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < K; k++) s[k] += resp[(size_t) i * K + k];
        for (int k = 0; k < K; k++) {
            gprior[k] += -(s[k] - n * w * pc->weight[k]);
            for (int l = 0; l < L; l++) {
                double m = pc->mean[l * K + k], p = pc->prec[l * K + k];
                double z2 = g[l + (size_t) L2 * k], z1 = g[L + l + (size_t) L2 * k];
                /* sum_i rw (z - m) and sum_i rw (z - m)^2 */
                double d1 = z1 - m * s[k], d2 = z2 - 2.0 * m * z1 + m * m * s[k];
                gprior[K + k * L + l] += -p * d1;
                gprior[K + K * L + k * L + l] += 0.5 * (s[k] - p * d2);
            }
        }
    }
    return nll;
}

/* ------------------------------------------------------------------ training */

/* Each batch is cut into N_SHARDS row ranges that depend on the batch alone. A shard runs the
 * forward and backward passes of all four networks on its rows into its own gradients; the
 * shards' gradients are then added in shard order before the optimisers step. The arithmetic
 * is therefore the same whichever thread runs a shard and however many threads there are, and
 * two threads get equal work (splitting by model instead gave one thread the VAE, about twice
 * the work of the propensity and outcome networks together). */
#define N_SHARDS 2

/* Parameter blocks of the optimiser, in the order of a shard's gradient vector. */
enum { P_ENC, P_DEC, P_PROP, P_OUT, P_PRIOR, N_BLOCKS };
/* The model (0 VAE, 1 propensity, 2 outcome) whose early stopping freezes each block. */
static const int block_model[N_BLOCKS] = { 0, 0, 1, 2, 0 };

typedef struct {
    cs_mlp_work enc, dec, prop, out;
    double *grad;                      /* every block, at trainer.offset[] */
    double *xb;                        /* D x rows: features */
    double *eps, *lv, *sd, *z, *dz;    /* L x rows: noise, posterior log-variance and sd, z */
    double *denc;                      /* 2L x rows */
    double *dout;                      /* W x rows */
    double *dhead;                     /* 2q x rows (the propensity uses the first row) */
    double *resp;                      /* K x rows: the prior's responsibilities */
    double *scratch;                   /* for the likelihood terms (see train_loop) */
    int *place;                        /* rows: a row's place in the outcome's arm order */
    double loss[4];                    /* summed over the shard's rows: vae, propensity, and
                                          the outcome of the control and of the treated rows */
} shard;

typedef struct {
    cs_causalmix *model;
    const cs_train_settings *set;
    int n, D, W, L, K, q, R;           /* R = p + m values per raw row */
    const double *F;                   /* D x n features */
    const double *rows;                /* R x n raw values then missingness indicators */
    const double *t, *ys;
    uint64_t noise_seed;
    double *params[N_BLOCKS], *best[N_BLOCKS];
    cs_mlp *net[P_PRIOR];              /* the networks of the blocks before the prior */
    double *w_t[P_PRIOR];              /* their weights transposed (cs_mlp_transpose) */
    int size[N_BLOCKS];
    size_t offset[N_BLOCKS], n_grad;
    cs_adam adam[N_BLOCKS];
    int *out_arm;                      /* a split outcome net (see causalmix_train.h): the arm
                                          owning each of its parameters, -1 for the weights
                                          between the halves (kept 0); NULL when not split */
    prior_cache pc;
    shard sh[N_SHARDS];
} trainer;

static cs_status shard_alloc(trainer *tr, shard *sh, int rows, size_t scratch_len)
{
    cs_causalmix *mdl = tr->model;
    int L = tr->L;
    if (cs_mlp_work_alloc(&sh->enc, &mdl->encoder, rows) != CS_OK ||
        cs_mlp_work_alloc(&sh->dec, &mdl->decoder, rows) != CS_OK ||
        cs_mlp_work_alloc(&sh->prop, &mdl->propensity, rows) != CS_OK ||
        cs_mlp_work_alloc(&sh->out, &mdl->outcome, rows) != CS_OK)
        return CS_ERR_NOMEM;
    sh->grad = malloc(sizeof(double) * tr->n_grad);
    sh->xb = malloc(sizeof(double) * (size_t) tr->D * rows);
    sh->eps = malloc(sizeof(double) * (size_t) L * rows);
    sh->lv = malloc(sizeof(double) * (size_t) L * rows);
    sh->sd = malloc(sizeof(double) * (size_t) L * rows);
    sh->z = malloc(sizeof(double) * (size_t) L * rows);
    sh->dz = malloc(sizeof(double) * (size_t) L * rows);
    sh->denc = malloc(sizeof(double) * (size_t) 2 * L * rows);
    sh->dout = malloc(sizeof(double) * (size_t) tr->W * rows);
    sh->dhead = malloc(sizeof(double) * (size_t) 2 * tr->q * rows);
    sh->resp = malloc(sizeof(double) * (size_t) tr->K * rows);
    sh->scratch = malloc(sizeof(double) * scratch_len);
    sh->place = malloc(sizeof(int) * (size_t) rows);
    if (!sh->grad || !sh->xb || !sh->eps || !sh->lv || !sh->sd || !sh->z || !sh->dz ||
        !sh->denc || !sh->dout || !sh->dhead || !sh->resp || !sh->scratch || !sh->place)
        return CS_ERR_NOMEM;
    return CS_OK;
}

static void shard_free(shard *sh)
{
    cs_mlp_work_free(&sh->enc); cs_mlp_work_free(&sh->dec);
    cs_mlp_work_free(&sh->prop); cs_mlp_work_free(&sh->out);
    free(sh->grad); free(sh->xb); free(sh->eps); free(sh->lv); free(sh->sd); free(sh->z);
    free(sh->dz); free(sh->denc); free(sh->dout); free(sh->dhead); free(sh->resp);
    free(sh->scratch); free(sh->place);
}

#if defined(__GNUC__)
#define PREFETCH(address) __builtin_prefetch(address)
#else
#define PREFETCH(address) ((void) (address))
#endif

/* Asks for the cache lines of x[0..len-1] ahead of their use. */
static void prefetch_span(const double *x, int len)
{
    const char *first = (const char *) x, *last = (const char *) (x + len) - 1;
    for (const char *c = first; c < last; c += 64) PREFETCH(c);
    PREFETCH(last);
}

/* Standard normal noise for rows idx[0..rows-1], L values per row: the Box-Muller transform of
 * uniform pairs from stream noise_index + row, so a row's noise does not depend on which shard
 * or thread draws it. tmp: noise_scratch(L) doubles per row. */
static int noise_scratch(int L) { return 4 * ((L + 1) / 2); }

static void draw_noise(uint64_t seed, uint64_t noise_index, const int *idx, int rows, int L,
                       double *eps, double *tmp)
{
    int pairs = (L + 1) / 2, n = rows * pairs;
    double *radius = tmp, *turn = radius + n, *sine = turn + n, *cosine = sine + n;
    for (int b = 0; b < rows; b++) {
        cs_rng rng;
        cs_rng_init(&rng, seed, noise_index + (uint64_t) idx[b]);
        for (int k = 0; k < pairs; k++) {
            radius[b * pairs + k] = cs_rng_unif(&rng);
            turn[b * pairs + k] = cs_rng_unif(&rng);
        }
    }
    cs_vlog(radius, radius, n);
    for (int i = 0; i < n; i++) radius[i] = sqrt(-2.0 * radius[i]);
    cs_vsincos2pi(turn, sine, cosine, n);
    for (int b = 0; b < rows; b++)
        for (int l = 0; l < L; l++) {
            int k = b * pairs + l / 2;
            eps[b * L + l] = radius[k] * (l % 2 ? sine[k] : cosine[k]);
        }
}

/* The shard's work space for the network of parameter block `part` (P_ENC .. P_OUT). */
static cs_mlp_work *shard_work(shard *sh, int part)
{
    switch (part) {
    case P_ENC: return &sh->enc;
    case P_DEC: return &sh->dec;
    case P_PROP: return &sh->prop;
    default: return &sh->out;
    }
}

/* The forward pass of block part's network on `rows` inputs x, in the shard's work space. */
static const double *net_forward(const trainer *tr, shard *sh, int part, const double *x,
                                 int rows)
{
    return cs_mlp_forward_transposed(tr->net[part], tr->w_t[part], shard_work(sh, part), x,
                                     rows);
}

/* Its backward pass from dLoss/dOutput d: the gradient is added to the block's part of
 * sh->grad, dLoss/dx written to dx unless NULL. */
static void net_backward(const trainer *tr, shard *sh, int part, const double *x, int rows,
                         const double *d, double *dx)
{
    cs_mlp_backward(tr->net[part], shard_work(sh, part), x, rows, d, sh->grad + tr->offset[part],
                    dx);
}

/* The VAE on a shard's rows (features in sh->xb, noise in sh->eps): returns the summed loss
 * and, when update, adds the gradients of the batch mean (inv = 1 / batch rows). */
static double vae_pass(trainer *tr, shard *sh, const int *idx, int rows, double inv, int update)
{
    cs_causalmix *mdl = tr->model;
    int L = tr->L, K = tr->K, W = tr->W, LB = L * rows;
    double klw = tr->set->kl_weight;
    const double *eo = net_forward(tr, sh, P_ENC, sh->xb, rows);
    /* z = mu + sd eps with lv = bound_lv(raw) and sd = exp(lv / 2) */
    for (int b = 0; b < rows; b++)
        memcpy(sh->sd + b * L, eo + (size_t) b * 2 * L + L, sizeof(double) * L);
    bounded_sd_rows(LB, sh->sd, sh->lv, sh->sd);
    for (int b = 0; b < rows; b++)
        for (int l = 0; l < L; l++)
            sh->z[b * L + l] = eo[(size_t) b * 2 * L + l] + sh->sd[b * L + l] * sh->eps[b * L + l];
    const double *dov = net_forward(tr, sh, P_DEC, sh->z, rows);
    double loss = decoder_nll(&mdl->spec, W, rows, dov, tr->rows, tr->R, idx, inv, sh->dout,
                              sh->scratch);
    double *dz = NULL, *gprior = NULL;
    if (update) {
        net_backward(tr, sh, P_DEC, sh->z, rows, sh->dout, sh->dz);
        dz = sh->dz;
        if (tr->set->learn_prior) gprior = sh->grad + tr->offset[P_PRIOR];
    }
    /* KL part: log q(z | x) - log p(z) */
    double logq = 0.0;
    for (int u = 0; u < LB; u++) logq += -0.5 * (LOG_2PI + sh->lv[u] + sh->eps[u] * sh->eps[u]);
    double nlp = prior_nll(&tr->pc, K, L, rows, sh->z, klw * inv, dz, gprior, sh->resp,
                           sh->scratch);
    loss += klw * (logq + nlp);
    if (update) {
        for (int b = 0; b < rows; b++)
            for (int l = 0; l < L; l++) {
                int u = b * L + l;
                double g = dz[u];
                sh->denc[b * 2 * L + l] = g;
                /* z depends on lv through sd * eps; log q contributes -1/2 per unit of lv */
                sh->denc[b * 2 * L + L + l] = (g * sh->eps[u] * 0.5 * sh->sd[u] - 0.5 * klw * inv) *
                                              bound_lv_slope(sh->lv[u]);
            }
        net_backward(tr, sh, P_ENC, sh->xb, rows, sh->denc, NULL);
    }
    return loss;
}

/* The propensity network (Bernoulli on its logit) on a shard's rows. */
static double propensity_pass(trainer *tr, shard *sh, const int *idx, int rows, double inv,
                              int update)
{
    double *arm = sh->scratch, *tmp = arm + rows;
    const double *po = net_forward(tr, sh, P_PROP, sh->xb, rows);
    for (int b = 0; b < rows; b++) arm[b] = tr->t[idx[b]];
    double loss = bernoulli_terms(rows, po, arm, NULL, inv, sh->dhead, tmp);
    if (update)
        net_backward(tr, sh, P_PROP, sh->xb, rows, sh->dhead, NULL);
    return loss;
}

/* The outcome network on a shard's rows: each row's loss is that of the head of its own arm
 * (the other arm's head gets no gradient). The rows are taken control rows first, so that
 * the losses of the two arms come out apart (loss[0] control, loss[1] treated). */
static void outcome_pass(trainer *tr, shard *sh, const int *idx, int rows, double inv,
                         int update, double *loss)
{
    cs_causalmix *mdl = tr->model;
    int q = tr->q, w = 2 * q;
    size_t n = (size_t) rows;
    /* the row's own head, head by head: q x rows values and gradients */
    double *y = sh->scratch, *head = y + n, *g = head + q * n, *tmp = g + q * n;
    int *place = sh->place;
    const double *oo = net_forward(tr, sh, P_OUT, sh->xb, rows);
    int n0 = 0;
    for (int b = 0; b < rows; b++) n0 += tr->t[idx[b]] <= 0.5;
    for (int b = 0, c0 = 0, c1 = n0; b < rows; b++) {
        int arm = tr->t[idx[b]] > 0.5, at = arm ? c1++ : c0++;
        place[b] = at;
        y[at] = tr->ys[idx[b]];
        for (int h = 0; h < q; h++) head[h * n + at] = oo[(size_t) b * w + arm * q + h];
    }
    for (int arm = 0; arm < 2; arm++) {
        int first = arm ? n0 : 0, m = arm ? rows - n0 : n0;
        double *ya = y + first, *ha = head + first, *ga = g + first;
        if (m == 0) { loss[arm] = 0.0; continue; }
        if (mdl->outcome_binary) {
            loss[arm] = bernoulli_terms(m, ha, ya, NULL, inv, ga, tmp);
        } else if (mdl->outcome_mass) {
            /* the point mass is a Bernoulli; the other values a truncated Gaussian */
            double *mass = tmp, *off_mass = tmp + n, *tmp2 = tmp + 2 * n;
            for (int b = 0; b < m; b++) {
                mass[b] = ya[b] == mdl->y_mass ? 1.0 : 0.0;
                off_mass[b] = 1.0 - mass[b];
            }
            loss[arm] = bernoulli_terms(m, ha, mass, NULL, inv, ga, tmp2) +
                        truncated_gauss_terms(m, ha + n, ha + 2 * n, ya, mdl->y_lower,
                                              mdl->y_upper, off_mass, inv, ga + n, ga + 2 * n,
                                              tmp2);
        } else if (mdl->outcome_atoms.n > 0) {
            loss[arm] = atom_gauss_terms(m, ha, ha + n, ya, &mdl->outcome_atoms, NULL, inv, ga,
                                         ga + n, tmp);
        } else {
            loss[arm] = gauss_terms(m, ha, ha + n, ya, NULL, inv, ga, ga + n, tmp);
        }
    }
    for (int b = 0; b < rows; b++) {
        int arm = tr->t[idx[b]] > 0.5;
        double *d = sh->dhead + (size_t) b * w;
        for (int h = 0; h < w; h++) d[h] = 0.0;
        for (int h = 0; h < q; h++) d[arm * q + h] = g[h * n + place[b]];
    }
    if (update)
        net_backward(tr, sh, P_OUT, sh->xb, rows, sh->dhead, NULL);
}

/* Losses of rows idx[0..rows-1] under all three models and, for the models marked in
 * `update`, gradients of the batch mean (inv = 1 / batch rows) into sh->grad. noise: the
 * rows' VAE noise (L per row), or NULL to draw it from streams noise_index + row. */
static void shard_pass(trainer *tr, shard *sh, const int *idx, int rows, double inv,
                       const int *update, const double *noise, uint64_t noise_index)
{
    int D = tr->D, L = tr->L;
    sh->loss[0] = sh->loss[1] = sh->loss[2] = sh->loss[3] = 0.0;
    if (update[0] || update[1] || update[2]) memset(sh->grad, 0, sizeof(double) * tr->n_grad);
    if (rows < 1) return;
    /* the rows sit at random places in tables larger than the caches: the features are asked
     * for a few rows ahead of the copy, the raw values (read by the likelihood) all at once */
    enum { AHEAD = 4 };
    for (int b = 0; b < rows && b < AHEAD; b++) prefetch_span(tr->F + (size_t) idx[b] * D, D);
    for (int b = 0; b < rows; b++) {
        if (b + AHEAD < rows) prefetch_span(tr->F + (size_t) idx[b + AHEAD] * D, D);
        prefetch_span(tr->rows + (size_t) idx[b] * tr->R, tr->R);
        memcpy(sh->xb + (size_t) b * D, tr->F + (size_t) idx[b] * D, sizeof(double) * D);
    }
    if (noise)
        memcpy(sh->eps, noise, sizeof(double) * (size_t) L * rows);
    else
        draw_noise(tr->noise_seed, noise_index, idx, rows, L, sh->eps, sh->scratch);
    sh->loss[0] = vae_pass(tr, sh, idx, rows, inv, update[0]);
    sh->loss[1] = propensity_pass(tr, sh, idx, rows, inv, update[1]);
    outcome_pass(tr, sh, idx, rows, inv, update[2], sh->loss + 2);
}

static int block_updated(const trainer *tr, int k, const int *update)
{
    return update[block_model[k]] && (k != P_PRIOR || tr->set->learn_prior);
}

/* Adds the shards' gradients of block k in shard order and takes the optimiser step. */
CS_AVX2_CLONES
static void step_block(trainer *tr, int k)
{
    double *g = tr->sh[0].grad + tr->offset[k];
    for (int s = 1; s < N_SHARDS; s++) {
        const double *h = tr->sh[s].grad + tr->offset[k];
        for (int i = 0; i < tr->size[k]; i++) g[i] += h[i];
    }
    if (k == P_OUT && tr->out_arm)
        for (int i = 0; i < tr->size[k]; i++)
            if (tr->out_arm[i] < 0) g[i] = 0.0;
    cs_adam_step(&tr->adam[k], tr->params[k], g);
    if (k == P_PRIOR)
        prior_cache_fill(&tr->pc, tr->params[k], tr->K, tr->L);
    else
        cs_mlp_transpose(tr->net[k], tr->w_t[k]);
}

/* One batch of nb rows through the three models, updating those marked in `update`; loss
 * receives the four summed losses (the outcome's per arm). */
static void run_batch(trainer *tr, const int *idx, int nb, const int *update,
                      const double *noise, uint64_t noise_index, int teams, double *loss)
{
    double inv = 1.0 / nb;
    int any = update[0] || update[1] || update[2];
#ifdef _OPENMP
#pragma omp parallel num_threads(teams)
#endif
    {
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (int s = 0; s < N_SHARDS; s++) {
            int r0 = (int) ((long long) nb * s / N_SHARDS);
            int r1 = (int) ((long long) nb * (s + 1) / N_SHARDS);
            shard_pass(tr, &tr->sh[s], idx + r0, r1 - r0, inv, update,
                       noise ? noise + (size_t) r0 * tr->L : NULL, noise_index);
        }
        if (any) {
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1) nowait
#endif
            for (int k = 0; k < N_BLOCKS; k++)
                if (block_updated(tr, k, update)) step_block(tr, k);
        }
    }
    (void) teams;
    for (int k = 0; k < 4; k++) {
        loss[k] = 0.0;
        for (int s = 0; s < N_SHARDS; s++) loss[k] += tr->sh[s].loss[k];
    }
}

void cs_causalmix_init(cs_causalmix *mdl, uint64_t seed)
{
    cs_rng rng;
    cs_rng_init(&rng, seed, 1000); cs_mlp_init_params(&mdl->encoder, &rng);
    cs_rng_init(&rng, seed, 1001); cs_mlp_init_params(&mdl->decoder, &rng);
    cs_rng_init(&rng, seed, 1002); cs_mlp_init_params(&mdl->propensity, &rng);
    cs_rng_init(&rng, seed, 1003); cs_mlp_init_params(&mdl->outcome, &rng);
    int K = mdl->n_components, L = mdl->latent;
    cs_rng_init(&rng, seed, 1004);
    for (int k = 0; k < K; k++) mdl->prior[k] = 0.0;
    for (int u = 0; u < K * L; u++) {
        mdl->prior[K + u] = K > 1 ? cs_rng_norm(&rng) : 0.0;
        mdl->prior[K + K * L + u] = 0.0;
    }
}

static void trainer_free(trainer *tr)
{
    for (int s = 0; s < N_SHARDS; s++) shard_free(&tr->sh[s]);
    for (int k = 0; k < N_BLOCKS; k++) {
        free(tr->best[k]);
        cs_adam_free(&tr->adam[k]);
    }
    for (int k = 0; k < P_PRIOR; k++) free(tr->w_t[k]);
    free(tr->pc.mean); free(tr->pc.stack); free(tr->pc.stack_t); free(tr->pc.prec);
    free(tr->pc.log_norm); free(tr->pc.weight);
    free(tr->out_arm);
}

/* The arm owning each parameter of a split outcome net (see causalmix_train.h): the hidden
 * units of every layer are two halves, the first the control arm's, and the outputs
 * 0 .. q - 1 the control arm's; a unit reads all the features (first layer) or the units of
 * its own half. -1 marks the weights between the halves. */
static void outcome_arms(const cs_mlp *net, int *arm)
{
    const int *sz = net->sizes;
    for (int l = 0, at = 0; l < net->n_layers; l++) {
        int n_in = sz[l], n_out = sz[l + 1];
        for (int o = 0; o < n_out; o++) {
            int own = o >= n_out / 2;
            for (int i = 0; i < n_in; i++)
                arm[at++] = l == 0 || (i >= n_in / 2) == own ? own : -1;
        }
        for (int o = 0; o < n_out; o++) arm[at++] = o >= n_out / 2;
    }
}

/* The outcome network starts from per-arm linear fits on the training rows (see
 * cs_mlp_linear_start) of the heads that carry the outcome's mean: the logit of a binary
 * outcome, the mean of a continuous one, and for a semicontinuous one the logit of the point
 * mass and the location of the rest. Trained from random weights, the network is stopped
 * early on a small held-out set long before it has learned how the mean moves with the
 * covariates, so the outcome's correlations with them came out too weak; from this start the
 * training refines a fit that already has them. A head whose arm has fewer than
 * LINEAR_START_ROWS rows per coefficient, or whose fit fails or separates, starts at random as
 * before; at most LINEAR_START_MAX training rows, evenly spaced, enter the fits. */
#define LINEAR_START_ROWS 10
#define LINEAR_START_MAX 20000

static void outcome_linear_start(trainer *tr, const int *train, int n_train)
{
    cs_causalmix *mdl = tr->model;
    int D = tr->D, q = tr->q, step = (n_train + LINEAR_START_MAX - 1) / LINEAR_START_MAX;
    int m = (n_train + step - 1) / step, per_arm = mdl->outcome_mass ? 2 : 1, P = D + 1;
    double *x = malloc(sizeof(double) * (size_t) m * P);
    double *y = malloc(sizeof(double) * (size_t) m), *w = malloc(sizeof(double) * (size_t) m);
    double *fitted = malloc(sizeof(double) * (size_t) m);
    double *coef = malloc(sizeof(double) * (size_t) 2 * per_arm * P);
    int *aliased = malloc(sizeof(int) * (size_t) P), head[4], n_heads = 0;
    int spread_head[2], n_spread = 0;
    double spread[2];
    if (!x || !y || !w || !fitted || !coef || !aliased) goto done;
    for (int r = 0; r < m; r++) {
        const double *f = tr->F + (size_t) train[r * step] * D;
        x[r] = 1.0;
        for (int i = 0; i < D; i++) x[(size_t) (i + 1) * m + r] = f[i];
    }
    cs_glm_control control = { 25, 1e-8, 1e-11 };
    for (int arm = 0; arm < 2; arm++)
        for (int h = 0; h < per_arm; h++) {
            /* h = 0: the logit (binary, the point mass) or the mean; h = 1: the location of a
             * semicontinuous outcome off its point mass */
            int binomial = mdl->outcome_binary || (mdl->outcome_mass && h == 0);
            double rows = 0.0;
            for (int r = 0; r < m; r++) {
                int i = train[r * step];
                double v = tr->ys[i];
                int at_mass = mdl->outcome_mass && v == mdl->y_mass;
                y[r] = mdl->outcome_mass && h == 0 ? at_mass : v;
                w[r] = (tr->t[i] > 0.5) == arm && !(h == 1 && at_mass);
                rows += w[r];
            }
            if (rows < (double) LINEAR_START_ROWS * P) continue;
            double *beta = coef + (size_t) n_heads * P;
            cs_glm_info info;
            if (cs_glm_irls(m, P, x, y, w, NULL, binomial ? CS_GLM_BINOMIAL : CS_GLM_GAUSSIAN,
                            &control, NULL, beta, aliased, fitted, NULL, &info) != CS_OK ||
                !info.converged || info.boundary || info.separated)
                continue;
            int finite = 1;
            for (int i = 0; i < P; i++) finite = finite && isfinite(beta[i]);
            if (!finite) continue;
            head[n_heads++] = arm * q + h;
            if (binomial) continue;
            /* the Gaussian's spread starts constant, at the fit's residual variance */
            double rss = 0.0;
            for (int r = 0; r < m; r++) rss += w[r] * (y[r] - fitted[r]) * (y[r] - fitted[r]);
            double lv = log(rss / rows);
            if (isfinite(lv) && fabs(lv) < 0.9 * CS_LV_BOUND) {
                spread_head[n_spread] = arm * q + q - 1;
                spread[n_spread++] = CS_LV_BOUND * atanh(lv / CS_LV_BOUND);
            }
        }
    if (n_heads > 0 && cs_mlp_linear_start(&mdl->outcome, n_heads, head, coef,
                                           mdl->outcome_split) == CS_OK)
        for (int k = 0; k < n_spread; k++)
            cs_mlp_constant_head(&mdl->outcome, spread_head[k], spread[k]);
done:
    free(x); free(y); free(w); free(fitted); free(coef); free(aliased);
}

/* Keeps the current parameters of monitor k (0 VAE, 1 propensity, 2 and 3 the outcome's
 * control and treated arm) as its best: of a split outcome net the arm's own parameters,
 * else the whole outcome net for either arm. */
static void keep_best(trainer *tr, int monitor)
{
    int model = monitor < 2 ? monitor : 2;
    for (int k = 0; k < N_BLOCKS; k++) {
        if (block_model[k] != model) continue;
        if (k == P_OUT && tr->out_arm) {
            /* with the weights between the halves, which stay 0 */
            for (int i = 0; i < tr->size[k]; i++)
                if (tr->out_arm[i] == monitor - 2 || tr->out_arm[i] < 0)
                    tr->best[k][i] = tr->params[k][i];
        } else {
            memcpy(tr->best[k], tr->params[k], sizeof(double) * tr->size[k]);
        }
    }
}

static cs_status train_loop(cs_causalmix *mdl, const cs_train_settings *set, int n,
                            const double *x, const double *miss, const double *t,
                            const double *y, int threads, double *history, int *epochs_run,
                            int *best_epoch, double *best_loss, cs_interrupt_fn interrupt,
                            cs_train_progress_fn progress, void *progress_context)
{
    /* the shards are fixed, so the result is the same with any number of teams */
    cs_team_tuner tuner;
    cs_team_tuner_init(&tuner, cs_threads(threads) < N_SHARDS ? cs_threads(threads) : N_SHARDS);
    const cs_table_spec *s = &mdl->spec;
    trainer tr;
    memset(&tr, 0, sizeof(tr));
    tr.model = mdl; tr.set = set; tr.n = n;
    tr.D = cs_feature_width(s); tr.W = cs_decoder_width(s); tr.R = s->p + s->m;
    tr.L = mdl->latent; tr.K = mdl->n_components;
    tr.q = mdl->outcome_binary ? 1 : mdl->outcome_mass ? 3 : 2;
    tr.t = t; tr.ys = y;
    /* a stream of its own for the VAE's noise, apart from the split, shuffles and initialisation */
    tr.noise_seed = cs_rng_derive_seed(set->seed, 3);
    int B = set->batch_size, n_valid = (int) floor(n * set->validation_share), n_train = n - n_valid;
    if (mdl->encoder.sizes[0] != tr.D || mdl->encoder.sizes[mdl->encoder.n_layers] != 2 * tr.L ||
        mdl->decoder.sizes[0] != tr.L || mdl->decoder.sizes[mdl->decoder.n_layers] != tr.W ||
        mdl->propensity.sizes[0] != tr.D || mdl->propensity.sizes[mdl->propensity.n_layers] != 1 ||
        mdl->outcome.sizes[0] != tr.D || mdl->outcome.sizes[mdl->outcome.n_layers] != 2 * tr.q ||
        n_train < 1 || B < 1)
        return CS_ERR_ARGUMENT;
    if (B > n_train) B = n_train;
    int shard_rows = (B + N_SHARDS - 1) / N_SHARDS, kmax = 0;
    for (int j = 0; j < s->p; j++)
        if ((s->type[j] == CS_COL_CATEGORICAL || s->type[j] == CS_COL_COUNT) &&
            s->n_levels[j] > kmax)
            kmax = s->n_levels[j];
    /* per row for decoder_nll, draw_noise, prior_nll and the 9 + 2 q of outcome_pass; plus
     * prior_nll's fixed part */
    int per_row = decoder_scratch(tr.W, tr.R, kmax);
    if (9 + 2 * tr.q > per_row) per_row = 9 + 2 * tr.q;
    if (noise_scratch(tr.L) > per_row) per_row = noise_scratch(tr.L);
    if (prior_scratch_rows(tr.L) > per_row) per_row = prior_scratch_rows(tr.L);
    size_t scratch_len = (size_t) per_row * shard_rows + prior_scratch_fixed(tr.K, tr.L);
    cs_mlp *nets[4] = { &mdl->encoder, &mdl->decoder, &mdl->propensity, &mdl->outcome };
    for (int k = 0; k < 4; k++) {
        tr.net[k] = nets[k];
        tr.params[k] = nets[k]->params;
        tr.size[k] = nets[k]->n_params;
    }
    tr.params[P_PRIOR] = mdl->prior;
    tr.size[P_PRIOR] = cs_prior_size(tr.K, tr.L);
    for (int k = 0; k < N_BLOCKS; k++) {
        tr.offset[k] = tr.n_grad;
        tr.n_grad += (size_t) tr.size[k];
    }

    cs_status st = CS_OK;
    double *F = malloc(sizeof(double) * (size_t) tr.D * n);
    double *rows = malloc(sizeof(double) * ((size_t) tr.R * n + 1));
    int *order = malloc(sizeof(int) * n);
    double *valid_noise = malloc(sizeof(double) * ((size_t) tr.L * n_valid + 1));
    tr.pc.mean = malloc(sizeof(double) * tr.K * tr.L);
    tr.pc.stack = malloc(sizeof(double) * 2 * tr.K * tr.L);
    tr.pc.stack_t = malloc(sizeof(double) * 2 * tr.K * tr.L);
    tr.pc.prec = malloc(sizeof(double) * tr.K * tr.L);
    tr.pc.log_norm = malloc(sizeof(double) * tr.K);
    tr.pc.weight = malloc(sizeof(double) * tr.K);
    if (!F || !rows || !order || !valid_noise || !tr.pc.mean || !tr.pc.stack || !tr.pc.stack_t ||
        !tr.pc.prec || !tr.pc.log_norm || !tr.pc.weight) {
        st = CS_ERR_NOMEM;
        goto done;
    }
    for (int k = 0; k < P_PRIOR; k++) {
        if (!(tr.w_t[k] = malloc(sizeof(double) * cs_mlp_weight_count(tr.net[k])))) {
            st = CS_ERR_NOMEM;
            goto done;
        }
        cs_mlp_transpose(tr.net[k], tr.w_t[k]);
    }
    for (int k = 0; k < N_BLOCKS; k++) {
        tr.best[k] = malloc(sizeof(double) * tr.size[k]);
        if (!tr.best[k] ||
            cs_adam_alloc(&tr.adam[k], tr.size[k], set->learning_rate, 0.9, 0.999, 1e-8, 0.0) != CS_OK) {
            st = CS_ERR_NOMEM;
            goto done;
        }
        memcpy(tr.best[k], tr.params[k], sizeof(double) * tr.size[k]);
    }
    for (int h = 0; h < N_SHARDS; h++)
        if ((st = shard_alloc(&tr, &tr.sh[h], shard_rows, scratch_len)) != CS_OK) goto done;
    /* rows one after the other, so a batch reads each row's values from consecutive memory */
    for (int j = 0; j < s->p; j++)
        for (int i = 0; i < n; i++) rows[(size_t) i * tr.R + j] = x[(size_t) j * n + i];
    for (int r = 0; r < s->m; r++)
        for (int i = 0; i < n; i++) rows[(size_t) i * tr.R + s->p + r] = miss[(size_t) r * n + i];
    for (int i = 0; i < n; i++) {
        const double *row = rows + (size_t) i * tr.R;
        cs_features_row(s, row, row + s->p, F + (size_t) i * tr.D);
    }
    tr.F = F;
    tr.rows = rows;
    prior_cache_fill(&tr.pc, mdl->prior, tr.K, tr.L);

    /* split: the first n_valid rows of a seeded permutation are held out */
    cs_rng rng;
    cs_rng_init(&rng, set->seed, 0);
    for (int i = 0; i < n; i++) order[i] = i;
    cs_rng_shuffle(&rng, order, n);
    int *valid = order, *train = order + n_valid;
    if (mdl->outcome_split) {
        if (!(tr.out_arm = malloc(sizeof(int) * tr.size[P_OUT]))) { st = CS_ERR_NOMEM; goto done; }
        outcome_arms(&mdl->outcome, tr.out_arm);
        for (int i = 0; i < tr.size[P_OUT]; i++)
            if (tr.out_arm[i] < 0) tr.params[P_OUT][i] = 0.0;
    }
    outcome_linear_start(&tr, train, n_train);
    keep_best(&tr, 2);
    keep_best(&tr, 3);
    cs_mlp_transpose(tr.net[P_OUT], tr.w_t[P_OUT]);
    /* noise streams: 0..n-1 for the held-out rows, drawn once (every epoch is scored on the same
     * draw), then n more per epoch for the training rows */
    for (int start = 0; start < n_valid; start += shard_rows) {
        int nb = n_valid - start < shard_rows ? n_valid - start : shard_rows;
        draw_noise(tr.noise_seed, 0, valid + start, nb, tr.L, valid_noise + (size_t) start * tr.L,
                   tr.sh[0].scratch);
    }

    /* four monitors: the VAE, the propensity and each arm of the outcome, which stop early
     * apart (a small treated arm overfits long before the control arm has learned its law) */
    double best[4] = { INFINITY, INFINITY, INFINITY, INFINITY };
    int waited[4] = { 0, 0, 0, 0 }, active[4] = { 1, 1, 1, 1 };
    /* an outcome net that is not split stops as one: monitor 2 watches both arms */
    int split = tr.out_arm != NULL;
    active[3] = split;
    for (int k = 0; k < 4; k++) best_epoch[k] = 0;
    cs_poll poll;
    cs_poll_init(&poll, interrupt);
    int epoch;
    for (epoch = 0; epoch < set->epochs; epoch++) {
        double tl[4] = { 0, 0, 0, 0 }, vl[4] = { NAN, NAN, NAN, NAN };
        cs_rng_init(&rng, set->seed, 1 + (uint64_t) epoch);
        cs_rng_shuffle(&rng, train, n_train);
        uint64_t noise_index = (uint64_t) (epoch + 1) * (uint64_t) n;
        const int update[3] = { active[0], active[1], active[2] || active[3] };
        for (int start = 0; start < n_train; start += B) {
            int nb = n_train - start < B ? n_train - start : B;
            double l[4];
            run_batch(&tr, train + start, nb, update, NULL, noise_index,
                      cs_team_tuner_begin(&tuner), l);
            cs_team_tuner_end(&tuner, nb);
            for (int k = 0; k < 4; k++) tl[k] += l[k];
            if (cs_poll_main(&poll)) { st = CS_ERR_INTERRUPTED; goto done; }
        }
        for (int k = 0; k < 4; k++) tl[k] /= n_train;
        if (!isfinite(tl[0]) || !isfinite(tl[1]) || !isfinite(tl[2]) || !isfinite(tl[3])) {
            st = CS_ERR_NONFINITE;
            goto done;
        }
        if (n_valid > 0) {
            const int frozen[3] = { 0, 0, 0 };
            vl[0] = vl[1] = vl[2] = vl[3] = 0.0;
            for (int start = 0; start < n_valid; start += B) {
                int nb = n_valid - start < B ? n_valid - start : B;
                double l[4];
                run_batch(&tr, valid + start, nb, frozen, valid_noise + (size_t) start * tr.L, 0,
                          tuner.current, l);
                for (int k = 0; k < 4; k++) vl[k] += l[k];
            }
            for (int k = 0; k < 4; k++) vl[k] /= n_valid;
        }
        double *hist = history;
        int E = set->epochs;
        const double train_loss[3] = { tl[0], tl[1], tl[2] + tl[3] };
        const double valid_loss[3] = { vl[0], vl[1], vl[2] + vl[3] };
        for (int k = 0; k < 3; k++) {
            hist[(2 * k) * E + epoch] = train_loss[k];
            hist[(2 * k + 1) * E + epoch] = valid_loss[k];
        }
        /* early stopping per monitor on the held-out loss (training loss without a held-out
         * set) */
        for (int k = 0; k < 4; k++) {
            if (!active[k]) continue;
            double monitor = n_valid > 0 ? vl[k] : tl[k];
            if (k == 2 && !split) monitor += n_valid > 0 ? vl[3] : tl[3];
            if (monitor < best[k] - 1e-6 * fabs(best[k]) || !isfinite(best[k])) {
                best[k] = monitor; waited[k] = 0; best_epoch[k] = epoch + 1;
                keep_best(&tr, k);
            } else if (++waited[k] >= set->patience) {
                active[k] = 0;
            }
        }
        if (progress) {
            double losses[6] = { tl[0], vl[0], tl[1], vl[1], tl[2] + tl[3], vl[2] + vl[3] };
            progress(progress_context, epoch + 1, losses);
        }
        if (!active[0] && !active[1] && !active[2] && !active[3]) { epoch++; break; }
        if (cs_poll_main(&poll)) { st = CS_ERR_INTERRUPTED; goto done; }
    }
    if (!split) {
        best_epoch[3] = best_epoch[2];
        best[3] = 0.0;
    }
    for (int k = 0; k < 4; k++) best_loss[k] = best[k];
    *epochs_run = epoch;
    for (int k = 0; k < N_BLOCKS; k++)
        memcpy(tr.params[k], tr.best[k], sizeof(double) * tr.size[k]);

done:
    free(F); free(rows); free(order); free(valid_noise);
    trainer_free(&tr);
    return st;
}

cs_status cs_causalmix_train(cs_causalmix *mdl, const cs_train_settings *set, int n,
                             const double *x, const double *miss, const double *t,
                             const double *y, int threads, double *history, int *epochs_run,
                             int *best_epoch, double *best_loss, cs_interrupt_fn interrupt,
                             cs_train_progress_fn progress, void *progress_context)
{
    /* networks wider than the small-product kernels take (small_gemm.h) call dgemm from the
     * training threads: a BLAS starting threads of its own in every call would only compete
     * with them (see blas_threads.c) */
    cs_blas_threads saved;
    cs_blas_threads_single(&saved);
    cs_status st = train_loop(mdl, set, n, x, miss, t, y, threads, history, epochs_run,
                              best_epoch, best_loss, interrupt, progress, progress_context);
    cs_blas_threads_restore(&saved);
    return st;
}
