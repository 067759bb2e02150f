/* IRLS for Gaussian/identity and binomial/logit GLMs (see glm.h). Each iteration solves a
 * weighted least-squares problem. Fast path: Cholesky of X'WX (LAPACK dpotrf), taken
 * only when every column keeps at least 1% of its norm after projection on the earlier columns,
 * so the normal equations lose no accuracy that matters (relative error ~1e-12). Otherwise a
 * Householder QR (LAPACK dgeqrf/dormqr/dtrtrs): columns whose residual norm after projection on
 * the earlier columns falls below tol times their own norm are aliased and the factorisation is
 * redone without them, the same rule (limited pivoting) that stats::glm.fit applies, so the same
 * columns are dropped. */
#include "blas.h"
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "glm.h"
#include "poll.h"

/* glm.fit's logit clamps (stats/src/family.c). */
#define LOGIT_THRESH 30.0
#define LOGIT_MTHRESH -30.0

static double logit_linkinv(double eta)
{
    double t = (eta < LOGIT_MTHRESH) ? DBL_EPSILON
             : (eta > LOGIT_THRESH) ? 1.0 / DBL_EPSILON : exp(eta);
    return t / (1.0 + t);
}

static double logit_mu_eta(double eta)
{
    double opexp = 1.0 + exp(eta);
    return (eta > LOGIT_THRESH || eta < LOGIT_MTHRESH) ? DBL_EPSILON : exp(eta) / (opexp * opexp);
}

static double y_log_y(double y, double mu)
{
    return (y != 0.0) ? y * log(y / mu) : 0.0;
}

static double deviance(int n, const double *y, const double *mu, const double *weights,
                       cs_glm_family family)
{
    double dev = 0.0;
    for (int i = 0; i < n; i++) {
        double w = weights ? weights[i] : 1.0;
        if (family == CS_GLM_GAUSSIAN) {
            double r = y[i] - mu[i];
            dev += w * r * r;
        } else {
            dev += 2.0 * w * (y_log_y(y[i], mu[i]) + y_log_y(1.0 - y[i], 1.0 - mu[i]));
        }
    }
    return dev;
}

static void linear_predictor(int n, int p, const double *x, const double *beta,
                             const double *offset, double *eta)
{
    for (int i = 0; i < n; i++) eta[i] = offset ? offset[i] : 0.0;
    for (int j = 0; j < p; j++) {
        double b = beta[j];
        if (b == 0.0) continue;
        const double *col = x + (size_t) j * n;
        for (int i = 0; i < n; i++) eta[i] += b * col[i];
    }
}

static void mean_from_eta(int n, const double *eta, cs_glm_family family, double *mu)
{
    for (int i = 0; i < n; i++)
        mu[i] = (family == CS_GLM_GAUSSIAN) ? eta[i] : logit_linkinv(eta[i]);
}

/* Workspace for one weighted least-squares solve. */
typedef struct {
    int n, p, lwork;
    double *a;      /* m-by-k scaled design of the active columns */
    double *tau;
    double *work;
    double *rhs;
    double *colnorm;
    int *active;    /* indices of the non-aliased columns, in order */
    double *xtx;    /* p-by-p: X'WX, then its Cholesky factor */
    double *xtz;    /* p: X'Wz */
    int chol;       /* 1 when the last solve used the Cholesky path (factor in xtx) */
} wls_space;

/* Share of a column's squared norm that must survive projection on the earlier columns for the
 * Cholesky path (1e-4: at least 1% of the norm). */
#define CHOL_MIN_RATIO 1e-4

/* Upper triangle of A'A for an m-by-p column-major A (what dsyrk computes), four columns at a
 * time with independent accumulators: the reference BLAS runs one dependent chain per entry,
 * and this product is most of the cost of an IRLS iteration. */
static void crossprod_upper(int m, int p, const double *a, double *c)
{
    for (int j = 0; j < p; j++) {
        const double *aj = a + (size_t) j * m;
        int i = 0;
        for (; i + 3 <= j; i += 4) {
            const double *a0 = a + (size_t) i * m, *a1 = a0 + m, *a2 = a1 + m, *a3 = a2 + m;
            double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
            for (int r = 0; r < m; r++) {
                double v = aj[r];
                s0 += a0[r] * v;
                s1 += a1[r] * v;
                s2 += a2[r] * v;
                s3 += a3[r] * v;
            }
            c[(size_t) j * p + i] = s0;
            c[(size_t) j * p + i + 1] = s1;
            c[(size_t) j * p + i + 2] = s2;
            c[(size_t) j * p + i + 3] = s3;
        }
        for (; i <= j; i++) {
            const double *ai = a + (size_t) i * m;
            double s0 = 0.0, s1 = 0.0;
            int r = 0;
            for (; r + 1 < m; r += 2) {
                s0 += ai[r] * aj[r];
                s1 += ai[r + 1] * aj[r + 1];
            }
            if (r < m) s0 += ai[r] * aj[r];
            c[(size_t) j * p + i] = s0 + s1;
        }
    }
}

/* Cholesky path; returns 0 (and leaves the outputs untouched) when the QR path is needed. */
static int wls_cholesky(wls_space *ws, const double *x, const double *z, const double *sw,
                        const int *rows, int m, double *coef)
{
    int n = ws->n, p = ws->p, info = 0, one = 1;
    double done = 1.0, dzero = 0.0;
    for (int j = 0; j < p; j++) {
        const double *col = x + (size_t) j * n;
        double *dst = ws->a + (size_t) j * m;
        for (int r = 0; r < m; r++) dst[r] = col[rows[r]] * sw[rows[r]];
    }
    for (int r = 0; r < m; r++) ws->rhs[r] = z[rows[r]] * sw[rows[r]];
    crossprod_upper(m, p, ws->a, ws->xtx);
    F77_CALL(dgemv)("T", &m, &p, &done, ws->a, &m, ws->rhs, &one, &dzero, ws->xtz, &one FCONE);
    for (int j = 0; j < p; j++) {
        ws->colnorm[j] = ws->xtx[(size_t) j * p + j];
        if (!(ws->colnorm[j] > 0.0)) return 0;
    }
    F77_CALL(dpotrf)("U", &p, ws->xtx, &p, &info FCONE);
    if (info != 0) return 0;
    for (int j = 0; j < p; j++) {
        double r = ws->xtx[(size_t) j * p + j];
        if (r * r < CHOL_MIN_RATIO * ws->colnorm[j]) return 0;
    }
    for (int j = 0; j < p; j++) coef[j] = ws->xtz[j];
    F77_CALL(dpotrs)("U", &p, &one, ws->xtx, &p, coef, &p, &info FCONE);
    return info == 0;
}

/* Weighted least squares of z on x over rows with sw > 0 (sw = sqrt of the working weight).
 * Fills coef (p; zero for aliased), aliased and rank. Leaves R in ws->a (leading rank columns). */
static cs_status wls_solve(wls_space *ws, const double *x, const double *z, const double *sw,
                           const int *rows, int m, double tol, double *coef, int *aliased,
                           int *rank)
{
    int n = ws->n, p = ws->p, info = 0;
    for (int j = 0; j < p; j++) aliased[j] = 0;
    if (m >= p && wls_cholesky(ws, x, z, sw, rows, m, coef)) {
        ws->chol = 1;
        *rank = p;
        for (int j = 0; j < p; j++) ws->active[j] = j;
        return CS_OK;
    }
    ws->chol = 0;
    for (;;) {
        int k = 0;
        for (int j = 0; j < p; j++) if (!aliased[j]) ws->active[k++] = j;
        if (k == 0) break;
        for (int c = 0; c < k; c++) {
            const double *col = x + (size_t) ws->active[c] * n;
            double *dst = ws->a + (size_t) c * m, ss = 0.0;
            for (int r = 0; r < m; r++) {
                dst[r] = col[rows[r]] * sw[rows[r]];
                ss += dst[r] * dst[r];
            }
            ws->colnorm[c] = sqrt(ss);
        }
        F77_CALL(dgeqrf)(&m, &k, ws->a, &m, ws->tau, ws->work, &ws->lwork, &info);
        if (info != 0) return CS_ERR_ARGUMENT;
        int dropped = -1;
        for (int c = 0; c < k && c < m; c++) {
            double rkk = fabs(ws->a[(size_t) c * m + c]);
            if (ws->colnorm[c] == 0.0 || rkk < tol * ws->colnorm[c]) { dropped = c; break; }
        }
        if (k > m && dropped < 0) dropped = m;  /* more columns than rows */
        if (dropped < 0) break;
        aliased[ws->active[dropped]] = 1;
    }
    int k = 0;
    for (int j = 0; j < p; j++) if (!aliased[j]) ws->active[k++] = j;
    *rank = k;
    for (int j = 0; j < p; j++) coef[j] = 0.0;
    if (k == 0) return CS_OK;
    for (int r = 0; r < m; r++) ws->rhs[r] = z[rows[r]] * sw[rows[r]];
    int one = 1;
    F77_CALL(dormqr)("L", "T", &m, &one, &k, ws->a, &m, ws->tau, ws->rhs, &m, ws->work,
                     &ws->lwork, &info FCONE FCONE);
    if (info != 0) return CS_ERR_ARGUMENT;
    F77_CALL(dtrtrs)("U", "N", "N", &k, &one, ws->a, &m, ws->rhs, &m, &info
                     FCONE FCONE FCONE);
    if (info != 0) return CS_ERR_SINGULAR;
    for (int c = 0; c < k; c++) coef[ws->active[c]] = ws->rhs[c];
    return CS_OK;
}

/* (X'WX)^{-1}: from the Cholesky factor, or from the R left in ws->a by the QR path (scattered
 * into a p-by-p matrix with zeros for aliased columns). */
static cs_status unscaled_covariance(wls_space *ws, int m, int rank, double *cov)
{
    int p = ws->p, info = 0;
    memset(cov, 0, sizeof(double) * (size_t) p * p);
    if (rank == 0) return CS_OK;
    if (ws->chol) {
        memcpy(cov, ws->xtx, sizeof(double) * (size_t) p * p);
        F77_CALL(dpotri)("U", &p, cov, &p, &info FCONE);
        if (info != 0) return CS_ERR_SINGULAR;
        for (int a = 0; a < p; a++)
            for (int b = a + 1; b < p; b++) cov[(size_t) a * p + b] = cov[(size_t) b * p + a];
        return CS_OK;
    }
    double *rinv = calloc((size_t) rank * rank, sizeof(double));
    if (!rinv) return CS_ERR_NOMEM;
    for (int c = 0; c < rank; c++)
        for (int r = 0; r <= c; r++) rinv[(size_t) c * rank + r] = ws->a[(size_t) c * m + r];
    F77_CALL(dtrtri)("U", "N", &rank, rinv, &rank, &info FCONE FCONE);
    if (info != 0) { free(rinv); return CS_ERR_SINGULAR; }
    for (int a = 0; a < rank; a++)
        for (int b = a; b < rank; b++) {
            double s = 0.0;  /* (Rinv Rinv')[a, b] = sum_c Rinv[a, c] Rinv[b, c], c >= b */
            for (int c = b; c < rank; c++)
                s += rinv[(size_t) c * rank + a] * rinv[(size_t) c * rank + b];
            int ja = ws->active[a], jb = ws->active[b];
            cov[(size_t) jb * p + ja] = s;
            cov[(size_t) ja * p + jb] = s;
        }
    free(rinv);
    return CS_OK;
}

cs_status cs_glm_irls(int n, int p, const double *x, const double *y, const double *weights,
                      const double *offset, cs_glm_family family, const cs_glm_control *control,
                      cs_interrupt_fn interrupt, double *beta, int *aliased, double *fitted,
                      double *cov_unscaled, cs_glm_info *info)
{
    if (n < 1 || p < 1 || !x || !y || !beta || !aliased || !fitted || !info || !control ||
        control->maxit < 1)
        return CS_ERR_ARGUMENT;
    for (int i = 0; i < n; i++) {
        if (!isfinite(y[i]) || (weights && (!isfinite(weights[i]) || weights[i] < 0.0)) ||
            (offset && !isfinite(offset[i])))
            return CS_ERR_NONFINITE;
        if (family == CS_GLM_BINOMIAL && (y[i] < 0.0 || y[i] > 1.0)) return CS_ERR_ARGUMENT;
    }
    memset(info, 0, sizeof(*info));

    cs_status status = CS_OK;
    wls_space ws = { n, p, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0 };
    double *eta = malloc(sizeof(double) * (size_t) n);
    double *mu = calloc((size_t) n, sizeof(double));
    double *z = malloc(sizeof(double) * (size_t) n);
    double *sw = malloc(sizeof(double) * (size_t) n);
    int *rows = malloc(sizeof(int) * (size_t) n);
    double *start = malloc(sizeof(double) * (size_t) p);
    double *coefold = malloc(sizeof(double) * (size_t) p);
    ws.a = malloc(sizeof(double) * (size_t) n * p);
    ws.tau = malloc(sizeof(double) * (size_t) p);
    ws.rhs = malloc(sizeof(double) * (size_t) n);
    ws.colnorm = malloc(sizeof(double) * (size_t) p);
    ws.active = malloc(sizeof(int) * (size_t) p);
    ws.xtx = malloc(sizeof(double) * (size_t) p * p);
    ws.xtz = malloc(sizeof(double) * (size_t) p);
    if (!eta || !mu || !z || !sw || !rows || !start || !coefold || !ws.a || !ws.tau ||
        !ws.rhs || !ws.colnorm || !ws.active || !ws.xtx || !ws.xtz) {
        status = CS_ERR_NOMEM;
        goto cleanup;
    }
    {   /* workspace query for dgeqrf and dormqr */
        double q1 = 0.0, q2 = 0.0;
        int lw = -1, one = 1, qinfo = 0;
        F77_CALL(dgeqrf)(&n, &p, ws.a, &n, ws.tau, &q1, &lw, &qinfo);
        F77_CALL(dormqr)("L", "T", &n, &one, &p, ws.a, &n, ws.tau, ws.rhs, &n, &q2, &lw,
                         &qinfo FCONE FCONE);
        ws.lwork = (int) fmax(fmax(q1, q2), (double) p * 64);
        ws.work = malloc(sizeof(double) * (size_t) ws.lwork);
        if (!ws.work) { status = CS_ERR_NOMEM; goto cleanup; }
    }

    /* Starting values as glm.fit's family$initialize. */
    for (int i = 0; i < n; i++) {
        if (family == CS_GLM_GAUSSIAN) {
            mu[i] = y[i];
            eta[i] = y[i];
        } else {
            double w = weights ? weights[i] : 1.0;
            mu[i] = (w * y[i] + 0.5) / (w + 1.0);
            eta[i] = log(mu[i] / (1.0 - mu[i]));
        }
    }
    double devold = deviance(n, y, mu, weights, family), dev = devold;
    int have_old = 0, converged = 0, iter = 0, rank = 0, last_m = 0;
    cs_poll poll;
    cs_poll_init(&poll, interrupt);

    for (iter = 1; iter <= control->maxit; iter++) {
        int m = 0;
        for (int i = 0; i < n; i++) {
            double w = weights ? weights[i] : 1.0;
            double d = (family == CS_GLM_GAUSSIAN) ? 1.0 : logit_mu_eta(eta[i]);
            double var = (family == CS_GLM_GAUSSIAN) ? 1.0 : mu[i] * (1.0 - mu[i]);
            if (w > 0.0 && d != 0.0) {
                z[i] = (eta[i] - (offset ? offset[i] : 0.0)) + (y[i] - mu[i]) / d;
                sw[i] = sqrt(w * d * d / var);
                rows[m++] = i;
            }
        }
        if (m == 0) { status = CS_ERR_ARGUMENT; goto cleanup; }
        status = wls_solve(&ws, x, z, sw, rows, m, control->tol, start, aliased, &rank);
        if (status != CS_OK) goto cleanup;
        last_m = m;
        linear_predictor(n, p, x, start, offset, eta);
        mean_from_eta(n, eta, family, mu);
        dev = deviance(n, y, mu, weights, family);
        if (!isfinite(dev)) {   /* step halving towards the last good coefficients */
            if (!have_old) { status = CS_ERR_NONFINITE; goto cleanup; }
            int ii = 1;
            while (!isfinite(dev)) {
                if (ii > control->maxit) { info->boundary = 1; status = CS_ERR_NONFINITE; goto cleanup; }
                ii++;
                for (int j = 0; j < p; j++) start[j] = 0.5 * (start[j] + coefold[j]);
                linear_predictor(n, p, x, start, offset, eta);
                mean_from_eta(n, eta, family, mu);
                dev = deviance(n, y, mu, weights, family);
            }
            info->boundary = 1;
        }
        if (fabs(dev - devold) / (fabs(dev) + 0.1) < control->epsilon) {
            converged = 1;
            break;
        }
        devold = dev;
        memcpy(coefold, start, sizeof(double) * (size_t) p);
        have_old = 1;
        if (cs_poll_main(&poll)) { status = CS_ERR_INTERRUPTED; goto cleanup; }
    }
    if (iter > control->maxit) iter = control->maxit;

    memcpy(beta, start, sizeof(double) * (size_t) p);
    memcpy(fitted, mu, sizeof(double) * (size_t) n);
    if (cov_unscaled) {
        status = unscaled_covariance(&ws, last_m, rank, cov_unscaled);
        if (status != CS_OK) goto cleanup;
    }
    info->deviance = dev;
    info->iterations = iter;
    info->converged = converged;
    info->rank = rank;
    if (family == CS_GLM_BINOMIAL) {
        double eps = 10.0 * DBL_EPSILON;
        for (int i = 0; i < n; i++)
            if (mu[i] > 1.0 - eps || mu[i] < eps) { info->separated = 1; break; }
    }

cleanup:
    free(eta); free(mu); free(z); free(sw); free(rows); free(start); free(coefold);
    free(ws.a); free(ws.tau); free(ws.work); free(ws.rhs); free(ws.colnorm); free(ws.active);
    free(ws.xtx); free(ws.xtz);
    return status;
}
