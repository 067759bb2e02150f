# simulate() and the truth for a time-to-event CausalMix fit: knobs on the hazard scale, exact
# population quantities over the reference draw of covariates.
#
# Knobs (DESIGN.md, "Time-to-event outcomes"). The treated hazard is the control hazard times
# exp(lp(x)), lp(x) = c + h (beta(x) - mean beta), beta(x) the learned time-averaged log hazard
# ratio (src/survival_model.h), c solved so that the population value of the chosen estimand
# equals `ate`. Confounding: S_t(s | x, T) = S + a_T S (1 - S) with S = S_t(s | x),
# a_1 = kappa (1 - e*), a_0 = -kappa e*: mixing over T gives back S, so the causal law is
# unchanged, and the limit of a covariate-adjusted estimator is a function of kappa computed
# over the reference draw; kappa is solved so that its bias equals `confounding`.

survival_estimands <- c("risk_difference", "rmst_difference", "hazard_ratio")

# Exposure of each time in `s` to each interval of the grid `cut`: length(s) x J.
grid_exposure <- function(cut, s) {
  ends <- c(cut[-1L], Inf)
  e <- outer(s, ends, pmin) - matrix(cut, length(s), length(cut), byrow = TRUE)
  e[e < 0] <- 0
  e
}

# The survival model over the reference draw of covariates, cached like the draw itself.
survival_reference_cache <- new.env(parent = emptyenv())

survival_reference <- function(fit, threads = NULL) {
  for (e in survival_reference_cache$entries)
    if (identical(e$survival, fit$survival$net) && identical(e$model, fit$model)) return(e$ref)
  draw <- cached_reference(fit, threads)
  enc <- encode_table(fit$schema, draw$covariates)
  lh <- survival_log_hazards(fit, enc$x, enc$missing, threads)
  J <- fit$survival$J_event
  lh0 <- lh[, seq_len(J), drop = FALSE]
  ref <- list(covariates = draw$covariates, eta = draw$pred$eta,
              hazard0 = exp(lh0), beta = rowMeans(lh[, J + seq_len(J), drop = FALSE] - lh0))
  survival_reference_cache$entries <- c(
    list(list(survival = fit$survival$net, model = fit$model, ref = ref)),
    utils::head(survival_reference_cache$entries, 3L))
  ref
}

# Marginal hazard ratio that a Cox model with the arm as its only covariate converges to
# when fitted to two populations with survival curves S0, S1 (values on an evenly spaced
# grid from time 0 to the horizon, where follow-up ends): the root of the limiting score
# sum over grid steps of dF1 - S1 e^b / (S0 + S1 e^b) (dF0 + dF1), the at-risk curves taken at
# each step's midpoint (error of order step^2).
cox_limit_hr <- function(s0, s1) {
  g <- length(s0)
  d0 <- s0[-g] - s0[-1L]
  d1 <- s1[-g] - s1[-1L]
  r0 <- (s0[-g] + s0[-1L]) / 2
  r1 <- (s1[-g] + s1[-1L]) / 2
  score <- function(b) sum(d1 - r1 * exp(b) / (r0 + r1 * exp(b)) * (d0 + d1))
  exp(stats::uniroot(score, c(-30, 30), tol = 1e-14)$root)
}

# Grid steps for the Cox limit and for the reported curves.
cox_grid_steps <- 400L
curve_grid_steps <- 100L

# Everything the population quantities of a reference draw need at the horizon `tau`
# (engine time scale): the control hazards, cumulative hazards at the horizon, at the interval
# starts and on the Cox grid.
survival_population_basis <- function(fit, ref, tau) {
  cut <- fit$survival$cut_event
  h0 <- ref$hazard0
  grid <- tau * (0:cox_grid_steps) / cox_grid_steps
  list(cut = cut, h0 = h0, tau = tau,
       H_tau = drop(h0 %*% t(grid_exposure(cut, tau))),
       H_start = h0 %*% t(grid_exposure(cut, cut)),
       width = drop(grid_exposure(cut, tau)),
       H_grid = h0 %*% t(grid_exposure(cut, grid)))
}

# Restricted mean survival time up to the horizon of every row whose hazard is the control
# hazard times r: exact integral of the piecewise-exponential survival curve.
rmst_rows <- function(basis, r) {
  n <- length(r)
  rh <- basis$h0 * r
  w <- matrix(basis$width, n, length(basis$width), byrow = TRUE)
  part <- exp(-basis$H_start * r) * (-expm1(-rh * w)) / rh
  part[w <= 0] <- 0
  rowSums(part)
}

# S + a S (1 - S): the survival seen in an arm under confounding shift a (NULL: none).
confounded_survival <- function(s, a) if (is.null(a)) s else s + a * s * (1 - s)

# Population value of an estimand when the treated rows' hazard multiplier is r (and, for
# confounding, the limit of covariate-adjusted estimators with shifts a1, a0; see file head).
estimand_value <- function(basis, r, estimand, a1 = NULL, a0 = NULL) {
  switch(estimand,
    risk_difference = {
      s0 <- confounded_survival(exp(-basis$H_tau), a0)
      s1 <- confounded_survival(exp(-basis$H_tau * r), a1)
      mean(s0 - s1)
    },
    rmst_difference = mean(rmst_rows(basis, r) - rmst_rows(basis, rep(1, length(r)))),
    hazard_ratio = {
      s0 <- confounded_survival(exp(-basis$H_grid), a0)
      s1 <- confounded_survival(exp(-basis$H_grid * r), a1)
      cox_limit_hr(colMeans(s0), colMeans(s1))
    })
}

# Range of the population value of `estimand` as the intercept c of lp = c + lin goes over
# [-25, 25] (the hazard ratio from about 0 to infinity): the values `ate` may take (open).
ate_value_range <- function(basis, lin, estimand, unit) {
  value <- function(c) {
    v <- estimand_value(basis, exp(c + lin), estimand)
    if (estimand == "rmst_difference") v * unit else v
  }
  sort(c(value(-25), value(25)))
}

# Solves the intercept c of lp = c + lin so that the estimand's population value equals
# `target` (monotone in c: increasing for the risk difference and the hazard ratio).
solve_intercept <- function(basis, lin, estimand, target, unit) {
  value <- function(c) {
    v <- estimand_value(basis, exp(c + lin), estimand)
    if (estimand == "rmst_difference") v * unit else v
  }
  ends <- ate_value_range(basis, lin, estimand, unit)
  if (!(target > ends[1] && target < ends[2]))
    stopf(paste0("`ate` = %s is not attainable on the %s scale for this fit: the population ",
                 "value ranges over (%s, %s) as the hazard ratio goes from 0 to infinity ",
                 "(see knob_limits(fit))."),
          format(target), gsub("_", " ", estimand), format(signif(ends[1], 6)),
          format(signif(ends[2], 6)), argument = "ate", class = "causalsandbox_knob_error")
  stats::uniroot(function(c) value(c) - target, c(-25, 25), tol = 1e-15,
                 maxiter = 2000)$root
}

# Bias at each row of covariate-adjusted estimators of the risk or RMST difference when
# kappa = 1 (the bias is linear in kappa): with S_t = S_t(horizon | x) and a_1 = kappa (1 - e),
# a_0 = -kappa e, the adjusted contrast at x moves by -kappa ((1 - e) S_1 (1 - S_1) +
# e S_0 (1 - S_0)) on the risk scale and by kappa ((1 - e) int S_1 (1 - S_1) + e int S_0 (1 -
# S_0)) on the RMST scale (int S^2 is the RMST of the doubled hazard).
confounding_slopes <- function(basis, r, e, estimand, unit) {
  if (estimand == "risk_difference") {
    s1 <- exp(-basis$H_tau * r)
    s0 <- exp(-basis$H_tau)
    return(-((1 - e) * s1 * (1 - s1) + e * s0 * (1 - s0)))
  }
  one <- rep(1, length(r))
  unit * ((1 - e) * (rmst_rows(basis, r) - rmst_rows(basis, 2 * r)) +
            e * (rmst_rows(basis, one) - rmst_rows(basis, 2 * one)))
}

# Bias of the IPW marginal Cox hazard ratio's limit as a function of kappa. The confounded
# population curves are linear in kappa (mean of S_1 + kappa (1 - e) S_1 (1 - S_1), and of
# S_0 - kappa e S_0 (1 - S_0)), so their column means are taken once and each evaluation is
# the Cox limit of two curves.
hr_bias_function <- function(basis, r, e) {
  s0 <- exp(-basis$H_grid)
  s1 <- exp(-basis$H_grid * r)
  m0 <- colMeans(s0)
  m1 <- colMeans(s1)
  d0 <- colMeans(e * s0 * (1 - s0))
  d1 <- colMeans((1 - e) * s1 * (1 - s1))
  truth <- cox_limit_hr(m0, m1)
  function(kappa) cox_limit_hr(m0 - kappa * d0, m1 + kappa * d1) - truth
}

# Bias of the IPW marginal Cox hazard ratio's limit at kappa = -1 and 1 (its range; monotone
# in kappa).
hr_bias_ends <- function(basis, r, e, bias = hr_bias_function(basis, r, e)) {
  sort(c(bias(-1), bias(1)))
}

# Why a confounding function has no meaning on the hazard-ratio scale (the classed refusal).
refuse_hr_confounding_function <- function() {
  stopf(paste0("`confounding` must be a number when `estimand` = \"hazard_ratio\": a ",
               "function gives a conditional bias k(x) at each x, and the marginal hazard ",
               "ratio is not the average of conditional contrasts (it is not collapsible), ",
               "so no construction makes its bias E[k(X)]. Use a number, or a function on the ",
               "\"risk_difference\" or \"rmst_difference\" scale."),
        argument = "confounding", class = "causalsandbox_knob_error")
}

# kappa of each row of a confounding function: the row's bias k(x) divided by its slope;
# every |kappa| must be <= 1 (`where` names the rows for the message).
confounding_rows <- function(k, slopes, estimand, where) {
  kappa <- ifelse(k == 0, 0, k / slopes)
  bad <- !is.finite(kappa) | abs(kappa) > 1
  if (any(bad))
    stopf(paste0("`confounding` asks for a conditional bias larger than the %s scale allows ",
                 "at %s of %s (|k(x)| must stay within the room each row has; the largest ",
                 "constant function is given by knob_limits(fit))."),
          gsub("_", " ", estimand),
          if (grepl("reference", where)) sprintf("%.1f%%", 100 * mean(bad))
          else sprintf("%d of %d rows", sum(bad), length(bad)), where,
          argument = "confounding", class = "causalsandbox_knob_error")
  kappa
}

# Solves kappa so that covariate-adjusted estimators of the estimand are biased by k, with
# |kappa| <= 1 (which keeps |a_T| <= 1 for every propensity).
solve_kappa <- function(basis, r, e, estimand, k, unit) {
  if (k == 0) return(0)
  if (estimand != "hazard_ratio") {
    slope <- mean(confounding_slopes(basis, r, e, estimand, unit))
    kappa <- k / slope
    if (abs(kappa) > 1)
      stopf(paste0("`confounding` = %s is larger than this fit allows on the %s scale at ",
                   "this horizon and overlap: |confounding| <= %s (see knob_limits(fit))."),
            format(k), gsub("_", " ", estimand), format(signif(abs(slope), 6)),
            argument = "confounding", class = "causalsandbox_knob_error")
    return(kappa)
  }
  bias <- hr_bias_function(basis, r, e)
  ends <- hr_bias_ends(basis, r, e, bias)
  if (!(k > ends[1] && k < ends[2]))
    stopf(paste0("`confounding` = %s is outside the bias on the hazard-ratio scale this fit ",
                 "allows at this horizon and overlap: (%s, %s) (see knob_limits(fit))."),
          format(k), format(signif(ends[1], 6)), format(signif(ends[2], 6)),
          argument = "confounding", class = "causalsandbox_knob_error")
  stats::uniroot(function(kappa) bias(kappa) - k, c(-1, 1), tol = 1e-15, maxiter = 2000)$root
}

# Population side of the knobs, cached for the session per fit and knob setting (it depends on
# nothing else), so that repeated draws (chunks, studies) do not recompute it.
survival_population_cache <- new.env(parent = emptyenv())

cached_survival_population <- function(fit, knobs, estimand, tau, threads) {
  # a confounding function's values may change between calls: not cached
  if (is.function(knobs$confounding))
    return(survival_population(fit, knobs, estimand, tau, threads))
  key <- list(model = fit$model, survival = fit$survival$net, baseline = fit$survival$baseline,
              knobs = knobs, estimand = estimand, tau = tau)
  for (e in survival_population_cache$entries)
    if (identical(e$key, key)) return(e$population)
  population <- survival_population(fit, knobs, estimand, tau, threads)
  survival_population_cache$entries <- c(list(list(key = key, population = population)),
                                         utils::head(survival_population_cache$entries, 7L))
  population
}

# Population side of the knobs for a survival fit: the propensity (overlap knob as for every
# outcome), the intercept c and kappa, and the population truth with Monte Carlo errors.
survival_population <- function(fit, knobs, estimand, tau, threads) {
  ref <- survival_reference(fit, threads)
  prop <- reference_knobs(fit, list(overlap = knobs$overlap, ate = NULL, heterogeneity = 1,
                                    effect = NULL, confounding = 0, effect_scale = "difference",
                                    logit = FALSE), threads)
  e <- stats::plogis(prop$intercept + prop$overlap_scale * (ref$eta - prop$eta_bar))
  unit <- fit$survival$unit
  basis <- survival_population_basis(fit, ref, tau)
  beta_bar <- mean(ref$beta)
  if (!is.null(knobs$effect)) {
    lin <- eval_knob_function(knobs$effect, ref$covariates, "effect")
    intercept <- 0
  } else {
    lin <- knobs$heterogeneity * (ref$beta - beta_bar)
    # the intercept depends on neither overlap nor confounding: cached on its own, so that
    # scenarios varying those (and knob_limits()) do not solve it again
    intercept <- if (is.null(knobs$ate)) beta_bar else
      cached_constant(fit, list(survival_intercept = fit$survival$net,
                                baseline = fit$survival$baseline, tau = tau,
                                heterogeneity = knobs$heterogeneity, estimand = estimand,
                                ate = knobs$ate),
                      function() solve_intercept(basis, lin, estimand, knobs$ate, unit))
  }
  r <- exp(intercept + lin)
  if (is.function(knobs$confounding)) {
    # a conditional bias k(x) on the risk or RMST scale: kappa(x) = k(x) / slope(x), checked
    # over the reference draw; the bias of adjusted estimators is the mean of k(X)
    k_rows <- eval_knob_function(knobs$confounding, ref$covariates, "confounding")
    confounding_rows(k_rows, confounding_slopes(basis, r, e, estimand, unit), estimand,
                     "the reference draw of the fitted covariate law")
    kappa <- NA_real_
    bias <- mean(k_rows)
  } else {
    kappa <- solve_kappa(basis, r, e, estimand, knobs$confounding, unit)
    bias <- if (kappa == 0) 0 else knobs$confounding
  }
  truth <- survival_truth(fit, basis, r, e, kappa, estimand, bias)
  list(overlap_scale = prop$overlap_scale, eta_bar = prop$eta_bar,
       propensity_intercept = prop$intercept, treated_share = prop$treated_share,
       intercept = intercept, beta_bar = beta_bar, kappa = kappa, truth = truth)
}

# Population survival quantities at the horizon with Monte Carlo errors over the reference
# draw; k: the bias of covariate-adjusted estimators on the chosen scale.
survival_truth <- function(fit, basis, r, e, kappa, estimand, k) {
  unit <- fit$survival$unit
  n <- length(r)
  s0 <- exp(-basis$H_tau)
  s1 <- exp(-basis$H_tau * r)
  f0 <- 1 - mean(s0)
  f1 <- 1 - mean(s1)
  rr <- f1 / f0
  m0 <- rmst_rows(basis, rep(1, n)) * unit
  m1 <- rmst_rows(basis, r) * unit
  hr <- estimand_value(basis, r, "hazard_ratio")
  # the hazard ratio's Monte Carlo error from ten batches of the reference rows
  batches <- split(seq_len(n), rep(1:10, length.out = n))
  hr_batches <- vapply(batches, function(i) cox_limit_hr(
    colMeans(exp(-basis$H_grid[i, , drop = FALSE])),
    colMeans(exp(-basis$H_grid[i, , drop = FALSE] * r[i]))), double(1))
  se <- function(v) stats::sd(v) / sqrt(n)
  values <- list(risk_difference = f1 - f0, rmst_difference = mean(m1 - m0),
                 hazard_ratio = hr)
  mcse <- list(risk_difference = se(s0 - s1), rmst_difference = se(m1 - m0),
               hazard_ratio = stats::sd(hr_batches) / sqrt(length(batches)))
  curve_times <- fit$survival$end * (0:curve_grid_steps) / curve_grid_steps
  H_curve <- basis$h0 %*% t(grid_exposure(basis$cut, curve_times))
  curves <- data.frame(time = curve_times * unit, s0 = colMeans(exp(-H_curve)),
                       s1 = colMeans(exp(-H_curve * r)))
  bias <- k
  list(ate = values[[estimand]], ate_mcse = mcse[[estimand]], bias = bias,
       survival = list(
         estimand = estimand, horizon = basis$tau * unit, risk0 = f0, risk1 = f1,
         risk_difference = f1 - f0, risk_difference_mcse = mcse$risk_difference,
         risk_ratio = rr, risk_ratio_mcse = se(((1 - s1) - rr * (1 - s0)) / f0),
         rmst0 = mean(m0), rmst1 = mean(m1), rmst_difference = mean(m1 - m0),
         rmst_difference_mcse = mcse$rmst_difference,
         hazard_ratio = hr, hazard_ratio_mcse = mcse$hazard_ratio,
         bias = bias, kappa = kappa, curves = curves, reference_n = n),
       reference_n = n)
}

# Checks a horizon (data time scale) against the follow-up of the fit.
check_horizon <- function(horizon, fit) {
  if (is.null(horizon)) return(fit$survival$horizon)
  check_number(horizon, "horizon", lower = 0, upper = fit$survival$unit, lower_open = TRUE)
  horizon
}

#' Draw a synthetic cohort with a time-to-event outcome
#'
#' The [simulate()][simulate.causalmix] method of a [causalmix()] fit whose outcome is a time
#' to event (`outcome = c(time = , event = )` or a `survival::Surv` column). Covariates and the
#' treatment are drawn as for any fit (the `overlap` knob is unchanged); then for every row
#' the potential event times T(0), T(1) and the censoring time C from the learned
#' piecewise-exponential laws, and the observed time min(T(T), C) with its event indicator.
#'
#' Knobs act on the hazard scale. The treated hazard is h_1*(s | x) = h_0(s | x)
#' exp(c + h (beta(x) - mean beta)), with h_0 the learned control hazard and beta(x) the
#' learned time-averaged log hazard ratio (the mean over the event-time intervals, which hold
#' equal shares of the observed events); `heterogeneity = h` scales its spread and `ate` fixes
#' c so that the population value of `estimand` (over the reference draw of 20,000 rows from
#' the covariate model) equals `ate` (`NULL`: c = mean beta, the learned average log hazard
#' ratio). `estimand` is `"risk_difference"` (P(T(1) <= horizon) - P(T(0) <= horizon)),
#' `"rmst_difference"` (restricted mean survival time up to the horizon, treated minus
#' control) or `"hazard_ratio"` (the marginal hazard ratio a Cox model fitted to the
#' potential event times, followed up to the horizon, converges to; with `heterogeneity = 0`
#' the conditional hazard ratio is the constant exp(c)). `effect`, a function of the
#' covariate data.frame, gives the conditional log hazard ratio of every row outright.
#'
#' `confounding = k` adds unmeasured confounding: given x and the received treatment A, the
#' event time of arm t has survival function S_t(s | x) + a_A(x) S_t(s | x) (1 - S_t(s | x)),
#' a_1 = kappa (1 - e*(x)), a_0 = -kappa e*(x), |kappa| <= 1. Averaged over A this is the
#' causal S_t(s | x), so the causal quantities are unchanged; kappa is solved so that
#' covariate-adjusted estimators of the estimand (g-formula, IPW, doubly robust; for the
#' hazard ratio the IPW-weighted marginal Cox model followed up to the horizon) converge to
#' the truth plus k. Censoring is drawn from the censoring law of the received arm given x,
#' independent of the event times; censoring times beyond the end of the data's follow-up are
#' set to it.
#'
#' When the data's times are whole numbers (days, say), observed times are rounded up to whole
#' numbers; the truth columns keep the exact times.
#'
#' @inheritParams simulate.causalmix
#' @param confounding A number: the bias of covariate-adjusted estimators on the `estimand`
#'   scale; or, on the risk-difference and RMST-difference scales, a function of the
#'   covariate data.frame returning the conditional bias k(x) of each row (kappa(x) = k(x)
#'   over the row's room, refused when some |kappa(x)| > 1 on the reference draw or the drawn
#'   rows; the bias is then the mean of k(X) over the reference draw). A function is refused
#'   on the hazard-ratio scale: the marginal hazard ratio is not collapsible, so its bias is
#'   no average of conditional biases.
#' @param estimand The scale of `ate` and `confounding`: `"risk_difference"` (default),
#'   `"rmst_difference"` or `"hazard_ratio"`.
#' @param horizon The time at which risks and the restricted mean are taken, on the data's
#'   time scale; `NULL` uses the fit's default, the 0.75 quantile of the observed follow-up
#'   times.
#' @return A `sandbox_data`: the fitted columns (the time and event columns in the data's
#'   names and types, or the `Surv` column) plus the truth columns `.ps`, `.t0`, `.t1`
#'   (potential event times), `.c` (censoring time), `.s0`, `.s1` (S_t(horizon | x)),
#'   `.loghr` (conditional log hazard ratio), and `.mu0`, `.mu1` (risks at the horizon),
#'   `.tau` (their difference), `.y0`, `.y1` (event by the horizon, 0/1; `TRUE`/`FALSE` for a logical event column). [truth()] gives the
#'   population survival curves of both arms, the risk difference and risk ratio at the
#'   horizon, the RMST difference, the marginal hazard ratio, their Monte Carlo errors and the
#'   bias.
#' @examples
#' set.seed(1)
#' n <- 600
#' d <- data.frame(age = rnorm(n, 60, 8))
#' d$treat <- rbinom(n, 1, plogis((d$age - 60) / 10))
#' t_event <- rweibull(n, 1.3, 400 * exp(-(d$age - 60) / 30 - 0.3 * d$treat))
#' t_censor <- pmin(rexp(n, 1 / 800), 365)
#' d$days <- ceiling(pmin(t_event, t_censor))
#' d$status <- as.integer(t_event <= t_censor)
#' fit <- causalmix(d, "treat", c(time = "days", event = "status"), epochs = 30,
#'                  hidden = 16, threads = 1)
#' cohort <- simulate(fit, nsim = 2000, seed = 2, ate = -0.1, horizon = 300, threads = 1)
#' truth(cohort)
#' @export
simulate.causalmix_survival <- function(object, nsim = object$n, seed = NULL, overlap = 1,
                                        ate = NULL, heterogeneity = 1, effect = NULL,
                                        confounding = 0,
                                        estimand = c("risk_difference", "rmst_difference",
                                                     "hazard_ratio"),
                                        horizon = NULL, offset = 0, threads = NULL, ...) {
  extra <- list(...)
  if (length(extra))
    stopf("Unknown argument%s to simulate(): %s.", if (length(extra) > 1L) "s" else "",
          paste(names(extra) %||% "(unnamed)", collapse = ", "), argument = "...")
  check_count(nsim, "nsim", min = 1)
  if (nsim > .Machine$integer.max)
    stopf("`nsim` must be at most %d per call; draw chunks with `offset`.",
          .Machine$integer.max, argument = "nsim")
  knobs <- check_knobs(overlap, ate, heterogeneity, effect, confounding)
  if (!is.character(estimand) || anyNA(estimand) || !estimand[1L] %in% survival_estimands)
    stopf("`estimand` must be one of %s, not %s.",
          paste0("\"", survival_estimands, "\"", collapse = ", "), describe(estimand),
          argument = "estimand")
  estimand <- estimand[1L]
  if (is.function(confounding) && estimand == "hazard_ratio") refuse_hr_confounding_function()
  if (estimand == "hazard_ratio" && !is.null(ate) && ate <= 0)
    stopf("`ate` is a hazard ratio here and must be positive, not %s.", format(ate),
          argument = "ate")
  horizon <- check_horizon(horizon, object)
  check_count(offset, "offset", min = 0)
  threads <- sandbox_threads(threads)
  seed <- engine_seed(seed)
  s <- object$survival
  tau <- horizon / s$unit

  population <- cached_survival_population(object, knobs, estimand, tau, threads)
  draw <- draw_rows(survival_draw_fit(object), nsim, seed, offset, threads)
  ps <- stats::plogis(population$propensity_intercept +
                        population$overlap_scale * (draw$pred$eta - population$eta_bar))
  effect_rows <- if (!is.null(knobs$effect))
    eval_knob_function(knobs$effect, draw$covariates, "effect")
  kappa_rows <- if (is.function(knobs$confounding))
    drawn_kappa(object, draw, ps, knobs, population, effect_rows, estimand, tau)
  gen <- .Call(C_survival_draw, s, unname(draw$pred[-1L]), ps,
               list(intercept = population$intercept, heterogeneity = knobs$heterogeneity,
                    beta_bar = population$beta_bar,
                    kappa = if (is.na(population$kappa)) 0 else population$kappa,
                    kappa_rows = kappa_rows, horizon = tau, effect = effect_rows),
               seed, as.double(offset), threads)

  schema <- object$schema
  data <- as.list(draw$covariates)
  data[[schema$treatment]] <- decode_column(schema$columns[[schema$treatment]], gen$arm)
  time <- gen$time * s$unit
  if (s$time_whole) time <- ceiling(time - 1e-9 * s$unit)
  if (!is.null(s$surv_column)) {
    data[[s$surv_column]] <- survival::Surv(time, gen$event)
  } else {
    data[[s$time]] <- if (s$time_integer) as.integer(time) else time
    data[[s$event]] <- switch(s$event_storage, logical = gen$event == 1L,
                              integer = gen$event, as.double(gen$event))
  }
  data <- data[s$names]
  # events by the horizon in the event column's coding (TRUE/FALSE for a logical event
  # column, whose cohort is read with levels FALSE/TRUE), 0/1 otherwise
  by_horizon <- function(t) if (identical(s$event_storage, "logical")) t <= tau
                            else as.double(t <= tau)
  data <- c(data, list(
    .ps = ps, .mu0 = 1 - gen$s0, .mu1 = 1 - gen$s1, .tau = gen$s0 - gen$s1,
    .y0 = by_horizon(gen$t0), .y1 = by_horizon(gen$t1),
    .t0 = gen$t0 * s$unit, .t1 = gen$t1 * s$unit, .c = gen$c * s$unit,
    .s0 = gen$s0, .s1 = gen$s1, .loghr = gen$lp))
  attributes(data) <- list(names = names(data), row.names = c(NA_integer_, -as.integer(nsim)),
                           class = "data.frame")

  truth <- population$truth
  truth$survival$time <- s$time
  truth$survival$event <- s$event
  truth$survival$surv_column <- s$surv_column
  truth$knobs <- list(overlap = population$overlap_scale,
                      overlap_target = if (inherits(knobs$overlap, "overlap_target"))
                        unclass(knobs$overlap) else NULL,
                      estimand = estimand, horizon = horizon,
                      ate = if (is.null(knobs$effect)) ate %||% truth$ate else NULL,
                      heterogeneity = if (is.null(knobs$effect)) knobs$heterogeneity else NULL,
                      effect = knobs$effect, confounding = knobs$confounding,
                      log_hr_intercept = population$intercept, kappa = population$kappa,
                      treated_share = population$treated_share, seed = seed, offset = offset)
  truth$knobs <- truth$knobs[!vapply(truth$knobs, is.null, logical(1))]
  outcome <- s$surv_column %||% s$event
  roles <- list(treatment = schema$treatment, outcome = outcome, covariates = schema$covariates,
                treatment_levels = schema$columns[[schema$treatment]]$levels)
  # the drawn table has the class of the fitted one (a tibble, a data.table)
  data <- as_input_class(data, schema$input_class)
  out <- new_sandbox_data(data, roles, truth)
  tr <- attr(out, "truth")
  # the sample means of `.tau` are risk differences: on another estimand's scale there is
  # no sample counterpart of the ATE, ATT or ATC (their population values are on that scale)
  if (estimand != "risk_difference") tr[c("sample_ate", "sample_att", "sample_atc")] <- NA_real_
  class(tr) <- c("sandbox_truth_survival", class(tr))
  attr(out, "truth") <- tr
  out
}

# kappa of each drawn row under a confounding function k(x) on the risk or RMST scale: k(x)
# over the row's slope (confounding_slopes()), from its risk scores (draw$pred: eta, then the
# four scores), its propensity and its hazard ratio; refused when some |kappa| > 1.
drawn_kappa <- function(fit, draw, ps, knobs, population, effect_rows, estimand, tau) {
  s <- fit$survival
  J <- s$J_event
  base0 <- s$baseline[seq_len(J)]
  risk0 <- draw$pred[[2L]]
  lp <- if (!is.null(effect_rows)) effect_rows else
    population$intercept + knobs$heterogeneity *
      (mean(s$baseline[J + seq_len(J)] - base0) + draw$pred[[3L]] - risk0 - population$beta_bar)
  h0 <- exp(outer(risk0, base0, "+"))
  basis <- list(h0 = h0, width = drop(grid_exposure(s$cut_event, tau)),
                H_tau = drop(h0 %*% t(grid_exposure(s$cut_event, tau))),
                H_start = h0 %*% t(grid_exposure(s$cut_event, s$cut_event)))
  k <- eval_knob_function(knobs$confounding, draw$covariates, "confounding")
  confounding_rows(k, confounding_slopes(basis, exp(lp), ps, estimand, s$unit), estimand,
                   "the drawn rows")
}

# The fit as the covariate draw of a survival cohort reads it: the survival network in place of
# the outcome network (whose P(event observed | x, t) draws do not use), its four risk scores
# returned as they are (`outcome_raw`), so that one pass over each tile of rows gives the
# covariates, the propensity logit and the risk scores (src/causalmix_draw.c).
survival_draw_fit <- function(fit) {
  check_survival_inputs(fit)
  fit$model$outcome <- fit$survival$net
  fit$model$outcome_raw <- 1L
  fit
}

#' @export
print.sandbox_truth_survival <- function(x, digits = 4, ...) {
  s <- x$survival
  f <- function(v) format(signif(v, digits))
  cat(sprintf("Truth of a synthetic time-to-event cohort (n = %d); horizon %s\n", x$n,
              f(s$horizon)))
  tab <- data.frame(
    quantity = c("risk, control", "risk, treated", "risk difference", "risk ratio",
                 "RMST difference", "marginal hazard ratio (Cox)"),
    population = c(f(s$risk0), f(s$risk1), f(s$risk_difference), f(s$risk_ratio),
                   f(s$rmst_difference), f(s$hazard_ratio)),
    mc_se = c("", "", f(s$risk_difference_mcse), f(s$risk_ratio_mcse),
              f(s$rmst_difference_mcse), f(s$hazard_ratio_mcse)))
  print(tab, row.names = FALSE, right = FALSE)
  cat(sprintf("Estimand: %s = %s; bias of covariate-adjusted estimators: %s (%s)\n",
              gsub("_", " ", s$estimand), f(x$ate), f(x$bias),
              if (is.na(s$kappa)) "a confounding function: kappa per row"
              else sprintf("kappa %s", f(s$kappa))))
  o <- x$overlap
  cat(sprintf("Overlap: propensities in [%s, %s]; %.1f%% inside [0.1, 0.9]\n",
              f(o$ps_range[1]), f(o$ps_range[2]), 100 * o$share_in_0.1_0.9))
  invisible(x)
}
