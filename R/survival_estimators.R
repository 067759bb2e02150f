# Estimators of treatment effects on a time-to-event outcome at a horizon: Cox-model
# g-formula, inverse-probability-weighted Kaplan-Meier, augmented IPW/IPCW (doubly robust) and
# the IPW-weighted marginal Cox hazard ratio. Nuisance models: logistic propensity of the
# covariates; Cox models (Breslow) of the event and of the censoring on treatment and covariates.

survival_methods <- c("aipcw", "ipw_km", "cox_gformula", "ipw_cox_hr")

# The time and event columns when `estimate_ate()` is asked about a time-to-event outcome
# (outcome = c(time = , event = ), the name of a survival::Surv column, or a synthetic cohort
# drawn from a survival fit), else NULL. A Surv column is given as `surv_column`.
survival_estimation_roles <- function(data, outcome) {
  if (is.character(outcome) && length(outcome) == 2L) {
    so <- survival_outcome(data, outcome)
    return(list(time = so$time, event = so$event))
  }
  if (is.character(outcome) && length(outcome) == 1L && !is.na(outcome)) {
    so <- survival_outcome(data, outcome)
    return(if (!is.null(so)) list(surv_column = outcome))
  }
  tr <- attr(data, "truth", exact = TRUE)
  if (is.null(outcome) && !is.null(tr$survival))
    return(list(time = tr$survival$time, event = tr$survival$event,
                surv_column = tr$survival$surv_column, horizon = tr$survival$horizon,
                estimand = if (identical(tr$survival$estimand, "rmst_difference"))
                  "rmst_difference"))
  NULL
}

# The table with the (right-censored) Surv column `column` replaced by plain time and event
# columns, named `.time` and `.event`, for estimate_survival().
split_surv_column <- function(data, column) {
  y <- data[[column]]
  d <- plain_data_frame(data)
  d[[column]] <- NULL
  d$.time <- as.double(y[, 1L])
  d$.event <- as.double(y[, 2L])
  d
}

# Cox model fitted with Breslow's method for ties; cumulative baseline hazard by Breslow.
breslow_cox <- function(time, status, X) {
  # the fitting routine behind coxph(), without its model frame and concordance
  fit <- survival::coxph.fit(X, survival::Surv(time, status), strata = NULL, offset = NULL,
                             init = NULL, control = survival::coxph.control(),
                             weights = NULL, method = "breslow", rownames = NULL)
  beta <- fit$coefficients
  beta[is.na(beta)] <- 0
  lp <- drop(X %*% beta)
  jumps <- sort(unique(time[status == 1]))
  o <- order(time)
  # risk-set sums sum(exp(lp[time >= u])) from a reversed cumulative sum over sorted times
  tail_sums <- rev(cumsum(rev(exp(lp[o]))))
  at_risk <- tail_sums[findInterval(jumps, time[o], left.open = TRUE) + 1L]
  d <- tabulate(match(time[status == 1], jumps), length(jumps))
  list(beta = beta, jumps = jumps, dLambda = d / at_risk, fit = fit)
}

# Cumulative baseline hazard of a breslow_cox() fit at times s (right-continuous) or just
# before them (left = TRUE).
cumhaz_at <- function(cox, s, left = FALSE) {
  cum <- c(0, cumsum(cox$dLambda))
  idx <- if (left) findInterval(s, cox$jumps, left.open = TRUE) else findInterval(s, cox$jumps)
  cum[idx + 1L]
}

# Weighted Cox model of the arm alone (Breslow ties) with its robust (sandwich) standard
# error, as survival::coxph(Surv(time, event) ~ a, weights = w, robust = TRUE, ties =
# "breslow") computes them, in O(n log n): with a binary covariate every risk-set sum is
# W0(u) + exp(b) W1(u), Wk(u) the weight at risk in arm k.
weighted_cox_arm <- function(time, event, a, w) {
  u <- sort(unique(time[event == 1]))
  o <- order(time)
  at <- findInterval(u, time[o], left.open = TRUE) + 1L
  tail_sum <- function(v) c(rev(cumsum(rev(v[o]))), 0)[at]
  W1 <- tail_sum(w * a)
  W0 <- tail_sum(w * (1 - a))
  hit <- event == 1
  idx <- match(time[hit], u)
  # weighted events at each event time (every index occurs: u holds the event times)
  D <- drop(rowsum(w[hit], idx, reorder = TRUE))
  D1 <- drop(rowsum((w * a)[hit], idx, reorder = TRUE))
  share <- function(b) exp(b) * W1 / (W0 + exp(b) * W1)
  b <- 0
  for (iter in 1:50) {
    p <- share(b)
    info <- sum(D * p * (1 - p))
    step <- sum(D1 - D * p) / info
    b <- b + step
    if (!is.finite(b) || abs(step) < 1e-12) break
  }
  p <- share(b)
  info <- sum(D * p * (1 - p))
  dL <- D / (W0 + exp(b) * W1)
  k <- findInterval(time, u)           # event times at or before each row's time
  cum_L <- c(0, cumsum(dL))[k + 1L]
  cum_pL <- c(0, cumsum(p * dL))[k + 1L]
  # score residuals: delta_i (a_i - p(T_i)) - exp(b a_i) (a_i Lambda(T_i) - sum p dLambda)
  U <- ifelse(hit, a - p[pmax(k, 1L)], 0) - exp(b * a) * (a * cum_L - cum_pL)
  list(beta = b, se = sqrt(sum((w * U)^2)) / info, info = info)
}

# Influence functions of the Cox model fitted by breslow_cox() on the design Z (n x p): of the
# coefficients (n x p; beta - beta_0 ~ mean of the rows) and the pieces of the Breslow
# cumulative baseline hazard's: IF_Lambda_k(t) = n (dN_k(t) / RS - elp_k sum_{u_j <= t}
# dLambda_j / RS_j) - H(t)' IF_beta_k, RS_j the risk-set sum of exp(lp) at jump u_j and H(t) the
# cumulative sum of E(u_j) dLambda_j, E the risk-set mean of Z.
cox_influence <- function(cox, time, status, Z) {
  n <- length(time)
  lp <- drop(Z %*% cox$beta)
  elp <- exp(lp)
  o <- order(time)
  J <- length(cox$jumps)
  at <- findInterval(cox$jumps, time[o], left.open = TRUE) + 1L
  tail_sum <- function(v) rev(cumsum(rev(v[o])))[at]
  RS <- tail_sum(elp)
  E <- vapply(seq_len(ncol(Z)), function(k) tail_sum(elp * Z[, k]), double(J)) / RS
  E <- matrix(E, J, ncol(Z))
  H <- rbind(0, apply(E * cox$dLambda, 2L, cumsum))   # (J + 1) x p: H after 0..J jumps
  k <- findInterval(time, cox$jumps)                  # jumps at or before each row's time
  own <- status == 1
  E_own <- E[pmax(k, 1L), , drop = FALSE]
  Lambda <- c(0, cumsum(cox$dLambda))[k + 1L]
  # score residuals (Breslow): Delta_i (Z_i - E(T_i)) - elp_i (Z_i Lambda(T_i) - H(T_i))
  U <- own * (Z - E_own) - elp * (Z * Lambda - H[k + 1L, , drop = FALSE])
  var <- cox$fit$var
  var[!is.finite(var)] <- 0
  list(beta = n * U %*% var, RS = RS, H = H, elp = elp, k = k, own = own)
}

# Influence function of the Cox-model g-formula's mean survival (`rmst = FALSE`) at the horizon
# or mean restricted survival time up to it, at arm `arm`: the average over the rows of the
# prediction, with the estimation of the coefficients and of the baseline hazard.
gformula_arm <- function(cox, ci, X, arm, horizon, rmst) {
  n <- nrow(X)
  beta <- cox$beta
  r <- exp(drop(X %*% beta[-1L]) + beta[1L] * arm)
  Za <- cbind(arm, X)
  keep <- cox$jumps <= horizon
  u <- cox$jumps[keep]
  L <- cumsum(cox$dLambda)[keep]
  Jt <- length(u)
  RS <- ci$RS[keep]
  dL <- cox$dLambda[keep]
  # row k's dN / RS at its own event (when at or before the horizon) and its compensator
  kt <- pmin(ci$k, Jt)
  own <- ci$own & ci$k <= Jt & ci$k >= 1L
  if (!rmst) {
    L_tau <- if (Jt) L[Jt] else 0
    S <- exp(-r * L_tau)
    psi <- mean(S)
    m <- n * (ifelse(own, 1 / RS[pmax(ci$k, 1L)], 0) -
                ci$elp * c(0, cumsum(dL / RS))[kt + 1L])
    IF_Lambda <- m - drop(ci$beta %*% ci$H[Jt + 1L, ])
    IF <- (S - psi) - mean(S * r) * IF_Lambda -
      L_tau * drop(ci$beta %*% colMeans(S * r * Za))
    return(list(psi = psi, influence = IF))
  }
  ar <- .Call(C_survival_step_areas, r, u, L, as.double(horizon), TRUE)
  psi <- mean(ar$area)
  widths <- diff(c(0, u, horizon))
  B <- rev(cumsum(rev(widths * ar$sbar)))      # B[j + 1] = int from u_j to the horizon
  m <- n * (ifelse(own, B[pmax(ci$k, 1L) + 1L] / RS[pmax(ci$k, 1L)], 0) -
              ci$elp * c(0, cumsum(dL * B[-1L] / RS))[kt + 1L])
  SH <- colSums(widths * ar$sbar * ci$H[seq_len(Jt + 1L), , drop = FALSE])
  IF <- (ar$area - psi) - m + drop(ci$beta %*% SH) -
    drop(ci$beta %*% colMeans(r * ar$area_L * Za))
  list(psi = psi, influence = IF)
}

#' Treatment effects on a time-to-event outcome at a horizon
#'
#' Called by [estimate_ate()] when the outcome is a time to event (`outcome = c(time = ,
#' event = )`, or a cohort drawn from a time-to-event [causalmix()] fit). Estimates the risk
#' difference F_1(horizon) - F_0(horizon), F_t(s) = P(T(t) <= s), and/or the difference of
#' restricted mean survival times E\[min(T(1), horizon)\] - E\[min(T(0), horizon)\] (`estimand`),
#' by
#' * `"cox_gformula"`: standardisation of a Cox model of the event on treatment and
#'   covariates (Breslow baseline); the RMST integrates each row's predicted step survival
#'   curve;
#' * `"ipw_km"`: Kaplan-Meier curves of each arm weighted by the inverse of the (logistic)
#'   propensity of the received arm (the RMST is the area under them up to the horizon);
#' * `"aipcw"`: the augmented inverse probability of treatment and censoring weighted
#'   estimator (doubly robust: consistent when the propensity model or the event model is
#'   right, the censoring model being right), censoring weights from a Cox model of the
#'   censoring on treatment and covariates; for the RMST, of the outcome min(T, horizon),
#'   observed when the event is or follow-up reaches the horizon, with the censoring
#'   augmentation E\[min(T, horizon) | T > u, x\] / G(u- | x) dM_C(u);
#' and the marginal hazard ratio by `"ipw_cox_hr"`: a Cox model on the treatment alone,
#' weighted by the inverse propensity of the received arm, followed up to the horizon, with
#' robust (sandwich) standard error (its `estimate` is the hazard ratio, `se` that of the
#' log hazard ratio, the interval exponentiated).
#'
#' Standard errors: `"cox_gformula"` from its influence function, which includes the
#' estimation of the Cox coefficients and of the Breslow baseline hazard (the standard error
#' of `riskRegression::ate()` for the risk difference); `"aipcw"` from its influence function
#' (nuisance estimation ignored, as usual for a doubly robust estimator); `"ipw_km"` from the
#' influence function of the weighted Nelson-Aalen estimator with the weights taken as known.
#'
#' @param data A data.frame.
#' @param treatment,covariates Column names.
#' @param time,event The follow-up time and the event indicator (0/1 or logical).
#' @param horizon Time at which the risks are compared and up to which the restricted means
#'   are taken.
#' @param method One or several of `"aipcw"`, `"ipw_km"`, `"cox_gformula"`, `"ipw_cox_hr"`.
#' @param level Confidence level.
#' @param missing Missing covariate values, as in [estimate_ate()]: `"indicator"` (default;
#'   filled, with an indicator column), `"complete_case"` or `"fail"`. The treatment, time
#'   and event must be complete.
#' @param estimand One or both of `"risk_difference"` and `"rmst_difference"`: the estimands
#'   of the methods other than `"ipw_cox_hr"` (whose estimand is the hazard ratio).
#' @return An object of class `sandbox_ate` (see [estimate_ate()]) with one row per method
#'   and estimand; `estimand` is `"risk_difference"`, `"rmst_difference"` or
#'   `"hazard_ratio"`. Its `influence` matrix has a column per row of `estimates` (named by
#'   the method, with `:rmst_difference` appended to RMST rows when both estimands are asked).
#' @examples
#' set.seed(1)
#' n <- 400
#' d <- data.frame(x = rnorm(n))
#' d$a <- rbinom(n, 1, plogis(d$x))
#' te <- rexp(n, 0.01 * exp(0.5 * d$x - 0.4 * d$a))
#' tc <- rexp(n, 0.004)
#' d$time <- pmin(te, tc)
#' d$status <- as.integer(te <= tc)
#' estimate_survival(d, "a", "time", "status", "x", horizon = 100)
#' estimate_survival(d, "a", "time", "status", "x", horizon = 100,
#'                   method = c("aipcw", "ipw_km"), estimand = "rmst_difference")
#' @export
estimate_survival <- function(data, treatment, time, event, covariates, horizon,
                              method = survival_methods, level = 0.95,
                              estimand = "risk_difference",
                              missing = c("indicator", "complete_case", "fail")) {
  if (!is.data.frame(data))
    stopf("`data` must be a data.frame, not %s.", describe(data), argument = "data")
  for (arg in c("treatment", "time", "event")) {
    v <- get(arg)
    check_string(v, arg)
    if (!v %in% names(data))
      stopf("`%s` names a column not in `data`: \"%s\".", arg, v, argument = arg, column = v)
  }
  unknown <- setdiff(covariates, names(data))
  if (length(unknown))
    stopf("`covariates` names column(s) not in `data`: %s.", paste(unknown, collapse = ", "),
          argument = "covariates", column = unknown[1L])
  if (!is.character(method) || !length(method) || !all(method %in% survival_methods))
    stopf("`method` must be one or more of %s.",
          paste0("\"", survival_methods, "\"", collapse = ", "), argument = "method")
  point_estimands <- c("risk_difference", "rmst_difference")
  if (!is.character(estimand) || !length(estimand) || anyNA(estimand) ||
      !all(estimand %in% point_estimands))
    stopf("`estimand` must be one or both of \"risk_difference\", \"rmst_difference\", not %s.",
          describe(estimand), argument = "estimand")
  estimand <- intersect(point_estimands, estimand)
  check_number(horizon, "horizon", lower = 0, lower_open = TRUE)
  check_number(level, "level", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  missing <- check_missing_choice(missing)
  used <- c(treatment, time, event)
  has_na <- used[vapply(data[used], anyNA, logical(1))]
  if (length(has_na))
    stopf("Missing values in column(s) %s; the treatment, time and event must be complete.",
          paste(has_na, collapse = ", "), argument = "data", column = has_na[1L])
  # missing covariate values by the `missing` strategy (as in estimate_ate())
  prepared <- prepare_covariates(as.data.frame(data)[covariates], missing)
  keep <- prepared$keep
  # the treated value is decided on the whole column, before complete cases are taken
  a <- treatment_indicator(data[[treatment]], treatment)[keep]
  tt <- as.double(data[[time]])[keep]
  ev <- data[[event]][keep]
  if (!(is.logical(ev) || all(ev %in% c(0, 1))))
    stopf("The event column `%s` must be 0/1 or logical.", event, argument = "event",
          column = event)
  ev <- as.double(ev)
  n <- length(a)
  # the design of model.matrix(~ ., covariates) and the logistic propensity by IRLS in C
  # (R/learners.R), without model frames: this is the hot path of a simulation study
  design <- design_builder(prepared$x)$matrix
  X <- design[, -1L, drop = FALSE]
  ps_fit <- glm_irls_fit(design, a, "binomial")
  glm_fit_warnings(ps_fit, "estimate_survival() propensity model")
  e <- ps_fit$fitted
  w <- ifelse(a == 1, 1 / e, 1 / (1 - e))
  z <- stats::qnorm(1 - (1 - level) / 2)
  rows <- list()       # by "method:estimand": c(estimate, se)
  influence <- list()
  add <- function(m, est, value, inf) {
    key <- paste(m, est, sep = ":")
    rows[[key]] <<- c(value, if (is.null(inf)) NA_real_ else sqrt(sum(inf^2)) / n)
    influence[[key]] <<- inf
  }
  rmst_wanted <- "rmst_difference" %in% estimand
  risk_wanted <- "risk_difference" %in% estimand
  if (any(method %in% c("cox_gformula", "aipcw"))) {
    ev_cox <- breslow_cox(tt, ev, cbind(a, X))
    lp_x <- drop(X %*% ev_cox$beta[-1L])
  }
  if ("cox_gformula" %in% method) {
    ci <- cox_influence(ev_cox, tt, ev, cbind(a, X))
    for (est in estimand) {
      rmst <- est == "rmst_difference"
      g0 <- gformula_arm(ev_cox, ci, X, 0, horizon, rmst)
      g1 <- gformula_arm(ev_cox, ci, X, 1, horizon, rmst)
      # risk difference = S_0 - S_1; RMST difference = R_1 - R_0
      if (rmst) add("cox_gformula", est, g1$psi - g0$psi, g1$influence - g0$influence)
      else add("cox_gformula", est, g0$psi - g1$psi, g0$influence - g1$influence)
    }
  }
  if ("aipcw" %in% method) {
    cens_cox <- breslow_cox(tt, 1 - ev, cbind(a, X))
    c_rows <- exp(drop(cbind(a, X) %*% cens_cox$beta))
    r_own <- exp(lp_x + ev_cox$beta[1L] * a)
    pa <- ifelse(a == 1, e, 1 - e)
    if (risk_wanted) {
      G_before <- exp(-c_rows * cumhaz_at(cens_cox, tt, left = TRUE))
      jumps_kept <- cens_cox$jumps <= horizon
      u <- cens_cox$jumps[jumps_kept]
      observed_event <- as.double(tt <= horizon & ev == 1) / G_before
      Q <- vapply(0:1, function(arm) -expm1(-exp(lp_x + ev_cox$beta[1L] * arm) *
                                               cumhaz_at(ev_cox, horizon)), double(n))
      # the censoring martingale term, G taken just before each censoring time (as in
      # riskRegression::ate); a row's term enters only the arm it received, so it is computed
      # at that arm's event risk only
      aug <- .Call(C_survival_aipcw, tt, as.integer(ev == 0 & tt <= horizon), u,
                   cumhaz_at(ev_cox, u), cumhaz_at(cens_cox, u, left = TRUE),
                   cens_cox$dLambda[jumps_kept], r_own, c_rows,
                   exp(-r_own * cumhaz_at(ev_cox, horizon)))
      Q_own <- ifelse(a == 1, Q[, 2], Q[, 1])
      core <- (observed_event - Q_own + aug) / pa
      phi <- (a == 1) * core + Q[, 2] - (a == 0) * core - Q[, 1]
      add("aipcw", "risk_difference", mean(phi), phi - mean(phi))
    }
    if (rmst_wanted) {
      # outcome min(T, horizon): observed when the event is or follow-up reaches the horizon
      t_h <- pmin(tt, horizon)
      observed <- ev == 1 | tt >= horizon
      G_obs <- exp(-c_rows * cumhaz_at(cens_cox, t_h, left = TRUE))
      ipcw <- ifelse(observed, t_h / G_obs, 0)
      keep_e <- ev_cox$jumps <= horizon
      u_e <- ev_cox$jumps[keep_e]
      L_e <- cumsum(ev_cox$dLambda)[keep_e]
      Q <- vapply(0:1, function(arm) .Call(C_survival_step_areas,
                                            exp(lp_x + ev_cox$beta[1L] * arm), u_e, L_e,
                                            as.double(horizon), FALSE)$area, double(n))
      keep_c <- cens_cox$jumps < horizon
      cu <- cens_cox$jumps[keep_c]
      aug <- .Call(C_survival_aipcw_rmst, u_e, L_e, as.double(horizon), cu,
                   cumhaz_at(cens_cox, cu, left = TRUE), cens_cox$dLambda[keep_c], r_own,
                   c_rows, tt, as.integer(ev == 0 & tt < horizon))
      Q_own <- ifelse(a == 1, Q[, 2], Q[, 1])
      core <- (ipcw - Q_own + aug) / pa
      phi <- (a == 1) * core + Q[, 2] - (a == 0) * core - Q[, 1]
      add("aipcw", "rmst_difference", mean(phi), phi - mean(phi))
    }
  }
  if ("ipw_km" %in% method) {
    arm_fit <- function(arm) {
      i <- a == arm
      jumps <- sort(unique(tt[i & ev == 1 & tt <= horizon]))
      o <- order(tt[i])
      tail_sums <- rev(cumsum(rev(w[i][o])))
      Yw <- tail_sums[findInterval(jumps, tt[i][o], left.open = TRUE) + 1L]
      hit <- i & ev == 1 & tt <= horizon
      dNw <- as.double(tapply(w[hit], factor(tt[hit], levels = jumps), sum))
      S_after <- cumprod(1 - dNw / Yw)
      dL <- dNw / Yw
      k <- findInterval(tt, jumps)
      own <- hit & i
      # influence of the weighted Nelson-Aalen increments, weights known: row i's
      # n w_i (dN_i(u) - Y_i(u) dLambda(u)) / Y_w(u) at each jump u, weighted by `weight`
      # (S(horizon) for the risk, the area from u to the horizon for the RMST)
      increments <- function(weight) {
        n * i * w * (ifelse(own, weight[pmax(k, 1L)] / Yw[pmax(k, 1L)], 0) -
                       c(0, cumsum(weight * dL / Yw))[k + 1L])
      }
      S_tau <- if (length(jumps)) S_after[length(jumps)] else 1
      out <- list(risk = 1 - S_tau,
                  risk_influence = S_tau * increments(rep(1, length(jumps))))
      if (rmst_wanted) {
        widths <- diff(c(0, jumps, horizon))
        area <- widths * c(1, S_after)
        after <- rev(cumsum(rev(area)))[-1L]   # area from each jump to the horizon
        out$rmst <- sum(area)
        out$rmst_influence <- -increments(after)
      }
      out
    }
    f1 <- arm_fit(1)
    f0 <- arm_fit(0)
    if (risk_wanted)
      add("ipw_km", "risk_difference", f1$risk - f0$risk, f1$risk_influence - f0$risk_influence)
    if (rmst_wanted)
      add("ipw_km", "rmst_difference", f1$rmst - f0$rmst, f1$rmst_influence - f0$rmst_influence)
  }
  if ("ipw_cox_hr" %in% method) {
    t_h <- pmin(tt, horizon)
    e_h <- as.double(ev == 1 & tt <= horizon)
    cx <- weighted_cox_arm(t_h, e_h, a, w)
    rows[["ipw_cox_hr:hazard_ratio"]] <- c(cx$beta, cx$se)
  }
  keys <- c(outer(intersect(survival_methods, method), estimand, paste, sep = ":"),
            "ipw_cox_hr:hazard_ratio")
  keys <- keys[keys %in% names(rows)]
  meth <- sub(":.*", "", keys)
  est_names <- sub(".*:", "", keys)
  est <- vapply(rows[keys], `[`, double(1), 1L)
  se <- vapply(rows[keys], `[`, double(1), 2L)
  hr <- est_names == "hazard_ratio"
  estimates <- data.frame(
    method = meth, estimand = est_names,
    estimate = ifelse(hr, exp(est), est), se = se,
    lower = ifelse(hr, exp(est - z * se), est - z * se),
    upper = ifelse(hr, exp(est + z * se), est + z * se),
    p_value = 2 * stats::pnorm(-abs(est / se)), stringsAsFactors = FALSE)
  rownames(estimates) <- NULL
  infl <- vapply(keys, function(k) influence[[k]] %||% rep(NA_real_, n), numeric(n))
  columns <- ifelse(est_names == "rmst_difference" & length(estimand) > 1L,
                    paste0(meth, ":rmst_difference"), meth)
  structure(list(estimates = estimates,
                 influence = matrix(infl, n, dimnames = list(NULL, columns)),
                 nuisance = list(g = e), n = n, n_treated = sum(a),
                 outcome_type = "time-to-event", horizon = horizon,
                 roles = list(treatment = treatment, time = time, event = event,
                              covariates = covariates),
                 estimand = "ATE", level = level, folds = 1L,
                 missing = list(strategy = missing, columns = prepared$with_missing,
                                rows_dropped = sum(!prepared$keep)),
                 rows = prepared$keep),
            class = "sandbox_ate")
}

# Follow-up time and event (0/1) of a synthetic time-to-event cohort, from the columns named
# in its truth (a Surv column is split).
cohort_follow_up <- function(data) {
  s <- truth(data)$survival
  if (is.null(s))
    stopf("`data` must be a cohort drawn from a time-to-event causalmix() fit.",
          argument = "data")
  if (!is.null(s$surv_column)) {
    y <- data[[s$surv_column]]
    return(list(time = as.double(y[, 1L]), event = as.double(y[, 2L]), horizon = s$horizon))
  }
  list(time = as.double(data[[s$time]]), event = as.double(data[[s$event]]),
       horizon = s$horizon)
}

# The cohort with plain time and event columns (a Surv column replaced), for the estimators.
plain_follow_up <- function(data) {
  fu <- cohort_follow_up(data)
  roles <- attr(data, "roles")
  d <- as.data.frame(data)[c(roles$treatment, roles$covariates)]
  d$.time <- fu$time
  d$.event <- fu$event
  list(data = d, treatment = roles$treatment, covariates = roles$covariates,
       horizon = fu$horizon)
}

#' Survival estimators and tests for simulation studies
#'
#' `estimator_survival()` returns a `function(data)` for the `estimators` of [run_study()]
#' (and [tune_estimator()]) on cohorts drawn from a time-to-event [causalmix()] fit: it
#' applies the methods of [estimate_survival()] whose scale is the cohort's estimand (the
#' risk-difference or RMST-difference methods when the cohort was drawn with
#' `estimand = "risk_difference"` or `"rmst_difference"`, `"ipw_cox_hr"` with
#' `"hazard_ratio"`; see [survival_generator()]), so that bias and coverage are measured
#' against the right truth, and with `"logrank"` the log-rank test of [logrank_test()] (a
#' p-value only: its rows count for power, their bias and coverage are `NA`).
#' `estimator_logrank()` is the log-rank test alone, for [run_study()]; `test_logrank()` and
#' `test_survival()` return a `function(data)` giving a p-value, for [power_analysis()].
#' Follow-up is cut at the horizon (the cohort's unless given).
#'
#' @param method Methods of [estimate_survival()] and/or `"logrank"`.
#' @param horizon `NULL` (the horizon of the cohort's truth) or a time.
#' @param missing Missing covariate values (see [estimate_ate()]); the log-rank test uses no
#'   covariate.
#' @return A `function(data, missing = NULL)`; `missing = NULL` keeps the setting given here,
#'   and [run_study()] and [power_analysis()] pass their own `missing` through it.
#' @examples
#' est <- estimator_survival(c("aipcw", "logrank"))
#' @export
estimator_survival <- function(method = survival_methods, horizon = NULL,
                               missing = c("indicator", "complete_case", "fail")) {
  default_missing <- check_missing_choice(missing)
  if (!is.character(method) || !length(method) ||
      !all(method %in% c(survival_methods, "logrank")))
    stopf("`method` must be one or more of %s.",
          paste0("\"", c(survival_methods, "logrank"), "\"", collapse = ", "),
          argument = "method")
  if (!is.null(horizon)) check_number(horizon, "horizon", lower = 0, lower_open = TRUE)
  function(data, missing = NULL) {
    missing <- missing %||% default_missing
    p <- plain_follow_up(data)
    tau <- horizon %||% p$horizon
    scale <- truth(data)$survival$estimand
    on_scale <- intersect(method, if (scale == "hazard_ratio") "ipw_cox_hr" else
      setdiff(survival_methods, "ipw_cox_hr"))
    rows <- NULL
    if (length(on_scale)) {
      fit <- estimate_survival(p$data, p$treatment, ".time", ".event", p$covariates, tau,
                               method = on_scale,
                               estimand = if (scale == "hazard_ratio") "risk_difference"
                                          else scale, missing = missing)
      rows <- fit$estimates[c("method", "estimate", "se", "lower", "upper", "p_value")]
    }
    if ("logrank" %in% method)
      rows <- rbind(rows, data.frame(method = "logrank", estimate = NA_real_, se = NA_real_,
                                     lower = NA_real_, upper = NA_real_,
                                     p_value = logrank_p(p$data, p$treatment, tau)))
    if (is.null(rows))
      stopf("None of the methods %s estimates the cohort's estimand (%s).",
            paste(method, collapse = ", "), scale, argument = "method")
    rownames(rows) <- NULL
    rows
  }
}

#' The log-rank test of two arms
#'
#' The (Mantel-Haenszel) log-rank test of equal hazards in the two arms, with follow-up cut at
#' `horizon` (events after it count as censored at it): at each distinct event time u the
#' observed events of the treated arm d_1(u), their expectation d(u) n_1(u) / n(u) and the
#' hypergeometric variance d(u) (n_1 / n) (1 - n_1 / n) (n - d) / (n - 1); the statistic is
#' (O_1 - E_1)^2 / V on one degree of freedom (the `chisq` of [survival::survdiff()]).
#'
#' @param data A data.frame, or a cohort drawn from a time-to-event [causalmix()] fit (then
#'   `treatment`, `time` and `event` default to its columns and `horizon` to its horizon).
#' @param treatment,time,event Column names: the two-valued treatment, the follow-up time and
#'   the event indicator (0/1 or logical).
#' @param horizon End of follow-up for the test; `NULL` (no cut, or the cohort's horizon).
#' @return An object of class `sandbox_logrank`: a list with `statistic`, `df`, `p_value`,
#'   `observed` and `expected` (events by arm, control then treated), `variance`,
#'   `log_hr` (Peto's one-step log hazard ratio (O_1 - E_1) / V) and `horizon`. It has a print
#'   method.
#' @examples
#' set.seed(1)
#' n <- 300
#' d <- data.frame(a = rbinom(n, 1, 0.5))
#' d$time <- rexp(n, 0.01 * exp(-0.5 * d$a))
#' d$status <- rbinom(n, 1, 0.8)
#' logrank_test(d, "a", "time", "status")
#' @export
logrank_test <- function(data, treatment, time, event, horizon = NULL) {
  if (!is.data.frame(data))
    stopf("`data` must be a data.frame, not %s.", describe(data), argument = "data")
  if (missing(treatment) && missing(time) && missing(event) && is_survival_cohort(data)) {
    p <- plain_follow_up(data)
    data <- p$data
    treatment <- p$treatment
    time <- ".time"
    event <- ".event"
    horizon <- horizon %||% p$horizon
  }
  for (arg in c("treatment", "time", "event")) {
    v <- get(arg)
    check_string(v, arg)
    if (!v %in% names(data))
      stopf("`%s` names a column not in `data`: \"%s\".", arg, v, argument = arg, column = v)
  }
  if (!is.null(horizon)) check_number(horizon, "horizon", lower = 0, lower_open = TRUE)
  tt <- as.double(data[[time]])
  ev <- data[[event]]
  if (anyNA(tt))
    stopf("The time column `%s` has missing values; it must be complete.", time,
          argument = "time", column = time)
  if (anyNA(ev) || !(is.logical(ev) || all(ev %in% c(0, 1))))
    stopf("The event column `%s` must be complete and 0/1 or logical, not %s.", event,
          if (anyNA(ev)) "with missing values" else
            sprintf("with values %s", paste(utils::head(sort(unique(ev)), 5), collapse = ", ")),
          argument = "event", column = event)
  arm <- treatment_indicator(data[[treatment]], treatment)
  ev <- as.double(ev)
  if (!is.null(horizon)) {
    ev[tt > horizon] <- 0
    tt <- pmin(tt, horizon)
  }
  logrank_statistic(tt, ev, arm, horizon)
}

# The log-rank statistic of follow-up times tt, events ev (0/1) and arms (0/1).
logrank_statistic <- function(tt, ev, arm, horizon = NULL) {
  u <- sort(unique(tt[ev == 1]))
  # at risk at each event time: rows whose time is >= u
  o <- sort(tt)
  o1 <- sort(tt[arm == 1])
  n_all <- length(o) - findInterval(u, o, left.open = TRUE)
  n_1 <- length(o1) - findInterval(u, o1, left.open = TRUE)
  d_all <- tabulate(match(tt[ev == 1], u), length(u))
  d_1 <- tabulate(match(tt[ev == 1 & arm == 1], u), length(u))
  share <- n_1 / n_all
  expected_1 <- sum(d_all * share)
  variance <- sum(ifelse(n_all > 1, d_all * share * (1 - share) * (n_all - d_all) /
                           (n_all - 1), 0))
  diff <- sum(d_1) - expected_1
  statistic <- if (variance > 0) diff^2 / variance else NA_real_
  structure(list(statistic = statistic, df = 1L,
                 p_value = stats::pchisq(statistic, df = 1, lower.tail = FALSE),
                 observed = c(control = sum(d_all) - sum(d_1), treated = sum(d_1)),
                 expected = c(control = sum(d_all) - expected_1, treated = expected_1),
                 variance = variance, log_hr = diff / variance, horizon = horizon,
                 n = c(control = sum(arm == 0), treated = sum(arm == 1))),
            class = "sandbox_logrank")
}

#' @export
print.sandbox_logrank <- function(x, digits = 4, ...) {
  f <- function(v) format(signif(v, digits))
  cat(sprintf("Log-rank test of two arms%s\n", if (is.null(x$horizon)) "" else
    sprintf(", follow-up cut at %s", f(x$horizon))))
  tab <- data.frame(arm = c("control", "treated"), n = x$n, observed = x$observed,
                    expected = f(x$expected))
  print(tab, row.names = FALSE)
  cat(sprintf("Chi-square %s on 1 df, p = %s; Peto hazard ratio %s\n", f(x$statistic),
              format.pval(x$p_value, digits = 3), f(exp(x$log_hr))))
  invisible(x)
}

# Whether `data` is a cohort drawn from a time-to-event fit.
is_survival_cohort <- function(data) {
  !is.null(attr(data, "truth", exact = TRUE)$survival)
}

# p-value of the log-rank test of the arms with follow-up cut at tau.
logrank_p <- function(d, treatment, tau) {
  logrank_test(d, treatment, ".time", ".event", tau)$p_value
}

#' @rdname estimator_survival
#' @export
estimator_logrank <- function(horizon = NULL) {
  estimator_survival("logrank", horizon)
}

#' @rdname estimator_survival
#' @export
test_logrank <- function(horizon = NULL) {
  if (!is.null(horizon)) check_number(horizon, "horizon", lower = 0, lower_open = TRUE)
  function(data) {
    p <- plain_follow_up(data)
    logrank_p(p$data, p$treatment, horizon %||% p$horizon)
  }
}

#' @rdname estimator_survival
#' @export
test_survival <- function(method = "aipcw", horizon = NULL,
                          missing = c("indicator", "complete_case", "fail")) {
  default_missing <- check_missing_choice(missing)
  if (!is.character(method) || length(method) != 1L || !method %in% survival_methods)
    stopf("`method` must be one of %s.", paste0("\"", survival_methods, "\"", collapse = ", "),
          argument = "method")
  if (!is.null(horizon)) check_number(horizon, "horizon", lower = 0, lower_open = TRUE)
  function(data, missing = NULL) {
    p <- plain_follow_up(data)
    scale <- truth(data)$survival$estimand
    fit <- estimate_survival(p$data, p$treatment, ".time", ".event", p$covariates,
                             horizon %||% p$horizon, method = method,
                             estimand = if (scale == "rmst_difference") scale
                                        else "risk_difference",
                             missing = missing %||% default_missing)
    fit$estimates$p_value
  }
}

#' A time-to-event fit with a fixed estimand and horizon, for studies
#'
#' [run_study()] and [power_analysis()] take numeric knobs; this generator fixes the
#' character-valued `estimand` (and the `horizon`) of [simulate.causalmix_survival()] so that
#' studies can target the RMST difference or the hazard ratio.
#'
#' @param fit A time-to-event [causalmix()] fit.
#' @param estimand,horizon As in [simulate.causalmix_survival()].
#' @return An object of class `survival_generator` with a `simulate()` method.
#' @export
survival_generator <- function(fit, estimand = "risk_difference", horizon = NULL) {
  if (!inherits(fit, "causalmix_survival"))
    stopf("`fit` must be a time-to-event causalmix() fit, not %s.", describe(fit),
          argument = "fit")
  if (!is.character(estimand) || length(estimand) != 1L || !estimand %in% survival_estimands)
    stopf("`estimand` must be one of %s.", paste0("\"", survival_estimands, "\"",
                                                collapse = ", "), argument = "estimand")
  structure(list(fit = fit, estimand = estimand, horizon = check_horizon(horizon, fit)),
            class = "survival_generator")
}

#' @export
simulate.survival_generator <- function(object, nsim = object$fit$n, seed = NULL, ...) {
  simulate(object$fit, nsim = nsim, seed = seed, estimand = object$estimand,
           horizon = object$horizon, ...)
}
