# sandbox_data: a synthetic cohort with its truth attached. Every generator in the package
# (simulate() on a causalmix fit, hybrid synthesis, user-defined study generators) returns one.

truth_columns <- c(".ps", ".mu0", ".mu1", ".tau", ".y0", ".y1")

#' Build a synthetic cohort with its truth attached
#'
#' `new_sandbox_data()` is the constructor behind every generator of the package. It is
#' exported so that users can plug their own data-generating processes into [run_study()]
#' and [power_analysis()]: a generator object with a `simulate()` method that returns a
#' `sandbox_data` can stand wherever a [causalmix()] fit can.
#'
#' @param data A data.frame with the covariates, the treatment, the outcome and the truth
#'   columns `.ps` (propensity used to draw the treatment), `.mu0`, `.mu1` (conditional means
#'   of the potential outcomes), `.tau` (`.mu1 - .mu0`), `.y0`, `.y1` (potential outcomes);
#'   optionally `.k` (the unmeasured confounding of each row).
#' @param roles A list with elements `treatment`, `outcome` (single column names) and
#'   `covariates` (character vector).
#' @param truth A list of population quantities: at least `ate`; optionally `att`, `atc`,
#'   their Monte Carlo standard errors `ate_mcse`, `att_mcse`, `atc_mcse`, `bias` (the
#'   limit of covariate-adjusted estimators minus the ATE) and `knobs`. Sample ATE, ATT and
#'   ATC and the overlap statistics are computed here from the truth columns.
#' @return A data.frame of class `c("sandbox_data", "data.frame")` with attributes `roles`
#'   and `truth`.
#' @seealso [truth()] to read the truth back.
#' @examples
#' n <- 200
#' x <- rnorm(n)
#' ps <- plogis(0.5 * x)
#' t <- rbinom(n, 1, ps)
#' mu0 <- x
#' mu1 <- x + 1
#' y0 <- rnorm(n, mu0)
#' y1 <- rnorm(n, mu1)
#' d <- data.frame(x = x, t = t, y = ifelse(t == 1, y1, y0), .ps = ps, .mu0 = mu0,
#'                 .mu1 = mu1, .tau = mu1 - mu0, .y0 = y0, .y1 = y1)
#' cohort <- new_sandbox_data(d, list(treatment = "t", outcome = "y", covariates = "x"),
#'                            list(ate = 1, att = 1, atc = 1))
#' truth(cohort)
#' @export
new_sandbox_data <- function(data, roles, truth) {
  data <- check_table(data, "data", min_rows = 1L)
  if (!is.list(roles) || !all(c("treatment", "outcome", "covariates") %in% names(roles)))
    stopf("`roles` must be a list with elements `treatment`, `outcome` and `covariates`.",
          argument = "roles")
  check_string(roles$treatment, "roles$treatment")
  check_string(roles$outcome, "roles$outcome")
  if (!is.character(roles$covariates))
    stopf("`roles$covariates` must be a character vector of column names.",
          argument = "roles")
  clash <- c(intersect(c(roles$treatment, roles$outcome), roles$covariates),
             if (identical(roles$treatment, roles$outcome)) roles$treatment)
  if (length(clash))
    stopf("`roles` must give the treatment, the outcome and the covariates distinct columns; `%s` has two roles.",
          clash[1L], argument = "roles", column = clash[1L])
  check_columns_exist(data, c(roles$treatment, roles$outcome, roles$covariates), "roles")
  absent <- setdiff(truth_columns, names(data))
  if (length(absent))
    stopf("`data` lacks the truth column%s %s required by a sandbox_data.",
          if (length(absent) > 1L) "s" else "", quote_names(absent),
          argument = "data", column = absent)
  coded <- role_vectors(data, roles)
  # checks and summaries scan the columns without building vectors as long as the data (a
  # cohort may have millions of rows): min() and max(), not range(), which copies
  finite <- function(v) is.numeric(v) && !anyNA(v) && is.finite(min(v)) && is.finite(max(v))
  for (col in setdiff(truth_columns, c(".y0", ".y1")))
    if (!finite(data[[col]]))
      stopf("Truth column `%s` must be numeric and finite without NA.", col,
            argument = "data", column = col)
  for (col in c(".y0", ".y1")) {
    v <- data[[col]]
    ok <- if (coded$outcome$type == "binary")
      !anyNA(v) && !anyNA(as_indicator(v, coded$outcome$levels, col, "data"))
    else finite(v)
    if (!ok)
      stopf("Truth column `%s` must hold potential outcomes without NA (finite numbers, or the two values of a binary outcome).",
            col, argument = "data", column = col)
  }
  ps_range <- c(min(data$.ps), max(data$.ps))
  if (ps_range[1] < 0 || ps_range[2] > 1)
    stopf("Truth column `.ps` must hold probabilities in [0, 1].", argument = "data",
          column = ".ps")
  gap <- max(abs(data$.tau - (data$.mu1 - data$.mu0)))
  if (gap > 1e-6 * max(1, max(abs(data$.mu1)), max(abs(data$.mu0))))
    stopf("Truth column `.tau` must equal `.mu1 - .mu0`; it differs by up to %.3g.", gap,
          argument = "data", column = ".tau")
  if (!is.list(truth) || is.null(truth$ate))
    stopf("`truth` must be a list with at least the population `ate`.", argument = "truth")
  check_number(truth$ate, "truth$ate")

  arms <- .Call(C_cohort_summary, as.double(data$.tau), as.double(data$.ps), coded$a)
  truth$sample_ate <- mean(data$.tau)
  truth$sample_att <- arms$att
  truth$sample_atc <- arms$atc
  for (name in c("att", "atc", "ate_mcse", "att_mcse", "atc_mcse"))
    if (is.null(truth[[name]])) truth[name] <- list(NA_real_)
  # a binary outcome's generator reports the population risk ratio: add the sample's
  if (!is.null(truth$risk_ratio) && nrow(data)) {
    sample <- marginal_ratios(mean(data$.mu0), mean(data$.mu1))
    truth$sample_risk_ratio <- sample$risk_ratio
    truth$sample_odds_ratio <- sample$odds_ratio
  }
  if (is.null(truth$bias)) truth$bias <- if (".k" %in% names(data)) mean(data$.k) else 0
  # propensity range, share inside [0.1, 0.9] and the effective sample size (Kish) of the
  # inverse-probability weights in each arm
  truth$overlap <- list(ps_range = ps_range, share_in_0.1_0.9 = arms$share_in_0.1_0.9,
                        ess_treated = arms$ess_treated, ess_control = arms$ess_control)
  truth$n <- nrow(data)
  # the codings, so that estimators and print() read the treated value and the event level
  # from the cohort rather than guessing them from a draw
  truth$treated <- coded$treatment$treated
  truth$outcome_type <- coded$outcome$type
  truth$event <- coded$outcome$event
  roles <- c(roles[c("treatment", "outcome", "covariates")],
             list(treatment_levels = coded$treatment$levels,
                  outcome_levels = coded$outcome$levels,
                  outcome_type = if (coded$outcome$type == "numeric") "numeric"))

  structure(data, class = c("sandbox_data", setdiff(class(data), "sandbox_data")),
            roles = roles[!vapply(roles, is.null, logical(1))],
            truth = structure(truth, class = "sandbox_truth"))
}

#' The truth attached to a synthetic cohort
#'
#' @param x A `sandbox_data` (from [simulate()][simulate.causalmix], [new_sandbox_data()] or
#'   another generator of the package).
#' @param ... Unused.
#' @return A list of class `sandbox_truth`: population `ate`, `att`, `atc` with Monte Carlo
#'   standard errors `ate_mcse`, `att_mcse`, `atc_mcse`; `sample_ate`, `sample_att`,
#'   `sample_atc` (means of `.tau` over all, treated and control rows); `bias`, the amount
#'   E\[k(X)\] by which every covariate-adjusted estimator of the ATE is biased by unmeasured
#'   confounding; `overlap` (propensity range, share inside \[0.1, 0.9\], effective sample
#'   sizes of inverse-probability weights by arm); `knobs`, the settings that produced the
#'   cohort; and `n`. For a binary outcome drawn by [simulate()][simulate.causalmix] also the
#'   marginal risks `risk0`, `risk1` (means of m_0 and m_1* over the population), the
#'   marginal `risk_ratio` and `odds_ratio` of the population and `sample_risk_ratio`,
#'   `sample_odds_ratio` (from the means of `.mu0` and `.mu1` over the cohort's rows).
#' @examples
#' n <- 100
#' d <- data.frame(x = rnorm(n), t = rbinom(n, 1, 0.5))
#' d$.ps <- 0.5; d$.mu0 <- d$x; d$.mu1 <- d$x + 2; d$.tau <- 2
#' d$.y0 <- d$.mu0 + rnorm(n); d$.y1 <- d$.mu1 + rnorm(n)
#' d$y <- ifelse(d$t == 1, d$.y1, d$.y0)
#' cohort <- new_sandbox_data(d, list(treatment = "t", outcome = "y", covariates = "x"),
#'                            list(ate = 2))
#' truth(cohort)$sample_ate
#' @export
truth <- function(x, ...) UseMethod("truth")

#' @rdname truth
#' @export
truth.sandbox_data <- function(x, ...) attr(x, "truth", exact = TRUE)

#' @rdname truth
#' @export
truth.default <- function(x, ...) {
  stopf("truth() needs a sandbox_data (a synthetic cohort with its truth attached), not %s.",
        describe(x), argument = "x")
}

#' @export
print.sandbox_truth <- function(x, digits = 4, ...) {
  fmt <- function(v) if (is.null(v) || is.na(v)) "NA" else format(signif(v, digits))
  est <- data.frame(
    estimand = c("ATE", "ATT", "ATC"),
    population = c(fmt(x$ate), fmt(x$att), fmt(x$atc)),
    mc_se = c(fmt(x$ate_mcse), fmt(x$att_mcse), fmt(x$atc_mcse)),
    sample = c(fmt(x$sample_ate), fmt(x$sample_att), fmt(x$sample_atc)))
  if (!is.null(x$risk_ratio))
    est <- rbind(est, data.frame(
      estimand = c("risk ratio", "odds ratio"), population = c(fmt(x$risk_ratio),
                                                               fmt(x$odds_ratio)),
      mc_se = c("", ""), sample = c(fmt(x$sample_risk_ratio), fmt(x$sample_odds_ratio))))
  cat("Truth of a synthetic cohort", if (!is.null(x$n)) sprintf("(n = %d)", x$n), "\n")
  if (!is.null(x$treated))
    cat(sprintf("Treated value: %s; effects are %s\n", format_value(x$treated),
                if (identical(x$outcome_type, "binary"))
                  sprintf("differences in P(outcome = %s)", format_value(x$event))
                else "differences in the mean outcome"))
  print(est, row.names = FALSE, right = FALSE)
  cat(sprintf("Bias of any covariate-adjusted estimator (unmeasured confounding): %s\n",
              fmt(x$bias)))
  if (!is.null(x$overlap)) {
    o <- x$overlap
    cat(sprintf("Overlap: propensities in [%s, %s]; %.1f%% inside [0.1, 0.9]; ",
                fmt(o$ps_range[1]), fmt(o$ps_range[2]), 100 * o$share_in_0.1_0.9))
    cat(sprintf("IPW effective sample size %s (treated), %s (control)\n",
                format(round(o$ess_treated)), format(round(o$ess_control))))
  }
  if (length(x$knobs)) {
    k <- x$knobs
    shown <- vapply(k, function(v) {
      if (is.function(v)) return("<function>")
      if (is.null(v)) return("NULL")
      v <- unlist(v)
      shown <- if (!is.numeric(v)) as.character(v) else if (all(v == round(v)))
        format(v, scientific = FALSE, trim = TRUE) else format(signif(v, digits), trim = TRUE)
      paste(shown, collapse = ", ")
    }, character(1))
    cat("Knobs:", paste(names(k), shown, sep = " = ", collapse = "; "), "\n")
  }
  invisible(x)
}

#' @export
print.sandbox_data <- function(x, n = 6, ...) {
  roles <- attr(x, "roles")
  cat(sprintf("A synthetic cohort: %d rows; treatment `%s`, outcome `%s`, %d covariates\n",
              nrow(x), roles$treatment, roles$outcome, length(roles$covariates)))
  print(truth(x))
  cat("\n")
  print(utils::head(as.data.frame(x), n), ...)
  if (nrow(x) > n) cat(sprintf("... %d more rows\n", nrow(x) - n))
  invisible(x)
}

#' @export
as.data.frame.sandbox_data <- function(x, ...) plain_data_frame(x)

# `x` (a data.frame, tibble, data.table or cohort) as a plain data.frame without a cohort's
# truth and roles.
plain_data_frame <- function(x) {
  attr(x, "truth") <- NULL
  attr(x, "roles") <- NULL
  if (inherits(x, "sandbox_data")) class(x) <- "data.frame"
  x <- as.data.frame(x, stringsAsFactors = FALSE)
  class(x) <- "data.frame"
  x
}

#' @export
`[.sandbox_data` <- function(x, ...) {
  # A subset is a plain data.frame: the truth no longer describes an arbitrary subset.
  as.data.frame.sandbox_data(x)[...]
}
