# simulate() on a causalmix fit: synthetic cohorts with independent causal knobs and the truth.
#
# Order of a draw (DESIGN.md, "Data flow" and "Knobs"): z ~ mixture prior, x ~ p(x | z),
# T ~ Bernoulli(e*(x)), Y(0), Y(1) from the knob-modified outcome model, Y = Y(T).
# Population quantities (the centring of the knobs, the true ATE/ATT/ATC, E[k(X)]) are
# averages over a fixed reference draw from the fitted covariate law, recomputed
# deterministically from a seed stored in the fit; sample rows only use their own random
# stream, so chunks drawn with offsets concatenate exactly to a single call.

#' Draw a synthetic cohort with known truth from a CausalMix fit
#'
#' Draws covariates from the fitted covariate model, then the treatment from the
#' (knob-modified) propensity model and both potential outcomes from the (knob-modified)
#' outcome model. Each knob changes one factor of p(x) e(t | x) p(y0, y1 | x, t), so the
#' knobs are independent, and none needs a refit:
#' * `overlap = s` sets the propensity logit to c_s + s (eta(x) - mean eta), where c_s keeps
#'   the treated share of the fitted data: `s = 1` is the learned propensity (its logit moved
#'   by the constant that restores the data's treated share over the fitted covariate law),
#'   `s = 0` a randomised trial, `s > 1` poorer overlap. An [overlap_target()] is solved for
#'   s.
#' * `ate = a` and `heterogeneity = h` make the conditional effect
#'   tau*(x) = a + h (tau(x) - mean tau) (`a` defaults to the learned mean effect);
#'   `effect`, a function of the covariate data.frame, replaces tau* outright. The control
#'   mean m_0(x) is kept and m_1*(x) = m_0(x) + tau*(x).
#' * `confounding = k` (a number or a function of the covariate data.frame) adds unmeasured
#'   confounding of known size: Y(t) = m_t*(x) + k(x) (T - e*(x)) + noise, so E\[Y(t) | x\]
#'   is unchanged while E\[Y(t) | x, T = 1\] - E\[Y(t) | x, T = 0\] = k(x): every
#'   covariate-adjusted estimator of the ATE converges to ATE + E\[k(X)\].
#'
#' @section Binary outcomes: with the default `effect_scale = "logit"` the effect knobs act
#'   on the log odds: logit m_1*(x) = logit m_0(x) + c + h (lambda(x) - mean lambda), where
#'   lambda(x) = logit m_1(x) - logit m_0(x) is the learned conditional log odds ratio and c
#'   is solved (monotone root finding over the reference draw) so that the population ATE,
#'   the risk difference mean(m_1* - m_0), equals `ate` (to 1e-10); `ate = NULL` keeps the
#'   learned ATE at every h. `heterogeneity = 0` gives a constant conditional odds ratio and
#'   `1` the learned one. Any `ate` strictly inside (-mean m_0, 1 - mean m_0) is feasible.
#'   `effect` returns the conditional log odds ratio of each row (any real value).
#'   `effect_scale = "difference"` uses the risk-difference form above instead; it refuses
#'   knobs that would push a probability of the reference draw or of the drawn rows outside
#'   \[0, 1\].
#'
#'   A number `confounding = k` is shaped to the room each row has:
#'   k(x) = k w(x) / mean w, where w(x) is the largest |k| of that sign keeping the four
#'   probabilities m_t*(x) + k (T - e*(x)) (both arms, both T) in \[0, 1\]. Then
#'   E\[k(X)\] = k exactly and every row is feasible; the largest feasible |k| is mean w
#'   (see [knob_limits()]). The column `.k` shows k(x). A function k(x) is used as given
#'   and refused if some probability of the reference draw or of the drawn rows leaves
#'   \[0, 1\].
#'
#'   With these defaults whether knobs are accepted depends only on the fit and the knobs,
#'   never on `seed` or `nsim`; infeasible knobs raise an error of class
#'   `causalsandbox_knob_error` that points to [knob_limits()]. [truth()] also reports the
#'   marginal risk ratio and odds ratio.
#'
#' The population constants of a knob setting (centring, intercept, shift, room) are solved
#' once per fit and setting and cached for the session, so repeated draws (a study's
#' replicates) do not solve them again.
#'
#' For a numeric outcome decoded through its marginal transform (the default, see
#' [causalmix()]) and for a semicontinuous outcome without it, the draw of Y(t) from the
#' learned law, point masses and bounds included, is moved as
#' a whole by m_t*(x) - m_t(x) + k(x) (T - e*(x)), the change of its mean that the knobs ask
#' for: E\[Y(t) | x\] = m_t*(x) holds exactly and the confounding term acts as above. At the
#' default knobs the move is exactly 0, so the draws have the data's point masses and stay
#' within its observed range; a knob that moves a row's mean moves that row's point mass and
#' bounds with it (an effect of +100 on earnings puts the treated arm's zeros at 100). Means over "the fitted covariate law" use
#' a fixed reference draw of 20,000 rows (its Monte Carlo error is reported in [truth()]).
#'
#' @param object A [causalmix()] fit.
#' @param nsim Number of rows to draw (default: the rows of the fitted data).
#' @param seed `NULL` or a whole number; with `NULL` the draw is controlled by [set.seed()].
#' @param overlap A number s >= 0, or an [overlap_target()].
#' @param ate `NULL` (the learned mean effect) or the average treatment effect to impose.
#' @param heterogeneity A number h >= 0 scaling the learned effect heterogeneity (0 gives a
#'   constant effect; for a binary outcome a constant odds ratio).
#' @param effect `NULL` or a function of the covariate data.frame returning the conditional
#'   effect of every row (replaces `ate` and `heterogeneity`); for a binary outcome on the
#'   logit scale, the conditional log odds ratio.
#' @param confounding A number or a function of the covariate data.frame returning k(x)
#'   (for a binary outcome a number is shaped to each row's room, see the section).
#' @param effect_scale For a binary outcome, `"logit"` (default) or `"difference"`: the scale
#'   on which `ate`, `heterogeneity` and `effect` act (see the section Binary outcomes).
#'   Other outcomes take only `NULL` or `"difference"`.
#' @param offset Row offset: row i of this call uses the random stream of row `offset + i`,
#'   so draws of rows 1..n and n+1..2n with offsets 0 and n concatenate to one draw of 2n rows
#'   (with the same `seed`).
#' @param threads Threads (see [sandbox_threads()]); results do not depend on it.
#' @param ... Unused.
#' @return A `sandbox_data` (see [new_sandbox_data()]): the columns of the fitted data (same
#'   names, types, levels, missing values at learned rates) plus `.ps`, `.mu0`, `.mu1`,
#'   `.tau`, `.y0`, `.y1` (and `.k` when confounding is on), with the truth in [truth()].
#'   For an outcome whose observed values are whole numbers `.y0` and `.y1` are rounded too.
#' @examples
#' set.seed(1)
#' n <- 500
#' d <- data.frame(x = rnorm(n), z = rbinom(n, 1, 0.5))
#' d$t <- rbinom(n, 1, plogis(d$x))
#' d$y <- d$x + (1 + d$z) * d$t + rnorm(n)
#' fit <- causalmix(d, "t", "y", epochs = 20, hidden = 16, threads = 1)
#' cohort <- simulate(fit, nsim = 1000, seed = 2, ate = 2, overlap = 0.5,
#'                    confounding = 0.3, threads = 1)
#' truth(cohort)
#' @importFrom stats simulate
#' @export
simulate.causalmix <- function(object, nsim = object$n, seed = NULL, overlap = 1, ate = NULL,
                               heterogeneity = 1, effect = NULL, confounding = 0,
                               effect_scale = NULL, offset = 0, threads = NULL, ...) {
  extra <- list(...)
  if (length(extra))
    stopf("Unknown argument%s to simulate(): %s.", if (length(extra) > 1L) "s" else "",
          paste(names(extra) %||% "(unnamed)", collapse = ", "), argument = "...")
  check_size(nsim, "nsim")  # chunks beyond 2^31 - 1 rows are drawn with `offset`
  binary <- object$model$outcome_binary == 1L
  knobs <- check_knobs(overlap, ate, heterogeneity, effect, confounding, effect_scale, binary)
  check_count(offset, "offset", min = 0, max = 2^53)  # a row index beyond 2^31 is fine
  threads <- sandbox_threads(threads)
  seed <- engine_seed(seed)

  population <- population_constants(object, knobs, threads)
  draw <- draw_rows(object, nsim, seed, offset, threads)
  rows <- knob_rows(draw$pred, draw$covariates, knobs, population, binary, threads)
  # the default binary knobs keep every drawn row inside [0, 1] by construction
  if (binary && rows_can_leave_unit(knobs, population)) check_probabilities(rows, "the drawn rows")
  schema <- object$schema
  gen <- .Call(C_simulate_outcomes, rows$ps, rows$mu0, rows$mu1, draw$pred$sd0,
               draw$pred$sd1, rows$k, as.integer(binary), mass_outcome(object, draw$pred),
               column_decoding(schema$columns[[schema$treatment]]),
               column_decoding(schema$columns[[schema$outcome]]), seed, as.double(offset),
               threads)

  # the treatment and outcome join the covariates in the schema's order, then the truth
  data <- as.list(draw$covariates)
  data[[schema$treatment]] <- gen$t
  data[[schema$outcome]] <- gen$y
  # a binary outcome's potential outcomes in the user's coding, like the observed column
  # (.mu0, .mu1 and .tau are probabilities of the event, the outcome's second value)
  outcome_spec <- schema$columns[[schema$outcome]]
  potential <- function(v) if (binary) decode_column(outcome_spec, v) else v
  data <- c(data[schema$names],
            list(.ps = rows$ps, .mu0 = rows$mu0, .mu1 = rows$mu1, .tau = rows$tau,
                 .y0 = potential(gen$y0), .y1 = potential(gen$y1)))
  if (!is.null(rows$k)) data$.k <- rows$k
  attributes(data) <- list(names = names(data), row.names = c(NA_integer_, -as.integer(nsim)),
                           class = schema$frame_class %||% "data.frame")

  data <- as_input_class(data, schema$input_class)
  truth <- population$truth
  truth$knobs <- list(overlap = population$overlap_scale,
                      overlap_target = if (inherits(knobs$overlap, "overlap_target"))
                        unclass(knobs$overlap) else NULL,
                      ate = if (is.null(knobs$effect)) population$ate_target else NULL,
                      heterogeneity = if (is.null(knobs$effect)) knobs$heterogeneity else NULL,
                      effect = knobs$effect, confounding = knobs$confounding,
                      effect_scale = if (binary) knobs$effect_scale else NULL,
                      treated_share = population$treated_share,
                      seed = seed, offset = offset)
  truth$knobs <- truth$knobs[!vapply(truth$knobs, is.null, logical(1))]
  new_sandbox_data(data, schema_roles(object$schema), truth)
}

# What the outcome draws of a semicontinuous or transformed outcome need (NULL for other
# outcomes): the learned law of Y(t) | x of every row (see draw_rows()) and the outcome's
# point mass and bounds, or its transform's knots.
mass_outcome <- function(fit, pred) {
  transformed <- outcome_transformed(fit)
  if (!transformed && !isTRUE(fit$model$outcome_mass == 1L)) return(NULL)
  law <- pred[c("mu0", "mu1", "mass0", "mass1", "loc0", "loc1", "scale0", "scale1")]
  if (transformed) return(c(law, fit$model$outcome_marginal[c("from", "value")]))
  spec <- fit$schema$columns[[fit$schema$outcome]]
  c(law,
    list(point_mass = spec$point_mass, lower = spec$lower, upper = spec$upper))
}

#' A propensity-overlap target for simulate()
#'
#' Asks [simulate.causalmix()] for the overlap scale s at which a given share of the
#' propensities (over the fitted covariate law) falls inside \[`lower`, `upper`\]; s is found
#' by root finding and reported in `truth(x)$knobs$overlap`.
#'
#' @param share Target share of propensities inside the interval, in (0, 1).
#' @param lower,upper The interval, 0 < lower < upper < 1.
#' @return An object of class `overlap_target`.
#' @examples
#' overlap_target(0.95)
#' @export
overlap_target <- function(share, lower = 0.1, upper = 0.9) {
  check_number(share, "share", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  check_number(lower, "lower", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  check_number(upper, "upper", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  if (lower >= upper)
    stopf("`lower` (%s) must be below `upper` (%s).", format(lower), format(upper),
          argument = "lower")
  structure(list(share = share, lower = lower, upper = upper), class = "overlap_target")
}

#' @export
print.overlap_target <- function(x, ...) {
  cat(sprintf("Overlap target: %g%% of propensities inside [%g, %g]\n", 100 * x$share,
              x$lower, x$upper))
  invisible(x)
}

# Validates the knobs (before any drawing) and returns them as a list; `logit` says whether
# the effect knobs act on the log odds (binary outcomes by default).
check_knobs <- function(overlap, ate, heterogeneity, effect, confounding, effect_scale = NULL,
                        binary = FALSE) {
  if (!inherits(overlap, "overlap_target"))
    check_number(overlap, "overlap", lower = 0)
  if (!is.null(ate)) check_number(ate, "ate")
  check_number(heterogeneity, "heterogeneity", lower = 0)
  if (!is.null(effect)) {
    if (!is.function(effect))
      stopf("`effect` must be NULL or a function of the covariate data.frame, not %s.",
            describe(effect), argument = "effect")
    if (!is.null(ate) || heterogeneity != 1)
      stopf("`effect` replaces `ate` and `heterogeneity`; give either `effect` or those.",
            argument = "effect")
  }
  if (!is.function(confounding)) check_number(confounding, "confounding")
  if (is.null(effect_scale)) {
    effect_scale <- if (binary) "logit" else "difference"
  } else if (!is.character(effect_scale) || length(effect_scale) != 1L ||
             !effect_scale %in% c("logit", "difference")) {
    stopf("`effect_scale` must be NULL, \"logit\" or \"difference\", not %s.",
          describe(effect_scale), argument = "effect_scale")
  } else if (effect_scale == "logit" && !binary) {
    stopf(paste0("`effect_scale = \"logit\"` applies to binary outcomes only; this fit's ",
                 "outcome is not binary (use NULL or \"difference\")."),
          argument = "effect_scale")
  }
  list(overlap = overlap, ate = ate, heterogeneity = heterogeneity, effect = effect,
       confounding = confounding, effect_scale = effect_scale,
       logit = binary && effect_scale == "logit")
}

# Evaluates a user function of the covariates and checks its result. It runs on the drawn
# rows and on the internal reference draw of the fitted law, whose size is not the user's
# business: messages give shares, not row counts.
eval_knob_function <- function(fun, covs, name) {
  v <- fun(covs)
  n <- nrow(covs)
  if (!is.numeric(v) || length(v) != n)
    stopf("`%s` must return a numeric vector with one value per row of the data.frame it is given, not %s.",
          name, if (is.numeric(v)) "a numeric vector of another length" else describe(v),
          argument = name)
  bad <- is.na(v) | !is.finite(v)
  if (any(bad))
    stopf("`%s` returned NA or non-finite values for %.1f%% of the rows it was given.", name,
          100 * mean(bad), argument = name)
  as.double(v)
}

# Whether the knobs keep the learned m_1 (no effect knob moves it).
learned_effect <- function(knobs, population) {
  is.null(knobs$effect) && knobs$heterogeneity == 1 &&
    population$ate_target == population$tau_bar
}

# Whether a drawn row's probabilities can leave [0, 1] although the reference draw's do
# not: only with risk-difference effects or a confounding function; the log-odds effects
# and the shaped confounding number are feasible at every x.
rows_can_leave_unit <- function(knobs, population) {
  is.function(knobs$confounding) || (!knobs$logit && !learned_effect(knobs, population))
}

# Propensity, outcome means, effect and confounding of a set of rows after the knobs
# (computed in C): ps, mu0, mu1, tau (= mu1 - mu0), k (NULL without confounding), room (the
# room w(x) of a shaped binary confounding number), and for a binary outcome the count of
# rows whose probabilities the knobs push outside [0, 1] (n_bad) and by how much at most
# (worst). pred: eta, mu0, mu1 of the learned model (see draw_rows()); covs: the covariates
# (for knob functions). With `room_only` the room of `room_sign` is computed and no
# confounding applied (the reference pass, before mean w is known).
knob_rows <- function(pred, covs, knobs, population, binary, threads, room_only = FALSE,
                      room_sign = population$room_sign) {
  effect <- if (!is.null(knobs$effect)) eval_knob_function(knobs$effect, covs, "effect")
  k <- if (is.function(knobs$confounding))
    eval_knob_function(knobs$confounding, covs, "confounding")
  k_const <- if (is.function(knobs$confounding) || room_only) 0 else knobs$confounding
  settings <- list(intercept = population$intercept, overlap_scale = population$overlap_scale,
                   eta_bar = population$eta_bar, ate = population$ate_target,
                   heterogeneity = knobs$heterogeneity, tau_bar = population$tau_bar,
                   logit_effect = as.integer(knobs$logit), logit_shift = population$logit_shift,
                   lambda_bar = population$lambda_bar, effect = effect, k = k,
                   k_const = k_const, room_sign = as.integer(room_sign),
                   room_mean = if (room_only) 0 else population$room_mean)
  rows <- .Call(C_simulate_knobs, pred, settings, as.integer(binary), threads)
  rows$mu0 <- pred$mu0
  rows
}

# For a binary outcome: P(Y(t) = 1 | x, T) = m_t*(x) + k(x) (T - e*(x)) must lie in [0, 1]
# for both arms and both treatment values (counted by knob_rows()).
# A share as a percentage that does not round a few rows to "0.0%".
format_share <- function(share) {
  pct <- 100 * share
  if (pct > 0 && pct < 0.1) sprintf("%.2g%%", pct) else sprintf("%.1f%%", pct)
}

check_probabilities <- function(rows, where, population = FALSE) {
  # the fitted covariate law is stood for by an internal reference draw whose size is not the
  # user's business: its share is reported, not its row count
  if (rows$n_bad > 0L)
    stopf(paste0("These knobs would push outcome probabilities outside [0, 1] for %s of %s, ",
                 "by up to %.3g; use a smaller `ate`, `heterogeneity`, `effect` or ",
                 "`confounding` (see knob_limits(fit)), or the default ",
                 "effect_scale = \"logit\" and a number for `confounding`."),
          if (population) format_share(rows$n_bad / length(rows$ps))
          else sprintf("%d of %d rows", rows$n_bad, length(rows$ps)),
          where, rows$worst, class = "causalsandbox_knob_error")
  invisible(TRUE)
}

# Population constants of a knob setting (see reference_knobs()), cached for the session per
# fit and setting so that a study's replicates do not solve them again. Knob functions are
# not cached (their result may change between calls); options(causalsandbox.knob_cache =
# FALSE) turns the cache off (the benchmark's baseline).
knob_cache <- new.env(parent = emptyenv())

population_constants <- function(fit, knobs, threads) {
  cacheable <- !is.function(knobs$effect) && !is.function(knobs$confounding)
  if (!cacheable) return(reference_knobs(fit, knobs, threads))
  key <- list(overlap = unclass(knobs$overlap), ate = knobs$ate,
              heterogeneity = knobs$heterogeneity, confounding = knobs$confounding,
              effect_scale = knobs$effect_scale)
  cached_constant(fit, key, function() reference_knobs(fit, knobs, threads))
}

# compute() once per fit and key for the session (the last 64 results are kept).
cached_constant <- function(fit, key, compute) {
  if (!isTRUE(getOption("causalsandbox.knob_cache", TRUE))) return(compute())
  entries <- knob_cache$entries
  for (e in entries)
    if (identical(e$key, key) && identical(e$model, fit$model) &&
        identical(e$reference, fit$reference)) return(e$value)
  value <- compute()
  knob_cache$entries <- c(list(list(key = key, model = fit$model, reference = fit$reference,
                                    value = value)), utils::head(entries, 63L))
  value
}

# Population side of the knobs, over the reference draw: centring of the propensity logit
# and of tau, the intercept keeping the treated share, the solved overlap scale, for a
# binary outcome the log-odds shift and the confounding room, and the population truth
# (ATE, ATT, ATC with Monte Carlo errors, E[k(X)], risk ratio and odds ratio).
# Infeasible knobs raise a causalsandbox_knob_error.
reference_knobs <- function(fit, knobs, threads) {
  ref <- cached_reference(fit, threads)
  binary <- fit$model$outcome_binary == 1L
  population <- overlap_constants(fit, ref, knobs$overlap)
  population$tau_bar <- mean(ref$pred$mu1 - ref$pred$mu0)
  population$ate_target <- knobs$ate %||% population$tau_bar
  population$logit_shift <- 0
  population$lambda_bar <- 0
  if (knobs$logit && is.null(knobs$effect) && !learned_effect(knobs, population)) {
    a <- population$ate_target
    range <- logit_ate_range(ref)
    if (!(a > range[1] && a < range[2]))
      stopf(paste0("`ate` = %s is outside the feasible range (%s, %s) of this binary outcome ",
                   "(risk difference; the population risk under control is %s); see ",
                   "knob_limits(fit)."), format(a, digits = 6), format(range[1], digits = 6),
            format(range[2], digits = 6), format(-range[1], digits = 6), argument = "ate",
            class = "causalsandbox_knob_error")
    constants <- .Call(C_simulate_logit_constants, ref$pred$mu0, ref$pred$mu1,
                       as.double(knobs$heterogeneity), as.double(a))
    if (is.na(constants$shift))
      stopf(paste0("`ate` = %s is too close to the edge of the feasible range (%s, %s) for ",
                   "`heterogeneity` = %s: no log-odds shift reaches it; see knob_limits(fit)."),
            format(a, digits = 6), format(range[1], digits = 6), format(range[2], digits = 6),
            format(knobs$heterogeneity), argument = "ate", class = "causalsandbox_knob_error")
    population$lambda_bar <- constants$lambda_bar
    population$logit_shift <- constants$shift
  }
  k <- knobs$confounding
  shaped <- binary && !is.function(k) && k != 0
  population$room_sign <- if (shaped) as.integer(sign(k)) else 0L
  population$room_mean <- 0
  rows <- knob_rows(ref$pred, ref$covariates, knobs, population, binary, threads,
                    room_only = shaped)
  if (binary) check_probabilities(rows, "the fitted covariate law", population = TRUE)
  if (shaped) {
    room_mean <- mean(rows$room)
    if (abs(k) > room_mean)
      stopf(paste0("`confounding` = %s is beyond the largest feasible %s confounding for ",
                   "these knobs, %s (the mean room w(x) that keeps every outcome ",
                   "probability in [0, 1]); see knob_limits(fit)."),
            format(k, digits = 6), if (k > 0) "positive" else "negative",
            format(sign(k) * room_mean, digits = 6), argument = "confounding",
            class = "causalsandbox_knob_error")
    population$room_mean <- room_mean
    rows$k <- k * (rows$room / room_mean)
  }
  population$truth <- population_truth(rows, binary)
  population
}

# Centring and intercept of the propensity logit and the overlap scale (solved for an
# overlap_target) over the reference draw.
overlap_constants <- function(fit, ref, overlap) {
  eta <- ref$pred$eta
  eta_bar <- mean(eta)
  # the data's treated share: the learned propensity averaged over the fitted covariate law
  # is a point or two off it, which a synthetic cohort's treatment column would show
  treated_share <- fit$treated_share
  intercept_for <- function(s) {
    centred <- s * (eta - eta_bar)
    stats::uniroot(function(c) mean(stats::plogis(c + centred)) - treated_share,
                   c(-30, 30), tol = 1e-12)$root
  }
  s <- if (inherits(overlap, "overlap_target"))
    solve_overlap(overlap, eta, eta_bar, intercept_for) else overlap
  list(eta_bar = eta_bar, overlap_scale = s, intercept = intercept_for(s),
       treated_share = treated_share)
}

# Feasible population ATE (risk difference) of a binary outcome on the log-odds scale: the
# open interval (-mean m_0, 1 - mean m_0).
logit_ate_range <- function(ref) {
  m0 <- mean(ref$pred$mu0)
  c(-m0, 1 - m0)
}

# Overlap scale s at which the requested share of propensities lies inside [lower, upper].
solve_overlap <- function(target, eta, eta_bar, intercept_for) {
  share_at <- function(s) {
    ps <- stats::plogis(intercept_for(s) + s * (eta - eta_bar))
    mean(ps >= target$lower & ps <= target$upper)
  }
  at0 <- share_at(0)
  if (at0 < target$share)
    stopf(paste0("The overlap target (%g%% inside [%g, %g]) cannot be met: even a ",
                 "randomised design (overlap = 0) gives %g%%; see knob_limits(fit)."),
          100 * target$share, target$lower, target$upper, 100 * at0, argument = "overlap",
          class = "causalsandbox_knob_error")
  hi <- 1
  while (share_at(hi) > target$share && hi < 64) hi <- hi * 2
  if (share_at(hi) > target$share)
    stopf("The overlap target (%g%% inside [%g, %g]) needs an overlap scale above 64.",
          100 * target$share, target$lower, target$upper, argument = "overlap",
          class = "causalsandbox_knob_error")
  # the share is a step function of s over the reference draw: bisect to the smallest s
  # whose share does not exceed the target
  lo <- 0
  for (i in 1:50) {
    mid <- (lo + hi) / 2
    if (share_at(mid) > target$share) lo <- mid else hi <- mid
  }
  hi
}

# Population ATE, ATT, ATC over the reference rows with Monte Carlo standard errors
# (ATT and ATC are ratio estimators weighted by e* and 1 - e*; delta-method errors); for a
# binary outcome also the marginal risks, risk ratio and odds ratio.
population_truth <- function(rows, binary = FALSE) {
  tau <- rows$tau
  n <- length(tau)
  ratio <- function(w) {
    est <- sum(w * tau) / sum(w)
    se <- sqrt(mean((w * (tau - est))^2) / n) / mean(w)
    c(est, se)
  }
  att <- ratio(rows$ps)
  atc <- ratio(1 - rows$ps)
  k <- rows$k %||% 0
  out <- list(ate = mean(tau), att = att[1], atc = atc[1],
              ate_mcse = stats::sd(tau) / sqrt(n), att_mcse = att[2], atc_mcse = atc[2],
              bias = mean(k), bias_mcse = if (length(k) > 1L) stats::sd(k) / sqrt(n) else 0,
              reference_n = n)
  if (binary) c(out, marginal_ratios(mean(rows$mu0), mean(rows$mu1))) else out
}

# Marginal risk ratio and odds ratio from the mean risks under control and treatment.
marginal_ratios <- function(risk0, risk1) {
  list(risk0 = risk0, risk1 = risk1, risk_ratio = risk1 / risk0,
       odds_ratio = (risk1 / (1 - risk1)) / (risk0 / (1 - risk0)))
}

# The reference draw of a fit, cached for the session (keyed by the fit's model, which
# determines it completely) so that repeated small draws do not redo it.
reference_cache <- new.env(parent = emptyenv())

cached_reference <- function(fit, threads = NULL) {
  hit <- reference_cache$entries
  for (e in hit) if (identical(e$model, fit$model) && identical(e$reference, fit$reference))
    return(e$draw)
  draw <- reference_draw(fit, threads)
  reference_cache$entries <- c(list(list(model = fit$model, reference = fit$reference,
                                         draw = draw)), utils::head(hit, 3L))
  draw
}

# Covariates only, decoded to the user's column types: n rows keyed by offset + i.
draw_covariates <- function(fit, n, seed, offset = 0, threads = NULL) {
  draw_rows(fit, n, seed, offset, threads, summaries = FALSE)$covariates
}
