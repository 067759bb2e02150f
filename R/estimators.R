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
#' **Propensity bounds.** As in the tmle package, the probability of the received arm is
#' bounded from below before it enters a denominator (IPW, AIPW, TMLE): `P(A = 1 | X)` by
#' `lower` and `P(A = 0 | X)` by `1 - upper`. `truncate = NULL` uses tmle's default
#' `lower = 5 / (sqrt(n) log(n))`, `upper = 1 - lower`; a number `b` gives `[b, 1 - b]` (0: no
#' bounding); two numbers give `c(lower, upper)`.
#'
#' **TMLE** follows the conventions of the tmle package (version 2, defaults) so that, with the
#' same nuisance fits, its estimate and standard error agree with `tmle::tmle()`: the outcome
#' is mapped to `[0, 1]` by its observed range, the initial predictions are bounded to
#' `[0.0005, 0.9995]` on that scale, and the logistic fluctuation has one parameter per arm
#' with covariates `A / g` and `(1 - A) / (1 - g)`, which together solve the efficient score
#' equation of the clever covariate `H = A / g - (1 - A) / (1 - g)`; results are mapped back to
#' the outcome scale. For the ATT the covariates are `A` and `(1 - A) g / (1 - g)` and the
#' estimate is the mean of the updated `Q1 - Q0` over the treated. AIPW uses the same bounded
#' outcome predictions. (The comparison holds with `tmle(..., Q.SL.library = "SL.glm",
#' g.SL.library = "SL.glm", cvQinit = FALSE)`: tmle's default `cvQinit = TRUE` replaces the
#' initial outcome fit by cross-validated predictions over random folds.)
#'
#' **Standard errors** are `sd(IF) / sqrt(n)` with the estimated influence function of each
#' estimator. For `"or"` and `"ipw"` the influence function includes the estimation of the
#' nuisance GLM (delta method) when the corresponding learner is [learner_glm()] and
#' `folds = 1`; with other learners the outcome-regression SE is not available (`NA`) and the
#' IPW SE treats the propensity score as known (conservative for the ATE).
#'
#' @param data A data.frame (for example a [sandbox_data][new_sandbox_data] cohort).
#' @param treatment,outcome Column names. The treatment may be any column with two values
#'   (0/1, `TRUE`/`FALSE`, two strings, a two-level factor, two numbers); the treated value is
#'   the second of the two (`TRUE`, the larger number, the second string in sorted order, the
#'   second factor level; a `sandbox_data` cohort carries the coding of its fit) and is stated
#'   by `print()`. The outcome is numeric, or binary with two values of any type (e.g. 0/1,
#'   1/2, 0/10, `"alive"`/`"dead"`): effects are then differences in the probability of the
#'   second value (the event), as in [truth()].
#' @param covariates Character vector of covariate columns. For a `sandbox_data` the three
#'   role arguments default to its `roles` attribute.
#' @param method One or several of `"aipw"`, `"tmle"`, `"ipw"`, `"or"`.
#' @param outcome_learner,propensity_learner Learners (see [learner_glm()]).
#' @param folds Number of cross-fitting folds (1 = no cross-fitting).
#' @param truncate Propensity bounds: `NULL` (tmle default), a number in `[0, 0.5)` or two
#'   numbers `c(lower, upper)`.
#' @param estimand `"ATE"` or `"ATT"`.
#' @param level Confidence level of the intervals.
#' @param missing What to do with missing covariate values:
#'   * `"indicator"` (default): every row is kept; a numeric covariate with `NA` is filled
#'     with its observed mean and gets a 0/1 missingness indicator `<name>.missing` as an
#'     extra covariate, a factor or character covariate gets the level `"(missing)"`;
#'   * `"complete_case"`: rows with any missing covariate are dropped (the estimate is then
#'     the effect in the complete cases, a different population than the cohort);
#'   * `"fail"`: missing values are an error.
#'
#'   Why the indicator default: the truth of a synthetic cohort ([truth()]) is the effect in
#'   the whole cohort, rows with missing values included, and only an estimator that keeps
#'   every row targets that estimand; complete-case analysis targets the complete cases'
#'   effect, which differs whenever missingness is related to effect modifiers, and discards
#'   power. Caveat: the missing-indicator method is not unbiased in general: when a covariate
#'   with missing values is a confounder and its value (not just its missingness) matters
#'   within the missing rows, adjustment for "missing" alone leaves residual confounding
#'   (Groenwold et al. 2012, CMAJ 184:1265). For an analysis of real data, multiple
#'   imputation is the better choice; here the strategy is a dial to study like the others.
#'   `inst/bench/missing_strategy.R` compares the strategies on cohorts drawn from a fit of
#'   raw NHEFS (figures in `inst/bench/results/doc_figures.md` of the source repository).
#' @param horizon For a time-to-event outcome (`outcome = c(time = , event = )` or the name of a `survival::Surv` column, or a cohort
#'   drawn from a time-to-event fit, whose horizon is the default): the time at which risks
#'   are compared; see [estimate_survival()], which then does the estimation. Its `estimand`
#'   is then `"risk_difference"` and/or `"rmst_difference"` (default: the cohort's estimand
#'   when it is one of these, else the risk difference; `"ATE"` means the risk difference).
#' @return An object of class `sandbox_ate`: a list with `estimates` (a data.frame with one
#'   row per method: `method`, `estimand`, `estimate`, `se`, `lower`, `upper`, `p_value`),
#'   `influence` (n-by-method matrix of influence-function values), `nuisance` (propensity
#'   `g`, bounded arm probabilities `g1`, `g0`, outcome predictions `Q0`, `Q1`), and the settings. Methods `print()`,
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
                         level = 0.95, missing = c("indicator", "complete_case", "fail"),
                         horizon = NULL) {
  # time-to-event outcomes have their own estimators (R/survival_estimators.R)
  survival_roles <- survival_estimation_roles(data, if (missing(outcome)) NULL else outcome)
  if (!is.null(survival_roles)) {
    if (missing(treatment)) treatment <- attr(data, "roles")$treatment
    if (missing(covariates)) covariates <- attr(data, "roles")$covariates
    # the estimand: the cohort's (risk or RMST difference) unless given; "ATE" is the risk
    # difference at the horizon
    surv_estimand <- if (missing(estimand)) survival_roles$estimand %||% "risk_difference"
      else if (identical(estimand, "ATE")) "risk_difference" else estimand
    surv_column <- survival_roles$surv_column
    if (!is.null(surv_column)) {
      if (!is.data.frame(data))
        stopf("`data` must be a data.frame, not %s.", describe(data), argument = "data")
      data <- split_surv_column(data, surv_column)
      survival_roles$time <- ".time"
      survival_roles$event <- ".event"
    }
    fit <- estimate_survival(data, treatment, survival_roles$time, survival_roles$event,
                             covariates, horizon %||% survival_roles$horizon,
                             if (missing(method)) survival_methods else method, level,
                             estimand = surv_estimand, missing = missing)
    if (!is.null(surv_column)) fit$roles$time <- fit$roles$event <- surv_column
    return(fit)
  }
  data <- check_table(data, "data", min_rows = 4L)
  stored <- attr(data, "roles")
  if (missing(treatment)) treatment <- stored$treatment
  if (missing(outcome)) outcome <- stored$outcome
  if (missing(covariates)) covariates <- stored$covariates
  if (is.null(treatment))
    stopf("`treatment` is missing; expected the name of the treatment column.",
          argument = "treatment")
  if (is.null(outcome))
    stopf("`outcome` is missing; expected the name of the outcome column.", argument = "outcome")
  if (is.null(covariates))
    stopf("`covariates` is missing; expected the names of the covariate columns.",
          argument = "covariates")
  roles <- input_roles(data, treatment, outcome, covariates, min_covariates = 0L)
  # a cohort's stored codings apply when its roles are the ones used
  if (identical(treatment, stored$treatment)) roles$treatment_levels <- stored$treatment_levels
  if (identical(outcome, stored$outcome)) roles$outcome_levels <- stored$outcome_levels
  method <- check_methods(method)
  estimand <- check_choice(estimand, c("ATE", "ATT"), "estimand")
  missing <- check_missing_choice(missing)
  check_count(folds, "folds")
  check_number(level, "level", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  check_learner(outcome_learner, "outcome_learner")
  check_learner(propensity_learner, "propensity_learner")

  coded <- role_vectors(data, roles)
  prepared <- prepare_covariates(as.data.frame(data)[covariates], missing)
  x <- prepared$x
  a <- coded$a[prepared$keep]
  y <- coded$y[prepared$keep]
  n <- length(y)
  if (sum(a) < 2L || sum(1 - a) < 2L)
    stopf("The treatment column `%s` needs at least two treated and two control rows%s.",
          treatment, if (missing == "complete_case") " among the complete cases" else "",
          argument = "data", column = treatment)
  # a regression design wider than the data cannot be fitted (factor levels count one
  # column each but the first)
  width <- 2L + sum(vapply(x, function(v)
    if (is.factor(v)) nlevels(v) - 1L else if (is.character(v)) length(unique(v)) - 1L else 1L,
    integer(1)))
  if (width >= n)
    stopf("The covariates encode to %d regression columns (with the intercept and the treatment) for %d rows; use fewer covariates or merge factor levels.",
          width, n, argument = "covariates")
  if (folds > 1 && folds > min(sum(a), sum(1 - a)))
    stopf("`folds` (%d) exceeds the number of treated or control rows.", folds,
          argument = "folds")
  binary <- coded$outcome$type == "binary"
  bounds <- propensity_bounds(truncate, n)

  nuis <- fit_nuisance(x, a, y, treatment, binary, outcome_learner, propensity_learner,
                       as.integer(folds))
  g <- bounded_propensity(nuis$g, bounds)
  rows <- lapply(method, function(m) {
    switch(m,
           or = ate_or(a, y, nuis, estimand),
           ipw = ate_ipw(a, y, nuis, g, estimand),
           aipw = ate_aipw(a, y, nuis, g, estimand),
           tmle = ate_tmle(a, y, nuis, g, estimand))
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
                 nuisance = list(g = nuis$g, g1 = g$g1, g0 = g$g0, Q0 = nuis$Q0, Q1 = nuis$Q1),
                 details = lapply(stats::setNames(rows, method), `[[`, "details"),
                 n = n, n_treated = sum(a), outcome_type = if (binary) "binary" else "continuous",
                 event = coded$outcome$event, treated = coded$treatment$treated,
                 missing = list(strategy = missing, columns = prepared$with_missing,
                                rows_dropped = sum(!prepared$keep)),
                 rows = prepared$keep, a = a, y = y, x = x,
                 roles = c(roles, list(treatment_levels = coded$treatment$levels,
                                       outcome_levels = coded$outcome$levels))[
                   c("treatment", "outcome", "covariates", "treatment_levels",
                     "outcome_levels")],
                 estimand = estimand, level = level, folds = as.integer(folds),
                 bounds = bounds, learners = c(outcome = learner_label(outcome_learner),
                                               propensity = learner_label(propensity_learner))),
            class = "sandbox_ate")
}

# Arguments of estimate_ate() given to an estimator constructor through `...`, checked when
# the estimator is created (not in every replicate of a study).
check_estimate_args <- function(args, caller) {
  if (!length(args)) return(args)
  nm <- names(args)
  if (is.null(nm) || any(!nzchar(nm)))
    stopf("Arguments of %s passed through `...` must be named.", caller, argument = "...")
  allowed <- setdiff(names(formals(estimate_ate)), c("data", "treatment", "outcome", "covariates"))
  bad <- setdiff(nm, allowed)
  if (length(bad))
    stopf("Unknown argument%s %s to %s; it takes the settings of estimate_ate(): %s.",
          if (length(bad) > 1L) "s" else "", quote_names(bad), caller,
          paste(allowed, collapse = ", "), argument = bad[1L])
  if (!is.null(args$method)) check_methods(args$method)
  if (!is.null(args$folds)) check_size(args$folds, "folds")
  if (!is.null(args$truncate)) propensity_bounds(args$truncate, 100)
  if (!is.null(args$estimand)) check_choice(args$estimand, c("ATE", "ATT"), "estimand")
  if (!is.null(args$level))
    check_number(args$level, "level", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  if (!is.null(args$missing)) check_missing_choice(args$missing)
  for (l in intersect(c("outcome_learner", "propensity_learner"), nm)) check_learner(args[[l]], l)
  args
}

check_methods <- function(method) {
  if (!is.character(method) || length(method) < 1L || anyNA(method))
    stopf("`method` must be one or more of %s, not %s.",
          paste0("\"", ate_methods, "\"", collapse = ", "), describe(method), argument = "method")
  bad <- setdiff(method, ate_methods)
  if (length(bad))
    stopf("Unknown `method` %s; choose from %s.", paste0("\"", bad, "\"", collapse = ", "),
          paste0("\"", ate_methods, "\"", collapse = ", "), argument = "method")
  unique(method)
}

check_choice <- function(x, choices, name) {
  if (identical(x, choices)) return(choices[1L])
  if (!is.character(x) || length(x) != 1L || is.na(x) || !x %in% choices)
    stopf("`%s` must be one of %s, not %s.", name,
          paste0("\"", choices, "\"", collapse = ", "), describe(x), argument = name)
  x
}

check_learner <- function(learner, name) {
  if (!is.function(learner))
    stopf("`%s` must be a learner function(x, y, family) such as learner_glm(), not %s.",
          name, describe(learner), argument = name)
}

learner_label <- function(learner) attr(learner, "label") %||% "custom"

# Lower and upper propensity bounds; NULL mirrors tmle's default gbound.
propensity_bounds <- function(truncate, n) {
  if (is.null(truncate)) {
    b <- 5 / sqrt(n) / log(n)
    return(c(b, 1 - b))
  }
  if (!is.numeric(truncate) || anyNA(truncate) || !length(truncate) %in% 1:2)
    stopf("`truncate` must be NULL, one number in [0, 0.5) or two numbers c(lower, upper), not %s.",
          describe(truncate), argument = "truncate")
  if (length(truncate) == 1L) {
    if (truncate < 0 || truncate >= 0.5)
      stopf("`truncate` must lie in [0, 0.5), not %s.", format(truncate), argument = "truncate")
    return(c(truncate, 1 - truncate))
  }
  if (truncate[1L] < 0 || truncate[2L] > 1 || truncate[1L] >= truncate[2L])
    stopf("`truncate` as c(lower, upper) needs 0 <= lower < upper <= 1.", argument = "truncate")
  as.double(truncate)
}

# Random fold labels stratified by the values of `a` (the treatment, or any stratum code;
# R's generator: set.seed() fixes them).
fold_labels <- function(a, folds) {
  id <- integer(length(a))
  for (stratum in sort(unique(a))) {
    idx <- which(a == stratum)
    id[idx] <- sample(rep_len(seq_len(folds), length(idx)))
  }
  id
}

# Propensity g = P(A = 1 | X) and outcome predictions Q0, Q1, QA; cross-fitted when folds > 1.
# Without cross-fitting, GLM fits (from learner_glm) are kept with their design matrices for
# the delta-method influence functions, and the counterfactual designs are derived from the
# fitted one by setting the treatment column (no second model.frame pass).
fit_nuisance <- function(x, a, y, treatment, binary, outcome_learner, propensity_learner,
                         folds) {
  n <- length(a)
  # character columns become factors on the full data, so that every fold knows every level
  chars <- vapply(x, is.character, logical(1))
  x[chars] <- lapply(x[chars], factor)
  xa <- x
  xa[[treatment]] <- a
  family_y <- if (binary) "binomial" else "gaussian"
  counterfactual <- function(value) {
    out <- xa
    out[[treatment]] <- rep(value, n)
    out
  }
  if (folds == 1L) {
    pg <- fit_learner(propensity_learner, x, a, "binomial", "propensity model")
    pq <- fit_learner(outcome_learner, xa, y, family_y, "outcome model")
    g_fit <- attr(pg, "glm")
    Q_fit <- attr(pq, "glm")
    Xg <- XA <- X1 <- X0 <- NULL
    if (!is.null(g_fit)) {
      Xg <- g_fit$x
      g <- stats::plogis(drop(Xg %*% g_fit$coefficients))
    } else {
      g <- predict_learner(pg, x, "propensity model")
    }
    j <- if (is.null(Q_fit)) integer(0) else
      which(colnames(Q_fit$x) %in% c(treatment, paste0("`", treatment, "`")))
    if (length(j) == 1L) {
      XA <- Q_fit$x
      X1 <- X0 <- XA
      X1[, j] <- 1
      X0[, j] <- 0
      link <- if (Q_fit$family == "binomial") stats::plogis else identity
      Q1 <- link(drop(X1 %*% Q_fit$coefficients))
      Q0 <- link(drop(X0 %*% Q_fit$coefficients))
    } else {
      Q1 <- predict_learner(pq, counterfactual(1L), "outcome model")
      Q0 <- predict_learner(pq, counterfactual(0L), "outcome model")
      if (!is.null(Q_fit)) {
        XA <- Q_fit$x
        X1 <- Q_fit$design(counterfactual(1L))
        X0 <- Q_fit$design(counterfactual(0L))
      }
    }
    fold <- rep(1L, n)
  } else {
    g <- Q0 <- Q1 <- numeric(n)
    g_fit <- Q_fit <- Xg <- XA <- X1 <- X0 <- NULL
    x1 <- counterfactual(1L)
    x0 <- counterfactual(0L)
    fold <- fold_labels(a, folds)
    for (k in seq_len(folds)) {
      hold <- fold == k
      train <- !hold
      pg <- fit_learner(propensity_learner, x[train, , drop = FALSE], a[train], "binomial",
                        "propensity model")
      pq <- fit_learner(outcome_learner, xa[train, , drop = FALSE], y[train], family_y,
                        "outcome model")
      g[hold] <- predict_learner(pg, x[hold, , drop = FALSE], "propensity model")
      Q1[hold] <- predict_learner(pq, x1[hold, , drop = FALSE], "outcome model")
      Q0[hold] <- predict_learner(pq, x0[hold, , drop = FALSE], "outcome model")
    }
  }
  if (any(g < 0 | g > 1))
    stopf("The propensity learner returned values outside [0, 1].")
  g <- pmin(pmax(g, .Machine$double.eps), 1 - .Machine$double.eps)
  list(g = g, Q0 = Q0, Q1 = Q1, QA = ifelse(a == 1, Q1, Q0), fold = fold,
       g_fit = g_fit, Q_fit = Q_fit, Xg = Xg, XA = XA, X1 = X1, X0 = X0)
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
    X1 <- nuis$X1
    X0 <- nuis$X0
    XA <- nuis$XA
    d1 <- if (fit$family == "binomial") nuis$Q1 * (1 - nuis$Q1) else rep(1, n)
    d0 <- if (fit$family == "binomial") nuis$Q0 * (1 - nuis$Q0) else rep(1, n)
    grad <- (drop(crossprod(X1, w * d1)) - drop(crossprod(X0, w * d0))) / sum(w)
    resid <- y - fit$fitted
    # IF of the coefficients: n (X'WX)^{-1} x_i (y_i - mu_i) for canonical links; its product
    # with the gradient is taken as n (y_i - mu_i) x_i' [(X'WX)^{-1} grad]
    ic <- w * (diff - psi) / p + n * resid * drop(XA %*% (fit$cov_unscaled %*% grad))
  }
  list(estimate = psi, se = if (is.null(ic)) NA_real_ else se_from_influence(ic),
       influence = ic, details = NULL)
}

# Bounded probabilities of each arm, as the tmle package bounds them: P(A = 1 | X) from below
# by the lower bound, P(A = 0 | X) from below by 1 - the upper bound. `odds` is the ATT weight
# of a control. d1, d0, dodds: derivatives with respect to the propensity's linear predictor
# (zero where a bound is active).
bounded_propensity <- function(g, bounds) {
  g1 <- pmax(g, bounds[1L])
  g0 <- pmax(1 - g, 1 - bounds[2L])
  dg <- g * (1 - g)
  d1 <- ifelse(g > bounds[1L], dg, 0)
  d0 <- ifelse(1 - g > 1 - bounds[2L], -dg, 0)
  list(g1 = g1, g0 = g0, odds = g / g0, d1 = d1, d0 = d0,
       dodds = dg / g0 - g * d0 / g0^2)
}

# Hajek IPW. With a GLM propensity fit the influence function accounts for its estimation.
ate_ipw <- function(a, y, nuis, g, estimand) {
  n <- length(a)
  fit <- nuis$g_fit
  Xg <- nuis$Xg
  # Weighted mean of y with weights wt; dwt = d wt / d eta of the propensity model.
  hajek <- function(wt, dwt) {
    m <- sum(wt * y) / sum(wt)
    ic <- wt * (y - m)
    if (!is.null(Xg)) {
      M <- drop(crossprod(Xg, (y - m) * dwt)) / n
      ic <- ic + n * (a - nuis$g) * drop(Xg %*% (fit$cov_unscaled %*% M))
    }
    list(m = m, ic = ic / mean(wt))
  }
  if (estimand == "ATE") {
    t1 <- hajek(a / g$g1, -a * g$d1 / g$g1^2)
    t0 <- hajek((1 - a) / g$g0, -(1 - a) * g$d0 / g$g0^2)
  } else {
    m1 <- sum(a * y) / sum(a)
    t1 <- list(m = m1, ic = a * (y - m1) / mean(a))
    t0 <- hajek((1 - a) * g$odds, (1 - a) * g$dodds)
  }
  ic <- t1$ic - t0$ic
  list(estimate = t1$m - t0$m, se = se_from_influence(ic), influence = ic,
       details = list(propensity_estimation_in_se = !is.null(Xg)))
}

# Outcome predictions bounded as the tmle package bounds its initial fit: mapped to [0, 1] by
# the observed outcome range and kept inside [1 - alpha, alpha] (alpha = 0.9995). Returns the
# bounded predictions on the outcome scale and the map.
tmle_alpha <- 0.9995
bounded_outcome <- function(y, nuis) {
  lo <- min(y)
  span <- max(y) - lo
  if (span <= 0) span <- 1
  bound <- function(q) pmin(pmax((q - lo) / span, 1 - tmle_alpha), tmle_alpha)
  list(lo = lo, span = span, q0 = bound(nuis$Q0), q1 = bound(nuis$Q1))
}

# Augmented IPW (one-step) on the bounded outcome predictions.
ate_aipw <- function(a, y, nuis, g, estimand) {
  b <- bounded_outcome(y, nuis)
  Q0 <- b$q0 * b$span + b$lo
  Q1 <- b$q1 * b$span + b$lo
  if (estimand == "ATE") {
    phi <- Q1 - Q0 + a / g$g1 * (y - Q1) - (1 - a) / g$g0 * (y - Q0)
    psi <- mean(phi)
    ic <- phi - psi
  } else {
    p <- mean(a)
    term <- a * (y - Q0) - (1 - a) * g$odds * (y - Q0)
    psi <- sum(term) / sum(a)
    ic <- (term - a * psi) / p
  }
  list(estimate = psi, se = se_from_influence(ic), influence = ic, details = NULL)
}

# The logistic fluctuation of TMLE on the [0, 1]-mapped outcome, as the tmle package does it:
# one parameter per arm, clever covariates h1 (treated) and h0 (control), offsets logit Q.
# Returns the fitted parameters and `update(q, arm, h)`, which applies the same fluctuation to
# any outcome prediction q of arm `arm` with clever covariate h (hybrid synthesis uses it on
# synthetic rows).
tmle_fluctuation <- function(a, y, Q0, Q1, h0, h1) {
  b <- bounded_outcome(y, list(Q0 = Q0, Q1 = Q1))
  ystar <- (y - b$lo) / b$span
  offsets <- list(stats::qlogis(b$q0), stats::qlogis(b$q1))
  clever <- list(h0, h1)
  eps <- c(control = 0, treated = 0)
  converged <- TRUE
  for (arm in 0:1) {
    idx <- which(a == arm)
    fit <- glm_irls_fit(matrix(clever[[arm + 1L]][idx], ncol = 1L), ystar[idx], "binomial",
                        offset = offsets[[arm + 1L]][idx])
    if (!fit$converged) converged <- FALSE
    eps[arm + 1L] <- fit$coefficients
  }
  update <- function(q, arm, h) {
    unit <- pmin(pmax((q - b$lo) / b$span, 1 - tmle_alpha), tmle_alpha)
    stats::plogis(stats::qlogis(unit) + eps[[arm + 1L]] * h) * b$span + b$lo
  }
  list(epsilon = eps, converged = converged, update = update,
       Q0_star = update(Q0, 0L, h0), Q1_star = update(Q1, 1L, h1))
}

# TMLE: clever covariates A / g and (1 - A) / (1 - g) (for the ATT: A and (1 - A) g / (1 - g)).
ate_tmle <- function(a, y, nuis, g, estimand) {
  h1 <- if (estimand == "ATE") 1 / g$g1 else rep(1, length(a))
  h0 <- if (estimand == "ATE") 1 / g$g0 else g$odds
  fluctuation <- tmle_fluctuation(a, y, nuis$Q0, nuis$Q1, h0, h1)
  eps <- fluctuation$epsilon
  conv <- fluctuation$converged
  Q1s <- fluctuation$Q1_star
  Q0s <- fluctuation$Q0_star
  QAs <- ifelse(a == 1, Q1s, Q0s)
  if (estimand == "ATE") {
    psi <- mean(Q1s - Q0s)
    ic <- (a / g$g1 - (1 - a) / g$g0) * (y - QAs) + Q1s - Q0s - psi
  } else {
    p <- mean(a)
    psi <- sum(a * (Q1s - Q0s)) / sum(a)
    ic <- ((a - (1 - a) * g$odds) * (y - QAs) + a * (Q1s - Q0s - psi)) / p
  }
  if (!conv) warning("TMLE: the fluctuation model did not converge.", call. = FALSE)
  list(estimate = psi, se = se_from_influence(ic), influence = ic,
       details = list(epsilon = eps, Q0_star = Q0s, Q1_star = Q1s))
}

#' @export
print.sandbox_ate <- function(x, digits = 4, ...) {
  survival <- identical(x$outcome_type, "time-to-event")
  if (survival)
    cat(sprintf(paste0("Treatment effect of `%s` on the time to event (%s) ",
                       "at the horizon %s: n = %d (%d treated)\n"),
                x$roles$treatment, follow_up_label(x$roles$time, x$roles$event),
                format(signif(x$horizon, 6)),
                x$n, x$n_treated))
  else
    cat(sprintf("Treatment effect (%s) of `%s` on `%s`: n = %d (%d treated), %s outcome\n",
                x$estimand, x$roles$treatment, x$roles$outcome, x$n, x$n_treated,
                x$outcome_type))
  if (!is.null(x$treated))
    cat(sprintf("Treated: %s = %s; %s\n", x$roles$treatment, format_value(x$treated),
                if (identical(x$outcome_type, "binary"))
                  sprintf("effect on P(%s = %s)", x$roles$outcome, format_value(x$event))
                else "effect on the mean outcome"))
  if (!is.null(x$missing) && length(x$missing$columns))
    cat(sprintf("Missing covariates (%s): %s%s\n", x$missing$strategy,
                paste(x$missing$columns, collapse = ", "),
                if (x$missing$rows_dropped) sprintf("; %d row(s) dropped", x$missing$rows_dropped)
                else ""))
  if (survival)
    cat(paste0("Nuisance models: logistic propensity; Cox models (Breslow) of the event and ",
               "of the censoring on treatment and covariates\n\n"))
  else
    cat(sprintf("Learners: outcome %s, propensity %s; %s; propensity bounds [%.4g, %.4g]\n\n",
                x$learners[["outcome"]], x$learners[["propensity"]],
                if (x$folds > 1L) sprintf("%d-fold cross-fitting", x$folds)
                else "no cross-fitting", x$bounds[1L], x$bounds[2L]))
  tab <- x$estimates
  out <- data.frame(method = if (survival) sprintf("%s (%s)", tab$method,
                                                   gsub("_", " ", tab$estimand))
                             else tab$method,
                    estimate = format(tab$estimate, digits = digits),
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

# ---- estimator factories: functions of a cohort for run_study(), tune_estimator() and
# power_analysis(), and the registry of built-in names ----

#' Built-in estimators for simulation studies
#'
#' Estimator constructors for [run_study()], [tune_estimator()] and [power_analysis()]. Each
#' returns a `function(data)` that takes a `sandbox_data` cohort (its `roles` name the
#' treatment, outcome and covariates) and returns estimates in the format `run_study()`
#' understands.
#'
#' `estimator_ate()` runs [estimate_ate()] once with several methods (sharing the nuisance
#' fits) and reports one row per method; `estimator_or()`, `estimator_ipw()`,
#' `estimator_aipw()` and `estimator_tmle()` are single-method shortcuts.
#' `estimator_naive()` is the unadjusted difference in means (Welch standard error).
#' `estimator_dr_learner()` estimates conditional effects (CATE) by the DR-learner: the
#' cross-fitted AIPW pseudo-outcome is regressed on the covariates by a regression forest
#' (package ranger, in Suggests) whose infinitesimal-jackknife standard errors give pointwise
#' intervals; its ATE is the AIPW estimate. `num.trees` and `min.node.size` are the forest's
#' tuning parameters (see [tune_estimator()]).
#'
#' @param method Methods of [estimate_ate()].
#' @param ... Further arguments of [estimate_ate()] (learners, `folds`, `truncate`,
#'   `estimand`, `level`); for the DR-learner, arguments of [estimate_ate()] for the
#'   nuisance models.
#' @param num.trees,min.node.size Forest settings of the DR-learner.
#' @param folds Cross-fitting folds of the DR-learner's nuisance models.
#' @param threads Threads for ranger ([sandbox_threads()]); 1 suits parallel studies.
#' @return A `function(data, missing = NULL)` usable in the `estimators` list of
#'   [run_study()]. `missing = NULL` keeps the setting given through `...` (default
#'   `"indicator"`, see [estimate_ate()]); [run_study()], [tune_estimator()] and
#'   [power_analysis()] pass their own `missing` through it when they are given one.
#' @examples
#' est <- estimator_ate(c("or", "aipw"))
#' set.seed(1)
#' n <- 300
#' d <- data.frame(x = rnorm(n))
#' d$t <- rbinom(n, 1, plogis(d$x))
#' d$.ps <- plogis(d$x); d$.mu0 <- d$x; d$.mu1 <- d$x + 1; d$.tau <- 1
#' d$.y0 <- d$.mu0 + rnorm(n); d$.y1 <- d$.mu1 + rnorm(n)
#' d$y <- ifelse(d$t == 1, d$.y1, d$.y0)
#' cohort <- new_sandbox_data(d, list(treatment = "t", outcome = "y", covariates = "x"),
#'                            list(ate = 1))
#' est(cohort)
#' estimator_naive()(cohort)
#' @name estimators
NULL

#' @rdname estimators
#' @export
estimator_ate <- function(method = c("aipw", "tmle", "ipw", "or"), ...) {
  method <- check_methods(method)
  args <- check_estimate_args(list(...), "estimator_ate()")
  function(data, missing = NULL) {
    fit <- do.call(estimate_ate, c(list(data = data, method = method),
                                   with_missing_setting(args, missing)))
    as.data.frame(fit)
  }
}

#' @rdname estimators
#' @export
estimator_or <- function(...) estimator_ate("or", ...)

#' @rdname estimators
#' @export
estimator_ipw <- function(...) estimator_ate("ipw", ...)

#' @rdname estimators
#' @export
estimator_aipw <- function(...) estimator_ate("aipw", ...)

#' @rdname estimators
#' @export
estimator_tmle <- function(...) estimator_ate("tmle", ...)

#' @rdname estimators
#' @export
estimator_naive <- function() {
  # the difference in means uses no covariate, so missing covariate values do not matter
  function(data, missing = NULL) {
    coded <- role_vectors(data, attr(data, "roles"))
    a <- coded$a
    y <- coded$y
    est <- mean(y[a == 1]) - mean(y[a == 0])
    se <- sqrt(stats::var(y[a == 1]) / sum(a) + stats::var(y[a == 0]) / sum(1 - a))
    c(estimate = est, se = se)
  }
}

#' @rdname estimators
#' @export
estimator_dr_learner <- function(num.trees = 1000, min.node.size = 5, folds = 2, threads = 1,
                                 ...) {
  # every setting is checked here, when the estimator is created, not in each replicate
  need_package("ranger", "estimator_dr_learner()")
  check_size(num.trees, "num.trees")
  check_size(min.node.size, "min.node.size")
  check_size(folds, "folds", min = 2)
  check_size(threads, "threads")
  args <- check_estimate_args(list(...), "estimator_dr_learner()")
  if (!is.null(args$method) || !is.null(args$folds))
    stopf("estimator_dr_learner() sets `method` (\"aipw\") and `folds` itself; do not pass them in `...`.",
          argument = "...")
  function(data, missing = NULL) {
    fit <- do.call(estimate_ate, c(list(data = data, method = "aipw", folds = folds),
                                   with_missing_setting(args, missing)))
    a <- fit$a
    y <- fit$y
    nu <- fit$nuisance
    pseudo <- nu$Q1 - nu$Q0 + a / nu$g1 * (y - nu$Q1) - (1 - a) / nu$g0 * (y - nu$Q0)
    x <- fit$x
    names(x) <- make.names(names(x), unique = TRUE)
    forest <- ranger::ranger(x = x, y = pseudo, num.trees = num.trees,
                             min.node.size = min.node.size, keep.inbag = TRUE,
                             num.threads = sandbox_threads(threads),
                             seed = sample.int(.Machine$integer.max, 1L))
    pred <- stats::predict(forest, data = x, type = "se", se.method = "infjack",
                           num.threads = sandbox_threads(threads))
    # complete-case fits predict the kept rows only
    cate <- cate_se <- rep(NA_real_, length(fit$rows))
    cate[fit$rows] <- pred$predictions
    cate_se[fit$rows] <- pred$se
    list(estimate = fit$estimates$estimate, se = fit$estimates$se,
         cate = cate, cate_se = cate_se)
  }
}

# Constructors of the built-in estimators by name (called only for the names used, so that
# an absent optional package matters only to the estimator that needs it).
builtin_estimators <- function() {
  list(or = estimator_or, ipw = estimator_ipw, aipw = estimator_aipw,
       tmle = estimator_tmle, naive = estimator_naive,
       dr_learner = estimator_dr_learner)
}

# Estimators as a named list of functions; names given as strings map to built-ins. With
# `missing` (not NULL) every estimator that takes a `missing` argument (the built-in ones,
# and yours if you give them one) is run with that setting (see set_missing()).
resolve_estimators <- function(estimators, missing = NULL) {
  if (is.function(estimators)) estimators <- list(estimator = estimators)
  if (is.character(estimators)) {
    estimators <- as.list(estimators)
    names(estimators) <- unlist(estimators)
  }
  if (!is.list(estimators) || length(estimators) < 1L)
    stopf("`estimators` must be a non-empty list of functions(data) or names of built-in estimators.",
          argument = "estimators")
  nm <- names(estimators) %||% rep("", length(estimators))
  builtin <- builtin_estimators()
  for (i in seq_along(estimators)) {
    e <- estimators[[i]]
    if (is.character(e) && length(e) == 1L) {
      if (!e %in% names(builtin))
        stopf("Unknown estimator \"%s\"; built-in names are %s.", e,
                     paste0("\"", names(builtin), "\"", collapse = ", "))
      if (!nzchar(nm[i])) nm[i] <- e
      estimators[[i]] <- builtin[[e]]()
    } else if (!is.function(estimators[[i]])) {
      stopf("Estimator %d (%s) must be a function(data) or a built-in name, not %s.", i,
                   if (nzchar(nm[i])) nm[i] else "unnamed", describe(e))
    }
    if (!nzchar(nm[i])) nm[i] <- paste0("estimator", i)
  }
  if (anyDuplicated(nm))
    stopf("Estimator names must be unique; duplicated: %s.",
                 paste(unique(nm[duplicated(nm)]), collapse = ", "))
  names(estimators) <- nm
  lapply(estimators, set_missing, missing = missing)
}
