# The knobs of a binary outcome on a cohort with extreme risks (issue 19): log-odds effects,
# shaped confounding, acceptance that depends only on the fit and the knobs, knob_limits()
# boundaries, and studies that keep their work when some scenarios are infeasible.

edge_fit <- local({
  cache <- NULL
  function() {
    if (!is.null(cache)) return(cache)
    set.seed(19)
    n <- 1200
    d <- data.frame(x = rnorm(n), z = rbinom(n, 1, 0.5))
    d$t <- rbinom(n, 1, plogis(0.7 * d$x - 0.2))
    # a strong covariate effect puts many risks near 0 and 1, as in real cohorts
    d$y <- rbinom(n, 1, plogis(-0.3 + 2.6 * d$x + 0.8 * d$t - 0.5 * d$z))
    cache <<- causalmix(d, "t", "y", hidden = 16, epochs = 30, seed = 3, threads = 1)
    cache
  }
})

test_that("the fixture's reference risks reach 0.005 and 0.995", {
  fit <- edge_fit()
  ref <- causalsandbox:::cached_reference(fit, 1)
  expect_lt(min(ref$pred$mu0, ref$pred$mu1), 0.005)
  expect_gt(max(ref$pred$mu0, ref$pred$mu1), 0.995)
})

test_that("the whole effect x heterogeneity x confounding grid is accepted for every seed and nsim", {
  fit <- edge_fit()
  for (a in c(-0.2, 0, 0.05, 0.2)) for (h in c(0, 1, 2)) for (k in c(0, 0.01, 0.05)) {
    for (draw in list(c(seed = 1, nsim = 1), c(seed = 2, nsim = 37), c(seed = 3, nsim = 2000))) {
      s <- simulate(fit, nsim = draw[["nsim"]], seed = draw[["seed"]], ate = a,
                    heterogeneity = h, confounding = k, threads = 1)
      tr <- truth(s)
      expect_lt(abs(tr$ate - a), 1e-10)
      expect_lt(abs(tr$bias - k), 1e-12)
      # every probability of every row inside [0, 1]
      kk <- if (k == 0) 0 else s$.k
      p <- c(s$.mu0, s$.mu1, s$.mu0 + kk * (1 - s$.ps), s$.mu0 - kk * s$.ps,
             s$.mu1 + kk * (1 - s$.ps), s$.mu1 - kk * s$.ps)
      expect_true(min(p) >= -1e-12 && max(p) <= 1 + 1e-12)
    }
  }
  # ate = NULL keeps the learned ATE at every heterogeneity
  learned <- truth(simulate(fit, nsim = 10, seed = 1, threads = 1))$ate
  for (h in c(0, 0.5, 2))
    expect_lt(abs(truth(simulate(fit, nsim = 10, seed = 1, heterogeneity = h,
                                 threads = 1))$ate - learned), 1e-10)
})

test_that("heterogeneity = 0 gives a constant odds ratio and effect = f a given log odds ratio", {
  fit <- edge_fit()
  s <- simulate(fit, nsim = 5000, seed = 4, ate = 0.05, heterogeneity = 0, threads = 1)
  inside <- pmin(s$.mu0, s$.mu1) > 1e-6 & pmax(s$.mu0, s$.mu1) < 1 - 1e-6
  lor <- qlogis(s$.mu1[inside]) - qlogis(s$.mu0[inside])
  expect_gt(sum(inside), 4000)
  expect_lt(diff(range(lor)), 1e-7)
  expect_gt(mean(lor), 0)
  # the learned conditional log odds ratio varies; heterogeneity = 2 doubles its spread
  s1 <- simulate(fit, nsim = 5000, seed = 4, ate = 0.05, heterogeneity = 1, threads = 1)
  s2 <- simulate(fit, nsim = 5000, seed = 4, ate = 0.05, heterogeneity = 2, threads = 1)
  lor1 <- qlogis(s1$.mu1[inside]) - qlogis(s1$.mu0[inside])
  lor2 <- qlogis(s2$.mu1[inside]) - qlogis(s2$.mu0[inside])
  expect_gt(sd(lor1), 0.01)
  expect_equal(sd(lor2), 2 * sd(lor1), tolerance = 1e-6)
  f <- simulate(fit, nsim = 2000, seed = 4, effect = function(x) 0.3 + 0.4 * x$z, threads = 1)
  ok <- pmin(f$.mu0, f$.mu1) > 1e-6 & pmax(f$.mu0, f$.mu1) < 1 - 1e-6
  expect_equal(qlogis(f$.mu1[ok]) - qlogis(f$.mu0[ok]), 0.3 + 0.4 * f$z[ok], tolerance = 1e-9)
})

test_that("AIPW with the true nuisances converges to ATE + k under shaped confounding", {
  fit <- edge_fit()
  n <- 2e5
  b <- simulate(fit, nsim = n, seed = 8, ate = 0.05, heterogeneity = 2, confounding = 0.05,
                threads = 2)
  tr <- truth(b)
  expect_equal(tr$bias, 0.05, tolerance = 1e-12)
  # k(x) = k w(x) / mean w: proportional to the row's room, not constant
  expect_gt(sd(b$.k), 0.01)
  expect_equal(mean(b$.k), 0.05, tolerance = 0.05)
  q1 <- b$.mu1 + b$.k * (1 - b$.ps)
  q0 <- b$.mu0 - b$.k * b$.ps
  phi <- q1 - q0 + b$t * (b$y - q1) / b$.ps - (1 - b$t) * (b$y - q0) / (1 - b$.ps)
  se <- sd(phi) / sqrt(n)
  expect_lt(abs(mean(phi) - (tr$ate + tr$bias)), 4 * se)
  expect_gt(abs(mean(phi) - tr$ate), 4 * se)
  # E[Y(t) | x] is kept: the potential outcomes average to the knob-modified risks
  for (v in c("0", "1")) {
    r <- b[[paste0(".y", v)]] - b[[paste0(".mu", v)]]
    expect_lt(abs(mean(r)), 4 * sd(r) / sqrt(n))
  }
})

test_that("knobs leave each other's quantities unchanged", {
  fit <- edge_fit()
  base <- simulate(fit, nsim = 3000, seed = 5, threads = 1)
  eff <- simulate(fit, nsim = 3000, seed = 5, ate = 0.2, heterogeneity = 0, threads = 1)
  conf <- simulate(fit, nsim = 3000, seed = 5, confounding = -0.05, threads = 1)
  ov <- simulate(fit, nsim = 3000, seed = 5, overlap = 2, ate = 0.2, heterogeneity = 0,
                 threads = 1)
  # effect knobs: covariates, propensities, T and m_0 unchanged
  expect_identical(eff$x, base$x)
  expect_identical(eff$.ps, base$.ps)
  expect_identical(eff$t, base$t)
  expect_identical(eff$.mu0, base$.mu0)
  # confounding: propensities, T, both risks and the ATE unchanged
  expect_identical(conf$.ps, base$.ps)
  expect_identical(conf$t, base$t)
  expect_identical(conf$.mu1, base$.mu1)
  expect_identical(truth(conf)$ate, truth(base)$ate)
  expect_equal(truth(conf)$bias, -0.05, tolerance = 1e-12)
  # overlap: the risks and the population ATE unchanged
  expect_identical(ov$.mu0, eff$.mu0)
  expect_identical(ov$.mu1, eff$.mu1)
  expect_identical(truth(ov)$ate, truth(eff)$ate)
  expect_false(identical(ov$.ps, eff$.ps))
})

test_that("knob_limits() gives the true boundaries: just inside accepted, just outside refused", {
  fit <- edge_fit()
  lim <- knob_limits(fit, threads = 1)
  expect_s3_class(lim, "knob_limits")
  ref <- causalsandbox:::cached_reference(fit, 1)
  expect_equal(lim$ate, c(-mean(ref$pred$mu0), 1 - mean(ref$pred$mu0)))
  expect_output(print(lim), "ate: +\\(-0\\.[0-9]+, 0\\.[0-9]+\\)")
  width <- diff(lim$ate)
  for (h in c(0, 2)) {
    for (edge in 1:2) {
      inward <- if (edge == 1) 1 else -1
      a <- lim$ate[edge] + inward * 1e-6 * width
      expect_lt(abs(truth(simulate(fit, nsim = 5, seed = 1, ate = a, heterogeneity = h,
                                   threads = 1))$ate - a), 1e-10)
      err <- tryCatch(simulate(fit, nsim = 5, seed = 1, ate = lim$ate[edge] - inward * 1e-9,
                               heterogeneity = h, threads = 1), error = identity)
      expect_s3_class(err, "causalsandbox_knob_error")
      expect_identical(err$argument, "ate")
      expect_match(conditionMessage(err), "knob_limits")
    }
  }
  # confounding at the given knobs: a number up to the mean room, of either sign
  at <- knob_limits(fit, ate = 0.2, heterogeneity = 2, threads = 1)
  for (k in at$confounding$shaped) {
    s <- simulate(fit, nsim = 1000, seed = 2, ate = 0.2, heterogeneity = 2,
                  confounding = k * (1 - 1e-9), threads = 1)
    expect_equal(truth(s)$bias, k * (1 - 1e-9), tolerance = 1e-12)
    err <- tryCatch(simulate(fit, nsim = 5, seed = 2, ate = 0.2, heterogeneity = 2,
                             confounding = k * (1 + 1e-9), threads = 1), error = identity)
    expect_s3_class(err, "causalsandbox_knob_error")
    expect_identical(err$argument, "confounding")
    expect_match(conditionMessage(err), format(abs(k), digits = 6), fixed = TRUE)
  }
  # a constant confounding function beyond its limit is refused over the reference draw
  worst <- at$confounding$constant[1]
  expect_lt(worst, at$confounding$shaped[1])
  expect_error(simulate(fit, nsim = 5, seed = 2, ate = 0.2, heterogeneity = 2,
                        confounding = function(x) rep(worst * 1.01, nrow(x)), threads = 1),
               "fitted covariate law", class = "causalsandbox_knob_error")
  # overlap: the share of reference propensities inside [0.1, 0.9] crosses each target there
  share_at <- function(s) {
    oc <- causalsandbox:::overlap_constants(fit, ref, s)
    ps <- plogis(oc$intercept + s * (ref$pred$eta - oc$eta_bar))
    mean(ps >= 0.1 & ps <= 0.9)
  }
  for (i in seq_len(nrow(lim$overlap))) {
    s <- lim$overlap$scale[i]
    expect_lte(share_at(s), lim$overlap$share[i])
    expect_gt(share_at(s * (1 - 1e-6)), lim$overlap$share[i])
  }
  # an overlap target no scale reaches is an infeasible knob too
  err <- tryCatch(simulate(fit, nsim = 5, seed = 1, threads = 1,
                           overlap = overlap_target(0.5, lower = 0.6, upper = 0.9)),
                  error = identity)
  expect_s3_class(err, "causalsandbox_knob_error")
  expect_identical(err$argument, "overlap")
  # continuous outcomes have no limits on ate or confounding
  set.seed(3)
  d <- data.frame(x = rnorm(300))
  d$t <- rbinom(300, 1, plogis(d$x))
  d$y <- d$x + d$t + rnorm(300)
  cont <- causalmix(d, "t", "y", hidden = 8, epochs = 5, seed = 1, threads = 1)
  cl <- knob_limits(cont, threads = 1)
  expect_identical(cl$ate, c(-Inf, Inf))
  expect_identical(cl$confounding$shaped, c(Inf, -Inf))
  err <- tryCatch(simulate(cont, nsim = 5, effect_scale = "logit"), error = identity)
  expect_identical(err$argument, "effect_scale")
  err <- tryCatch(simulate(fit, nsim = 5, effect_scale = "odds"), error = identity)
  expect_identical(err$argument, "effect_scale")
  expect_error(knob_limits(d), class = "causalsandbox_input_error")
})

test_that("knob_limits() gives the ate range where the learned ATE itself is infeasible", {
  fit <- edge_fit()
  ref <- causalsandbox:::cached_reference(fit, 1)
  # on the difference scale with a constant effect, the learned ATE pushes risks past 0 or 1
  err <- tryCatch(simulate(fit, nsim = 5, seed = 1, effect_scale = "difference",
                           heterogeneity = 0, threads = 1), error = identity)
  expect_s3_class(err, "causalsandbox_knob_error")
  expect_match(conditionMessage(err), "for [0-9.]+% of the fitted covariate law")
  expect_false(grepl(" 0\\.0%", conditionMessage(err)))
  lim <- knob_limits(fit, effect_scale = "difference", heterogeneity = 0, threads = 1)
  expect_equal(lim$ate, c(max(-ref$pred$mu0), min(1 - ref$pred$mu0)))
  expect_equal(lim$learned_ate, mean(ref$pred$mu1 - ref$pred$mu0))
  expect_true(all(is.na(c(lim$confounding$shaped, lim$confounding$constant))))
  expect_output(print(lim), "not computed: the learned ATE is outside the ate range")
  # at an ate inside the range: accepted, and the confounding limits are computed
  a <- mean(lim$ate)
  s <- simulate(fit, nsim = 5, seed = 1, ate = a, effect_scale = "difference",
                heterogeneity = 0, threads = 1)
  expect_equal(truth(s)$ate, a, tolerance = 1e-10)
  at <- knob_limits(fit, ate = a, effect_scale = "difference", heterogeneity = 0, threads = 1)
  expect_false(anyNA(at$confounding$shaped))
  # an infeasible ate that was asked for is still refused
  err <- tryCatch(knob_limits(fit, ate = lim$ate[2] + 0.01, effect_scale = "difference",
                              heterogeneity = 0, threads = 1), error = identity)
  expect_s3_class(err, "causalsandbox_knob_error")
})

test_that("binary draws are identical for 1 and 2 threads, chunks, and with or without the cache", {
  fit <- edge_fit()
  knobs <- list(ate = 0.05, heterogeneity = 2, confounding = 0.05, overlap = 1.5)
  draw <- function(...) do.call(simulate, c(list(fit), knobs, list(...)))
  one <- draw(nsim = 140001, seed = 10, threads = 1)
  two <- draw(nsim = 140001, seed = 10, threads = 2)
  expect_identical(one, two)
  a <- draw(nsim = 1203, seed = 10, threads = 2)
  b <- draw(nsim = 1797, seed = 10, offset = 1203, threads = 1)
  expect_identical(rbind(as.data.frame(a), as.data.frame(b)), as.data.frame(one)[1:3000, ])
  old <- options(causalsandbox.knob_cache = FALSE)
  on.exit(options(old))
  expect_identical(draw(nsim = 1203, seed = 10, threads = 1), a)
})

test_that("truth() reports the marginal risk ratio and odds ratio", {
  fit <- edge_fit()
  s <- simulate(fit, nsim = 3000, seed = 6, ate = 0.1, threads = 1)
  tr <- truth(s)
  expect_equal(tr$risk1 - tr$risk0, 0.1, tolerance = 1e-10)
  expect_equal(tr$risk_ratio, tr$risk1 / tr$risk0)
  expect_equal(tr$odds_ratio, (tr$risk1 / (1 - tr$risk1)) / (tr$risk0 / (1 - tr$risk0)))
  expect_gt(tr$risk_ratio, 1)
  expect_equal(tr$sample_risk_ratio, mean(s$.mu1) / mean(s$.mu0))
  m1 <- mean(s$.mu1)
  m0 <- mean(s$.mu0)
  expect_equal(tr$sample_odds_ratio, (m1 / (1 - m1)) / (m0 / (1 - m0)))
  expect_output(print(tr), "risk ratio")
})

test_that("a study runs its feasible scenarios in full and reports the infeasible one", {
  fit <- edge_fit()
  design <- scenario_grid(ate = c(0.05, 0.9))
  st <- run_study(fit, design, n = 300, reps = 3, estimators = list(naive = estimator_naive()),
                  seed = 1)
  ok <- st$results[st$results$scenario == 1, ]
  bad <- st$results[st$results$scenario == 2, ]
  expect_equal(nrow(ok), 3)
  expect_true(all(is.finite(ok$estimate)) && all(is.na(ok$error)))
  expect_equal(nrow(bad), 3)
  expect_true(all(is.na(bad$estimate)))
  expect_identical(unique(bad$failed_at), "infeasible knobs")
  expect_match(bad$error[1], "outside the feasible range")
  expect_equal(st$failures$scenario, 2)
  expect_equal(st$failures$failed, 3)
  sm <- summary(st)
  expect_equal(sm$n_failed, c(0, 3))
  expect_true(is.finite(sm$bias[1]) && is.na(sm$bias[2]))
  expect_match(sm$failure[2], "^infeasible knobs: `ate` = 0.9")
  expect_output(print(st), "3 of 6 run\\(s\\) failed.*First failure \\(scenario 2, n = 300, infeasible knobs\\)")
  expect_output(print(sm), "Failed runs")
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_identical(plot(st), st)
  # tuning: the settings are ranked on the feasible scenario, the failures counted
  tuned <- tune_estimator(fit, function(truncate) estimator_ipw(truncate = truncate),
                          settings = data.frame(truncate = c(0, 0.05)), design = design,
                          n = 300, reps = 2, seed = 2)
  expect_true(all(is.finite(tuned$ranking$rmse)))
  expect_equal(tuned$ranking$n_failed, c(2, 2))
  expect_output(print(tuned), "infeasible knobs")
  expect_identical(plot(tuned), tuned)
})

test_that("a failed draw or estimator is one failed row; power analyses say what failed", {
  # a generator whose draw fails on one replicate only, and an estimator failing on another
  simulate.flaky_generator <- function(object, nsim, seed = NULL, ate = NULL, ...) {
    set.seed(seed)
    if (runif(1) < 0.3) stop("the generator ran out of luck")
    toy_cohort(nsim, ate = 1)
  }
  gen <- structure(list(), class = "flaky_generator")
  picky <- function(data) if (mean(data$x) > 0.05) stop("picky failed") else
    c(estimate = mean(data$y[data$t == 1]) - mean(data$y[data$t == 0]), se = 0.1)
  st <- run_study(gen, scenario_grid(), n = 100, reps = 12,
                  estimators = list(naive = estimator_naive(), picky = picky), seed = 3)
  res <- st$results
  expect_equal(nrow(res), 24)
  draws <- res$failed_at %in% "draw"
  expect_gt(sum(draws), 0)
  expect_true(all(res$error[draws] == "the generator ran out of luck"))
  est_fail <- res$failed_at %in% "estimator"
  expect_gt(sum(est_fail), 0)
  expect_true(all(res$estimator[est_fail] == "picky"))
  kept <- res$estimator == "naive" & !draws
  expect_true(all(is.finite(res$estimate[kept])))
  sm <- summary(st)
  expect_equal(sm$n_failed, c(sum(draws) / 2, sum(draws) / 2 + sum(est_fail)))
  expect_output(print(st), "First failure \\(scenario 1, n = 100, draw\\): the generator ran out of luck")

  # every run failed: summary, print and plot still work and say why
  always <- function(data) stop("estimator broke")
  st2 <- run_study(gen, scenario_grid(), n = 100, reps = 3, estimators = list(b = always),
                   seed = 3)
  sm2 <- summary(st2)
  expect_equal(sm2$n_failed, 3)
  expect_true(is.na(sm2$rmse))
  expect_output(print(st2), "3 of 3 run\\(s\\) failed")
  expect_warning(pw <- power_analysis(gen, n = c(50, 100), test = always, reps = 3, seed = 1),
                 "failed in every replicate at n = 50, 100")
  expect_true(all(is.na(pw$power$power)))
  expect_equal(pw$power$n_failed, c(3, 3))
  expect_output(print(pw), "failed")
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_identical(plot(st2), st2)
  expect_identical(plot(pw), pw)
})
