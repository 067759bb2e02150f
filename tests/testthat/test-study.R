# run_study(), scenario_grid(), tune_estimator() on a known-truth generator defined here: a
# user-defined generator class with a simulate() method, as the documentation describes.

simulate.toy_generator <- function(object, nsim, seed = NULL, overlap = 1, confounding = 0,
                                   heterogeneity = 1, ate = NULL, ...) {
  if (!is.null(seed)) set.seed(seed)
  ate <- ate %||% 1
  x1 <- stats::rnorm(nsim)
  x2 <- stats::rbinom(nsim, 1, 0.5)
  ps <- stats::plogis(overlap * (0.8 * x1 - 0.5 * x2 + 0.25))
  t <- stats::rbinom(nsim, 1, ps)
  tau <- ate + heterogeneity * 0.5 * x1
  mu0 <- 1 + x1 + 0.5 * x2
  mu1 <- mu0 + tau
  # unmeasured confounding of size k: E[Y(t) | x] unchanged, adjusted estimators biased by k
  shift <- confounding * (t - ps)
  y0 <- mu0 + shift + stats::rnorm(nsim)
  y1 <- mu1 + shift + stats::rnorm(nsim)
  d <- data.frame(x1 = x1, x2 = x2, t = t, y = ifelse(t == 1, y1, y0), .ps = ps, .mu0 = mu0,
                  .mu1 = mu1, .tau = tau, .y0 = y0, .y1 = y1, .k = confounding)
  new_sandbox_data(d, list(treatment = "t", outcome = "y", covariates = c("x1", "x2")),
                   list(ate = ate, bias = confounding))
}
`%||%` <- function(x, y) if (is.null(x)) y else x
toy <- structure(list(), class = "toy_generator")

test_that("scenario_grid crosses knobs and refuses invalid values", {
  g <- scenario_grid(overlap = c(0.5, 1, 2), confounding = c(0, 0.1))
  expect_s3_class(g, "sandbox_design")
  expect_equal(nrow(g), 6)
  expect_equal(g$scenario, 1:6)
  expect_true(all(is.na(g$ate)))
  expect_equal(nrow(scenario_grid(ate = c(0, 0.1), offset = c(0, 1, 2))), 6)
  expect_error(scenario_grid(overlap = -1), "`overlap` must be >= 0")
  expect_error(scenario_grid(heterogeneity = c(1, NA)), "`heterogeneity`")
  expect_error(scenario_grid(confounding = "big"), "`confounding`")
  expect_error(scenario_grid(ate = Inf), "`ate`")
  expect_error(scenario_grid(0.1), NA)
  expect_error(scenario_grid(overlap = 1, 3), NA)  # positional ate
  expect_error(scenario_grid(1, 0, 1, 1, 3), "must be named")
  expect_error(scenario_grid(confounding = function(x) x), "must be numeric")
})

test_that("a study recovers the truth, and confounding biases every adjusted estimator by k", {
  design <- scenario_grid(confounding = c(0, 0.5))
  study <- run_study(toy, design, n = 500, reps = 40,
                     estimators = list(aipw = "aipw", or = "or", naive = "naive"), seed = 42)
  expect_s3_class(study, "sandbox_study")
  res <- as.data.frame(study)
  expect_equal(nrow(res), 2 * 40 * 3)
  expect_true(all(is.na(res$error)))
  s <- summary(study)
  expect_s3_class(s, "summary.sandbox_study")
  aipw0 <- s[s$scenario == 1 & s$estimator == "aipw", ]
  # no confounding: |bias| within 3 Monte Carlo SEs; coverage near 95%
  expect_lt(abs(aipw0$bias), 3 * aipw0$bias_mcse)
  expect_gt(aipw0$coverage, 0.8)
  expect_equal(aipw0$rmse^2, aipw0$bias^2 + aipw0$emp_se^2 * (40 - 1) / 40, tolerance = 1e-10)
  # confounding k = 0.5: adjusted estimators converge to ATE + k
  for (e in c("aipw", "or")) {
    row <- s[s$scenario == 2 & s$estimator == e, ]
    expect_lt(abs(row$bias - 0.5), 4 * row$bias_mcse)
    expect_lt(row$coverage, 0.5)
  }
  naive <- s[s$scenario == 1 & s$estimator == "naive", ]
  expect_gt(naive$bias, 10 * naive$bias_mcse)  # unadjusted is confounded by x
  expect_output(print(study), "Simulation study")
  expect_output(print(s), "Monte Carlo standard errors")
  on_null_device(expect_invisible(plot(study)))
})

test_that("measures match hand computations (Morris et al. formulas)", {
  study <- run_study(toy, scenario_grid(), n = 200, reps = 25,
                     estimators = list(ipw = "ipw"), seed = 3)
  r <- as.data.frame(study)
  s <- summary(study)
  k <- nrow(r)
  expect_equal(s$bias, mean(r$estimate - r$truth))
  expect_equal(s$emp_se, sd(r$estimate))
  expect_equal(s$emp_se_mcse, sd(r$estimate) / sqrt(2 * (k - 1)))
  expect_equal(s$model_se, sqrt(mean(r$se^2)))
  cov <- mean(r$lower <= r$truth & r$truth <= r$upper)
  expect_equal(s$coverage, cov)
  expect_equal(s$coverage_mcse, sqrt(cov * (1 - cov) / k))
  expect_equal(s$power, mean(r$p_value < 0.05))
  expect_equal(s$width, mean(r$upper - r$lower))
  s2 <- summary(study, target = "sample")
  expect_equal(s2$bias, mean(r$estimate - r$sample_truth))
})

test_that("seeds are per task: same seed same results, more replicates keep the first ones", {
  a <- run_study(toy, scenario_grid(overlap = c(1, 2)), n = 150, reps = 3,
                 estimators = list(or = "or"), seed = 7)
  b <- run_study(toy, scenario_grid(overlap = c(1, 2)), n = 150, reps = 5,
                 estimators = list(or = "or"), seed = 7)
  ra <- as.data.frame(a)
  rb <- as.data.frame(b)
  expect_equal(ra$estimate, rb$estimate[rb$rep <= 3])
  c <- run_study(toy, scenario_grid(overlap = c(1, 2)), n = 150, reps = 3,
                 estimators = list(or = "or"), seed = 8)
  expect_false(any(as.data.frame(c)$estimate == ra$estimate))
})

test_that("identical results under plan(sequential) and plan(multisession, workers = 2)", {
  skip_if_not_installed("future.apply")
  skip_if_not_installed("future")
  design <- scenario_grid(overlap = c(1, 2))
  ests <- list(aipw = estimator_aipw(folds = 2), naive = "naive")  # folds use R's RNG
  old <- future::plan(future::sequential)
  on.exit(future::plan(old), add = TRUE)
  seq_res <- run_study(toy, design, n = 200, reps = 4, estimators = ests, seed = 11)
  future::plan(future::multisession, workers = 2)
  par_res <- run_study(toy, design, n = 200, reps = 4, estimators = ests, seed = 11)
  future::plan(future::sequential)
  expect_identical(as.data.frame(seq_res), as.data.frame(par_res))
})

test_that("errors in a replicate are recorded, not fatal; malformed results stop early", {
  flaky <- function(data) {
    if (mean(data$x1) > 0) stop("flaky failure")
    c(estimate = 1, se = 0.1)
  }
  study <- run_study(toy, scenario_grid(), n = 100, reps = 20,
                     estimators = list(flaky = flaky, or = "or"), seed = 5)
  res <- as.data.frame(study)
  failed <- res$estimator == "flaky" & !is.na(res$error)
  expect_gt(sum(failed), 0)
  expect_true(all(grepl("flaky failure", res$error[failed])))
  expect_true(all(is.na(res$error[res$estimator == "or"])))
  expect_equal(summary(study)$n_failed[summary(study)$estimator == "flaky"], sum(failed))
  expect_output(print(study), "failed")

  expect_error(run_study(toy, scenario_grid(), n = 100, reps = 2,
                         estimators = list(bad = function(d) "text"), seed = 1),
               "`bad` returned a malformed result")
  expect_error(run_study(toy, scenario_grid(), n = 100, reps = 2,
                         estimators = list(bad = function(d) list(estimate = 1, se = -1)),
                         seed = 1), "malformed.*non-negative")
  expect_error(run_study(toy, scenario_grid(), n = 100, reps = 2,
                         estimators = list("bayes"), seed = 1), "Unknown estimator \"bayes\"")
  expect_error(run_study(toy, scenario_grid(), n = 100, reps = 2, estimators = list(1), seed = 1),
               "must be a function")
  expect_error(run_study(toy, scenario_grid(), n = 0, reps = 2, estimators = "or"), "`n`")
  expect_error(run_study(toy, scenario_grid(), n = 100, reps = 2.5, estimators = "or"), "`reps`")
  expect_error(run_study(toy, list(), n = 100, reps = 2, estimators = "or"), "`design`")
  expect_error(run_study(list(), scenario_grid(), n = 100, reps = 2, estimators = "or"),
               "simulate\\(\\) method")
})

test_that("CATE estimators get PEHE and CATE coverage", {
  oracle_cate <- function(data) {
    list(cate = data$.tau + 0.1, cate_se = rep(0.2, nrow(data)))
  }
  study <- run_study(toy, scenario_grid(), n = 100, reps = 5,
                     estimators = list(cate = oracle_cate), seed = 2)
  s <- summary(study)
  expect_equal(s$pehe, 0.1, tolerance = 1e-12)
  expect_equal(s$cate_coverage, 1)  # 0.1 error inside +-1.96 * 0.2
  expect_equal(s$bias, mean(as.data.frame(study)$estimate - as.data.frame(study)$truth))
})

test_that("tune_estimator ranks settings by RMSE and coverage", {
  factory <- function(truncate) estimator_ipw(truncate = truncate)
  tuned <- tune_estimator(toy, factory, settings = data.frame(truncate = c(0, 0.2, 0.45)),
                          design = scenario_grid(overlap = 3), n = 300, reps = 15, seed = 9)
  expect_s3_class(tuned, "sandbox_tuning")
  tab <- tuned$ranking
  expect_equal(nrow(tab), 3)
  expect_equal(tab$rank_rmse, rank(tab$rmse, ties.method = "min"))
  # heavy truncation (0.45) biases IPW under poor overlap: it must rank last on RMSE
  expect_equal(tab$rank_rmse[tab$truncate == 0.45], 3)
  expect_output(print(tuned), "truncate")
  on_null_device(expect_invisible(plot(tuned)))
  expect_error(tune_estimator(toy, factory, settings = data.frame()), "`settings`")
  expect_error(tune_estimator(toy, "ipw", settings = data.frame(truncate = 0)),
               "`estimator_factory`")
})

test_that("the DR-learner reports CATE accuracy that improves with a well-tuned forest", {
  skip_if_not_installed("ranger")
  study <- run_study(toy, scenario_grid(heterogeneity = c(0, 2)), n = 400, reps = 3,
                     estimators = list(dr = estimator_dr_learner(num.trees = 200,
                                                                 min.node.size = 20)),
                     seed = 4)
  s <- summary(study)
  expect_true(all(is.finite(s$pehe)))
  expect_true(all(s$cate_coverage >= 0 & s$cate_coverage <= 1))
  expect_true(all(is.na(as.data.frame(study)$error)))
  # with strong heterogeneity (tau = 1 + x1) the CATE error stays well below the spread of tau
  expect_lt(s$pehe[s$heterogeneity == 2], 1)
})

test_that("knobs a generator does not take are refused unless neutral", {
  simulate.fixed_generator <- function(object, nsim, seed = NULL) {
    simulate.toy_generator(object, nsim, seed)
  }
  fixed <- structure(list(), class = "fixed_generator")
  ok <- run_study(fixed, scenario_grid(), n = 100, reps = 2, estimators = "or", seed = 1)
  expect_equal(nrow(as.data.frame(ok)), 2)
  expect_error(run_study(fixed, scenario_grid(overlap = 2), n = 100, reps = 2,
                         estimators = "or", seed = 1), "no argument `overlap`")
})

test_that("progress reporting through progressr leaves the results unchanged", {
  skip_if_not_installed("progressr")
  plain <- run_study(toy, scenario_grid(), n = 100, reps = 3, estimators = "or", seed = 6)
  with_bar <- progressr::with_progress(
    run_study(toy, scenario_grid(), n = 100, reps = 3, estimators = "or", seed = 6),
    handlers = progressr::handler_void())
  expect_identical(as.data.frame(plain), as.data.frame(with_bar))
})

test_that("warnings raised by an estimator are recorded per replicate", {
  noisy <- function(data) {
    warning("something odd")
    c(estimate = 1, se = 0.1)
  }
  study <- run_study(toy, scenario_grid(), n = 100, reps = 3,
                     estimators = list(noisy = noisy), seed = 1)
  expect_equal(as.data.frame(study)$warning, rep("something odd", 3))
  expect_equal(summary(study)$n_warned, 3)
  expect_output(print(study), "raised warnings")
})
