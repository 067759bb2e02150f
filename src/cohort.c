/* Sample summaries of a synthetic cohort (see cohort.h). */
#include <math.h>
#include "cohort.h"

/* 1 treated, 0 control, -1 anything else. */
static int arm_of(const double *arm_real, const int *arm_int, size_t i, double treated,
                  double control)
{
    double a = arm_real ? arm_real[i] : (double) arm_int[i];
    return a == treated ? 1 : (a == control ? 0 : -1);
}

cs_status cs_cohort_summarise(size_t n, const double *tau, const double *ps,
                              const double *arm_real, const int *arm_int, double treated,
                              double control, cs_cohort_summary *out)
{
    if (!arm_real == !arm_int) return CS_ERR_ARGUMENT;
    long double sum_tau[2] = { 0, 0 }, w1[2] = { 0, 0 }, w2[2] = { 0, 0 };
    size_t count[2] = { 0, 0 }, inside = 0;
    for (size_t i = 0; i < n; i++) {
        int a = arm_of(arm_real, arm_int, i, treated, control);
        if (a < 0) return CS_ERR_ARGUMENT;
        double w = a ? 1.0 / ps[i] : 1.0 / (1.0 - ps[i]);
        count[a]++;
        sum_tau[a] += tau[i];
        w1[a] += w;
        w2[a] += w * w;
        inside += ps[i] >= 0.1 && ps[i] <= 0.9;
    }
    /* mean(): the long double mean, then the mean of the deviations from it */
    long double mean[2];
    for (int a = 0; a < 2; a++) mean[a] = count[a] ? sum_tau[a] / count[a] : 0;
    long double dev[2] = { 0, 0 };
    for (size_t i = 0; i < n; i++) {
        int a = arm_of(arm_real, arm_int, i, treated, control);
        dev[a] += tau[i] - mean[a];
    }
    double arm_mean[2], ess[2];
    for (int a = 0; a < 2; a++) {
        if (!count[a]) {
            arm_mean[a] = ess[a] = NAN;
            continue;
        }
        long double m = mean[a];
        if (isfinite((double) m)) m += dev[a] / count[a];
        arm_mean[a] = (double) m;
        double s1 = (double) w1[a], s2 = (double) w2[a];
        ess[a] = s1 * s1 / s2;
    }
    out->n_treated = count[1];
    out->n_control = count[0];
    out->att = arm_mean[1];
    out->atc = arm_mean[0];
    out->ess_treated = ess[1];
    out->ess_control = ess[0];
    out->share_inside = (double) ((long double) inside / n);
    return CS_OK;
}
