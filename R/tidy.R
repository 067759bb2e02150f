# broom-style tidy(), glance() and augment() methods for the package's result classes,
# registered on the generics package's generics (re-exported, so they work without loading
# broom; broom re-exports the same functions, so loading it masks nothing).

#' @importFrom generics tidy glance augment
#' @export
generics::tidy

#' @importFrom generics glance
#' @export
generics::glance

#' @importFrom generics augment
#' @export
generics::augment

#' Tidy, glance and augment: results as broom-style tables
#'
#' `tidy()` gives one row per estimator, scenario, sample size, term or component;
#' `glance()` one row describing the whole object; `augment()` one row per unit of the data
#' with the object's per-row predictions added as columns whose names start with a dot.
#' Column names follow broom's conventions: `estimate`, `std.error`, `statistic`, `p.value`,
#' `conf.low`, `conf.high`, `nobs`, with dots between words. The tables are tibbles when the
#' tibble package is installed (as it is wherever broom is), plain data frames otherwise.
#'
#' * `sandbox_ate` ([estimate_ate()]): `tidy()` one row per method (`estimator`,
#'   `estimand`, `estimate`, `std.error`, `statistic` = estimate / SE (log(estimate) / SE for a hazard ratio), `p.value`, `conf.low`,
#'   `conf.high`); `glance()` sample and settings; `augment(x, data)` adds the nuisance
#'   predictions `.propensity`, `.fitted0`, `.fitted1`, `.fitted` (at the received
#'   treatment) and `.resid` (a binary outcome counted 1 for its event level, in any coding)
#'   to the data the effect was estimated on (with `missing = "complete_case"`, to its
#'   complete rows); for a time-to-event outcome `.propensity` only.
#' * `sandbox_study` ([run_study()]): `tidy()` is [summary()][summary.sandbox_study] with
#'   broom names, one row per scenario, sample size and estimator (`estimate` is the mean
#'   estimate over the replicates that ran, `std.error` its Monte Carlo standard error, then
#'   `truth`, `bias`, `emp.se`, `model.se`, `rmse`, `coverage`, `width`, `power`, ... each
#'   with its `.mcse`); rows whose replicates all failed have `NA` measures. `glance()` the
#'   design, replicates, failures and time.
#' * `sandbox_power` ([power_analysis()]): `tidy()` one row per sample size (`power`,
#'   `std.error` = its Monte Carlo SE, normal `conf.low`/`conf.high` at `level`);
#'   `glance()` `alpha`, `target`, `n.target` and whether the target was reached.
#' * `sandbox_logrank` ([logrank_test()]): `tidy()` one row per arm (`n`, `observed` and
#'   `expected` events); `glance()` the test (`statistic`, `df`, `p.value`) and Peto's
#'   one-step hazard ratio (`estimate`).
#' * `sandbox_tuning` ([tune_estimator()]): `tidy()` the ranking, one row per setting
#'   (and method); `glance()` the best setting.
#' * `sandbox_fidelity` ([fidelity()]): `tidy()` the overview (`metric`, `value`, `better`),
#'   or with `component = "columns"`, `"pairs"` or `"causal"` those tables; `glance()` the
#'   row counts and the joint and privacy scores.
#' * `sandbox_dcr` ([dcr()]): `tidy()` distance quantiles of the synthetic and the
#'   baseline rows; `glance()` the ratio, shares and baseline.
#' * `causalmix` ([causalmix()]): `tidy()` one row per network (best epoch, losses at it; a time-to-event fit: `vae`, `propensity` and `survival`);
#'   `glance()` the training; `augment(x, data)` or `augment(x, newdata = )` the fitted
#'   propensity and outcome predictions per row (`.propensity`, `.fitted0`, `.fitted1`,
#'   `.tau`).
#' * `causalbgm_prediction` ([predict.causalbgm()]): `tidy()` the average effect (binary
#'   treatment) or the average dose-response function (one row per `dose`), with credible
#'   intervals and the posterior SD as `std.error`; `glance()` the sampler; `augment(x,
#'   data)` the unit effects `.tau`, `.cred.low`, `.cred.high` and the acceptance rate
#'   `.accept`. `tidy()` and `augment()` on a `causalbgm` fit run [predict.causalbgm()]
#'   first (arguments in `...`); `glance()` on a fit describes its training.
#' * `causal_mixture` ([causal_mixture()]): `tidy()` the potential-outcome means, the ATE
#'   and the class weights and effects (as in its summary); `glance()` the sample and the
#'   identification.
#' * `sandbox_data` and `sandbox_truth` (synthetic cohorts): `tidy()` the true ATE, ATT and
#'   ATC (population, with Monte Carlo SE, and in the sample); `glance()` the confounding
#'   bias and overlap (propensity range, `overlap.share` = share of rows with a propensity
#'   in \[0.1, 0.9\], effective sample sizes); `augment()` the cohort's rows with its truth columns (`.ps`, `.mu0`,
#'   `.mu1`, `.tau`, `.y0`, `.y1`).
#'
#' @param x A result of the package (see the list).
#' @param data The data the result was computed from (`augment()` of `sandbox_ate`,
#'   `causalmix`, `causalbgm` and `causalbgm_prediction`), same rows in the same order.
#' @param newdata `causalmix`: new rows to predict for instead of `data`.
#' @param level Confidence level of `conf.low`/`conf.high` (`sandbox_power`,
#'   `causal_mixture`), named `level` as everywhere in the package (the `conf.level` columns of `glance()` keep broom's name).
#' @param conf.level Deprecated name of `level` (`sandbox_power`; accepted with a warning of
#'   class `causalsandbox_deprecated_argument` until the next release).
#' @param target `sandbox_study`: truth compared with, `"population"` or `"sample"`.
#' @param alpha `sandbox_study`: significance level of the tests whose rejection rate is the
#'   power (not a confidence level; see [causalsandbox-options] for the convention).
#' @param component `sandbox_fidelity`: which table `tidy()` returns.
#' @param ... `causalbgm`: passed to [predict.causalbgm()]; otherwise unused.
#' @return A tibble (or data frame); `glance()` has exactly one row.
#' @examples
#' set.seed(1)
#' n <- 400
#' d <- data.frame(x = rnorm(n))
#' d$a <- rbinom(n, 1, plogis(d$x))
#' d$y <- 1 + 2 * d$a + d$x + rnorm(n)
#' fit <- estimate_ate(d, "a", "y", "x")
#' tidy(fit)
#' glance(fit)
#' head(augment(fit, d))
#' @name causalsandbox-tidiers
NULL

# A tibble when tibble is installed (broom users have it), else a plain data frame.
as_tidy_table <- function(df) {
  rownames(df) <- NULL
  if (requireNamespace("tibble", quietly = TRUE)) tibble::as_tibble(df) else df
}

# broom names: dots between words.
broom_names <- function(x) gsub("_", ".", x, fixed = TRUE)

null_na <- function(v, na = NA_real_) if (is.null(v) || length(v) == 0L) na else v

# Adds per-row columns to `data` after checking it has the object's rows.
augment_rows <- function(data, columns, n, what) {
  if (!is.data.frame(data))
    stopf("`data` must be the data.frame %s was computed from, not %s.", what, describe(data),
          argument = "data")
  if (nrow(data) != n)
    stopf("`data` has %d rows but %s was computed from %d: pass the same rows, in order.",
          nrow(data), what, n, argument = "data")
  clash <- intersect(names(columns), names(data))
  if (length(clash))
    stopf("`data` already has column(s) %s that augment() would add.",
          paste0("`", clash, "`", collapse = ", "), argument = "data")
  as_tidy_table(cbind(plain_data_frame(data), as.data.frame(columns),
                      stringsAsFactors = FALSE))
}

# ---- estimate_ate --------------------------------------------------------------------------

#' @rdname causalsandbox-tidiers
#' @method tidy sandbox_ate
#' @export
tidy.sandbox_ate <- function(x, ...) {
  e <- x$estimates
  # a hazard ratio's `se` is that of its logarithm (?estimate_survival): the Wald statistic is
  # log(HR) / se, the one its p-value comes from
  statistic <- e$estimate / e$se
  hr <- e$estimand %in% "hazard_ratio"
  statistic[hr] <- log(e$estimate[hr]) / e$se[hr]
  as_tidy_table(data.frame(estimator = e$method, estimand = e$estimand, estimate = e$estimate,
                           std.error = e$se, statistic = statistic,
                           p.value = e$p_value, conf.low = e$lower, conf.high = e$upper,
                           stringsAsFactors = FALSE))
}

#' @rdname causalsandbox-tidiers
#' @method glance sandbox_ate
#' @export
glance.sandbox_ate <- function(x, ...) {
  as_tidy_table(data.frame(
    nobs = x$n, n.treated = x$n_treated, estimand = x$estimand, outcome.type = x$outcome_type,
    estimators = nrow(x$estimates), folds = null_na(x$folds, NA_integer_), conf.level = x$level,
    # a time-to-event result (estimate_survival()) has no propensity bounds and its nuisance
    # models are fixed (logistic propensity, Cox models): NA bounds and no learner names
    propensity.lower = null_na(x$bounds[1L]), propensity.upper = null_na(x$bounds[2L]),
    outcome.learner = null_na(x$learners[["outcome"]], NA_character_),
    propensity.learner = null_na(x$learners[["propensity"]], NA_character_),
    stringsAsFactors = FALSE))
}

#' @rdname causalsandbox-tidiers
#' @method augment sandbox_ate
#' @export
augment.sandbox_ate <- function(x, data, ...) {
  if (missing(data))
    stopf("augment() of an estimate_ate() result needs `data`, the rows it was estimated on.",
          argument = "data")
  nuis <- x$nuisance
  # a complete-case fit used the rows marked in `x$rows`: the same rows of `data`
  if (is.data.frame(data) && !is.null(x$rows) && nrow(data) == length(x$rows) &&
      sum(x$rows) == x$n && x$n < nrow(data))
    data <- data[x$rows, , drop = FALSE]
  usable <- is.data.frame(data) && nrow(data) == x$n
  # a time-to-event result has no outcome means Q0/Q1 (its outcome models are Cox models at
  # a horizon): the propensity only
  if (identical(x$outcome_type, "time-to-event"))
    return(augment_rows(data, list(.propensity = nuis$g), x$n, "estimate_ate()"))
  treated <- if (usable && x$roles$treatment %in% names(data)) treatment_01(data, x$roles)
  fitted <- if (is.null(treated)) rep(NA_real_, x$n) else
    ifelse(treated == 1, nuis$Q1, nuis$Q0)
  # the outcome as the fit read it (a binary outcome as 1 for its event, in any coding)
  y <- if (usable && !is.null(x$roles$outcome) && x$roles$outcome %in% names(data))
    outcome_numbers(data[[x$roles$outcome]], x$roles) else rep(NA_real_, x$n)
  augment_rows(data, list(.propensity = nuis$g, .fitted0 = nuis$Q0, .fitted1 = nuis$Q1,
                          .fitted = fitted, .resid = y - fitted),
               x$n, "estimate_ate()")
}

# ---- studies, power, tuning -----------------------------------------------------------------

#' @rdname causalsandbox-tidiers
#' @method tidy sandbox_study
#' @export
tidy.sandbox_study <- function(x, target = c("population", "sample"), alpha = 0.05, ...) {
  s <- summary(x, target = target, alpha = alpha)
  df <- as.data.frame(unclass(s), stringsAsFactors = FALSE)
  names(df)[names(df) == "mean"] <- "estimate"
  # the Monte Carlo SE of the mean estimate is that of the bias (the truth is fixed)
  df$std.error <- df$bias_mcse
  front <- c(names(x$design), "n", "estimator", "estimate", "std.error", "truth", "bias")
  df <- df[c(front, setdiff(names(df), front))]
  names(df) <- broom_names(names(df))
  as_tidy_table(df)
}

#' @rdname causalsandbox-tidiers
#' @method glance sandbox_study
#' @export
glance.sandbox_study <- function(x, ...) {
  res <- x$results
  as_tidy_table(data.frame(
    scenarios = nrow(x$design), sample.sizes = length(x$n), reps = x$reps,
    estimators = length(x$estimators), nobs = nrow(res),
    n.failed = sum(!is.na(res$error)), n.warned = sum(!is.na(res$warning)),
    seed = x$seed, conf.level = x$level, elapsed = x$elapsed))
}

#' @rdname causalsandbox-tidiers
#' @method tidy sandbox_logrank
#' @export
tidy.sandbox_logrank <- function(x, ...) {
  as_tidy_table(data.frame(arm = c("control", "treated"), n = unname(x$n),
                           observed = unname(x$observed), expected = unname(x$expected),
                           stringsAsFactors = FALSE))
}

#' @rdname causalsandbox-tidiers
#' @method glance sandbox_logrank
#' @export
glance.sandbox_logrank <- function(x, ...) {
  as_tidy_table(data.frame(statistic = x$statistic, df = x$df, p.value = x$p_value,
                           estimate = exp(x$log_hr), horizon = null_na(x$horizon),
                           nobs = sum(x$n)))
}

#' @rdname causalsandbox-tidiers
#' @method tidy sandbox_power
#' @export
tidy.sandbox_power <- function(x, level = 0.95, conf.level, ...) {
  if (!missing(conf.level))
    level <- renamed_arg(conf.level, missing(level), "conf.level", "level", "tidy.sandbox_power")
  check_number(level, "level", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  p <- x$power
  z <- stats::qnorm(1 - (1 - level) / 2)
  as_tidy_table(data.frame(n = p$n, reps = p$reps, n.failed = p$n_failed, power = p$power,
                           std.error = p$mcse, conf.low = pmax(0, p$power - z * p$mcse),
                           conf.high = pmin(1, p$power + z * p$mcse)))
}

#' @rdname causalsandbox-tidiers
#' @method glance sandbox_power
#' @export
glance.sandbox_power <- function(x, ...) {
  p <- x$power
  as_tidy_table(data.frame(
    alpha = x$alpha, target = x$target, n.target = x$n_target,
    power.reached = !is.na(x$n_target), sample.sizes = nrow(p), reps = max(p$reps),
    nobs = sum(p$reps), n.failed = sum(p$n_failed), seed = x$study$seed))
}

#' @rdname causalsandbox-tidiers
#' @method tidy sandbox_tuning
#' @export
tidy.sandbox_tuning <- function(x, ...) {
  df <- x$ranking
  names(df) <- broom_names(names(df))
  as_tidy_table(df)
}

#' @rdname causalsandbox-tidiers
#' @method glance sandbox_tuning
#' @export
glance.sandbox_tuning <- function(x, ...) {
  r <- x$ranking
  best <- r[1L, , drop = FALSE]
  as_tidy_table(data.frame(
    settings = length(unique(r$setting)), scenarios = nrow(x$study$design),
    reps = x$study$reps, best.setting = best$setting, best.rmse = best$rmse,
    best.coverage = best$coverage, conf.level = x$level, seed = x$study$seed,
    stringsAsFactors = FALSE))
}

# ---- fidelity and privacy -------------------------------------------------------------------

#' @rdname causalsandbox-tidiers
#' @method tidy sandbox_fidelity
#' @export
tidy.sandbox_fidelity <- function(x, component = c("overview", "columns", "pairs", "causal"),
                                  ...) {
  component <- match.arg(component)
  df <- switch(component,
               overview = x$table,
               columns = x$columns,
               pairs = x$pairs,
               causal = x$causal %||% data.frame(quantity = character(), real = numeric(),
                                                 synthetic = numeric()))
  names(df) <- broom_names(names(df))
  as_tidy_table(df)
}

#' @rdname causalsandbox-tidiers
#' @method glance sandbox_fidelity
#' @export
glance.sandbox_fidelity <- function(x, ...) {
  scalar <- function(l) l[vapply(l, function(v) is.numeric(v) && length(v) == 1L, TRUE)]
  joint <- scalar(x$joint)
  out <- data.frame(n.real = x$n[["real"]], n.synthetic = x$n[["synthetic"]],
                    columns = nrow(x$columns), pairs = nrow(x$pairs),
                    as.data.frame(joint), dcr.ratio = x$dcr$ratio,
                    share.closer = x$dcr$share_closer,
                    exact.copy.rate = x$dcr$exact_copy_rate)
  names(out) <- broom_names(names(out))
  as_tidy_table(out)
}

#' @rdname causalsandbox-tidiers
#' @method tidy sandbox_dcr
#' @export
tidy.sandbox_dcr <- function(x, ...) {
  one <- function(d, label) {
    q <- if (length(d)) stats::quantile(d, c(0.05, 0.5, 0.95), names = FALSE, type = 7) else
      rep(NA_real_, 3L)
    data.frame(rows = label, n = length(d), mean = if (length(d)) mean(d) else NA_real_,
               q05 = q[1L], median = q[2L], q95 = q[3L], share.zero = mean(d == 0),
               stringsAsFactors = FALSE)
  }
  as_tidy_table(rbind(one(x$synthetic, "synthetic"), one(x$baseline, x$baseline_type)))
}

#' @rdname causalsandbox-tidiers
#' @method glance sandbox_dcr
#' @export
glance.sandbox_dcr <- function(x, ...) {
  as_tidy_table(data.frame(
    ratio = x$ratio, baseline.p5 = x$p5, share.closer = x$share_closer,
    exact.copy.rate = x$exact_copy_rate, baseline = x$baseline_type,
    nobs = length(x$synthetic), n.baseline = length(x$baseline), columns = length(x$columns),
    stringsAsFactors = FALSE))
}

# ---- generative models ----------------------------------------------------------------------

#' @rdname causalsandbox-tidiers
#' @method tidy causalmix
#' @export
tidy.causalmix <- function(x, ...) {
  h <- x$history
  survival <- inherits(x, "causalmix_survival")
  # a time-to-event fit's outcome net (P(event observed | x, t)) is internal: its outcome
  # model is the survival network, reported instead (as print() does)
  models <- c("vae", "propensity", if (!survival) "outcome")
  loss_at <- function(col, e) if (e >= 1L && e <= nrow(h)) h[[col]][e] else NA_real_
  best <- as.integer(x$best_epoch[models])
  out <- data.frame(
    term = models, best.epoch = best,
    train.loss = unname(mapply(function(m, e) loss_at(paste0(m, "_train"), e), models, best)),
    valid.loss = unname(mapply(function(m, e) loss_at(paste0(m, "_valid"), e), models, best)),
    epochs.run = as.integer(x$epochs_run), stringsAsFactors = FALSE)
  # the outcome's arms stop apart: its held-out loss is the arms' at their own best epochs
  # (best_losses()), not the history's at the later of them
  if (!survival && !is.null(x$best_loss) && x$settings$validation_share > 0)
    out$valid.loss[out$term == "outcome"] <- x$best_loss[["outcome"]]
  if (survival) {
    sh <- x$survival$history
    b <- as.integer(x$survival$best_epoch)
    ok <- b >= 1L && b <= nrow(sh)
    out <- rbind(out, data.frame(term = "survival", best.epoch = b,
                                 train.loss = if (ok) sh$train[b] else NA_real_,
                                 valid.loss = if (ok) sh$valid[b] else NA_real_,
                                 epochs.run = nrow(sh), stringsAsFactors = FALSE))
  }
  as_tidy_table(out)
}

#' @rdname causalsandbox-tidiers
#' @method glance causalmix
#' @export
glance.causalmix <- function(x, ...) {
  s <- x$settings
  # a time-to-event fit: the risk difference at the horizon of its survival model (its
  # fitted mu0/mu1 are those of the internal event net)
  tau <- if (inherits(x, "causalmix_survival")) stats::predict(x, type = "tau") else
    x$fitted$mu1 - x$fitted$mu0
  as_tidy_table(data.frame(
    nobs = x$n, covariates = length(x$schema$covariates), treated.share = x$treated_share,
    epochs.run = x$epochs_run, latent.dim = null_na(s$latent_dim),
    n.components = null_na(s$n_components),
    prior = if (isTRUE(s$learn_prior == 1L)) "mixture" else "standard normal",
    fitted.ate = mean(tau), seconds = x$seconds, stringsAsFactors = FALSE))
}

#' @rdname causalsandbox-tidiers
#' @method augment causalmix
#' @export
augment.causalmix <- function(x, data = NULL, newdata = NULL, ...) {
  if (!is.null(newdata)) {
    pred <- lapply(c(ps = "ps", mu0 = "mu0", mu1 = "mu1"),
                   function(type) stats::predict(x, newdata = newdata, type = type))
    return(augment_rows(newdata, list(.propensity = pred$ps, .fitted0 = pred$mu0,
                                      .fitted1 = pred$mu1, .tau = pred$mu1 - pred$mu0),
                        nrow(newdata), "the prediction"))
  }
  if (is.null(data))
    stopf("augment() of a causalmix fit needs `data` (the training rows) or `newdata`.",
          argument = "data")
  f <- x$fitted
  if (inherits(x, "causalmix_survival"))   # risks at the horizon of the survival model
    f <- list(ps = f$ps, mu0 = stats::predict(x, type = "mu0"),
              mu1 = stats::predict(x, type = "mu1"))
  augment_rows(data, list(.propensity = f$ps, .fitted0 = f$mu0, .fitted1 = f$mu1,
                          .tau = f$mu1 - f$mu0), x$n, "the causalmix fit")
}

#' @rdname causalsandbox-tidiers
#' @method tidy causalbgm_prediction
#' @export
tidy.causalbgm_prediction <- function(x, ...) {
  if (x$treatment_type == "binary") {
    return(as_tidy_table(data.frame(
      term = "ATE", estimate = x$ate[["estimate"]], std.error = stats::sd(x$ate_draws),
      conf.low = x$ate[["lower"]], conf.high = x$ate[["upper"]], stringsAsFactors = FALSE)))
  }
  a <- x$adrf
  as_tidy_table(data.frame(term = "ADRF", dose = a$x, estimate = a$estimate,
                           std.error = apply(x$adrf_draws, 1L, stats::sd),
                           conf.low = a$lower, conf.high = a$upper, stringsAsFactors = FALSE))
}

#' @rdname causalsandbox-tidiers
#' @method glance causalbgm_prediction
#' @export
glance.causalbgm_prediction <- function(x, ...) {
  as_tidy_table(data.frame(
    nobs = length(x$accept), treatment.type = x$treatment_type,
    effect = null_na(x$effect, NA_character_), sampler = x$sampler, n.mcmc = x$n_mcmc,
    burn.in = x$burn_in, accept.median = stats::median(x$accept),
    accept.min = min(x$accept), conf.level = x$level, seconds = x$time,
    stringsAsFactors = FALSE))
}

#' @rdname causalsandbox-tidiers
#' @method augment causalbgm_prediction
#' @export
augment.causalbgm_prediction <- function(x, data, ...) {
  if (missing(data))
    stopf("augment() of a causalbgm prediction needs `data`, the rows it was predicted for.",
          argument = "data")
  cols <- if (x$treatment_type == "binary")
    list(.tau = x$effects$estimate, .cred.low = x$effects$lower,
         .cred.high = x$effects$upper, .accept = x$accept) else list(.accept = x$accept)
  augment_rows(data, cols, length(x$accept), "the prediction")
}

#' @rdname causalsandbox-tidiers
#' @method tidy causalbgm
#' @export
tidy.causalbgm <- function(x, ...) tidy(stats::predict(x, ...))

#' @rdname causalsandbox-tidiers
#' @method glance causalbgm
#' @export
glance.causalbgm <- function(x, ...) {
  h <- x$history
  last <- if (nrow(h)) h[nrow(h), , drop = FALSE] else NULL
  z <- x$settings$z_dims
  as_tidy_table(data.frame(
    nobs = length(x$train$y), covariates = length(x$covariates),
    treatment.type = x$treatment_type, epochs = x$settings$epochs,
    z.dims = paste(z, collapse = ","), n.fits = null_na(x$settings$n_fits, 1L),
    loss = if (is.null(last)) NA_real_ else last$loss, seconds = x$fit_time,
    stringsAsFactors = FALSE))
}

#' @rdname causalsandbox-tidiers
#' @method augment causalbgm
#' @export
augment.causalbgm <- function(x, data, ...) {
  if (missing(data))
    stopf("augment() of a causalbgm fit needs `data`, the rows it was fitted on.",
          argument = "data")
  augment(stats::predict(x, ...), data = data)
}

#' @rdname causalsandbox-tidiers
#' @method tidy causal_mixture
#' @export
tidy.causal_mixture <- function(x, level = 0.95, ...) {
  s <- summary(x, level = level)
  first <- data.frame(term = rownames(s$first), estimate = s$first$estimate,
                      std.error = s$first$se, stringsAsFactors = FALSE)
  rows <- list(first)
  if (!is.null(s$mixture)) {
    m <- s$mixture
    rows <- c(rows, list(
      data.frame(term = sprintf("weight[%s]", m$class), estimate = m$weight,
                 std.error = m$weight_se, stringsAsFactors = FALSE),
      data.frame(term = sprintf("effect[%s]", m$class), estimate = m$effect,
                 std.error = m$effect_se, stringsAsFactors = FALSE)))
  }
  out <- do.call(rbind, rows)
  z <- stats::qnorm(1 - (1 - level) / 2)
  out$conf.low <- out$estimate - z * out$std.error
  out$conf.high <- out$estimate + z * out$std.error
  as_tidy_table(out)
}

#' @rdname causalsandbox-tidiers
#' @method glance causal_mixture
#' @export
glance.causal_mixture <- function(x, ...) {
  as_tidy_table(data.frame(
    nobs = x$n, n.control = x$n_arm[[1L]], n.treated = x$n_arm[[2L]], k = x$k,
    method = x$method, naive.difference = x$naive_difference,
    mixture.identified = !is.null(x$mixture),
    bootstrap = if (is.null(x$se)) 0L else as.integer(x$se$replicates),
    stringsAsFactors = FALSE))
}

# ---- synthetic cohorts ----------------------------------------------------------------------

#' @rdname causalsandbox-tidiers
#' @method tidy sandbox_truth
#' @export
tidy.sandbox_truth <- function(x, ...) {
  as_tidy_table(data.frame(
    term = c("ATE", "ATT", "ATC"),
    estimate = c(null_na(x$ate), null_na(x$att), null_na(x$atc)),
    std.error = c(null_na(x$ate_mcse), null_na(x$att_mcse), null_na(x$atc_mcse)),
    sample.estimate = c(null_na(x$sample_ate), null_na(x$sample_att), null_na(x$sample_atc)),
    stringsAsFactors = FALSE))
}

#' @rdname causalsandbox-tidiers
#' @method glance sandbox_truth
#' @export
glance.sandbox_truth <- function(x, ...) {
  o <- x$overlap
  as_tidy_table(data.frame(
    nobs = null_na(x$n, NA_integer_), bias = null_na(x$bias),
    ps.min = null_na(o$ps_range[1L]), ps.max = null_na(o$ps_range[2L]),
    overlap.share = null_na(o$share_in_0.1_0.9), ess.treated = null_na(o$ess_treated),
    ess.control = null_na(o$ess_control)))
}

#' @rdname causalsandbox-tidiers
#' @method tidy sandbox_data
#' @export
tidy.sandbox_data <- function(x, ...) tidy(truth(x))

#' @rdname causalsandbox-tidiers
#' @method glance sandbox_data
#' @export
glance.sandbox_data <- function(x, ...) glance(truth(x))

#' @rdname causalsandbox-tidiers
#' @method augment sandbox_data
#' @export
augment.sandbox_data <- function(x, ...) {
  df <- as.data.frame(x)
  truth_cols <- intersect(c(".ps", ".mu0", ".mu1", ".tau", ".y0", ".y1"), names(df))
  as_tidy_table(df[c(setdiff(names(df), truth_cols), truth_cols)])
}
