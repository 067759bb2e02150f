# knob_limits(): the feasible ranges of simulate()'s knobs on a causalmix fit, computed over
# the same reference draw and with the same code as the acceptance checks of simulate(), so
# the figures are the boundaries themselves.

#' Feasible ranges of the causal knobs of a fit
#'
#' Reports, for a [causalmix()] fit and its outcome type, which knob settings
#' [simulate()][simulate.causalmix] accepts:
#' * the feasible range of `ate`. For a binary outcome on the default logit scale it is the
#'   open interval (-mean m_0, 1 - mean m_0) whatever `heterogeneity`; on the
#'   `"difference"` scale, the closed range that keeps every probability of the reference
#'   draw inside \[0, 1\] at the given `heterogeneity` (drawn rows are checked as well);
#'   unbounded for other outcomes;
#' * the largest |`confounding`| of each sign at the given `overlap`, `ate` and
#'   `heterogeneity`: for a binary outcome, `shaped` is the limit of a number `k`
#'   (shaped to each row's room, the mean room w(x)) and `constant` the limit of a constant
#'   function `function(x) rep(k, nrow(x))` over the reference draw (the smallest room);
#'   unbounded for other outcomes;
#' * for a time-to-event fit (class `knob_limits_survival`): the open range of `ate` on each
#'   estimand scale (risk difference and RMST difference at the horizon, marginal hazard
#'   ratio) at the given `heterogeneity`, the value each takes at the given knobs, and the
#'   feasible bias `confounding` on each scale at the causal law the knobs give (`ate` on the
#'   `estimand` scale): for the risk and RMST differences the closed range |k| <= the mean
#'   room (a number) and the smallest room of the reference rows (a constant function); for
#'   the hazard ratio the open range of the IPW Cox limit's bias (numbers only);
#' * the overlap scales at which 50%, 80% and 95% of the propensities (over the fitted
#'   covariate law) stay inside \[0.1, 0.9\] (larger scales give fewer; `NA` when even a
#'   randomised design misses the share).
#'
#' @param fit A [causalmix()] fit.
#' @param overlap,ate,heterogeneity,effect_scale Knobs as in
#'   [simulate()][simulate.causalmix] at which the confounding limits are computed.
#' @param threads Threads (see [sandbox_threads()]); results do not depend on it.
#' @param estimand,horizon For a time-to-event fit: the scale of `ate` (as in
#'   [simulate.causalmix_survival()]) and the horizon (`NULL`: the fit's default).
#' @return An object of class `knob_limits`: a list with `outcome`, `effect_scale`, `ate`
#'   (lower and upper bound), `ate_closed` (whether the bounds themselves are feasible),
#'   `learned_ate`, `risk0` (mean control risk, binary outcomes), `confounding` (data.frame:
#'   `sign`, `shaped`, `constant`), `overlap` (data.frame: `share`, `lower`, `upper`,
#'   `scale`) and `at` (the knobs used). It has a print method.
#' @examples
#' set.seed(1)
#' n <- 400
#' d <- data.frame(x = rnorm(n))
#' d$t <- rbinom(n, 1, plogis(d$x))
#' d$y <- rbinom(n, 1, plogis(-1 + d$x + 0.5 * d$t))
#' fit <- causalmix(d, "t", "y", epochs = 10, hidden = 16, threads = 1)
#' lim <- knob_limits(fit, threads = 1)
#' lim
#' # the confounding limits depend on the other knobs: ask at the ate you will use
#' a <- 0.5 * lim$ate[2]
#' at <- knob_limits(fit, ate = a, threads = 1)
#' cohort <- simulate(fit, nsim = 500, seed = 1, ate = a,
#'                    confounding = 0.5 * at$confounding$shaped[1], threads = 1)
#' c(truth(cohort)$ate, a)
#' @export
knob_limits <- function(fit, overlap = 1, ate = NULL, heterogeneity = 1, effect_scale = NULL,
                        threads = NULL, estimand = "risk_difference", horizon = NULL) {
  if (!inherits(fit, "causalmix"))
    stopf("`fit` must be a causalmix() fit, not %s.", describe(fit), argument = "fit")
  if (inherits(fit, "causalmix_survival"))
    return(knob_limits_survival(fit, overlap, ate, heterogeneity, estimand, horizon, threads))
  binary <- fit$model$outcome_binary == 1L
  knobs <- check_knobs(overlap, ate, heterogeneity, NULL, 0, effect_scale, binary)
  threads <- sandbox_threads(threads)
  ref <- cached_reference(fit, threads)
  # the constants of these knobs (refuses an infeasible `ate` with its own message); when
  # the learned ATE itself (`ate = NULL`) is infeasible at these knobs (the difference scale
  # at a small `heterogeneity`), the ate range is still given and the confounding limits,
  # which need a feasible setting, are NA
  population <- tryCatch(population_constants(fit, knobs, threads),
                         causalsandbox_knob_error = function(e) {
                           if (!is.null(knobs$ate)) stop(e)
                           NULL
                         })
  tau_bar <- mean(ref$pred$mu1 - ref$pred$mu0)
  outcome <- if (binary) "binary" else fit$schema$columns[[fit$schema$outcome]]$type

  ate_range <- c(-Inf, Inf)
  closed <- FALSE
  if (binary && knobs$logit) {
    ate_range <- logit_ate_range(ref)
  } else if (binary) {
    # m0 + a + h (tau - tau_bar) in [0, 1] on every reference row
    moved <- ref$pred$mu0 + knobs$heterogeneity * (ref$pred$mu1 - ref$pred$mu0 - tau_bar)
    ate_range <- c(max(-moved), min(1 - moved))
    closed <- TRUE
  }

  limit <- function(sign) {
    if (!binary) return(c(Inf, Inf))
    if (is.null(population)) return(c(NA_real_, NA_real_))
    rows <- knob_rows(ref$pred, ref$covariates, knobs, population, binary, threads,
                      room_only = TRUE, room_sign = sign)
    c(mean(rows$room), min(rows$room))
  }
  pos <- limit(1L)
  neg <- limit(-1L)
  confounding <- data.frame(sign = c("positive", "negative"), shaped = c(pos[1], -neg[1]),
                            constant = c(pos[2], -neg[2]))

  eta <- ref$pred$eta
  shares <- c(0.5, 0.8, 0.95)
  scales <- cached_constant(fit, list(overlap_limits = shares), function() {
    vapply(shares, function(share) {
      tryCatch(overlap_constants(fit, ref, overlap_target(share))$overlap_scale,
               error = function(e) NA_real_)
    }, numeric(1))
  })
  structure(list(outcome = outcome, effect_scale = knobs$effect_scale, ate = ate_range,
                 ate_closed = closed, learned_ate = tau_bar,
                 risk0 = if (binary) mean(ref$pred$mu0) else NULL,
                 confounding = confounding,
                 overlap = data.frame(share = shares, lower = 0.1, upper = 0.9, scale = scales),
                 at = list(overlap = if (is.null(population)) {
                             if (is.numeric(knobs$overlap)) knobs$overlap else NA_real_
                           } else population$overlap_scale,
                           ate = knobs$ate, heterogeneity = knobs$heterogeneity,
                           learned_ate_feasible = !is.null(population)),
                 reference_n = length(eta)),
            class = "knob_limits")
}

# knob_limits() of a time-to-event fit: computed with the functions simulate() uses to accept
# knobs (ate_value_range(), confounding_slopes(), hr_bias_ends()) over the same reference
# draw, so the figures are the acceptance boundaries.
knob_limits_survival <- function(fit, overlap, ate, heterogeneity, estimand, horizon,
                                 threads) {
  knobs <- check_knobs(overlap, ate, heterogeneity, NULL, 0)
  if (!is.character(estimand) || length(estimand) != 1L ||
      !estimand %in% survival_estimands)
    stopf("`estimand` must be one of %s, not %s.",
          paste0("\"", survival_estimands, "\"", collapse = ", "), describe(estimand),
          argument = "estimand")
  horizon <- check_horizon(horizon, fit)
  threads <- sandbox_threads(threads)
  tau <- horizon / fit$survival$unit
  unit <- fit$survival$unit
  # the knobs' causal law (refuses an infeasible `ate` with simulate()'s message)
  population <- cached_survival_population(fit, knobs, estimand, tau, threads)
  ref <- survival_reference(fit, threads)
  basis <- survival_population_basis(fit, ref, tau)
  e <- stats::plogis(population$propensity_intercept +
                       population$overlap_scale * (ref$eta - population$eta_bar))
  lin <- knobs$heterogeneity * (ref$beta - population$beta_bar)
  r <- exp(population$intercept + lin)
  value <- function(est) {
    v <- estimand_value(basis, r, est)
    if (est == "rmst_difference") v * unit else v
  }
  ranges <- t(vapply(survival_estimands, function(est)
    ate_value_range(basis, lin, est, unit), double(2)))
  ate_tab <- data.frame(estimand = survival_estimands, lower = ranges[, 1],
                        upper = ranges[, 2],
                        at_knobs = vapply(survival_estimands, value, double(1)),
                        row.names = NULL)
  conf <- lapply(survival_estimands, function(est) {
    if (est == "hazard_ratio") {
      ends <- hr_bias_ends(basis, r, e)
      return(data.frame(estimand = est, lower = ends[1], upper = ends[2], closed = FALSE,
                        constant = NA_real_))
    }
    slopes <- abs(confounding_slopes(basis, r, e, est, unit))
    data.frame(estimand = est, lower = -mean(slopes), upper = mean(slopes), closed = TRUE,
               constant = min(slopes))
  })
  ov_shares <- c(0.5, 0.8, 0.95)
  scales <- cached_constant(fit, list(overlap_limits = ov_shares), function() {
    cref <- cached_reference(fit, threads)
    vapply(ov_shares, function(share) {
      tryCatch(overlap_constants(fit, cref, overlap_target(share))$overlap_scale,
               error = function(e) NA_real_)
    }, numeric(1))
  })
  structure(list(outcome = "time-to-event", estimand = estimand, horizon = horizon,
                 ate = ate_tab, learned_log_hr = population$beta_bar,
                 confounding = do.call(rbind, conf),
                 overlap = data.frame(share = ov_shares, lower = 0.1, upper = 0.9,
                                      scale = scales),
                 at = list(overlap = population$overlap_scale, ate = knobs$ate,
                           heterogeneity = knobs$heterogeneity, estimand = estimand),
                 reference_n = length(r)),
            class = c("knob_limits_survival", "knob_limits"))
}

#' @export
print.knob_limits_survival <- function(x, digits = 4, ...) {
  f <- function(v) vapply(v, function(u) format(signif(u, digits)), character(1))
  label <- c(risk_difference = "risk difference", rmst_difference = "RMST difference",
             hazard_ratio = "hazard ratio")
  cat(sprintf(paste0("Feasible knobs of a time-to-event causalmix fit (horizon %s; over a ",
                     "reference draw of %d rows)\n"), f(x$horizon), x$reference_n))
  a <- x$ate
  cat(sprintf("  ate, %-16s (%s, %s)   at these knobs %s\n", paste0(label[a$estimand], ":"),
              f(a$lower), f(a$upper), f(a$at_knobs)), sep = "")
  cat(sprintf("  confounding at overlap = %s, %s = %s, heterogeneity = %s:\n", f(x$at$overlap),
              gsub("_", " ", x$at$estimand), if (is.null(x$at$ate)) "learned" else f(x$at$ate),
              f(x$at$heterogeneity)))
  cf <- x$confounding
  for (i in seq_len(nrow(cf))) {
    br <- if (cf$closed[i]) c("[", "]") else c("(", ")")
    cat(sprintf("    %-16s a number in %s%s, %s%s%s\n", paste0(label[cf$estimand[i]], ":"),
                br[1], f(cf$lower[i]), f(cf$upper[i]), br[2],
                if (is.na(cf$constant[i])) " (no function: not collapsible)"
                else sprintf("; a constant function within +-%s", f(cf$constant[i]))))
  }
  print_overlap_limits(x$overlap, f)
  invisible(x)
}

#' @export
print.knob_limits <- function(x, digits = 4, ...) {
  f <- function(v) vapply(v, function(u) format(signif(u, digits)), character(1))
  cat(sprintf("Feasible knobs of a causalmix fit (%s outcome%s; over a reference draw of %d rows)\n",
              x$outcome, if (x$outcome == "binary")
                sprintf(", effects on the %s scale", x$effect_scale) else "",
              x$reference_n))
  bracket <- if (x$ate_closed) c("[", "]") else c("(", ")")
  cat(sprintf("  ate:            %s%s, %s%s   (learned ATE %s%s)\n", bracket[1], f(x$ate[1]),
              f(x$ate[2]), bracket[2], f(x$learned_ate),
              if (!is.null(x$risk0)) sprintf("; control risk %s", f(x$risk0)) else ""))
  at <- sprintf("at overlap = %s, ate = %s, heterogeneity = %s", f(x$at$overlap),
                if (is.null(x$at$ate)) "learned" else f(x$at$ate), f(x$at$heterogeneity))
  cf <- x$confounding
  if (isFALSE(x$at$learned_ate_feasible)) {
    cat(sprintf(paste0("  confounding:    not computed: the learned ATE is outside the ate ",
                       "range at heterogeneity = %s;\n                  ask again with an ",
                       "`ate` inside it\n"), f(x$at$heterogeneity)))
  } else if (all(is.infinite(c(cf$shaped, cf$constant)))) {
    cat("  confounding:    unbounded\n")
  } else {
    cat(sprintf("  confounding:    a number from %s to %s; a constant function from %s to %s\n",
                f(cf$shaped[2]), f(cf$shaped[1]), f(cf$constant[2]), f(cf$constant[1])))
    cat(sprintf("                  (%s)\n", at))
  }
  print_overlap_limits(x$overlap, f)
  if (x$outcome != "binary")
    cat(paste0("  (ate, heterogeneity, effect and confounding move each drawn value, so the ",
               "outcome's point masses
   and observed range move with its mean)
"))
  invisible(x)
}

# The overlap lines of both print methods: each share's scale, or that it is out of reach.
print_overlap_limits <- function(ov, f) {
  shown <- ifelse(is.na(ov$scale), "not reachable", f(ov$scale))
  shown <- formatC(shown, width = max(nchar(shown)), flag = "-")
  cat(sprintf("  overlap:        scale %s keeps %g%% of propensities inside [%g, %g]\n",
              shown, 100 * ov$share, ov$lower, ov$upper), sep = "")
}
