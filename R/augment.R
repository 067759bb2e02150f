# Targeted synthetic augmentation for positivity problems: units whose estimated propensity
# is extreme get a synthetic neighbour from the opposite arm.

#' Repair positivity problems by targeted synthetic augmentation
#'
#' Flags real units whose estimated propensity lies below `delta` or above `1 - delta`; for
#' each, adds the nearest synthetic record of the opposite arm (distances on covariates
#' standardised with the real data's statistics, categorical columns one-hot), with an
#' outcome for that arm from the generator's outcome model (`outcome_model = "generator"`)
#' or from an outcome model learned on the real data (`"real"`). Each synthetic record is
#' used at most once. The generator's outcome model is what can bring information the real
#' data lack: a generator trained on data with better overlap (a trial, a larger registry)
#' has seen both arms where the real data have only one. Added support helps when it
#' improves the estimation of the conditional effect more than it shifts the covariate law:
#' the diagnostics report both the rows added and the shift they caused.
#'
#' @inheritParams hybrid_synth
#' @param fit Where synthetic records come from: a [causalmix()] fit of `data` (a pool
#'   of `pool_size` covariate rows is drawn from its fitted covariate law; any of them may
#'   join either arm, since the added record's arm is set to the one opposite its flagged
#'   unit and its outcome is drawn for that arm), or a data.frame of synthetic records with
#'   the covariates and the treatment column (a record then only joins its own arm).
#' @param threshold `"adaptive"` for \eqn{\delta_n = 5 / (\sqrt{n} \log n)}, `"fixed"` for
#'   0.001, or a number in (0, 0.5).
#' @param pool_size Number of synthetic records drawn when `fit` is a causalmix fit.
#' @param outcome_model Where the outcomes of added records come from: `"generator"` (a
#'   causalmix fit's own outcome model, i.e. the record's simulated potential outcome under
#'   the arm it joins; for a data.frame pool, the record's own outcome column) or `"real"`
#'   (`outcome_learner` fitted on `data`, with Bernoulli or Gaussian noise).
#' @param missing Missing covariate values, as in [estimate_ate()]: `"indicator"` (the
#'   default: the propensity and outcome mechanisms see a mean fill plus a missingness
#'   indicator, so every real unit gets a propensity and may be flagged), `"complete_case"`
#'   (the mechanisms are learned on the complete rows, only complete real units are
#'   flagged and only complete synthetic records are added) or `"fail"` (an error naming
#'   the columns).
#' @param generator Deprecated name of `fit` (accepted with a warning of class
#'   `causalsandbox_deprecated_argument` until the next release).
#' @return When no unit needs augmenting, `data` unchanged (with a message saying so).
#'   Otherwise a table of class `augmented_data` in front of the class of `data` (a
#'   data.frame, a tibble or a data.table): the rows of `data` followed by the
#'   added synthetic rows, with a logical column `.synthetic` marking them, and attribute
#'   `augmentation`: the threshold, the flagged rows, the number of rows added by arm, and
#'   the covariate shift (standardised mean difference of each covariate column between the
#'   real and the augmented data).
#' @examples
#' real <- as.data.frame(positivity_example_data(200, design = "observational", seed = 3))
#' real <- real[c(paste0("W", 1:6), "A", "Y")]
#' pool <- as.data.frame(positivity_example_data(2000, design = "rct", seed = 4))
#' # the propensity model separates in data this extreme: its warnings are expected
#' augmented <- suppressWarnings(augment_overlap(real, "A", "Y",
#'   fit = pool[c(paste0("W", 1:6), "A", "Y")], seed = 5))
#' augmented
#' @export
augment_overlap <- function(data, treatment, outcome, covariates = NULL, fit,
                            threshold = "adaptive", propensity_learner = learner_glm(),
                            outcome_learner = learner_glm(), pool_size = 10 * nrow(data),
                            outcome_model = c("generator", "real"), seed = NULL,
                            missing = c("indicator", "complete_case", "fail"), generator) {
  if (!missing(generator))
    fit <- renamed_arg(generator, missing(fit), "generator", "fit", "augment_overlap")
  outcome_model <- check_choice(outcome_model, c("generator", "real"), "outcome_model")
  missing <- check_missing_choice(missing)
  data <- check_table(data, "data", min_rows = 20L)
  refuse_survival_outcome(data, outcome, "augment_overlap")
  schema <- sandbox_schema(data, treatment, outcome, covariates)
  kind <- input_class(data)
  # worked on as a plain data.frame; the result gets the input's class back
  input <- data
  data <- as.data.frame(data)
  covariates <- schema$covariates
  n <- nrow(data)
  delta <- positivity_threshold(threshold, n)
  check_size(pool_size, "pool_size")
  check_learner(propensity_learner, "propensity_learner")
  check_learner(outcome_learner, "outcome_learner")
  if (missing(fit))
    stopf("`fit` is required: a causalmix fit or a data.frame of synthetic records.",
          argument = "fit")
  if (!is.null(seed)) check_seed(seed)

  mechanisms <- learn_mechanisms(data, schema, propensity_learner, outcome_learner,
                                 targeted = FALSE, missing = missing)
  # a propensity for every unit the mechanisms cover (the complete ones with "complete_case")
  ps <- rep(NA_real_, n)
  ps[mechanisms$keep] <- mechanisms$propensity(data[mechanisms$keep, covariates, drop = FALSE])
  flagged <- which(!is.na(ps) & (ps < delta | ps > 1 - delta))
  if (!length(flagged)) {
    message(sprintf(paste0("No unit has an estimated propensity outside [%.3g, %.3g]: ",
                           "nothing to augment, the data are returned unchanged."),
                    delta, 1 - delta))
    return(input)
  }

  arm_roles <- schema_roles(schema)
  with_seed(seed, {
    pool <- synthetic_pool(fit, schema, pool_size, outcome_model)
    if (missing == "complete_case")
      pool <- pool[stats::complete.cases(pool[covariates]), , drop = FALSE]
    # records drawn from a fit carry no arm of their own: NA lets them join either arm
    pool_treated <- if (inherits(fit, "causalmix")) rep(NA, nrow(pool)) else
      treatment_01(pool, arm_roles) == 1L
    real_treated <- treatment_01(data, arm_roles) == 1L
    design <- standardised_design(data[covariates], pool[covariates])
    chosen <- nearest_unused(design$real[flagged, , drop = FALSE], design$other,
                             wanted_arm = !real_treated[flagged], pool_arm = pool_treated)
    added <- pool[chosen, covariates, drop = FALSE]
    added_treated <- as.numeric(!real_treated[flagged])
    y <- if (outcome_model == "real") {
      outcome_from_mechanisms(mechanisms, added, added_treated)
    } else if (inherits(fit, "causalmix")) {
      # potential outcomes come in the user's coding: to numbers by the input layer
      ifelse(added_treated == 1, outcome_numbers(pool$.y1[chosen], arm_roles, ".y1"),
             outcome_numbers(pool$.y0[chosen], arm_roles, ".y0"))
    } else {
      outcome_numbers(pool[[outcome]][chosen], arm_roles)
    }
  })

  added[[treatment]] <- decode_column(schema$columns[[treatment]], added_treated)
  added[[outcome]] <- decode_column(schema$columns[[outcome]], y)
  others <- setdiff(names(data), c(covariates, treatment, outcome))
  for (col in others) added[[col]] <- data[[col]][NA_integer_][seq_len(nrow(added))]
  added <- added[names(data)]
  rownames(added) <- NULL
  real <- data
  real$.synthetic <- FALSE
  added$.synthetic <- TRUE
  out <- rbind(real, added)
  rownames(out) <- NULL

  shift <- covariate_shift(data[covariates], out[covariates])
  # the class of the input (a tibble, a data.table) behind "augmented_data"
  out <- as_input_class(out, kind)
  info <- list(threshold = delta, flagged = flagged,
               added = c(treated = sum(added_treated == 1), control = sum(added_treated == 0)),
               shift = shift)
  if (kind == "data.table" && requireNamespace("data.table", quietly = TRUE)) {
    # data.table's own setters keep its internal self-reference valid
    data.table::setattr(out, "augmentation", info)
    data.table::setattr(out, "class", c("augmented_data", class(out)))
  } else {
    attr(out, "augmentation") <- info
    class(out) <- c("augmented_data", class(out))
  }
  out
}

positivity_threshold <- function(threshold, n) {
  if (identical(threshold, "adaptive")) return(propensity_bounds(NULL, n)[1L])  # TMLE's bound
  if (identical(threshold, "fixed")) return(0.001)
  if (is.numeric(threshold) && length(threshold) == 1L && !is.na(threshold) &&
      threshold > 0 && threshold < 0.5) return(threshold)
  stopf("`threshold` must be \"adaptive\", \"fixed\" or a number in (0, 0.5), not %s.",
        describe(threshold), argument = "threshold")
}

# Outcomes drawn for covariate rows `w` placed in arms `treated` by the mechanisms learned on
# the real data.
outcome_from_mechanisms <- function(mechanisms, w, treated) {
  mu <- numeric(nrow(w))
  for (arm in 0:1) {
    rows <- treated == arm
    if (any(rows)) mu[rows] <- mechanisms$target_q(w[rows, , drop = FALSE], arm)
  }
  if (mechanisms$binary) stats::rbinom(length(mu), 1, pmin(pmax(mu, 0), 1)) else
    mu + stats::rnorm(length(mu), sd = mechanisms$residual_sd)
}

# Synthetic records with the covariates and the treatment (and, for a data.frame pool whose
# outcomes are used, the outcome), from a fit or a data.frame.
synthetic_pool <- function(fit, schema, pool_size, outcome_model) {
  needed <- c(schema$covariates, schema$treatment)
  if (outcome_model == "generator" && is.data.frame(fit))
    needed <- c(needed, schema$outcome)
  if (inherits(fit, "causalmix")) {
    pool <- as.data.frame(stats::simulate(fit, nsim = pool_size))
  } else if (is.data.frame(fit)) {
    pool <- fit
  } else {
    stopf("`fit` must be a causalmix fit or a data.frame of synthetic records, not %s.",
          describe(fit), argument = "fit")
  }
  absent <- setdiff(needed, names(pool))
  if (length(absent))
    stopf("`fit` lacks the column(s) %s needed to augment (the covariates and the treatment%s).",
          quote_names(absent),
          if (outcome_model == "generator") ", and the outcome with outcome_model = \"generator\""
          else "", argument = "fit", column = absent)
  pool
}

# Covariates on a common numeric scale: numeric columns standardised with the real data's
# mean and sd, categorical columns one-hot with the real data's levels.
standardised_design <- function(real, other) {
  encode <- function(w) {
    cols <- lapply(names(real), function(name) {
      ref <- real[[name]]
      v <- w[[name]]
      if (is.numeric(ref)) {
        s <- stats::sd(ref, na.rm = TRUE)
        z <- (as.numeric(v) - mean(ref, na.rm = TRUE)) / (if (s > 0) s else 1)
        z[is.na(z)] <- 0
        matrix(z, ncol = 1)
      } else {
        levels <- if (is.factor(ref)) levels(ref) else sort(unique(as.character(ref)))
        outer(as.character(v), levels, `==`) * 1
      }
    })
    m <- do.call(cbind, cols)
    m[is.na(m)] <- 0
    m
  }
  list(real = encode(real), other = encode(other))
}

# For each query row, the index of the nearest candidate of the wanted arm (or of no arm,
# NA) that no earlier query has taken.
nearest_unused <- function(query, candidates, wanted_arm, pool_arm) {
  taken <- logical(nrow(candidates))
  chosen <- integer(nrow(query))
  for (i in seq_len(nrow(query))) {
    eligible <- which(!taken & (is.na(pool_arm) | pool_arm == wanted_arm[i]))
    if (!length(eligible))
      stopf("The synthetic pool has no unused record left in the %s arm for the flagged units; increase `pool_size` or supply a larger pool.",
            if (wanted_arm[i]) "treated" else "control", argument = "pool_size")
    d2 <- colSums((t(candidates[eligible, , drop = FALSE]) - query[i, ])^2)
    chosen[i] <- eligible[which.min(d2)]
    taken[chosen[i]] <- TRUE
  }
  chosen
}

# Standardised mean difference of each (numeric or one-hot) covariate column between the
# original and the augmented data.
covariate_shift <- function(before, after) {
  design <- standardised_design(before, after)
  sd_before <- apply(design$real, 2, stats::sd)
  sd_before[!is.finite(sd_before) | sd_before == 0] <- 1
  smd <- (colMeans(design$other) - colMeans(design$real)) / sd_before
  data.frame(column = design_column_names(before), smd = unname(smd))
}

design_column_names <- function(real) {
  unlist(lapply(names(real), function(name) {
    ref <- real[[name]]
    if (is.numeric(ref)) return(name)
    levels <- if (is.factor(ref)) levels(ref) else sort(unique(as.character(ref)))
    paste0(name, "=", levels)
  }))
}

#' @export
print.augmented_data <- function(x, n = 6, ...) {
  info <- attr(x, "augmentation")
  cat(sprintf("Augmented data: %d real rows and %d synthetic rows (%d treated, %d control)\n",
              sum(!x$.synthetic), sum(x$.synthetic), info$added[["treated"]],
              info$added[["control"]]))
  cat(sprintf("Flagged %d units with estimated propensity outside [%.3g, %.3g]\n",
              length(info$flagged), info$threshold, 1 - info$threshold))
  worst <- info$shift[order(-abs(info$shift$smd)), ][seq_len(min(5, nrow(info$shift))), ]
  cat("Largest covariate shifts (standardised mean difference, augmented vs real):\n")
  print(worst, row.names = FALSE, digits = 3)
  cat("\n")
  print(utils::head(as.data.frame(x), n), ...)
  invisible(x)
}

#' @export
as.data.frame.augmented_data <- function(x, ...) {
  attr(x, "augmentation") <- NULL
  class(x) <- "data.frame"
  x
}
