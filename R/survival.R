# Time-to-event outcomes in causalmix(): the outcome specification (time and event columns or
# a survival::Surv column) and the survival model fitted in C (src/survival_model.c).
#
# Model. For each arm t and covariates x, the event time T(t) | x and the censoring time
# C | x have piecewise-constant hazards on a grid of intervals (piecewise-exponential laws):
# the event grid cuts at quantiles of the observed event times, the censoring grid at
# quantiles of the observed censoring times, the last interval of each open to infinity. One
# dense network of the covariate features gives the log hazard of every interval, arm and law;
# it is trained on the censored likelihood, which factorises into an event and a censoring
# part because censoring is taken independent of the event time given x and the arm (the
# assumption every covariate-adjusted survival analysis makes). Follow-up ends at the largest
# observed time (`end`): rows censored there are censored by the end of follow-up, not by a
# censoring event, and drawn censoring times beyond it are set to it, so drawn cohorts have
# the data's administrative censoring.

# The survival outcome described by `outcome`, or NULL for an ordinary outcome: a character
# vector c(time = , event = ) (names optional, in that order) or the name of a Surv column.
# How printed output names a follow-up: its time and event columns, or one Surv column (whose
# fit stores its name as both).
follow_up_label <- function(time, event) {
  if (identical(time, event)) sprintf("Surv column `%s`", time)
  else sprintf("time `%s`, event `%s`", time, event)
}

# Refuses a time-to-event `outcome` (c(time = , event = ) or a Surv column) in a function whose
# outcome models are for binary or numeric outcomes only.
refuse_survival_outcome <- function(data, outcome, fn) {
  surv_column <- is.character(outcome) && length(outcome) == 1L && !is.na(outcome) &&
    is.data.frame(data) && inherits(data[[outcome]], "Surv")
  if ((is.character(outcome) && length(outcome) == 2L) || surv_column)
    stopf("%s() does not take a time-to-event outcome (`outcome` = c(time = , event = ) or a Surv column): its outcome models are for a binary or numeric outcome. For time-to-event cohorts use causalmix() and simulate().",
          fn, argument = "outcome", column = if (surv_column) outcome)
  invisible(NULL)
}

survival_outcome <- function(data, outcome) {
  if (!is.data.frame(data) || !is.character(outcome) || anyNA(outcome)) return(NULL)
  if (length(outcome) == 1L) {
    if (!inherits(data[[outcome]], "Surv")) return(NULL)
    s <- data[[outcome]]
    if (!identical(attr(s, "type"), "right"))
      stopf("The Surv column `%s` has censoring type \"%s\"; only right censoring is supported.",
            outcome, attr(s, "type"), argument = "outcome", column = outcome)
    return(list(time = outcome, event = outcome, surv = outcome,
                times = as.double(s[, 1L]), events = as.double(s[, 2L])))
  }
  if (length(outcome) != 2L) return(NULL)
  nm <- names(outcome)
  if (!is.null(nm) && all(nzchar(nm))) {
    if (!setequal(nm, c("time", "event")))
      stopf("A time-to-event `outcome` must be c(time = \"...\", event = \"...\"), not names %s.",
            paste(nm, collapse = ", "), argument = "outcome")
    outcome <- outcome[c("time", "event")]
  }
  for (col in outcome)
    if (!col %in% names(data))
      stopf("`outcome` names column `%s`, which is not in `data`.", col, argument = "outcome",
            column = col)
  time <- data[[outcome[[1L]]]]
  event <- data[[outcome[[2L]]]]
  if (!is.numeric(time))
    stopf("The time column `%s` must be numeric, not %s.", outcome[[1L]], class(time)[1L],
          argument = "outcome", column = outcome[[1L]])
  if (!(is.logical(event) || (is.numeric(event) && all(event %in% c(0, 1, NA)))))
    stopf("The event column `%s` must be 0/1 or logical.", outcome[[2L]],
          argument = "outcome", column = outcome[[2L]])
  list(time = unname(outcome[[1L]]), event = unname(outcome[[2L]]), surv = NULL,
       times = as.double(time), events = as.double(event))
}

# Checks the follow-up of a survival outcome: no missing values, times finite and >= 0.
check_survival_values <- function(so) {
  if (anyNA(so$times) || anyNA(so$events))
    stopf("The outcome columns (%s) have missing values; causalmix() never drops rows.",
          paste(unique(c(so$time, so$event)), collapse = ", "), argument = "outcome",
          column = so$time)
  if (any(!is.finite(so$times)) || any(so$times < 0))
    stopf("The time column `%s` must hold finite times >= 0.", so$time, argument = "outcome",
          column = so$time)
  if (sum(so$events) < 2L)
    stopf("The event column `%s` has %d events; a survival model needs at least 2.", so$event,
          as.integer(sum(so$events)), argument = "outcome", column = so$event)
  if (max(so$times) <= 0)
    stopf("The time column `%s` has no positive time.", so$time, argument = "outcome",
          column = so$time)
}

# Cut points (starting at 0) of a grid of at most `intervals` intervals holding equal shares
# of the times `t` (on the engine's scale).
survival_grid <- function(t, intervals) {
  t <- t[t > 0]
  if (length(t) < 2L || intervals < 2L) return(0)
  cuts <- unique(stats::quantile(t, seq_len(intervals - 1L) / intervals, names = FALSE,
                                 type = 1))
  c(0, cuts[cuts > 0])
}

# Intervals of a grid: one per `events_per_interval` observed times, between 2 and 12.
grid_intervals <- function(count, events_per_interval = 40) {
  as.integer(max(2, min(12, floor(count / events_per_interval))))
}

# Share of follow-up summaries of a survival outcome (what the schema reports).
survival_summary <- function(times, events, end) {
  list(n = length(times), events = sum(events), event_share = mean(events),
       censoring_share = mean(events == 0),
       censored_at_end_share = mean(events == 0 & times >= end),
       follow_up = stats::quantile(times, c(0, 0.25, 0.5, 0.75, 1), names = TRUE),
       end = end)
}

# causalmix() for a time-to-event outcome: the covariate model, prior and propensity are
# fitted by the ordinary path (its outcome network learns P(event observed | x, t), which
# draws do not use), then the survival model on the same features.
causalmix_survival <- function(data, treatment, so, covariates, control, types, dots) {
  check_survival_values(so)
  outcome_columns <- unique(c(so$time, so$event))
  if (treatment %in% outcome_columns)
    stopf("`treatment` must not be an outcome column.", argument = "treatment")
  if (is.null(covariates)) covariates <- setdiff(names(data), c(treatment, outcome_columns))
  if (any(covariates %in% outcome_columns))
    stopf("`covariates` must not include the outcome columns (%s).",
          paste(outcome_columns, collapse = ", "), argument = "covariates")
  event_column <- if (is.null(so$surv)) so$event else so$surv
  work <- data[c(covariates, treatment)]
  work[[event_column]] <- if (is.null(so$surv)) data[[so$event]] else as.integer(so$events)
  control <- update_control(control, dots)
  # the outcome net of this fit learns P(event observed | x, t), which nothing uses: no
  # warning that it learned nothing
  fit <- fit_causalmix(work, treatment, event_column, covariates, control, types, call = NULL,
                       outcome_net_used = FALSE)

  unit <- max(so$times)
  times <- so$times / unit
  events <- as.integer(so$events)
  end <- 1
  censor_events <- events == 0L & times < end
  cut_event <- survival_grid(times[events == 1L], grid_intervals(sum(events)))
  cut_censor <- survival_grid(times[censor_events], grid_intervals(sum(censor_events)))
  encoded <- encode_table(fit$schema, work)
  arm <- as.integer(encoded$t)
  n <- nrow(data)
  seed <- engine_seed(control$seed)
  n_valid <- floor(n * control$validation_share)
  valid <- integer(n)
  if (n_valid > 0) valid[with_seed(seed[1L], sample.int(n, n_valid))] <- 1L
  q <- 4L  # risk scores: event arm 0, event arm 1, censoring arm 0, censoring arm 1
  hidden <- fit$settings$hidden
  surv <- list(J_event = length(cut_event), J_censor = length(cut_censor),
               cut_event = cut_event, cut_censor = cut_censor, end = end,
               leaky_slope = fit$model$leaky_slope,
               net = list(sizes = as.integer(c(fit$model$propensity$sizes[1L], hidden, q)),
                          activations = as.integer(c(rep(2L, length(hidden)), 0L))))
  settings <- list(epochs = as.integer(control$epochs %||% 200L),
                   batch_size = as.integer(min(64L, n - n_valid)),
                   patience = as.integer(max(control$patience, 20L)),
                   learning_rate = control$learning_rate, weight_decay = 0)
  started <- proc.time()[["elapsed"]]
  # the network reads the covariates as the other networks do: continuous columns with a
  # marginal transform as their normal scores (network_inputs()), as the tiled draws give them
  res <- .Call(C_survival_train, fit$model, surv, network_inputs(fit$model, encoded$x),
               encoded$missing, arm, times,
               events, valid, settings, seed)
  surv$net$params <- res$params
  surv$baseline <- res$baseline
  history <- t(res$history[, seq_len(res$epochs_run), drop = FALSE])
  spec_time <- if (is.null(so$surv)) data[[so$time]] else NULL
  fit$survival <- c(surv, list(
    time = so$time, event = so$event, surv_column = so$surv,
    names = names(data)[names(data) %in% c(covariates, treatment, outcome_columns)],
    time_integer = is.integer(spec_time),
    time_whole = all(so$times == round(so$times)),
    event_storage = if (is.null(so$surv)) typeof(data[[so$event]]) else "Surv",
    unit = unit,
    horizon = stats::quantile(so$times, survival_horizon_quantile, names = FALSE, type = 1),
    history = data.frame(epoch = seq_len(res$epochs_run), train = history[, 1],
                         valid = history[, 2]),
    best_epoch = res$best_epoch, seconds = proc.time()[["elapsed"]] - started,
    summary = survival_summary(so$times, events, unit),
    # for predict(), summary() and plot(): the training rows' risk scores, the data's
    # Kaplan-Meier curves by arm and the quantiles of its follow-up times
    km = km_by_arm(so$times, events, arm),
    follow_up_quantiles = stats::quantile(so$times, seq(0, 1, by = 0.01), names = FALSE)))
  # the survival network reads network_inputs() (fits made before 2026-12-06 read the raw
  # encoded covariates; check_survival_inputs() refuses them where that matters)
  fit$survival$network_inputs <- TRUE
  fit$survival$fitted_scores <- survival_scores(fit, encoded$x, encoded$missing)
  fit$schema$survival <- fit$survival$summary
  class(fit) <- c("causalmix_survival", class(fit))
  fit
}

# Kaplan-Meier curves of each arm: time, survival after each distinct event time, arm.
km_by_arm <- function(times, events, arm) {
  do.call(rbind, lapply(0:1, function(a) {
    t <- times[arm == a]
    d <- events[arm == a]
    u <- sort(unique(t[d == 1]))
    at_risk <- length(t) - findInterval(u, sort(t), left.open = TRUE)
    dead <- tabulate(match(t[d == 1], u), length(u))
    data.frame(arm = rep(a, length(u)), time = u, surv = cumprod(1 - dead / at_risk))
  }))
}

# The four risk scores (event arm 0, event arm 1, censoring arm 0, censoring arm 1) of rows of
# encoded covariates: the log hazards less the baselines of the first interval of each.
survival_scores <- function(fit, x, missing, threads = NULL) {
  s <- fit$survival
  lh <- survival_log_hazards(fit, x, missing, threads)
  Je <- s$J_event
  first <- c(1L, Je + 1L, 2L * Je + 1L, 2L * Je + s$J_censor + 1L)
  sweep(lh[, first, drop = FALSE], 2L, s$baseline[first])
}

# The default horizon is this quantile of the observed follow-up times.
survival_horizon_quantile <- 0.75

# Fits made before the survival network read network_inputs() differ only when a covariate
# has a marginal transform; those are refused with the remedy.
check_survival_inputs <- function(fit) {
  if (!isTRUE(fit$survival$network_inputs) && any((fit$model$marginal$knots %||% 0L) > 0L))
    stopf(paste0("This time-to-event fit was made by an earlier version of causalsandbox ",
                 "whose survival network read the covariates before their marginal ",
                 "transforms; fit it again with causalmix()."), argument = "fit")
  invisible(fit)
}

# Log hazards (n x outputs) of the survival network at encoded covariates.
survival_log_hazards <- function(fit, x, missing, threads = NULL) {
  check_survival_inputs(fit)
  t(.Call(C_survival_predict, fit$model, fit$survival, network_inputs(fit$model, x), missing,
          sandbox_threads(threads)))
}

#' @export
print.causalmix_survival <- function(x, ...) {
  NextMethod()
  s <- x$survival
  sm <- s$summary
  cat(sprintf(paste0("Time-to-event outcome: %s; %d events (%.1f%%), ",
                     "%.1f%% censored (%.1f%% at the end of follow-up, %s)\n"),
              follow_up_label(s$time, s$event), as.integer(sm$events), 100 * sm$event_share,
              100 * sm$censoring_share, 100 * sm$censored_at_end_share,
              format(signif(sm$end, 6))))
  cat(sprintf("Follow-up quartiles: %s\n", paste(format(signif(sm$follow_up, 4)),
                                                 collapse = " / ")))
  cat(sprintf(paste0("Survival model: piecewise-exponential event (%d intervals) and censoring ",
                     "(%d intervals) hazards per arm, risk-score network %s; best epoch %d of %d; ",
                     "default horizon %s (%g quantile of follow-up)\n"),
              s$J_event, s$J_censor, paste(s$net$sizes, collapse = "-"), s$best_epoch,
              nrow(s$history), format(signif(s$horizon, 6)), survival_horizon_quantile))
  invisible(x)
}
