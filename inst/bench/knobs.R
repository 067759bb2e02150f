# Benchmark of the causal knobs on binary outcomes (issue 19): the share of a 5 x 3 x 3
# factorial grid (ate x heterogeneity x confounding, chosen from knob_limits()) that
# simulate() accepts, and the time of one simulate() of 4,098 rows with the population
# constants cached against the same call solving them again (the baseline, measured in the
# same run with options(causalsandbox.knob_cache = FALSE)).
#
#   Rscript inst/bench/knobs.R [cohort ...]     cohorts: mcrpc, lalonde, nhefs (default: all)
#
# Cohorts: the bundled mcrpc (exp -> hosp_ed_any), MatchIt::lalonde (treat -> re78 > 0) and,
# when causaldata is installed, NHEFS (qsmk -> death, 9 covariates). The grid: ate at 1/6 ..
# 5/6 of the feasible interval of knob_limits(); heterogeneity 0, 1, 2; confounding 0 and
# half of the largest negative and 90% of the largest positive shaped confounding that
# knob_limits() allows at every (ate, heterogeneity) of the grid. Each setting is drawn with
# three seeds and nsim 1, 500 and 4,098 (acceptance must not depend on them); the population
# ATE and E[k(X)] are compared with the requested values. For comparison, the same grid
# with the previous parameterisation (effect_scale = "difference" and the confounding as a
# constant function, which is what a number meant before) is run once per setting.
#
# Figures measured (2026-12-06, 2 cores shared with other jobs at a load of 5.6-7.3, 2
# threads; inst/bench/results/knobs.txt), fits of 60 epochs:
#   cohort   reference risks        grid accepted   previous form   4,098-row draw
#                                   (all 3 draws)   accepted        cached / uncached (ratio)
#   mcrpc    m0 0.066-0.94          45 of 45        1 of 45         21.0 / 74.0 ms (3.52)
#   lalonde  m0 0.10-1.00           45 of 45        1 of 45         17.5 / 59.0 ms (3.37)
#   nhefs    m0 0.0031-0.96         45 of 45        0 of 45         10.5 / 39.0 ms (3.71)
# Largest |population ATE - ate| 6.3e-15 and |E[k(X)] - k| 2.8e-17 over all draws; cached
# and uncached draws are identical.
suppressPackageStartupMessages(library(causalsandbox))
args <- commandArgs(trailingOnly = TRUE)
cohorts <- if (length(args)) args else c("mcrpc", "lalonde", "nhefs")
threads <- 2
load_average <- function() tryCatch(readLines("/proc/loadavg"), error = function(e) "?")
cat("load average:", load_average(), "\n")

cohort_data <- function(name) {
  switch(name,
    mcrpc = {
      utils::data("mcrpc", package = "causalsandbox", envir = environment())
      list(data = mcrpc, treatment = "exp", outcome = "hosp_ed_any")
    },
    lalonde = {
      if (!requireNamespace("MatchIt", quietly = TRUE)) return(NULL)
      e <- new.env()
      utils::data("lalonde", package = "MatchIt", envir = e)
      d <- e$lalonde
      d$employed78 <- as.integer(d$re78 > 0)
      list(data = d[c("treat", "age", "educ", "race", "married", "nodegree", "re74", "re75",
                      "employed78")], treatment = "treat", outcome = "employed78")
    },
    nhefs = {
      if (!requireNamespace("causaldata", quietly = TRUE)) return(NULL)
      d <- as.data.frame(causaldata::nhefs)
      cols <- c("qsmk", "age", "sex", "race", "education", "smokeintensity", "smokeyrs",
                "exercise", "active", "wt71", "death")
      d <- d[cols]
      for (v in cols) attributes(d[[v]])[c("label", "names")] <- NULL
      list(data = d, treatment = "qsmk", outcome = "death")
    },
    stop("unknown cohort ", name))
}

median_ms <- function(f, reps = 30) {
  f()
  1000 * stats::median(vapply(seq_len(reps), function(i) system.time(f())[["elapsed"]], 0))
}

for (name in cohorts) {
  co <- cohort_data(name)
  if (is.null(co)) {
    cat(sprintf("\n== %s: skipped (package not installed)\n", name))
    next
  }
  cat(sprintf("\n== %s: %d rows, treatment %s, outcome %s (mean %.3f)\n", name, nrow(co$data),
              co$treatment, co$outcome, mean(co$data[[co$outcome]])))
  fit_time <- system.time(
    fit <- causalmix(co$data, co$treatment, co$outcome, epochs = 60, seed = 1,
                     threads = threads))[["elapsed"]]
  ref <- causalsandbox:::cached_reference(fit, threads)
  cat(sprintf("fit %.1f s; reference risks m0 in [%.2g, %.2g], m1 in [%.2g, %.2g]\n", fit_time,
              min(ref$pred$mu0), max(ref$pred$mu0), min(ref$pred$mu1), max(ref$pred$mu1)))
  lim <- knob_limits(fit, threads = threads)
  print(lim)

  ates <- lim$ate[1] + (1:5) / 6 * diff(lim$ate)
  hets <- c(0, 1, 2)
  at <- expand.grid(ate = ates, heterogeneity = hets)
  room <- t(vapply(seq_len(nrow(at)), function(i) {
    l <- knob_limits(fit, ate = at$ate[i], heterogeneity = at$heterogeneity[i],
                     threads = threads)$confounding$shaped
    c(positive = l[1], negative = l[2])
  }, numeric(2)))
  confs <- c(0.5 * max(room[, "negative"]), 0, 0.9 * min(room[, "positive"]))
  grid <- expand.grid(ate = ates, heterogeneity = hets, confounding = confs)
  cat(sprintf("grid: ate %s; heterogeneity 0, 1, 2; confounding %s\n",
              paste(signif(ates, 3), collapse = ", "), paste(signif(confs, 3), collapse = ", ")))

  draws <- list(c(seed = 1, nsim = 1), c(seed = 2, nsim = 500), c(seed = 3, nsim = 4098))
  accepted <- 0
  ate_err <- bias_err <- 0
  refusals <- character()
  old_accepted <- 0
  for (i in seq_len(nrow(grid))) {
    g <- grid[i, ]
    ok <- TRUE
    for (dr in draws) {
      s <- tryCatch(simulate(fit, nsim = dr[["nsim"]], seed = dr[["seed"]], ate = g$ate,
                             heterogeneity = g$heterogeneity, confounding = g$confounding,
                             threads = threads), error = identity)
      if (inherits(s, "error")) {
        ok <- FALSE
        refusals <- c(refusals, conditionMessage(s))
        break
      }
      ate_err <- max(ate_err, abs(truth(s)$ate - g$ate))
      bias_err <- max(bias_err, abs(truth(s)$bias - g$confounding))
    }
    accepted <- accepted + ok
    k <- g$confounding
    old <- tryCatch(simulate(fit, nsim = 4098, seed = 3, ate = g$ate,
                             heterogeneity = g$heterogeneity,
                             confounding = function(x) rep(k, nrow(x)),
                             effect_scale = "difference", threads = threads),
                    error = identity)
    old_accepted <- old_accepted + !inherits(old, "error")
  }
  cat(sprintf("accepted: %d of %d settings (%.0f%%) for all 3 (seed, nsim) draws; max |ATE - ate| %.2g, max |E[k(X)] - k| %.2g\n",
              accepted, nrow(grid), 100 * accepted / nrow(grid), ate_err, bias_err))
  if (length(refusals)) cat("first refusal:", refusals[1], "\n")
  cat(sprintf("previous parameterisation (risk difference, constant k): %d of %d (%.0f%%)\n",
              old_accepted, nrow(grid), 100 * old_accepted / nrow(grid)))

  # time of one draw of 4,098 rows at a grid point, constants cached vs solved every call
  g <- grid[nrow(grid) - 1, ]
  call <- function() simulate(fit, nsim = 4098, seed = 7, ate = g$ate,
                              heterogeneity = g$heterogeneity, confounding = g$confounding,
                              threads = threads)
  cached <- median_ms(call)
  old <- options(causalsandbox.knob_cache = FALSE)
  uncached <- median_ms(call)
  options(old)
  same <- identical({options(causalsandbox.knob_cache = FALSE); a <- call(); options(old); a},
                    call())
  cat(sprintf("simulate() of 4,098 rows: cached %.1f ms, uncached (baseline) %.1f ms, ratio %.2f; identical draws: %s\n",
              cached, uncached, uncached / cached, same))
}
