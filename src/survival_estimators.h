/* Survival estimators' inner loops on plain arrays. */
#ifndef CS_SURVIVAL_ESTIMATORS_H
#define CS_SURVIVAL_ESTIMATORS_H

/* Censoring augmentation of the AIPTW/AIPCW estimator of a risk at a horizon with Cox
 * nuisance models, for every row i:
 *   aug_i = sum over censoring times u_k <= time_i (all u_k are <= the horizon) of
 *           h_ik (dN^C_i(u_k) - c_i dLc0_k),  h_ik = (1 - s_tau_i / S_i(u_k)) / G_i(u_k-),
 * S_i(u_k) = exp(-r_i L0_k) (event model, the arm set), G_i(u_k-) = exp(-c_i Lc0_left_k)
 * (censoring model), dN^C_i(u_k) = 1 when row i is censored at u_k. u is increasing. */
void cs_aipcw_augmentation(int n, int K, const double *time, const int *censored,
                           const double *u, const double *L0, const double *Lc0_left,
                           const double *dLc0, const double *r, const double *c,
                           const double *s_tau, double *aug);

#endif
