# Checks of a fitted causalmix() model and its table that do not stop the fit but that a user
# must hear about: raised as warnings at fit time, kept in the fit and repeated by print().

# Smallest number of rows an arm needs before its outcome head is more than a guess.
min_arm_rows <- 20L

# Categorical covariates with more levels than this get a warning: one network input per
# level, and most levels rest on a handful of rows.
many_levels <- 50L

# Learned propensities outside [extreme_ps, 1 - extreme_ps] on more than extreme_share of the
# rows, and on at least extreme_rows of them (a few rows of a small, briefly trained fit are
# noise): a positivity problem worth a warning (on lalonde 23% of the rows, on
# survival::rotterdam 54-65%; none on the bundled cohort or NHEFS).
extreme_ps <- 0.01
extreme_share <- 0.01
extreme_rows <- 10L

# Character vector of warnings about the table `data` (roles from `schema`) and the held-out
# losses of the networks `nets` of `fit`.
fit_warnings <- function(fit, data, nets = c("propensity", "outcome")) {
  schema <- fit$schema
  out <- character(0)
  id_like <- Filter(function(name) is_id_like(data[[name]]), schema$covariates)
  if (length(id_like))
    out <- c(out, sprintf(paste0("Covariate%s %s look%s like a row identifier (one distinct ",
                                 "value per row, or a running integer); drop %s from ",
                                 "`covariates`: the model learns nothing from an identifier."),
                          if (length(id_like) > 1L) "s" else "", quote_names(id_like),
                          if (length(id_like) > 1L) "" else "s",
                          if (length(id_like) > 1L) "them" else "it"))
  wide <- Filter(function(name) {
    col <- schema$columns[[name]]
    identical(col$type, "categorical") && length(col$levels) > many_levels
  }, schema$covariates)
  for (name in wide) {
    counts <- schema$columns[[name]]$counts
    out <- c(out, sprintf(paste0("Covariate `%s` has %d levels (%d of them with fewer than 10 ",
                                 "rows): the networks take one input per level, which slows ",
                                 "training, and rare levels are learned poorly; consider ",
                                 "grouping rare levels."), name, length(counts),
                          sum(counts < 10L)))
  }
  treated <- sum(fit$treatment_observed == 1)
  arms <- c(treated = treated, control = fit$n - treated)
  small <- arms[arms < min_arm_rows]
  if (length(small))
    out <- c(out, sprintf(paste0("The %s arm of `%s` has %d row%s (fewer than %d): its ",
                                 "outcome head and the propensity at that end rest on very ",
                                 "few rows."),
                          names(small), schema$treatment, small,
                          ifelse(small == 1L, "", "s"), min_arm_rows))
  ps <- fit$fitted$ps
  extreme <- sum(ps < extreme_ps | ps > 1 - extreme_ps)
  if (extreme > extreme_share * length(ps) && extreme >= extreme_rows)
    out <- c(out, sprintf(paste0("%.1f%% of the rows (%d of %d) have a learned propensity below ",
                                 "%g or above %g: there the other arm is (almost) never seen, ",
                                 "so effects are the outcome network's extrapolation, and ",
                                 "estimators on draws at the learned overlap may be far from ",
                                 "the truth. Consider `overlap` in simulate() and ",
                                 "augment_overlap()."),
                          100 * extreme / length(ps), extreme, length(ps), extreme_ps,
                          1 - extreme_ps))
  best <- best_losses(fit)
  constant <- constant_losses(fit)
  for (net in nets) {
    if (is.finite(constant[[net]]) && is.finite(best[[net]]) && best[[net]] >= constant[[net]])
      out <- c(out, sprintf(paste0("The %s net's held-out loss (%.4f per row) is no better ",
                                   "than a constant model's (%.4f): it has learned nothing ",
                                   "from the covariates (too few rows or epochs, or no ",
                                   "signal)."), net, best[[net]], constant[[net]]))
  }
  out
}

# One distinct value per row (integers, strings, factor levels), or whole numbers that run
# in steps of one: a record number rather than a measurement.
is_id_like <- function(x) {
  x <- x[!is.na(x)]
  n <- length(x)
  if (n < 20L) return(FALSE)
  if (is.factor(x) || is.character(x)) return(length(unique(x)) == n)
  if (!is.numeric(x) || any(x != round(x))) return(FALSE)
  if (length(unique(x)) == n) return(TRUE)
  v <- sort(unique(x))
  length(v) > n / 2 && all(diff(v) == 1) && identical(x, sort(x))
}

# Held-out losses per row of the best constant predictions: the treated share (propensity
# cross-entropy), and the outcome's mean (Bernoulli cross-entropy for a binary outcome,
# Gaussian negative log-likelihood of the standardised outcome, or of its normal scores when
# transformed, otherwise). A constant has
# one parameter, so its loss on the training rows stands for its held-out loss. NA for a
# semicontinuous outcome, whose law has no one-parameter constant.
constant_losses <- function(fit) {
  entropy <- function(p) if (p <= 0 || p >= 1) 0 else -(p * log(p) + (1 - p) * log(1 - p))
  outcome <- if (fit$model$outcome_binary == 1L) entropy(fit$outcome_share)
    else if (isTRUE(fit$model$outcome_mass == 1L)) NA_real_
    else if (outcome_transformed(fit)) fit$constant_outcome_loss
    else 0.5 * log(2 * pi) + 0.5
  c(propensity = entropy(fit$treated_share), outcome = outcome)
}
