# Hybrid synthetic data: synthetic covariates with the treatment and outcome mechanisms
# learned on the real data (optionally targeted so the synthetic truth matches the real-data
# TMLE estimate).

#' Hybrid synthetic data with the truth attached
#'
#' Fully generative table synthesisers can reproduce every marginal of a cohort and still
#' distort its treatment effect. The hybrid remedy keeps only the synthetic covariates
#' \eqn{W^*}, learns the propensity \eqn{e(W)} and the outcome regression \eqn{Q(W, A)} on the
#' real data, then draws \eqn{A^* \sim Bern(e(W^*))} (propensities clipped to
#' \[1e-6, 1 - 1e-6\]) and \eqn{Y^*(a)} from \eqn{Q(W^*, a)}. With `targeted = TRUE` the outcome
#' regression is first updated by the TMLE logistic fluctuation
#' \eqn{logit Q^* = logit Q + \epsilon H(A, W)}, \eqn{H = A / e - (1 - A) / (1 - e)}, with
#' \eqn{\epsilon} fitted on the real data, so that the synthetic truth matches the real-data
#' TMLE estimate of the ATE. Continuous outcomes are rescaled to \[0, 1\] for the
#' fluctuation, as in the tmle package, and drawn as \eqn{Q^*(W, a)} plus Gaussian noise
#' with the residual standard deviation of the real-data outcome regression.
#'
#' @param data The real cohort (a data.frame).
#' @param treatment,outcome Column names of the binary treatment and of the outcome.
#' @param covariates Covariate column names (default: every other column).
#' @param covariate_model `"causalmix"` (covariates drawn from a [causalmix()] fit of `data`,
#'   fitted here unless `fit` is given) or `"bootstrap"` (real covariate rows resampled with
#'   replacement: a reference point that reproduces the covariate law exactly but copies
#'   real records, as its distance to closest record shows).
#' @param propensity_learner,outcome_learner Learners (see [learner_glm()]) for
#'   \eqn{e(W)} and \eqn{Q(W, A)}, fitted on the real data.
#' @param n Number of synthetic rows.
#' @param targeted Apply the TMLE fluctuation (see Details).
#' @param fit Optional [causalmix()] fit of `data` to draw the covariates from.
#' @param holdout Optional held-out real rows (same columns as `data`, not used to fit the
#'   covariate model) for the distance-to-closest-record comparison.
#' @param seed `NULL` or a whole number; the draws are reproducible from it.
#' @param missing Missing covariate values, as in [estimate_ate()]: `"indicator"` (the
#'   default: the learners of the propensity and outcome mechanisms see a mean fill plus a
#'   missingness indicator, a `"(missing)"` level for factors, learned on `data`; synthetic
#'   rows, which reproduce the missing values, are prepared the same way), `"complete_case"`
#'   (the mechanisms are learned on the rows of `data` with every covariate observed and the
#'   synthetic covariates are complete rows too: bootstrap rows are drawn from the complete
#'   rows, a causalmix draw keeps its complete rows; the truth then refers to the
#'   complete-case population) or `"fail"` (missing values are an error naming the columns).
#' @param ... Passed to [causalmix()] when the covariate model is fitted here.
#' @return A `sandbox_data` (see [new_sandbox_data()]) whose truth holds the population ATE,
#'   ATT and ATC of the hybrid process, with attribute `hybrid`: a list with `real_ate`, the
#'   ATE the process implies over the real covariates (with `targeted = TRUE` exactly the
#'   real-data TMLE estimate of [estimate_ate()] with the same learners; otherwise the
#'   outcome-regression contrast), the fluctuation parameters `epsilon` (one per arm), the
#'   covariate model and the distance to closest record of the synthetic covariates (`dcr`,
#'   see [dcr()]).
#' @examples
#' real <- as.data.frame(positivity_example_data(400, design = "rct", seed = 1))
#' real <- real[c(paste0("W", 1:6), "A", "Y")]
#' syn <- hybrid_synth(real, "A", "Y", covariate_model = "bootstrap", seed = 2)
#' truth(syn)$ate
#' attr(syn, "hybrid")$real_ate
#' @export
hybrid_synth <- function(data, treatment, outcome, covariates = NULL,
                         covariate_model = c("causalmix", "bootstrap"),
                         propensity_learner = learner_glm(), outcome_learner = learner_glm(),
                         n = nrow(data), targeted = TRUE, fit = NULL, holdout = NULL,
                         seed = NULL, missing = c("indicator", "complete_case", "fail"), ...) {
  covariate_model <- check_choice(covariate_model, c("causalmix", "bootstrap"),
                                  "covariate_model")
  missing <- check_missing_choice(missing)
  data <- check_table(data, "data", min_rows = 20L)
  refuse_survival_outcome(data, outcome, "hybrid_synth")
  schema <- sandbox_schema(data, treatment, outcome, covariates)
  # worked on as a plain data.frame; the result gets the input's class back
  data <- as.data.frame(data)
  covariates <- schema$covariates
  check_size(n, "n")
  check_flag(targeted, "targeted")
  check_learner(propensity_learner, "propensity_learner")
  check_learner(outcome_learner, "outcome_learner")
  if (!is.null(fit) && !inherits(fit, "causalmix"))
    stopf("`fit` must be NULL or a causalmix fit, not %s.", describe(fit), argument = "fit")
  if (!is.null(seed)) check_seed(seed)

  mechanisms <- learn_mechanisms(data, schema, propensity_learner, outcome_learner, targeted,
                                 missing)

  # with "complete_case" the rows the mechanisms were learned on are the population
  complete <- mechanisms$keep
  with_seed(seed, {
    synthetic_w <- switch(covariate_model,
      causalmix = {
        if (is.null(fit)) fit <- causalmix(data, treatment, outcome, covariates, ...)
        draw_covariate_rows(fit, n, covariates, complete_only = missing == "complete_case")
      },
      bootstrap = {
        rows <- which(complete)
        data[rows[sample.int(length(rows), n, replace = TRUE)], covariates, drop = FALSE]
      })
    rownames(synthetic_w) <- NULL
    # The bootstrap law is the empirical law of the real covariates: its truth is exact.
    population_w <- if (covariate_model == "bootstrap") data[complete, covariates, drop = FALSE]
      else synthetic_w
    cohort <- draw_from_mechanisms(mechanisms, synthetic_w, schema, population_w)
  })

  privacy <- dcr(data[covariates], synthetic_w,
                 holdout = if (is.null(holdout)) NULL else holdout[covariates])
  attr(cohort, "hybrid") <- list(real_ate = mechanisms$real_ate,
                                 epsilon = mechanisms$epsilon,
                                 covariate_model = covariate_model,
                                 missing = list(strategy = missing,
                                                rows_dropped = sum(!complete)),
                                 targeted = targeted, dcr = privacy)
  cohort
}

# Propensity and outcome mechanisms learned on the real data, with the TMLE fluctuation.
learn_mechanisms <- function(data, schema, propensity_learner, outcome_learner, targeted,
                             missing = "indicator") {
  covariates <- schema$covariates
  coded <- role_vectors(data, schema_roles(schema))
  binary <- schema$columns[[schema$outcome]]$type == "binary"
  family <- if (binary) "binomial" else "gaussian"

  # missing covariate values: the learners see the prepared covariates (see estimate_ate());
  # synthetic rows are prepared with the fill values learned on the real rows; with
  # "complete_case" only the complete rows (`keep`) are used
  prepared <- prepare_covariates(data[covariates], missing)
  keep <- prepared$keep
  w <- data[keep, covariates, drop = FALSE]
  a <- as.numeric(coded$a[keep])
  y <- coded$y[keep]
  propensity_fit <- propensity_learner(prepared$x, a, "binomial")
  propensity <- function(w) propensity_fit(prepared$apply(w))
  outcome_model <- outcome_learner(cbind(prepared$x, .treated = a), y, family)
  predict_q <- function(w, treated) outcome_model(cbind(prepared$apply(w), .treated = treated))

  q1 <- predict_q(w, 1)
  q0 <- predict_q(w, 0)
  # the propensity bounds and fluctuation of estimate_ate(method = "tmle"), so the targeted
  # truth equals the real-data TMLE estimate
  bounds <- propensity_bounds(NULL, length(a))
  clever <- function(w, treated) {
    g <- bounded_propensity(propensity(w), bounds)
    if (treated == 1) 1 / g$g1 else 1 / g$g0
  }
  epsilon <- c(control = 0, treated = 0)
  if (targeted) {
    fluctuation <- tmle_fluctuation(a, y, q0, q1, clever(w, 0), clever(w, 1))
    if (!fluctuation$converged || !all(is.finite(fluctuation$epsilon)))
      stopf("The TMLE fluctuation did not converge on the real data; try targeted = FALSE.",
            argument = "targeted", class = "causalsandbox_fit_error")
    epsilon <- fluctuation$epsilon
  }
  target_q <- function(w, treated) {
    q <- predict_q(w, treated)
    if (targeted) fluctuation$update(q, treated, clever(w, treated)) else q
  }
  real_ate <- mean(target_q(w, 1) - target_q(w, 0))
  residual_sd <- if (binary) NA_real_ else stats::sd(y - ifelse(a == 1, q1, q0))

  list(propensity = propensity, target_q = target_q, binary = binary,
       residual_sd = residual_sd, epsilon = epsilon, real_ate = real_ate, keep = keep)
}

# `n` covariate rows drawn from a causalmix fit; with `complete_only` the rows with a missing
# value are left out and more are drawn until `n` complete rows are at hand.
draw_covariate_rows <- function(fit, n, covariates, complete_only = FALSE) {
  w <- as.data.frame(stats::simulate(fit, nsim = n))[covariates]
  if (!complete_only) return(w)
  rows <- list(w[stats::complete.cases(w), , drop = FALSE])
  have <- nrow(rows[[1L]])
  for (attempt in seq_len(100L)) {
    if (have >= n) break
    more <- as.data.frame(stats::simulate(fit, nsim = n))[covariates]
    more <- more[stats::complete.cases(more), , drop = FALSE]
    rows[[length(rows) + 1L]] <- more
    have <- have + nrow(more)
  }
  if (have < n)
    stopf("The fit's draws have a missing covariate in almost every row, so `missing = \"complete_case\"` cannot gather %d complete rows; use `missing = \"indicator\"`.",
          as.integer(n), argument = "missing")
  utils::head(do.call(rbind, rows), n)
}

# Treatment and potential outcomes for synthetic covariates, with the truth attached. The
# population estimands average over `population_w`, a sample of (or the whole) covariate law.
draw_from_mechanisms <- function(mechanisms, w, schema, population_w = w) {
  n <- nrow(w)
  ps <- pmin(pmax(mechanisms$propensity(w), 1e-6), 1 - 1e-6)
  mu1 <- mechanisms$target_q(w, 1)
  mu0 <- mechanisms$target_q(w, 0)
  a <- stats::rbinom(n, 1, ps)
  if (mechanisms$binary) {
    mu1 <- pmin(pmax(mu1, 0), 1)
    mu0 <- pmin(pmax(mu0, 0), 1)
    y1 <- stats::rbinom(n, 1, mu1)
    y0 <- stats::rbinom(n, 1, mu0)
  } else {
    y1 <- mu1 + stats::rnorm(n, sd = mechanisms$residual_sd)
    y0 <- mu0 + stats::rnorm(n, sd = mechanisms$residual_sd)
  }
  tau <- mu1 - mu0
  y <- ifelse(a == 1, y1, y0)
  out <- w
  out[[schema$treatment]] <- decode_column(schema$columns[[schema$treatment]], a)
  out[[schema$outcome]] <- decode_column(schema$columns[[schema$outcome]], y)
  out <- out[intersect(schema$names, names(out))]
  out$.ps <- ps
  out$.mu0 <- mu0
  out$.mu1 <- mu1
  out$.tau <- tau
  # potential outcomes in the user's coding, like the observed column
  out$.y0 <- if (mechanisms$binary) decode_column(schema$columns[[schema$outcome]], y0) else y0
  out$.y1 <- if (mechanisms$binary) decode_column(schema$columns[[schema$outcome]], y1) else y1
  out <- as_input_class(out, schema$input_class)
  new_sandbox_data(out, schema_roles(schema),
                   hybrid_truth(mechanisms, population_w,
                                    exact = !identical(population_w, w)))
}

# ATE, ATT and ATC of the hybrid process over a covariate law given by a sample (Monte Carlo
# errors) or exactly by a finite population (errors zero).
hybrid_truth <- function(mechanisms, w, exact) {
  ps <- pmin(pmax(mechanisms$propensity(w), 1e-6), 1 - 1e-6)
  tau <- mechanisms$target_q(w, 1) - mechanisms$target_q(w, 0)
  mcse <- function(v) if (exact) 0 else stats::sd(v) / sqrt(length(v))
  list(ate = mean(tau), ate_mcse = mcse(tau),
       att = sum(tau * ps) / sum(ps), atc = sum(tau * (1 - ps)) / sum(1 - ps),
       att_mcse = mcse(tau * ps / mean(ps)), atc_mcse = mcse(tau * (1 - ps) / mean(1 - ps)),
       bias = 0)
}

#' Fully generative synthetic data: treatment and outcome as ordinary columns
#'
#' The baseline that hybrid synthesis improves on: a generative model of the whole table
#' in which the treatment and the outcome are modelled like any other column, as general
#' table synthesisers (CTGAN, TVAE, LLM samplers) do. Here the model is the covariate VAE of
#' [causalmix()] (mixture prior, one decoder head per column type) fitted to the covariates
#' together with copies of the treatment and the outcome; rows are drawn from the VAE alone,
#' so nothing ties the drawn outcome to the drawn treatment except what the VAE learned. The
#' propensity and outcome networks of that fit are not used. No truth is attached: the
#' effect implied by such a generator is what an estimator recovers from its draws, which is
#' the point of comparing it with [hybrid_synth()].
#'
#' @inheritParams hybrid_synth
#' @param control Settings of the VAE, from [causalmix_control()].
#' @return A data.frame with the columns of `data` used (covariates, treatment, outcome) in
#'   their original order and types, and attribute `fit`, the underlying causalmix fit.
#' @examples
#' \donttest{
#' real <- as.data.frame(positivity_example_data(300, design = "rct", seed = 1))
#' real <- real[c(paste0("W", 1:6), "A", "Y")]
#' joint <- joint_synth(real, "A", "Y", control = causalmix_control(epochs = 20, seed = 1))
#' head(joint)
#' }
#' @export
joint_synth <- function(data, treatment, outcome, covariates = NULL, n = nrow(data),
                        control = causalmix_control(), seed = NULL) {
  data <- check_table(data, "data", min_rows = 20L)
  refuse_survival_outcome(data, outcome, "joint_synth")
  schema <- sandbox_schema(data, treatment, outcome, covariates)
  data <- as.data.frame(data)
  check_size(n, "n")
  copies <- c(treatment = ".joint_treatment", outcome = ".joint_outcome")
  clash <- intersect(copies, names(data))
  if (length(clash))
    stopf("`data` must not contain the reserved column name(s) %s.", quote_names(clash),
          argument = "data", column = clash)
  table <- data[schema$names]
  table[[copies[["treatment"]]]] <- data[[treatment]]
  table[[copies[["outcome"]]]] <- data[[outcome]]
  fit <- causalmix(table, treatment, outcome,
                   covariates = c(schema$covariates, copies), control = control)
  draws <- as.data.frame(stats::simulate(fit, nsim = n, seed = seed))
  draws[[treatment]] <- draws[[copies[["treatment"]]]]
  draws[[outcome]] <- draws[[copies[["outcome"]]]]
  out <- draws[schema$names]
  rownames(out) <- NULL
  # the class of the input table, as simulate() and hybrid_synth() return it
  out <- as_input_class(out, schema$input_class)
  attr(out, "fit") <- fit
  out
}
