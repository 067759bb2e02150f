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

/* Areas under step survival curves S_i(t) = exp(-r_i L(t)) on [0, tau], L the cumulative
 * baseline hazard: L = 0 before u[0], L = L0[j] on [u[j], u[j + 1]) and on [u[J - 1], tau]
 * (u increasing, all <= tau; J may be 0). For every row: area_i = int_0^tau S_i(t) dt and,
 * unless NULL, area_L_i = int_0^tau L(t) S_i(t) dt; unless NULL, sbar (J + 1 values) the
 * mean over rows of r_i S_i(t) on each segment (before u[0], then from each u[j]). */
void cs_step_areas(int n, const double *r, int J, const double *u, const double *L0,
                   double tau, double *area, double *area_L, double *sbar);

/* Censoring augmentation of the AIPTW/AIPCW estimator of the restricted mean E[min(T, tau)]
 * with Cox nuisance models, for every row i:
 *   aug_i = sum over censoring times cu_k <= time_i (all cu_k < tau) of
 *           h_ik (dN^C_i(cu_k) - c_i dLc0_k),
 *   h_ik = E[min(T, tau) | T > cu_k, x_i] / G_i(cu_k-)
 *        = (cu_k + int_{cu_k}^tau S_i(t) dt / S_i(cu_k)) exp(c_i Lc0_left_k),
 * S_i(t) = exp(-r_i L(t)) the event model at the arm set (L as in cs_step_areas on the event
 * jumps u, J), dN^C_i(cu_k) = 1 when row i is censored (censored_i) at cu_k. */
void cs_aipcw_rmst_augmentation(int n, int J, const double *u, const double *L0, double tau,
                                int K, const double *cu, const double *Lc0_left,
                                const double *dLc0, const double *r, const double *c,
                                const double *time, const int *censored, double *aug);

#endif
