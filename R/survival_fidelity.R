# fidelity() for a time-to-event outcome: Kaplan-Meier curves by arm, real against synthetic.

#' Fidelity of a synthetic cohort with a time-to-event outcome
#'
#' What [fidelity()] does with `outcome = c(time = , event = )`: every check of [fidelity()]
#' on the columns (the time and event columns compared as ordinary columns, no
#' single-outcome causal check), plus Kaplan-Meier curves of each arm in the real and the
#' synthetic table: their largest vertical distance up to the horizon (the
#' Kolmogorov-Smirnov distance of the two curves), the restricted mean survival time of each
#' arm and its difference (treated - control) up to the horizon, the event share and the
#' censoring share. The horizon is the 0.75 quantile of the real follow-up times (the default
#' of [causalmix()] fits) unless given.
#'
#' @inheritParams fidelity
#' @param treatment Name of the treatment column (two values).
#' @param outcome `c(time = , event = )`: the follow-up time and the event indicator
#'   (0/1 or logical).
#' @param horizon `NULL` or the time up to which curves and restricted means are compared.
#' @param ... Further arguments of [fidelity()].
#' @return A `sandbox_fidelity` (class `sandbox_fidelity_survival` in front) with `survival`
#'   (a data.frame of the quantities above, real and synthetic), `km` (the curves) and the
#'   distances and gaps in `table`. `plot(x, which = "km")` draws the curves.
#' @examples
#' set.seed(1)
#' make <- function(n) {
#'   d <- data.frame(x = rnorm(n), a = rbinom(n, 1, 0.5))
#'   te <- rexp(n, 0.01 * exp(0.5 * d$x - 0.3 * d$a))
#'   d$time <- pmin(te, 100)
#'   d$status <- as.integer(te <= 100)
#'   d
#' }
#' f <- fidelity(make(300), make(300), treatment = "a",
#'               outcome = c(time = "time", event = "status"), threads = 1)
#' f$survival
#' @export
fidelity_survival <- function(real, synthetic, treatment, outcome, horizon = NULL, ...) {
  if (is.null(treatment))
    stopf("`outcome` needs `treatment` too: the curves are compared by arm.",
          argument = "treatment")
  check_string(treatment, "treatment")
  if (!is.null(names(outcome)) && setequal(names(outcome), c("time", "event")))
    outcome <- outcome[c("time", "event")]
  for (label in c("real", "synthetic")) {
    d <- get(label)
    if (!is.data.frame(d))
      stopf("`%s` must be a data.frame, not %s.", label, describe(d), argument = label)
    so <- survival_outcome(d, outcome)
    check_survival_values(so)
    if (!treatment %in% names(d))
      stopf("`treatment` names a column not in `%s`: \"%s\".", label, treatment,
            argument = "treatment", column = treatment)
  }
  base <- fidelity(real, synthetic, treatment = treatment, outcome = NULL, ...)
  # the arms of both tables by the treatment coding of `real` (the input layer's reading)
  arm_roles <- list(treatment = treatment,
                    treatment_levels = treatment_coding(real[[treatment]], treatment)$levels)
  follow <- function(d) list(time = as.double(d[[outcome[[1L]]]]),
                             event = as.double(d[[outcome[[2L]]]]),
                             arm = treatment_01(d, arm_roles))
  r <- follow(real)
  s <- follow(synthetic)
  if (is.null(horizon)) horizon <- stats::quantile(r$time, survival_horizon_quantile,
                                                   names = FALSE, type = 1)
  check_number(horizon, "horizon", lower = 0, lower_open = TRUE)
  km <- list()
  rows <- list()
  distance <- c(control = NA_real_, treated = NA_real_)
  for (arm in 0:1) {
    kr <- km_curve(r$time[r$arm == arm], r$event[r$arm == arm])
    ks <- km_curve(s$time[s$arm == arm], s$event[s$arm == arm])
    grid <- sort(unique(c(0, kr$time, ks$time, horizon)))
    grid <- grid[grid <= horizon]
    distance[arm + 1L] <- max(abs(km_at(kr, grid) - km_at(ks, grid)))
    km[[c("control", "treated")[arm + 1L]]] <- list(real = kr, synthetic = ks)
    rows[[arm + 1L]] <- c(rmst_km(kr, horizon), rmst_km(ks, horizon))
  }
  rmst <- do.call(rbind, rows)
  survival <- data.frame(
    quantity = c("event share", "censoring share", "RMST, control", "RMST, treated",
                 "RMST difference (treated - control)",
                 "KM risk at the horizon, control", "KM risk at the horizon, treated"),
    real = c(mean(r$event), mean(r$event == 0), rmst[1, 1], rmst[2, 1],
             rmst[2, 1] - rmst[1, 1], 1 - km_at(km$control$real, horizon),
             1 - km_at(km$treated$real, horizon)),
    synthetic = c(mean(s$event), mean(s$event == 0), rmst[1, 2], rmst[2, 2],
                  rmst[2, 2] - rmst[1, 2], 1 - km_at(km$control$synthetic, horizon),
                  1 - km_at(km$treated$synthetic, horizon)),
    stringsAsFactors = FALSE)
  extra <- data.frame(
    metric = c("KM largest vertical distance, control arm",
               "KM largest vertical distance, treated arm",
               "RMST difference gap |synthetic - real| / horizon",
               "censoring share gap |synthetic - real|"),
    value = c(distance[["control"]], distance[["treated"]],
              abs(survival$synthetic[5] - survival$real[5]) / horizon,
              abs(survival$synthetic[2] - survival$real[2])),
    better = "lower", stringsAsFactors = FALSE)
  base$table <- rbind(base$table, extra)
  base$survival <- survival
  base$km <- km
  base$horizon <- horizon
  base$time_event <- outcome
  class(base) <- c("sandbox_fidelity_survival", class(base))
  base
}

# Kaplan-Meier curve: event times and the survival just after each.
km_curve <- function(time, event) {
  o <- order(time)
  time <- time[o]
  event <- event[o]
  jumps <- sort(unique(time[event == 1]))
  n_risk <- length(time) - findInterval(jumps, time, left.open = TRUE)
  deaths <- tabulate(match(time[event == 1], jumps), length(jumps))
  list(time = jumps, surv = cumprod(1 - deaths / n_risk))
}

# The curve's survival at times s (right-continuous step function, 1 before the first event).
km_at <- function(curve, s) c(1, curve$surv)[findInterval(s, curve$time) + 1L]

# Restricted mean survival time up to tau: the area under the step function.
rmst_km <- function(curve, tau) {
  t <- c(0, curve$time[curve$time < tau], tau)
  s <- c(1, curve$surv[curve$time < tau])
  sum(diff(t) * s)
}

#' @export
print.sandbox_fidelity_survival <- function(x, digits = 3, ...) {
  NextMethod()
  cat(sprintf("\nTime to event (`%s`, event `%s`), by arm of `%s`, up to %s\n",
              x$time_event[[1L]], x$time_event[[2L]], x$treatment, format(signif(x$horizon, 4))))
  tab <- x$survival
  tab$real <- formatC(tab$real, digits = digits, format = "g")
  tab$synthetic <- formatC(tab$synthetic, digits = digits, format = "g")
  print(tab, row.names = FALSE, right = FALSE)
  invisible(x)
}

#' @export
plot.sandbox_fidelity_survival <- function(x, which = c("km", "marginals"), ...) {
  if ("km" %in% which) {
    old <- graphics::par(mfrow = c(1, 2), mar = c(4, 4, 2.5, 1))
    on.exit(graphics::par(old))
    for (arm in c("control", "treated")) {
      k <- x$km[[arm]]
      graphics::plot(c(0, k$real$time), c(1, k$real$surv), type = "s", ylim = c(0, 1),
                     xlim = c(0, x$horizon), col = "grey30", lwd = 2, xlab = "time",
                     ylab = "survival", main = sprintf("Kaplan-Meier, %s arm", arm))
      graphics::lines(c(0, k$synthetic$time), c(1, k$synthetic$surv), type = "s",
                      col = "firebrick", lwd = 2, lty = 2)
      graphics::legend("bottomleft", c("real", "synthetic"), col = c("grey30", "firebrick"),
                       lty = 1:2, lwd = 2, bty = "n", cex = 0.8)
    }
  }
  rest <- setdiff(which, "km")
  if (length(rest)) NextMethod(which = rest)
  invisible(x)
}
