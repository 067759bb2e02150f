# predict(), summary() and plot() of a time-to-event CausalMix fit, in the user's terms: survival
# curves by arm, risks and restricted means at the horizon, event and censoring shares. (The
# binary network that causalmix() fits to P(event observed | x, t) along the way is internal:
# draws do not use it, and these methods do not show it.)

# Survival of `arm` at times s (engine scale) for rows with risk scores `scores` (n x 4, see
# survival_scores()): an n x length(s) matrix.
arm_survival <- function(fit, scores, arm, s) {
  exp(-arm_hazards(fit, scores, arm) %*% t(grid_exposure(fit$survival$cut_event, s)))
}

# Event hazards (n x J) of `arm` for rows with risk scores `scores`: the learned control
# hazard h_0(s | x) and, for the treated arm, h_0(s | x) exp(beta(x)) with beta(x) the learned
# time-averaged log hazard ratio (predict(type = "log_hr")): the treated law that draws at the
# default knobs, summary() and plot() use (simulate.causalmix_survival() with ate = NULL,
# heterogeneity = 1), so that predictions agree with the truth columns of a draw.
arm_hazards <- function(fit, scores, arm) {
  sv <- fit$survival
  J <- sv$J_event
  base0 <- sv$baseline[seq_len(J)]
  lp <- scores[, 1L]
  if (arm == 1) lp <- lp + learned_log_hr(fit, scores)
  exp(outer(lp, base0, "+"))
}

# beta(x): the learned time-averaged conditional log hazard ratio of rows with risk scores
# `scores` (the mean over the event intervals of the treated minus control log hazard).
learned_log_hr <- function(fit, scores) {
  sv <- fit$survival
  J <- sv$J_event
  mean(sv$baseline[J + seq_len(J)] - sv$baseline[seq_len(J)]) + scores[, 2L] - scores[, 1L]
}

# Restricted mean survival time of `arm` up to tau (engine scale), data time units.
arm_rmst <- function(fit, scores, arm, tau) {
  h <- arm_hazards(fit, scores, arm)
  cut <- fit$survival$cut_event
  basis <- list(h0 = h, width = drop(grid_exposure(cut, tau)),
                H_start = h %*% t(grid_exposure(cut, cut)))
  rmst_rows(basis, rep(1, nrow(h))) * fit$survival$unit
}

#' Predictions of a time-to-event CausalMix fit
#'
#' Per-row predictions of the learned survival model (the event-time law of each arm given
#' the covariates), on the data's time scale. The treated arm's law is the one draws use at
#' the default knobs: the control hazard times exp(beta(x)), beta(x) the learned
#' time-averaged conditional log hazard ratio (see [simulate.causalmix_survival()]).
#'
#' @param object A time-to-event [causalmix()] fit.
#' @param newdata A data.frame with the fit's covariates, or `NULL` for the training rows.
#' @param type `"risk"` (P(T(arm) <= horizon | x)), `"risk_difference"` (treated minus
#'   control risk at the horizon), `"survival"` (S_arm(times | x), a matrix with one column
#'   per time), `"rmst"` (E\[min(T(arm), horizon) | x\]), `"rmst_difference"`, `"log_hr"`
#'   (the learned time-averaged conditional log hazard ratio beta(x) the knobs centre on),
#'   `"ps"` (propensity), or `"mu0"`, `"mu1"`, `"tau"` (the risks of each arm at the horizon
#'   and their difference, as in the truth columns `.mu0`, `.mu1`, `.tau` of a draw).
#' @param arm `0` (control) or `1` (treated), for `"risk"`, `"survival"` and `"rmst"`.
#' @param times Times for `"survival"` (default: the horizon).
#' @param horizon The horizon (`NULL`: the fit's default, the 0.75 quantile of follow-up).
#' @param threads Threads (see [sandbox_threads()]); results do not depend on it.
#' @param ... Unused.
#' @return A numeric vector with one value per row, or for `"survival"` a matrix (rows by
#'   times).
#' @examples
#' set.seed(1)
#' n <- 500
#' d <- data.frame(age = rnorm(n, 60, 8))
#' d$treat <- rbinom(n, 1, plogis((d$age - 60) / 10))
#' t_event <- rweibull(n, 1.3, 400 * exp(-(d$age - 60) / 30 - 0.3 * d$treat))
#' d$days <- ceiling(pmin(t_event, 365))
#' d$status <- as.integer(t_event <= 365)
#' fit <- causalmix(d, "treat", c(time = "days", event = "status"), epochs = 20,
#'                  hidden = 16, threads = 1)
#' head(predict(fit, type = "risk_difference", horizon = 300))
#' predict(fit, newdata = data.frame(age = c(50, 70)), type = "survival", arm = 1,
#'         times = c(100, 200, 300))
#' @export
predict.causalmix_survival <- function(object, newdata = NULL,
                                       type = c("risk", "risk_difference", "survival", "rmst",
                                                "rmst_difference", "log_hr", "ps", "mu0",
                                                "mu1", "tau"),
                                       arm = 0, times = NULL, horizon = NULL, threads = NULL,
                                       ...) {
  types <- eval(formals(sys.function())$type)
  type <- check_choice(type, types, "type")
  if (type == "ps") return(predict.causalmix(object, newdata, type = "ps", threads = threads))
  if (!(identical(arm, 0) || identical(arm, 1) || identical(arm, 0L) || identical(arm, 1L)))
    stopf("`arm` must be 0 (control) or 1 (treated), not %s.", describe(arm),
          argument = "arm")
  horizon <- check_horizon(horizon, object)
  sv <- object$survival
  tau <- horizon / sv$unit
  if (is.null(newdata)) {
    scores <- sv$fitted_scores
    if (is.null(scores))
      stopf("This fit predates stored training predictions; give `newdata`.",
            argument = "newdata")
  } else {
    if (!is.data.frame(newdata))
      stopf("`newdata` must be a data.frame, not %s.", describe(newdata), argument = "newdata")
    enc <- encode_table(object$schema, newdata, argument = "newdata")
    scores <- survival_scores(object, enc$x, enc$missing, threads)
  }
  risk <- function(a) 1 - drop(arm_survival(object, scores, a, tau))
  switch(type,
    risk = risk(arm),
    mu0 = risk(0),
    mu1 = risk(1),
    risk_difference = , tau = risk(1) - risk(0),
    survival = {
      times <- times %||% horizon
      if (!is.numeric(times) || !length(times) || anyNA(times) || any(times < 0))
        stopf("`times` must be non-negative numbers.", argument = "times")
      out <- arm_survival(object, scores, arm, times / sv$unit)
      dimnames(out) <- list(NULL, format(times))
      out
    },
    rmst = arm_rmst(object, scores, arm, tau),
    rmst_difference = arm_rmst(object, scores, 1, tau) - arm_rmst(object, scores, 0, tau),
    log_hr = learned_log_hr(object, scores))
}

# The learned model at its default knobs over the reference draw: population survival of both
# arms at `times` (engine scale) and the truth at the horizon.
learned_population <- function(fit, horizon, times, threads) {
  threads <- sandbox_threads(threads)
  tau <- horizon / fit$survival$unit
  knobs <- check_knobs(1, NULL, 1, NULL, 0)
  pop <- cached_survival_population(fit, knobs, "risk_difference", tau, threads)
  ref <- survival_reference(fit, threads)
  H <- ref$hazard0 %*% t(grid_exposure(fit$survival$cut_event, times))
  r <- exp(ref$beta)   # the learned log hazard ratio of every row (ate = NULL, h = 1)
  S0 <- exp(-H)
  S1 <- exp(-H * r)
  # the learned propensity: the curves of the rows that received each arm, which the data's
  # Kaplan-Meier curves estimate (under censoring independent of the event given the arm)
  e <- stats::plogis(pop$propensity_intercept + pop$overlap_scale * (ref$eta - pop$eta_bar))
  list(truth = pop$truth$survival,
       curves = data.frame(time = times * fit$survival$unit, control = colMeans(S0),
                           treated = colMeans(S1)),
       received = data.frame(time = times * fit$survival$unit,
                             control = colSums((1 - e) * S0) / sum(1 - e),
                             treated = colSums(e * S1) / sum(e)))
}

# Quantiles (shares p in steps of 0.01, or the quartiles of older fits) of the data's
# follow-up times.
follow_up_quantile <- function(sv, p) {
  if (!is.null(sv$follow_up_quantiles)) return(sv$follow_up_quantiles[round(100 * p) + 1L])
  unname(sv$summary$follow_up[match(round(4 * p), 0:4)])
}

#' Summary of a time-to-event CausalMix fit
#'
#' The data's follow-up (events, censoring, its end), the learned survival model and what it
#' implies over the fitted covariate law at its learned effect: population survival curves of
#' both arms, risks, risk difference and ratio, RMST difference and marginal hazard ratio at
#' the horizon (with Monte Carlo errors), the censoring of a draw of 20,000 rows against the
#' data's, and the fitted propensities.
#'
#' @param object A time-to-event [causalmix()] fit.
#' @param horizon The horizon (`NULL`: the fit's default).
#' @param threads Threads (see [sandbox_threads()]); results do not depend on it.
#' @param ... Unused.
#' @return An object of class `summary.causalmix_survival` (a list) with a print method:
#'   `data` (the follow-up summary of the schema), `horizon`, `curves` (time, control,
#'   treated population survival), `truth` (the population quantities at the horizon, as in
#'   [truth()]), `censoring` (data and drawn shares censored, and censored at the end of
#'   follow-up), `model` (intervals, held-out loss, epochs) and `propensity` (quantiles by
#'   arm).
#' @export
summary.causalmix_survival <- function(object, horizon = NULL, threads = NULL, ...) {
  horizon <- check_horizon(horizon, object)
  sv <- object$survival
  sm <- sv$summary
  times <- sort(unique(c(follow_up_quantile(sv, c(0.25, 0.5)), horizon, sm$end)))
  pop <- learned_population(object, horizon, times / sv$unit, threads)
  drawn <- simulate(object, nsim = 20000L, seed = 1L, horizon = horizon, threads = threads)
  drawn_time <- if (!is.null(sv$surv_column)) drawn[[sv$surv_column]][, 1L] else
    drawn[[sv$time]]
  drawn_event <- if (!is.null(sv$surv_column)) drawn[[sv$surv_column]][, 2L] else
    as.double(drawn[[sv$event]])
  ps <- object$fitted$ps
  arm <- object$treatment_observed == 1
  probs <- c(0, 0.05, 0.25, 0.5, 0.75, 0.95, 1)
  valid <- sv$history$valid[sv$best_epoch]
  structure(list(
    data = sm, horizon = horizon, curves = pop$curves, truth = pop$truth,
    censoring = data.frame(source = c("data", "draw of 20,000 rows"),
                           censored = c(sm$censoring_share, mean(drawn_event == 0)),
                           censored_at_end = c(sm$censored_at_end_share,
                                               mean(drawn_event == 0 & drawn_time >= sm$end)),
                           median_follow_up = c(follow_up_quantile(sv, 0.5),
                                                stats::median(drawn_time))),
    model = list(J_event = sv$J_event, J_censor = sv$J_censor, sizes = sv$net$sizes,
                 best_epoch = sv$best_epoch, epochs = nrow(sv$history),
                 held_out_loss = if (length(valid)) valid else NA_real_),
    propensity = rbind(treated = stats::quantile(ps[arm], probs, names = FALSE),
                       control = stats::quantile(ps[!arm], probs, names = FALSE)),
    names = c(time = sv$time, event = sv$event)),
    class = "summary.causalmix_survival")
}

#' @export
print.summary.causalmix_survival <- function(x, digits = 4, ...) {
  f <- function(v) format(signif(v, digits))
  d <- x$data
  cat(sprintf("CausalMix fit summary: time-to-event outcome (%s)\n",
              follow_up_label(x$names[["time"]], x$names[["event"]])))
  cat(sprintf(paste0("Data: %d rows; %d events (%.1f%%), %.1f%% censored (%.1f%% at the end of ",
                     "follow-up, %s)\n"), as.integer(d$n), as.integer(d$events),
              100 * d$event_share, 100 * d$censoring_share, 100 * d$censored_at_end_share,
              f(d$end)))
  m <- x$model
  cat(sprintf(paste0("Survival model: piecewise-exponential hazards per arm (event %d intervals, ",
                     "censoring %d), risk-score network %s; held-out loss %s per row at ",
                     "epoch %d of %d\n"), m$J_event, m$J_censor, paste(m$sizes, collapse = "-"),
              f(m$held_out_loss), m$best_epoch, m$epochs))
  cat("Population survival by arm over the fitted covariate law (learned effect):\n")
  cv <- x$curves
  print(data.frame(time = f(cv$time), control = f(cv$control), treated = f(cv$treated)),
        row.names = FALSE)
  t <- x$truth
  cat(sprintf(paste0("At the horizon %s: risk %s (control), %s (treated); risk difference %s ",
                     "(MC se %s), risk ratio %s; RMST difference %s; marginal hazard ratio %s\n"),
              f(x$horizon), f(t$risk0), f(t$risk1), f(t$risk_difference),
              f(t$risk_difference_mcse), f(t$risk_ratio), f(t$rmst_difference),
              f(t$hazard_ratio)))
  cz <- x$censoring
  cat(sprintf(paste0("Censoring: data %.1f%% (%.1f%% at the end), drawn %.1f%% (%.1f%%); ",
                     "median follow-up: data %s, drawn %s\n"),
              100 * cz$censored[1], 100 * cz$censored_at_end[1], 100 * cz$censored[2],
              100 * cz$censored_at_end[2], f(cz$median_follow_up[1]),
              f(cz$median_follow_up[2])))
  cat("Fitted propensity by arm (min, 5%, 25%, median, 75%, 95%, max):\n")
  p <- x$propensity
  colnames(p) <- c("min", "5%", "25%", "50%", "75%", "95%", "max")
  print(round(p, 3))
  invisible(x)
}

#' Plot a time-to-event CausalMix fit
#'
#' Four panels: the population (causal) survival curves of both arms implied by the fit
#' (learned effect), the model's curves of the rows that received each arm (learned
#' propensity) and the data's Kaplan-Meier curves by arm, which estimate the latter; the
#' follow-up time distribution of the
#' data and of a draw; the survival model's training and held-out loss by epoch; the fitted
#' propensities by arm.
#'
#' @param x A time-to-event [causalmix()] fit.
#' @param horizon The horizon marked on the curves (`NULL`: the fit's default).
#' @param ... Passed to the first [graphics::plot()] call.
#' @return `x`, invisibly.
#' @export
plot.causalmix_survival <- function(x, horizon = NULL, ...) {
  horizon <- check_horizon(horizon, x)
  sv <- x$survival
  old <- graphics::par(mfrow = c(2, 2), mar = c(4, 4, 2.5, 1))
  on.exit(graphics::par(old))
  cols <- c("steelblue", "firebrick")
  grid <- sv$end * (0:100) / 100
  pop <- learned_population(x, horizon, grid, NULL)
  graphics::matplot(pop$curves$time, pop$curves[c("control", "treated")], type = "l", lty = 1,
                    col = cols, ylim = c(0, 1), xlab = sv$time, ylab = "survival",
                    main = "Survival by arm", ...)
  graphics::matlines(pop$received$time, pop$received[c("control", "treated")], lty = 2,
                     col = cols)
  km <- sv$km
  if (!is.null(km))
    for (a in 0:1) {
      k <- km[km$arm == a, ]
      graphics::lines(c(0, k$time), c(1, k$surv), type = "s", lty = 3, col = cols[a + 1L])
    }
  graphics::abline(v = horizon, lty = 4, col = "grey50")
  # the line types in the legend (a title naming them all does not fit a quarter page)
  graphics::legend("bottomleft", c("control", "treated", "causal", "received arm", "data KM",
                                   "horizon"),
                   col = c(cols, rep("grey30", 3L), "grey50"), lty = c(1, 1, 1, 2, 3, 4),
                   bty = "n", cex = 0.7)
  drawn <- simulate(x, nsim = 20000L, seed = 1L, horizon = horizon)
  drawn_time <- if (!is.null(sv$surv_column)) drawn[[sv$surv_column]][, 1L] else
    drawn[[sv$time]]
  probs <- seq(0, 1, by = 0.01)
  if (is.null(sv$follow_up_quantiles)) {
    graphics::plot(stats::quantile(drawn_time, probs, names = FALSE), probs, type = "n",
                   xlab = sv$time, ylab = "share of rows followed up to",
                   main = "Follow-up")
  } else {
    graphics::plot(sv$follow_up_quantiles, probs, type = "s", xlab = sv$time,
                   ylab = "share of rows followed up to",
                   main = "Follow-up")
  }
  graphics::lines(stats::quantile(drawn_time, probs, names = FALSE), probs, type = "s", lty = 2,
                  col = "firebrick")
  graphics::legend("bottomright", c(if (!is.null(sv$follow_up_quantiles)) "data", "draw"),
                   lty = c(if (!is.null(sv$follow_up_quantiles)) 1, 2),
                   col = c(if (!is.null(sv$follow_up_quantiles)) "black", "firebrick"),
                   bty = "n", cex = 0.8)
  h <- sv$history
  yl <- range(c(h$train, h$valid), finite = TRUE)
  graphics::plot(h$epoch, h$train, type = "l", ylim = yl, xlab = "epoch", ylab = "loss per row",
                 main = sprintf("Survival model (best epoch %d)", sv$best_epoch))
  if (any(is.finite(h$valid))) graphics::lines(h$epoch, h$valid, lty = 2, col = "firebrick")
  graphics::abline(v = sv$best_epoch, lty = 3, col = "royalblue")
  ps <- x$fitted$ps
  arm <- x$treatment_observed == 1
  breaks <- seq(0, 1, by = 0.025)
  h1 <- graphics::hist(ps[arm], breaks = breaks, plot = FALSE)
  h0 <- graphics::hist(ps[!arm], breaks = breaks, plot = FALSE)
  fills <- grDevices::adjustcolor(cols, 0.5)
  graphics::plot(h0, freq = FALSE, col = fills[1L], border = NA, xlim = c(0, 1),
                 ylim = c(0, max(h0$density, h1$density)), main = "Propensity overlap",
                 xlab = "fitted propensity")
  graphics::plot(h1, freq = FALSE, col = fills[2L], border = NA, add = TRUE)
  invisible(x)
}
