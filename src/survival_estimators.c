/* Inner loop of the AIPTW/AIPCW survival estimator (see survival_estimators.h). */
#include <math.h>
#include "survival_estimators.h"

void cs_aipcw_augmentation(int n, int K, const double *time, const int *censored,
                           const double *u, const double *L0, const double *Lc0_left,
                           const double *dLc0, const double *r, const double *c,
                           const double *s_tau, double *aug)
{
    for (int i = 0; i < n; i++) {
        double sum = 0.0, last_h = 0.0;
        int k = 0;
        for (; k < K && u[k] <= time[i]; k++) {
            double h = (1.0 - s_tau[i] * exp(r[i] * L0[k])) * exp(c[i] * Lc0_left[k]);
            sum -= h * c[i] * dLc0[k];
            last_h = h;
        }
        /* a censored row's own time is the last censoring time not after it */
        if (censored[i] && k > 0 && u[k - 1] == time[i]) sum += last_h;
        aug[i] = sum;
    }
}
