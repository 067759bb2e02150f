# Power analysis on synthetic cohorts: rejection rates of a test over sample sizes, with Monte
# Carlo standard errors and the smallest sample size reaching a target power.

#' Tests for power analyses
#'
#' `test_ate()` is the Wald test of "ATE = 0" from [estimate_ate()] (AIPW by default).
#' `test_modifier()` tests effect modification by one covariate: the doubly robust (AIPW)
#' pseudo-outcome `Q1 - Q0 + A (Y - Q1) / g - (1 - A) (Y - Q0) / (1 - g)` is regressed on the
#' modifier (least squares, intercept), and the modifier's coefficient(s) are tested with HC3
#' heteroskedasticity-consistent standard errors (t test for one coefficient, Wald chi-square
#' for a factor with more levels). With a binary modifier the slope is the difference of the
#' conditional effects.
#'
#' @param method The [estimate_ate()] method of the Wald test. On a cohort drawn from a
#'   time-to-event fit the default is `"aipcw"` on the cohort's scale (the risk difference,
#'   or the RMST difference), as [test_survival()]; a survival method (see
#'   [estimate_survival()]) may be named.
#' @param modifier Name of the effect-modifier column.
#' @param ... Further arguments of [estimate_ate()] (learners, `folds`, `truncate`,
#'   `missing`).
#' @return A `function(data, missing = NULL)` returning a list with `estimate`, `se` and
#'   `p_value`, usable as the `test` of [power_analysis()] or as an estimator of
#'   [run_study()]; `missing = NULL` keeps the setting given through `...` (see
#'   [estimate_ate()]; default `"indicator"`).
#' @examples
#' set.seed(1)
#' n <- 400
#' d <- data.frame(x = rnorm(n), cvd = rbinom(n, 1, 0.4))
#' d$t <- rbinom(n, 1, plogis(d$x))
#' d$y <- d$x + d$t * (0.2 + 0.5 * d$cvd) + rnorm(n)
#' attr(d, "roles") <- list(treatment = "t", outcome = "y", covariates = c("x", "cvd"))
#' test_ate()(d)$p_value
#' test_modifier("cvd")(d)
#' @name power_tests
NULL

#' @rdname power_tests
#' @export
test_ate <- function(method = "aipw", ...) {
  default_method <- missing(method)
  if (!is.character(method) || length(method) != 1L || is.na(method))
    stopf("`method` must be a single method for a test, not %s.", describe(method),
          argument = "method")
  if (!method %in% survival_methods) method <- check_methods(method)
  args <- check_estimate_args(list(...), "test_ate()")
  function(data, missing = NULL) {
    # a cohort with a time-to-event outcome (time and event columns or a Surv column): by
    # default its doubly robust estimator, AIPCW, on the cohort's scale (as test_survival())
    if (is_survival_cohort(data) && (default_method || method %in% survival_methods)) {
      args <- with_missing_setting(args, missing)
      p <- plain_follow_up(data)
      scale <- truth(data)$survival$estimand
      fit <- estimate_survival(p$data, p$treatment, ".time", ".event", p$covariates,
                               args$horizon %||% p$horizon,
                               method = if (default_method) "aipcw" else method,
                               level = args$level %||% 0.95,
                               estimand = if (identical(scale, "rmst_difference")) scale
                                          else "risk_difference",
                               missing = args$missing %||% "indicator")
      e <- fit$estimates
      return(list(estimate = e$estimate, se = e$se, p_value = e$p_value))
    }
    fit <- do.call(estimate_ate, c(list(data = data, method = method),
                                   with_missing_setting(args, missing)))
    e <- fit$estimates
    list(estimate = e$estimate, se = e$se, p_value = e$p_value)
  }
}

#' @rdname power_tests
#' @export
test_modifier <- function(modifier, ...) {
  check_string(modifier, "modifier")
  args <- check_estimate_args(list(...), "test_modifier()")
  function(data, missing = NULL) {
    if (!modifier %in% names(data))
      stopf("The modifier column `%s` is not in the data.", modifier, argument = "modifier",
            column = modifier)
    fit <- do.call(estimate_ate, c(list(data = data, method = "aipw"),
                                   with_missing_setting(args, missing)))
    # the fit's own 0/1 treatment and outcome (a binary outcome as its event indicator), on
    # the rows it used (complete cases with missing = "complete_case")
    a <- fit$a
    y <- fit$y
    nu <- fit$nuisance
    pseudo <- nu$Q1 - nu$Q0 + a / nu$g1 * (y - nu$Q1) - (1 - a) / nu$g0 * (y - nu$Q0)
    m <- data[[modifier]][fit$rows]
    if (anyNA(m))
      stopf("The modifier column `%s` has missing values; use `missing = \"complete_case\"` to test on the rows where it is observed.",
            modifier, argument = "missing", column = modifier)
    X <- stats::model.matrix(~ m)
    hc3_test(X, pseudo)
  }
}

# Least squares of y on X with HC3 covariance; tests all coefficients but the intercept.
hc3_test <- function(X, y) {
  qr_x <- qr(X)
  if (qr_x$rank < ncol(X))
    stopf("The modifier has a single value (or collinear levels) in this cohort.")
  beta <- qr.coef(qr_x, y)
  resid <- y - drop(X %*% beta)
  bread <- chol2inv(qr.R(qr_x))[order(qr_x$pivot), order(qr_x$pivot)]
  hat <- rowSums(qr.Q(qr_x)^2)
  meat <- crossprod(X * (resid / (1 - hat)))
  vc <- bread %*% meat %*% bread
  idx <- seq_len(ncol(X))[-1L]
  n <- nrow(X)
  if (length(idx) == 1L) {
    se <- sqrt(vc[idx, idx])
    tstat <- unname(beta[idx]) / se
    list(estimate = unname(beta[idx]), se = se,
         p_value = 2 * stats::pt(-abs(tstat), df = n - ncol(X)))
  } else {
    b <- beta[idx]
    wald <- unname(drop(t(b) %*% solve(vc[idx, idx], b)))
    list(estimate = NA_real_, se = NA_real_,
         p_value = stats::pchisq(wald, df = length(idx), lower.tail = FALSE))
  }
}

#' Power analysis on synthetic cohorts
#'
#' For each sample size, draws `reps` cohorts from `fit` (with the knobs in `...`), applies
#' `test` and reports the rejection rate at `alpha` with its Monte Carlo standard error, and
#' the smallest sample size whose power reaches `target` (linear interpolation between the
#' two sample sizes around the first crossing). Runs through [run_study()], so it is
#' reproducible and parallel through the future framework.
#'
#' @param fit A generator with a `simulate()` method (see [run_study()]).
#' @param n Sample sizes (positive whole numbers).
#' @param test [test_ate()], [test_modifier()] or any function(data) returning a p-value (a
#'   number, or a list with `p_value`).
#' @param reps Replicates per sample size.
#' @param alpha Significance level of the test (not a confidence level; see
#'   [causalsandbox-options]).
#' @param target Target power for the smallest sufficient sample size.
#' @param seed Seed of the study (see [run_study()]).
#' @param threads Threads per draw (passed to `simulate()`).
#' @param missing How the test handles missing covariate values in the drawn cohorts: `NULL`
#'   (the default) keeps the test's own setting (`test_ate(missing = )`, default
#'   `"indicator"`); `"indicator"`, `"complete_case"` or `"fail"` (see [estimate_ate()])
#'   overrides it for [test_ate()], [test_modifier()] and any test written as
#'   `function(data, missing = NULL)`. A test of your own without that argument receives
#'   the cohort, missing values included.
#' @param ... Knobs for `simulate()`, one value each (e.g. `confounding = 0.02`).
#' @section Progress: each replicate (one cohort drawn and tested) is reported through progressr, quiet unless
#'   you ask for it: wrap the call in `progressr::with_progress()` or set
#'   `progressr::handlers(global = TRUE)`.
#' @return An object of class `sandbox_power`: `power` (data.frame: `n`, `reps`, `n_failed`,
#'   `power`, `mcse`; failed runs, whose reasons the print method and `study$failures`
#'   give, are left out of the power), `n_target`, `target`, `alpha` and the underlying `study`. Methods
#'   `print()` and `plot()`.
#' @examples
#' simulate.toy_generator <- function(object, nsim, seed = NULL, ate = 0.3, ...) {
#'   if (!is.null(seed)) set.seed(seed)
#'   x <- rnorm(nsim)
#'   t <- rbinom(nsim, 1, plogis(x))
#'   d <- data.frame(x = x, t = t, .ps = plogis(x), .mu0 = x, .mu1 = x + ate, .tau = ate)
#'   d$.y0 <- d$.mu0 + rnorm(nsim)
#'   d$.y1 <- d$.mu1 + rnorm(nsim)
#'   d$y <- ifelse(t == 1, d$.y1, d$.y0)
#'   new_sandbox_data(d, list(treatment = "t", outcome = "y", covariates = "x"),
#'                    list(ate = ate))
#' }
#' gen <- structure(list(), class = "toy_generator")
#' pw <- power_analysis(gen, n = c(100, 200, 400), reps = 10, seed = 1, ate = 0.3)
#' pw
#' @export
power_analysis <- function(fit, n = c(200, 500, 1000, 2000, 5000), test = test_ate(),
                           reps = 100, alpha = 0.05, target = 0.8, seed = NULL, threads = 1,
                           missing = NULL, ...) {
  simulate_fun <- resolve_simulate(fit, parent.frame())
  check_sizes(n, "n")
  check_count(reps, "reps")
  check_number(alpha, "alpha", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  check_number(target, "target", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  if (!is.function(test))
    stopf("`test` must be a function(data) returning a p-value, such as test_ate(), not %s.",
                 describe(test), argument = "test")
  if (!is.null(missing)) missing <- check_missing_choice(missing)
  test <- set_missing(test, missing)
  knobs <- list(...)
  design <- do.call(scenario_grid, knobs)
  if (nrow(design) != 1L)
    stopf("power_analysis() takes one value per knob; use run_study() for grids of scenarios.")
  wrapped <- function(data) {
    out <- test(data)
    if (is.numeric(out) && length(out) == 1L && is.null(names(out)))
      out <- list(p_value = out)
    out
  }
  n <- sort(unique(as.integer(n)))
  study <- study_runner(fit, simulate_fun, design, n = n, reps = reps,
                        estimators = list(test = wrapped), seed = seed, level = 0.95,
                        threads = threads, missing = missing)
  res <- study$results
  power <- do.call(rbind, lapply(n, function(size) {
    p <- res$p_value[res$n == size]
    ok <- !is.na(p)
    rate <- if (any(ok)) mean(p[ok] < alpha) else NA_real_
    data.frame(n = size, reps = length(p), n_failed = sum(!ok), power = rate,
               mcse = if (any(ok)) sqrt(rate * (1 - rate) / sum(ok)) else NA_real_)
  }))
  # a test that fails in every replicate of a sample size gives no power at all: say why
  dead <- power$n[power$n_failed == power$reps]
  if (length(dead)) {
    why <- res$error[res$n %in% dead & !is.na(res$error)]
    warning(sprintf(paste0("The test failed in every replicate at n = %s, so its power is NA ",
                           "there; first error: %s"), paste(dead, collapse = ", "),
                    if (length(why)) why[1L] else "(the test returned no p-value)"),
            call. = FALSE)
  }
  structure(list(power = power, n_target = smallest_n(power$n, power$power, target),
                 target = target, alpha = alpha, knobs = knobs, study = study),
            class = "sandbox_power")
}

# Smallest n reaching `target`, linearly interpolated at the first crossing; NA if never.
smallest_n <- function(n, power, target) {
  ok <- !is.na(power)
  n <- n[ok]
  power <- power[ok]
  hit <- which(power >= target)
  if (!length(hit)) return(NA_real_)
  i <- hit[1L]
  if (i == 1L) return(n[1L])
  n[i - 1L] + (target - power[i - 1L]) / (power[i] - power[i - 1L]) * (n[i] - n[i - 1L])
}

#' @export
print.sandbox_power <- function(x, digits = 3, ...) {
  cat(sprintf("Power analysis (alpha = %g, %d replicates per n)\n", x$alpha, max(x$power$reps)))
  if (length(x$knobs))
    cat("Knobs:", paste(names(x$knobs), vapply(x$knobs, format, character(1)), sep = " = ",
                        collapse = ", "), "\n")
  tab <- x$power
  tab$power <- sprintf("%.*f (%.*f)", digits, tab$power, digits, tab$mcse)
  tab$mcse <- NULL
  names(tab)[names(tab) == "power"] <- "power (MC SE)"
  print(tab, row.names = FALSE)
  failures <- x$study$failures
  if (!is.null(failures) && nrow(failures)) {
    cat("Failed runs (not counted in the power):\n")
    cat(describe_failures(failures), sep = "\n")
  }
  if (is.na(x$n_target)) {
    cat(sprintf("No sample size reached %g%% power.\n", 100 * x$target))
  } else {
    cat(sprintf("Smallest n reaching %g%% power: %s (interpolated)\n", 100 * x$target,
                format(round(x$n_target))))
  }
  invisible(x)
}

#' @export
plot.sandbox_power <- function(x, ...) {
  tab <- x$power
  z <- stats::qnorm(0.975)
  lo <- pmax(0, tab$power - z * tab$mcse)
  hi <- pmin(1, tab$power + z * tab$mcse)
  graphics::plot(tab$n, tab$power, type = "b", log = "x", ylim = c(0, 1), pch = 19,
                 xlab = "sample size n", ylab = "power", ...)
  # a power of exactly 0 or 1 has no Monte Carlo spread: arrows() would warn on zero length
  spread <- !is.na(hi - lo) & hi - lo > 1e-8
  if (any(spread))
    graphics::arrows(tab$n[spread], lo[spread], tab$n[spread], hi[spread], angle = 90,
                     code = 3, length = 0.03)
  graphics::abline(h = x$target, lty = 2, col = "grey30")
  if (!is.na(x$n_target)) graphics::abline(v = x$n_target, lty = 3, col = "grey30")
  labels <- c("estimated power (95% Monte Carlo interval)",
              sprintf("target power %g%%", 100 * x$target),
              if (!is.na(x$n_target)) sprintf("smallest n reaching it: %s (interpolated)",
                                              format(round(x$n_target))))
  # the corner the curve leaves free: power rises with n
  low_left <- mean(tab$power[seq_len(ceiling(nrow(tab) / 2))], na.rm = TRUE) < 0.5
  graphics::legend(if (isTRUE(low_left)) "topleft" else "bottomright", legend = labels,
                   lty = c(1, 2, 3)[seq_along(labels)], pch = c(19, NA, NA)[seq_along(labels)],
                   col = c("black", "grey30", "grey30")[seq_along(labels)], bg = "white",
                   cex = 0.8)
  if (all(is.na(tab$power)))
    graphics::text(sqrt(min(tab$n) * max(tab$n)), 0.5,
                   paste(strwrap(sprintf("every run failed: %s",
                                         x$study$failures$message[1L]), 50), collapse = "\n"),
                   cex = 0.8)
  invisible(x)
}
