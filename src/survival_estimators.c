/* Inner loops of the survival estimators (see survival_estimators.h). */
#include <math.h>
#include <stddef.h>
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

void cs_step_areas(int n, const double *r, int J, const double *u, const double *L0,
                   double tau, double *area, double *area_L, double *sbar)
{
    if (sbar) for (int j = 0; j <= J; j++) sbar[j] = 0.0;
    for (int i = 0; i < n; i++) {
        double a = 0.0, aL = 0.0, start = 0.0, L = 0.0;
        for (int j = 0; j <= J; j++) {
            double stop = j < J ? u[j] : tau;
            /* the first segment has L = 0: no exponential */
            double S = j == 0 ? 1.0 : exp(-r[i] * L);
            a += (stop - start) * S;
            aL += (stop - start) * L * S;
            if (sbar) sbar[j] += r[i] * S;
            if (j < J) {
                start = stop;
                L = L0[j];
            }
        }
        area[i] = a;
        if (area_L) area_L[i] = aL;
    }
    if (sbar && n > 0) for (int j = 0; j <= J; j++) sbar[j] /= n;
}

void cs_aipcw_rmst_augmentation(int n, int J, const double *u, const double *L0, double tau,
                                int K, const double *cu, const double *Lc0_left,
                                const double *dLc0, const double *r, const double *c,
                                const double *time, const int *censored, double *aug)
{
    for (int i = 0; i < n; i++) {
        double total = 0.0;
        cs_step_areas(1, r + i, J, u, L0, tau, &total, NULL, NULL);
        /* walk the censoring times, carrying the area from 0 to the current time `pos` and
         * the survival S there (after the event jumps at or before it) */
        double pos = 0.0, acc = 0.0, S = 1.0, sum = 0.0, last_h = 0.0, last_u = -1.0;
        int j = 0;
        for (int k = 0; k < K && cu[k] <= time[i]; k++) {
            while (j < J && u[j] <= cu[k]) {
                acc += (u[j] - pos) * S;
                pos = u[j];
                S = exp(-r[i] * L0[j]);
                j++;
            }
            acc += (cu[k] - pos) * S;
            pos = cu[k];
            /* the mean of min(T, tau) given T > cu_k; u_k itself when S has underflowed */
            double m = S > 0.0 ? cu[k] + (total - acc) / S : cu[k];
            double h = m * exp(c[i] * Lc0_left[k]);
            sum -= h * c[i] * dLc0[k];
            last_h = h;
            last_u = cu[k];
        }
        if (censored[i] && last_u == time[i]) sum += last_h;
        aug[i] = sum;
    }
}
