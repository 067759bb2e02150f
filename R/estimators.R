# Average treatment effect estimators (outcome regression, Hajek IPW, AIPW, TMLE) with
# influence-function standard errors, optional cross-fitting, and ATT versions.

ate_methods <- c("aipw", "tmle", "ipw", "or")

#' Estimate an average treatment effect
#'
#' Estimates the average treatment effect (ATE) or the effect on the treated (ATT) of a binary
#' treatment by one or several of: outcome regression (`"or"`, g-computation), normalised
#' inverse probability weighting (`"ipw"`, Hajek), augmented IPW (`"aipw"`) and targeted
#' maximum likelihood (`"tmle"`). The nuisance models (propensity score and outcome regression)
#' are fitted once and shared by all requested methods.
#'
#' @details
#' **Nuisance models.** The propensity learner regresses the treatment on the covariates
#' (family `"binomial"`); the outcome learner regresses the outcome on the treatment and the
#' covariates (family `"binomial"` for a 0/1 outcome, else `"gaussian"`) and is evaluated with
#' the treatment set to 1 and to 0. With `folds > 1` both are cross-fitted: the rows are split
#' into `folds` groups (stratified by treatment, using R's random generator, so `set.seed()`
#' fixes them) and each group gets predictions from models fitted on the other groups.
#'
#' **Propensity bounds.** Propensity scores are bounded to `[b, 1 - b]` before they enter IPW,
#' AIPW and TMLE. `truncate = NULL` uses the default of the tmle package,
#' `b = 5 / (sqrt(n) log(n))`; a number sets `b` (0 for no bounding); two numbers give the
#' lower and upper bounds.
#'
#' **TMLE** follows the conventions of the tmle package (version 2) so that, with the same
#' nuisance fits, its estimate and standard error agree with `tmle::tmle()`: a continuous
#' outcome is mapped to `[0, 1]` by its observed range (outcome-model predictions are first
#' bounded to that range widened by 10% of its end points), the initial predictions are bounded
#' to `[0.005, 0.995]`, and the logistic fluctuation uses the clever covariate
#' `H = A / g - (1 - A) / (1 - g)` with the propensity weights moved into the regression weights
#' (one fluctuation parameter per arm); results are mapped back to the outcome scale. For the
#' ATT the control arm is weighted by `g / (1 - g)`.
#'
#' **Standard errors** are `sd(IF) / sqrt(n)` with the estimated influence function of each
#' estimator. For `"or"` and `"ipw"` the influence function includes the estimation of the
#' nuisance GLM (delta method) when the corresponding learner is [learner_glm()] and
#' `folds = 1`; with other learners the outcome-regression SE is not available (`NA`) and the
#' IPW SE treats the propensity score as known (conservative for the ATE).
#'
#' @param data A data.frame (for example a [sandbox_data][new_sandbox_data] cohort).
#' @param treatment,outcome Column names. The treatment must be 0/1 (numeric or logical) or a
#'   two-level factor (second level = treated); the outcome numeric or logical.
#' @param covariates Character vector of covariate columns. For a `sandbox_data` the three
#'   role arguments default to its `roles` attribute.
#' @param method One or several of `"aipw"`, `"tmle"`, `"ipw"`, `"or"`.
#' @param outcome_learner,propensity_learner Learners (see [learner_glm()]).
#' @param folds Number of cross-fitting folds (1 = no cross-fitting).
#' @param truncate Propensity bounds: `NULL` (tmle default), a number in `[0, 0.5)` or two
#'   numbers `c(lower, upper)`.
#' @param estimand `"ATE"` or `"ATT"`.
#' @param level Confidence level of the intervals.
#' @return An object of class `sandbox_ate`: a list with `estimates` (a data.frame with one
#'   row per method: `method`, `estimand`, `estimate`, `se`, `lower`, `upper`, `p_value`),
#'   `influence` (n-by-method matrix of influence-function values), `nuisance` (propensity
#'   `g`, bounded `g_bounded`, predictions `Q0`, `Q1`), and the settings. Methods `print()`,
#'   `summary()` and `as.data.frame()`.
#' @examples
#' set.seed(1)
#' n <- 500
#' x <- rnorm(n)
#' a <- rbinom(n, 1, plogis(0.5 * x))
#' y <- 1 + 2 * a + x + rnorm(n)
#' fit <- estimate_ate(data.frame(x, a, y), "a", "y", "x")
#' fit
#' as.data.frame(fit)
#' @export
estimate_ate <- function(data, treatment, outcome, covariates,
                         method = c("aipw", "tmle", "ipw", "or"),
                         outcome_learner = learner_glm(), propensity_learner = learner_glm(),
                         folds = 1, truncate = NULL, estimand = c("ATE", "ATT"),
                         level = 0.95) {
  if (!is.data.frame(data))
    stop(sprintf("`data` must be a data.frame, not %s.", describe(data)), call. = FALSE)
  roles <- attr(data, "roles")
  if (missing(treatment)) treatment <- roles$treatment
  if (missing(outcome)) outcome <- roles$outcome
  if (missing(covariates)) covariates <- roles$covariates
  check_column_arg(treatment, "treatment", data)
  check_column_arg(outcome, "outcome", data)
  if (!is.character(covariates) || anyNA(covariates))
    stop(sprintf("`covariates` must be a character vector of column names, not %s.",
                 describe(covariates)), call. = FALSE)
  unknown <- setdiff(covariates, names(data))
  if (length(unknown))
    stop(sprintf("`covariates` names column(s) not in `data`: %s.",
                 paste(unknown, collapse = ", ")), call. = FALSE)
  if (any(c(treatment, outcome) %in% covariates))
    stop("`covariates` must not include the treatment or the outcome column.", call. = FALSE)
  method <- check_methods(method)
  estimand <- check_choice(estimand, c("ATE", "ATT"), "estimand")
  check_count(folds, "folds")
  check_number(level, "level", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  check_learner(outcome_learner, "outcome_learner")
  check_learner(propensity_learner, "propensity_learner")

  used <- c(treatment, outcome, covariates)
  has_na <- used[vapply(data[used], anyNA, logical(1))]
  if (length(has_na))
    stop(sprintf("Missing values in column(s) %s; estimate_ate() never drops rows: impute or subset the data first.",
                 paste(has_na, collapse = ", ")), call. = FALSE)
  a <- treatment_indicator(data[[treatment]], treatment)
  y <- data[[outcome]]
  if (!is.numeric(y) && !is.logical(y))
    stop(sprintf("The outcome column `%s` must be numeric or logical, not %s.", outcome,
                 class(y)[1L]), call. = FALSE)
  y <- as.double(y)
  if (any(!is.finite(y)))
    stop(sprintf("The outcome column `%s` has infinite values.", outcome), call. = FALSE)
  n <- length(y)
  if (sum(a) < 2L || sum(1 - a) < 2L)
    stop(sprintf("The treatment column `%s` needs at least two treated and two control rows.",
                 treatment), call. = FALSE)
  if (folds > 1 && folds > min(sum(a), sum(1 - a)))
    stop(sprintf("`folds` (%d) exceeds the number of treated or control rows.", folds),
         call. = FALSE)
  binary <- all(y %in% c(0, 1))
  bounds <- propensity_bounds(truncate, n)

  x <- data[covariates]
  nuis <- fit_nuisance(x, a, y, treatment, binary, outcome_learner, propensity_learner,
                       as.integer(folds))
  g <- pmin(pmax(nuis$g, bounds[1L]), bounds[2L])
  rows <- lapply(method, function(m) {
    switch(m,
           or = ate_or(a, y, nuis, estimand),
           ipw = ate_ipw(a, y, nuis, g, bounds, estimand),
           aipw = ate_aipw(a, y, nuis, g, estimand),
           tmle = ate_tmle(a, y, nuis, g, binary, estimand))
  })
  z <- stats::qnorm(1 - (1 - level) / 2)
  est <- vapply(rows, `[[`, numeric(1), "estimate")
  se <- vapply(rows, `[[`, numeric(1), "se")
  estimates <- data.frame(method = method, estimand = estimand, estimate = est, se = se,
                          lower = est - z * se, upper = est + z * se,
                          p_value = 2 * stats::pnorm(-abs(est / se)),
                          stringsAsFactors = FALSE)
  influence <- vapply(rows, function(r) r$influence %||% rep(NA_real_, n), numeric(n))
  influence <- matrix(influence, nrow = n, dimnames = list(NULL, method))
  structure(list(estimates = estimates, influence = influence,
                 nuisance = list(g = nuis$g, g_bounded = g, Q0 = nuis$Q0, Q1 = nuis$Q1),
                 details = lapply(stats::setNames(rows, method), `[[`, "details"),
                 n = n, n_treated = sum(a), outcome_type = if (binary) "binary" else "continuous",
                 roles = list(treatment = treatment, outcome = outcome, covariates = covariates),
                 estimand = estimand, level = level, folds = as.integer(folds),
                 bounds = bounds, learners = c(outcome = learner_label(outcome_learner),
                                               propensity = learner_label(propensity_learner))),
            class = "sandbox_ate")
}

check_column_arg <- function(x, name, data) {
  check_string(x, name)
  if (!x %in% names(data))
    stop(sprintf("`%s` names a column not in `data`: \"%s\".", name, x), call. = FALSE)
}

check_methods <- function(method) {
  if (!is.character(method) || length(method) < 1L || anyNA(method))
    stop(sprintf("`method` must be one or more of %s, not %s.",
                 paste0("\"", ate_methods, "\"", collapse = ", "), describe(method)),
         call. = FALSE)
  bad <- setdiff(method, ate_methods)
  if (length(bad))
    stop(sprintf("Unknown `method` %s; choose from %s.", paste0("\"", bad, "\"", collapse = ", "),
                 paste0("\"", ate_methods, "\"", collapse = ", ")), call. = FALSE)
  unique(method)
}

check_choice <- function(x, choices, name) {
  if (identical(x, choices)) return(choices[1L])
  if (!is.character(x) || length(x) != 1L || !x %in% choices)
    stop(sprintf("`%s` must be one of %s, not %s.", name,
                 paste0("\"", choices, "\"", collapse = ", "), describe(x)), call. = FALSE)
  x
}

check_learner <- function(learner, name) {
  if (!is.function(learner))
    stop(sprintf("`%s` must be a learner function(x, y, family) such as learner_glm(), not %s.",
                 name, describe(learner)), call. = FALSE)
}

learner_label <- function(learner) attr(learner, "label") %||% "custom"

# 0/1 treatment indicator from a 0/1 numeric, logical or two-level factor column.
treatment_indicator <- function(t, name) {
  if (is.factor(t)) {
    if (nlevels(t) != 2L)
      stop(sprintf("The treatment column `%s` is a factor with %d levels; it needs exactly 2.",
                   name, nlevels(t)), call. = FALSE)
    return(as.integer(t == levels(t)[2L]))
  }
  if (is.logical(t)) return(as.integer(t))
  if (!is.numeric(t) || !all(t %in% c(0, 1)))
    stop(sprintf("The treatment column `%s` must be 0/1, logical or a two-level factor.", name),
         call. = FALSE)
  as.integer(t)
}

# Lower and upper propensity bounds; NULL mirrors tmle's default gbound.
propensity_bounds <- function(truncate, n) {
  if (is.null(truncate)) {
    b <- 5 / sqrt(n) / log(n)
    return(c(b, 1 - b))
  }
  if (!is.numeric(truncate) || anyNA(truncate) || !length(truncate) %in% 1:2)
    stop(sprintf("`truncate` must be NULL, one number in [0, 0.5) or two numbers c(lower, upper), not %s.",
                 describe(truncate)), call. = FALSE)
  if (length(truncate) == 1L) {
    if (truncate < 0 || truncate >= 0.5)
      stop(sprintf("`truncate` must lie in [0, 0.5), not %s.", format(truncate)), call. = FALSE)
    return(c(truncate, 1 - truncate))
  }
  if (truncate[1L] < 0 || truncate[2L] > 1 || truncate[1L] >= truncate[2L])
    stop("`truncate` as c(lower, upper) needs 0 <= lower < upper <= 1.", call. = FALSE)
  as.double(truncate)
}

# Random fold labels stratified by treatment (R's generator: set.seed() fixes them).
fold_labels <- function(a, folds) {
  id <- integer(length(a))
  for (arm in 0:1) {
    idx <- which(a == arm)
    id[idx] <- sample(rep_len(seq_len(folds), length(idx)))
  }
  id
}

# Propensity g = P(A = 1 | X) and outcome predictions Q0, Q1, QA; cross-fitted when folds > 1.
# Keeps the GLM fits (folds = 1) for delta-method influence functions.
fit_nuisance <- function(x, a, y, treatment, binary, outcome_learner, propensity_learner,
                         folds) {
  n <- length(a)
  xa <- x
  xa[[treatment]] <- a
  x1 <- xa
  x1[[treatment]] <- 1L
  x0 <- xa
  x0[[treatment]] <- 0L
  family_y <- if (binary) "binomial" else "gaussian"
  g <- Q0 <- Q1 <- numeric(n)
  g_fit <- Q_fit <- NULL
  fold <- if (folds > 1L) fold_labels(a, folds) else rep(1L, n)
  for (k in seq_len(folds)) {
    hold <- fold == k
    train <- if (folds > 1L) !hold else hold
    pg <- fit_learner(propensity_learner, x[train, , drop = FALSE], a[train], "binomial",
                      "propensity model")
    pq <- fit_learner(outcome_learner, xa[train, , drop = FALSE], y[train], family_y,
                      "outcome model")
    g[hold] <- predict_learner(pg, x[hold, , drop = FALSE], "propensity model")
    Q1[hold] <- predict_learner(pq, x1[hold, , drop = FALSE], "outcome model")
    Q0[hold] <- predict_learner(pq, x0[hold, , drop = FALSE], "outcome model")
    if (folds == 1L) {
      g_fit <- attr(pg, "glm")
      Q_fit <- attr(pq, "glm")
    }
  }
  if (any(g <= 0 | g >= 1) && all(g >= 0 & g <= 1))
    g <- pmin(pmax(g, .Machine$double.eps), 1 - .Machine$double.eps)
  if (any(g < 0 | g > 1))
    stop("The propensity learner returned values outside [0, 1].", call. = FALSE)
  list(g = g, Q0 = Q0, Q1 = Q1, QA = ifelse(a == 1, Q1, Q0), fold = fold,
       g_fit = g_fit, Q_fit = Q_fit, x = x, xa = xa, x1 = x1, x0 = x0)
}

se_from_influence <- function(ic) stats::sd(ic) / sqrt(length(ic))

# Outcome regression (g-computation). Delta-method influence function for a GLM outcome fit.
ate_or <- function(a, y, nuis, estimand) {
  n <- length(a)
  w <- if (estimand == "ATE") rep(1, n) else a
  p <- mean(w)
  diff <- nuis$Q1 - nuis$Q0
  psi <- sum(w * diff) / sum(w)
  fit <- nuis$Q_fit
  ic <- NULL
  if (!is.null(fit)) {
    X1 <- fit$design(nuis$x1)
    X0 <- fit$design(nuis$x0)
    XA <- fit$design(nuis$xa)
    d1 <- if (fit$family == "binomial") nuis$Q1 * (1 - nuis$Q1) else rep(1, n)
    d0 <- if (fit$family == "binomial") nuis$Q0 * (1 - nuis$Q0) else rep(1, n)
    grad <- colSums(w * (d1 * X1 - d0 * X0)) / sum(w)
    resid <- y - fit$fitted
    # IF of the coefficients: n (X'WX)^{-1} x_i (y_i - mu_i) for canonical links
    ic_beta <- n * (XA * resid) %*% fit$cov_unscaled
    ic <- w * (diff - psi) / p + drop(ic_beta %*% grad)
  }
  list(estimate = psi, se = if (is.null(ic)) NA_real_ else se_from_influence(ic),
       influence = ic, details = NULL)
}

# Hajek IPW. With a GLM propensity fit the influence function accounts for its estimation.
ate_ipw <- function(a, y, nuis, g, bounds, estimand) {
  n <- length(a)
  fit <- nuis$g_fit
  Xg <- if (!is.null(fit)) fit$design(nuis$x) else NULL
  inside <- nuis$g > bounds[1L] & nuis$g < bounds[2L]  # bounded rows have zero derivative
  # Weighted mean of y over rows with weights wt; dwt = d wt / d eta_g (per row).
  hajek <- function(wt, dwt) {
    m <- sum(wt * y) / sum(wt)
    ic <- wt * (y - m)
    if (!is.null(Xg)) {
      M <- colSums((wt != 0) * (y - m) * dwt * inside * Xg) / n
      ic_gamma <- n * (Xg * (a - nuis$g)) %*% fit$cov_unscaled
      ic <- ic + drop(ic_gamma %*% M)
    }
    list(m = m, ic = ic / mean(wt))
  }
  if (estimand == "ATE") {
    t1 <- hajek(a / g, -a * (1 - g) / g)
    t0 <- hajek((1 - a) / (1 - g), (1 - a) * g / (1 - g))
  } else {
    t1 <- list(m = sum(a * y) / sum(a), ic = a * (y - sum(a * y) / sum(a)) / mean(a))
    odds <- g / (1 - g)
    t0 <- hajek((1 - a) * odds, (1 - a) * odds)
  }
  ic <- t1$ic - t0$ic
  list(estimate = t1$m - t0$m, se = se_from_influence(ic), influence = ic,
       details = list(weights_known = is.null(Xg)))
}

# Augmented IPW (one-step).
ate_aipw <- function(a, y, nuis, g, estimand) {
  Q0 <- nuis$Q0
  Q1 <- nuis$Q1
  if (estimand == "ATE") {
    phi <- Q1 - Q0 + a / g * (y - Q1) - (1 - a) / (1 - g) * (y - Q0)
    psi <- mean(phi)
    ic <- phi - psi
  } else {
    p <- mean(a)
    term <- a * (y - Q0) - (1 - a) * g / (1 - g) * (y - Q0)
    psi <- sum(term) / sum(a)
    ic <- (term - a * psi) / p
  }
  list(estimate = psi, se = se_from_influence(ic), influence = ic, details = NULL)
}

# TMLE with the logistic fluctuation, following the tmle package's conventions.
ate_tmle <- function(a, y, nuis, g, binary, estimand) {
  alpha <- 0.995
  if (binary) {
    lo <- 0
    span <- 1
    ystar <- y
    Qb <- c(0, 1)
  } else {
    Qb <- range(y) + 0.1 * c(-abs(min(y)), abs(max(y)))
    lo <- min(y)
    span <- diff(range(y))
    ystar <- (y - lo) / span
  }
  scale_q <- function(q) (pmin(pmax(q, Qb[1L]), Qb[2L]) - lo) / span
  bound_q <- function(q) pmin(pmax(q, 1 - alpha), alpha)
  q1 <- stats::qlogis(bound_q(scale_q(nuis$Q1)))
  q0 <- stats::qlogis(bound_q(scale_q(nuis$Q0)))
  qa <- ifelse(a == 1, q1, q0)
  # One fluctuation parameter per arm; clever-covariate weights as regression weights.
  w_arm <- if (estimand == "ATE") ifelse(a == 1, 1 / g, 1 / (1 - g)) else
    ifelse(a == 1, 1, g / (1 - g))
  eps <- c(0, 0)
  conv <- TRUE
  for (arm in 0:1) {
    idx <- which(a == arm)
    fit <- glm_irls_fit(matrix(1, length(idx), 1), ystar[idx], "binomial",
                        weights = w_arm[idx], offset = qa[idx])
    if (!fit$converged) conv <- FALSE
    eps[arm + 1L] <- fit$coefficients
  }
  Q1s <- stats::plogis(q1 + eps[2L]) * span + lo
  Q0s <- stats::plogis(q0 + eps[1L]) * span + lo
  QAs <- ifelse(a == 1, Q1s, Q0s)
  if (estimand == "ATE") {
    psi <- mean(Q1s - Q0s)
    ic <- (a / g - (1 - a) / (1 - g)) * (y - QAs) + Q1s - Q0s - psi
  } else {
    p <- mean(a)
    psi <- sum(a * (Q1s - Q0s)) / sum(a)
    ic <- ((a - (1 - a) * g / (1 - g)) * (y - QAs) + a * (Q1s - Q0s - psi)) / p
  }
  if (!conv) warning("TMLE: the fluctuation model did not converge.", call. = FALSE)
  list(estimate = psi, se = se_from_influence(ic), influence = ic,
       details = list(epsilon = eps, Q0_star = Q0s, Q1_star = Q1s))
}

#' @export
print.sandbox_ate <- function(x, digits = 4, ...) {
  cat(sprintf("Treatment effect (%s) of `%s` on `%s`: n = %d (%d treated), %s outcome\n",
              x$estimand, x$roles$treatment, x$roles$outcome, x$n, x$n_treated,
              x$outcome_type))
  cat(sprintf("Learners: outcome %s, propensity %s; %s; propensity bounds [%.4g, %.4g]\n\n",
              x$learners[["outcome"]], x$learners[["propensity"]],
              if (x$folds > 1L) sprintf("%d-fold cross-fitting", x$folds) else "no cross-fitting",
              x$bounds[1L], x$bounds[2L]))
  tab <- x$estimates
  out <- data.frame(method = tab$method, estimate = format(tab$estimate, digits = digits),
                    se = format(tab$se, digits = digits),
                    ci = sprintf("[%s, %s]", format(tab$lower, digits = digits),
                                 format(tab$upper, digits = digits)),
                    p_value = format.pval(tab$p_value, digits = 3))
  names(out)[4] <- sprintf("%g%% CI", 100 * x$level)
  print(out, row.names = FALSE, right = FALSE)
  invisible(x)
}

#' @export
summary.sandbox_ate <- function(object, ...) {
  g <- object$nuisance$g
  a_treated <- object$n_treated
  trimmed <- sum(g < object$bounds[1L] | g > object$bounds[2L])
  structure(list(estimates = object$estimates, estimand = object$estimand,
                 level = object$level, n = object$n, n_treated = a_treated,
                 propensity = stats::quantile(g, c(0, 0.01, 0.5, 0.99, 1)),
                 share_in_0.1_0.9 = mean(g >= 0.1 & g <= 0.9), bounded = trimmed,
                 bounds = object$bounds, folds = object$folds, learners = object$learners,
                 outcome_type = object$outcome_type, roles = object$roles),
            class = "summary.sandbox_ate")
}

#' @export
print.summary.sandbox_ate <- function(x, digits = 4, ...) {
  cat(sprintf("Treatment effect (%s) of `%s` on `%s` adjusting for %d covariate(s)\n",
              x$estimand, x$roles$treatment, x$roles$outcome, length(x$roles$covariates)))
  cat(sprintf("n = %d, treated = %d, %s outcome\n", x$n, x$n_treated, x$outcome_type))
  cat(sprintf("Learners: outcome %s, propensity %s; folds = %d\n", x$learners[["outcome"]],
              x$learners[["propensity"]], x$folds))
  cat("Propensity quantiles (0, 1, 50, 99, 100%):",
      paste(format(x$propensity, digits = 3), collapse = " "), "\n")
  cat(sprintf("Share of propensities in [0.1, 0.9]: %.3f; bounded to [%.4g, %.4g]: %d row(s)\n\n",
              x$share_in_0.1_0.9, x$bounds[1L], x$bounds[2L], x$bounded))
  tab <- x$estimates
  tab[c("estimate", "se", "lower", "upper")] <- lapply(tab[c("estimate", "se", "lower", "upper")],
                                                       signif, digits = digits)
  tab$p_value <- format.pval(tab$p_value, digits = 3)
  print(tab, row.names = FALSE)
  invisible(x)
}

#' @export
as.data.frame.sandbox_ate <- function(x, row.names = NULL, optional = FALSE, ...) {
  out <- x$estimates
  if (!is.null(row.names)) rownames(out) <- row.names
  out
}
