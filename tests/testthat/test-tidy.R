# tidy(), glance(), augment(): broom's column conventions, one row per estimator / scenario /
# term, values equal to the object's own.

simulate.tidy_toy <- function(object, nsim, seed = NULL, overlap = 1, confounding = 0,
                              ate = NULL, ...) {
  if (!is.null(seed)) set.seed(seed)
  ate <- if (is.null(ate)) 1 else ate
  x <- stats::rnorm(nsim)
  ps <- stats::plogis(overlap * x)
  t <- stats::rbinom(nsim, 1, ps)
  y0 <- x + confounding * (t - ps) + stats::rnorm(nsim)
  y1 <- y0 + ate
  d <- data.frame(x = x, t = t, y = ifelse(t == 1, y1, y0), .ps = ps, .mu0 = x,
                  .mu1 = x + ate, .tau = ate, .y0 = y0, .y1 = y1)
  new_sandbox_data(d, list(treatment = "t", outcome = "y", covariates = "x"),
                   list(ate = ate, bias = confounding))
}
tidy_toy <- structure(list(), class = "tidy_toy")
broom_like <- function(x) gsub("_", ".", x, fixed = TRUE)

# broom's column glossary (modeltests), or the part of it these methods use when modeltests
# is not installed
glossary <- function(method) {
  if (requireNamespace("modeltests", quietly = TRUE)) {
    g <- modeltests::column_glossary
    return(g$column[g$method == method])
  }
  switch(method,
         tidy = c("term", "estimate", "std.error", "statistic", "p.value", "conf.low",
                  "conf.high", "n", "bias", "power", "method", "type", "value", "mean",
                  "median", "column1", "column2"),
         glance = c("nobs", "n", "alpha", "power.reached", "method", "estimator"),
         augment = c(".fitted", ".resid", ".tau", ".cred.low", ".cred.high"))
}

# Every column is either in broom's glossary or one of the object's identifiers or measures
# named in `own`; glance has one row.
expect_broom_table <- function(tab, method, own = character()) {
  expect_s3_class(tab, "data.frame")
  if (requireNamespace("tibble", quietly = TRUE)) expect_s3_class(tab, "tbl_df")
  if (requireNamespace("modeltests", quietly = TRUE) && method != "augment")
    if (method == "tidy") modeltests::check_tidy_output(tab, strict = FALSE)
    else modeltests::check_glance_outputs(tab, strict = FALSE)
  unknown <- setdiff(names(tab), c(glossary(method), own))
  expect_identical(unknown, character(0))
  expect_false(any(grepl("_", setdiff(names(tab), own))))
  if (method == "glance") expect_equal(nrow(tab), 1L)
}

test_that("estimate_ate results: one row per method with broom's names and the same values", {
  set.seed(1)
  n <- 300
  d <- data.frame(x = rnorm(n))
  d$a <- rbinom(n, 1, plogis(d$x))
  d$y <- 1 + 2 * d$a + d$x + rnorm(n)
  fit <- estimate_ate(d, "a", "y", "x", method = c("aipw", "ipw", "or"))
  td <- tidy(fit)
  expect_broom_table(td, "tidy", own = c("estimator", "estimand"))
  expect_equal(td$estimator, c("aipw", "ipw", "or"))
  expect_equal(td$estimate, fit$estimates$estimate)
  expect_equal(td$std.error, fit$estimates$se)
  expect_equal(td$conf.low, fit$estimates$lower)
  expect_equal(td$conf.high, fit$estimates$upper)
  expect_equal(td$p.value, fit$estimates$p_value)
  expect_equal(td$statistic, fit$estimates$estimate / fit$estimates$se)
  expect_type(td$estimate, "double")
  gl <- glance(fit)
  expect_broom_table(gl, "glance", own = c("n.treated", "estimand", "outcome.type",
                                           "estimators", "folds", "conf.level",
                                           "propensity.lower", "propensity.upper",
                                           "outcome.learner", "propensity.learner"))
  expect_equal(gl$nobs, n)
  expect_equal(gl$n.treated, sum(d$a))
  au <- augment(fit, d)
  expect_broom_table(au, "augment", own = c(names(d), ".propensity", ".fitted0", ".fitted1"))
  expect_equal(nrow(au), n)
  expect_equal(au$.propensity, fit$nuisance$g)
  expect_equal(au$.fitted, ifelse(d$a == 1, fit$nuisance$Q1, fit$nuisance$Q0))
  expect_equal(au$.resid, d$y - au$.fitted)
  err <- tryCatch(augment(fit, d[1:10, ]), error = identity)
  expect_s3_class(err, "causalsandbox_input_error")
  expect_equal(err$argument, "data")
})

# A censored cohort with a proportional-hazards effect of a (log HR -0.4) and confounder x.
tidy_survival_cohort <- function(n, seed) {
  set.seed(seed)
  d <- data.frame(x = rnorm(n))
  d$a <- rbinom(n, 1, plogis(d$x))
  te <- rexp(n, 0.01 * exp(0.5 * d$x - 0.4 * d$a))
  tc <- rexp(n, 0.004)
  d$time <- pmin(te, tc)
  d$status <- as.integer(te <= tc)
  d
}

test_that("a hazard ratio's statistic is log(HR) / se, the Wald statistic of its p-value", {
  d <- tidy_survival_cohort(300, seed = 2)
  fit <- estimate_survival(d, "a", "time", "status", "x", horizon = 100,
                           method = c("aipcw", "ipw_cox_hr"))
  td <- tidy(fit)
  hr <- td$estimand == "hazard_ratio"
  expect_equal(sum(hr), 1L)
  expect_equal(td$statistic[hr], log(td$estimate[hr]) / td$std.error[hr])
  expect_equal(td$p.value[hr], 2 * pnorm(-abs(td$statistic[hr])), tolerance = 1e-6)
  expect_equal(td$statistic[!hr], td$estimate[!hr] / td$std.error[!hr])
})

test_that("studies, power analyses and tuning: one row per scenario, n and estimator", {
  design <- scenario_grid(overlap = c(0.5, 2), confounding = c(0, 0.2))
  study <- run_study(tidy_toy, design, n = c(150, 300), reps = 3,
                     estimators = list(aipw = "aipw", naive = "naive"), seed = 3)
  td <- tidy(study)
  ids <- c("scenario", "overlap", "confounding", "heterogeneity", "ate", "estimator")
  s <- summary(study)
  expect_broom_table(td, "tidy", own = c(ids, "reps", broom_like(names(s))))
  expect_equal(nrow(td), nrow(design) * 2 * 2)
  expect_equal(nrow(unique(td[c("scenario", "n", "estimator")])), nrow(td))
  expect_equal(td$estimate, s$mean)
  expect_equal(td$std.error, s$bias_mcse)
  expect_equal(td$bias, s$bias)
  expect_equal(td$coverage, s$coverage)
  expect_equal(td$rmse.mcse, s$rmse_mcse)
  expect_equal(td$n.failed, s$n_failed)
  expect_equal(tidy(study, target = "sample")$truth, summary(study, target = "sample")$truth)
  gl <- glance(study)
  expect_broom_table(gl, "glance", own = c("scenarios", "sample.sizes", "reps", "estimators",
                                           "n.failed", "n.warned", "seed", "conf.level",
                                           "elapsed"))
  expect_equal(gl$nobs, nrow(study$results))
  expect_equal(gl$scenarios, 4L)

  pw <- power_analysis(tidy_toy, n = c(50, 100, 400), reps = 6, seed = 2, ate = 0.4)
  tp <- tidy(pw)
  expect_broom_table(tp, "tidy", own = c("reps", "n.failed"))
  expect_equal(tp$n, c(50, 100, 400))
  expect_equal(tp$power, pw$power$power)
  expect_equal(tp$std.error, pw$power$mcse)
  expect_true(all(tp$conf.low <= tp$power & tp$power <= tp$conf.high))
  # the interval is power -/+ z SE clipped to [0, 1], at `level`; the old name `conf.level`
  # warns and gives the same numbers
  t80 <- tidy(pw, level = 0.8)
  expect_equal(t80$conf.high, pmin(1, pw$power$power + qnorm(0.9) * pw$power$mcse))
  expect_equal(t80$conf.low, pmax(0, pw$power$power - qnorm(0.9) * pw$power$mcse))
  old <- capture_deprecation(tidy(pw, conf.level = 0.8))
  expect_renamed(old, "conf.level", "level")
  expect_identical(old$value, t80)
  gp <- glance(pw)
  expect_broom_table(gp, "glance", own = c("target", "n.target", "sample.sizes", "reps",
                                           "n.failed", "seed"))
  expect_equal(gp$n.target, pw$n_target)
  expect_equal(gp$power.reached, !is.na(pw$n_target))

  factory <- function(trim) function(data) {
    fit <- estimate_ate(data, method = "ipw", truncate = trim)
    as.data.frame(fit)
  }
  tuned <- tune_estimator(tidy_toy, factory, list(trim = c(0, 0.05)),
                          design = scenario_grid(overlap = 2), n = 200, reps = 3, seed = 1)
  tt <- tidy(tuned)
  expect_broom_table(tt, "tidy", own = c("setting", "trim", broom_like(names(tuned$ranking))))
  expect_equal(nrow(tt), 2L)
  expect_equal(tt$rmse, tuned$ranking$rmse)
  expect_equal(glance(tuned)$best.setting, tuned$ranking$setting[1])
})

test_that("a study whose estimator fails tidies with NA measures, not an error", {
  flaky <- function(data) if (mean(data$x) > 0) stop("no convergence") else
    c(estimate = mean(data$y))
  study <- run_study(tidy_toy, scenario_grid(overlap = 1), n = 30, reps = 6,
                     estimators = list(flaky = flaky, never = function(data) stop("singular"),
                                       naive = "naive"), seed = 5)
  td <- tidy(study)
  failed <- sum(!is.na(study$results$error))
  expect_gt(failed, 0)
  expect_equal(sum(td$n.failed), failed)
  expect_equal(td$n.failed[td$estimator == "never"], 6)
  expect_true(is.na(td$estimate[td$estimator == "never"]))
  expect_true(is.na(td$rmse[td$estimator == "never"]))
  expect_equal(td$n.ok[td$estimator == "flaky"], 6 - td$n.failed[td$estimator == "flaky"])
  expect_equal(glance(study)$n.failed, failed)
})

test_that("fidelity, dcr, generative models and cohorts have tidiers", {
  set.seed(2)
  make <- function(n) {
    age <- rnorm(n, 60, 8)
    t <- rbinom(n, 1, plogis((age - 60) / 8))
    data.frame(age = age, sex = factor(sample(c("F", "M"), n, TRUE)), t = t,
               y = 0.5 * t + 0.05 * age + rnorm(n))
  }
  real <- make(200)
  fid <- fidelity(real, make(200), treatment = "t", outcome = "y", network = FALSE,
                  threads = 1)
  tf <- tidy(fid)
  expect_broom_table(tf, "tidy", own = c("metric", "better"))
  expect_equal(tf$value, fid$table$value)
  tc <- tidy(fid, component = "columns")
  expect_equal(nrow(tc), 4L)
  expect_equal(tc$score, fid$columns$score)
  expect_equal(tidy(fid, component = "pairs")$score, fid$pairs$score)
  expect_equal(tidy(fid, component = "causal")$real, fid$causal$real)
  gf <- glance(fid)
  expect_equal(nrow(gf), 1L)
  expect_equal(gf$energy.normalised, fid$joint$energy_normalised)
  expect_equal(gf$dcr.ratio, fid$dcr$ratio)
  expect_false(any(grepl("_", names(gf))))
  td <- tidy(fid$dcr)
  expect_equal(td$rows, c("synthetic", fid$dcr$baseline_type))
  expect_equal(td$median, c(stats::median(fid$dcr$synthetic), stats::median(fid$dcr$baseline)))
  expect_equal(glance(fid$dcr)$ratio, fid$dcr$ratio)

  fit <- causalmix(real, "t", "y", epochs = 8, hidden = 8, seed = 1, threads = 1)
  tm <- tidy(fit)
  expect_broom_table(tm, "tidy", own = c("best.epoch", "train.loss", "valid.loss",
                                         "epochs.run"))
  expect_equal(tm$best.epoch, unname(as.integer(fit$best_epoch)))
  expect_equal(tm$valid.loss[1], fit$history$vae_valid[fit$best_epoch[["vae"]]])
  gm <- glance(fit)
  expect_equal(gm$nobs, 200L)
  expect_equal(gm$epochs.run, fit$epochs_run)
  am <- augment(fit, real)
  expect_equal(am$.propensity, fit$fitted$ps)
  expect_equal(am$.tau, fit$fitted$mu1 - fit$fitted$mu0)
  an <- augment(fit, newdata = real[1:5, ])
  expect_equal(an$.fitted1, predict(fit, real[1:5, ], type = "mu1"))

  cohort <- simulate(fit, 300, seed = 4, threads = 1)
  tr <- tidy(cohort)
  expect_broom_table(tr, "tidy", own = "sample.estimate")
  expect_equal(tr$term, c("ATE", "ATT", "ATC"))
  expect_equal(tr$estimate[1], truth(cohort)$ate)
  expect_equal(tr$sample.estimate[1], mean(cohort$.tau))
  expect_equal(glance(cohort)$bias, truth(cohort)$bias)
  ac <- augment(cohort)
  expect_equal(tail(names(ac), 6), c(".ps", ".mu0", ".mu1", ".tau", ".y0", ".y1"))
  expect_equal(ac$.tau, cohort$.tau)

  bgm <- causalbgm(real[c("age", "t", "y")], "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), epochs = 2, init_iterations = 50, seed = 1, threads = 1))
  pr <- predict(bgm, n_mcmc = 30, burn_in = 30, seed = 1, threads = 1)
  tb <- tidy(pr)
  expect_broom_table(tb, "tidy")
  expect_equal(tb$estimate, pr$ate[["estimate"]])
  expect_equal(tb$conf.low, pr$ate[["lower"]])
  expect_equal(tb$std.error, stats::sd(pr$ate_draws))
  expect_equal(glance(pr)$nobs, 200L)
  ab <- augment(pr, real)
  expect_broom_table(ab, "augment", own = c(names(real), ".accept"))
  expect_equal(ab$.tau, pr$effects$estimate)
  expect_equal(glance(bgm)$nobs, 200L)
  # continuous treatment: one row per dose of the average dose-response function
  cont <- causalbgm(real[c("t", "y", "age")], "age", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), epochs = 2, init_iterations = 50, seed = 1, threads = 1))
  pc <- predict(cont, n_mcmc = 20, burn_in = 20, x_values = c(50, 60, 70), seed = 1,
                threads = 1)
  tcont <- tidy(pc)
  expect_broom_table(tcont, "tidy", own = "dose")
  expect_equal(tcont$dose, c(50, 60, 70))
  expect_equal(tcont$estimate, pc$adrf$estimate)
  expect_equal(tcont$std.error, apply(pc$adrf_draws, 1, sd))
  expect_equal(augment(pc, real)$.accept, pc$accept)

  mix <- causal_mixture(spo_example_data(5000, seed = 1), "t", "y",
                        treatment_proxies = c("z1", "z2"), outcome_proxies = c("x1", "x2"),
                        k = 2, threads = 1)
  tx <- tidy(mix)
  expect_broom_table(tx, "tidy")
  expect_equal(tx$term[1:3], c("E[Y(0)]", "E[Y(1)]", "ATE"))
  expect_equal(tx$estimate[3], mix$ate)
  expect_equal(nrow(tx), 3 + if (is.null(mix$mixture)) 0 else 2 * nrow(mix$mixture))
  expect_equal(glance(mix)$nobs, 5000L)
})

test_that("tidy() works on a study of a generator fitted to a public cohort (lalonde)", {
  skip_if_not_installed("MatchIt")
  lalonde <- MatchIt::lalonde
  fit <- quiet_causalmix(lalonde, "treat", "re78", epochs = 10, hidden = 16, seed = 1, threads = 1)
  study <- run_study(fit, scenario_grid(overlap = c(1, 2)), n = 200, reps = 2,
                     estimators = list(aipw = "aipw", naive = "naive"), seed = 1)
  td <- tidy(study)
  expect_equal(nrow(td), 4L)
  expect_equal(td$estimate, summary(study)$mean)
  expect_true(all(is.finite(td$truth)))
})

test_that("time-to-event fits and results tidy: the survival network, glance without bounds", {
  d <- tidy_survival_cohort(400, seed = 3)
  # (a short fit: whether its propensity net learned anything does not matter here)
  fit <- suppressWarnings(causalmix(d, "a", c(time = "time", event = "status"), epochs = 10,
                                    hidden = 8, seed = 1, threads = 1))
  td <- tidy(fit)
  expect_equal(td$term, c("vae", "propensity", "survival"))
  expect_equal(td$best.epoch[3], fit$survival$best_epoch)
  expect_equal(td$valid.loss[3], fit$survival$history$valid[fit$survival$best_epoch])
  e <- estimate_ate(d, "a", c(time = "time", event = "status"), "x", horizon = 100)
  gl <- glance(e)
  expect_equal(nrow(gl), 1L)
  expect_equal(gl$outcome.type, "time-to-event")
  expect_true(is.na(gl$propensity.lower))
  expect_true(is.na(gl$outcome.learner))
  au <- augment(e, d)
  expect_equal(au$.propensity, e$nuisance$g)
  expect_equal(setdiff(names(au), names(d)), ".propensity")
  d$x[1:5] <- NA
  cc <- estimate_ate(d, "a", c(time = "time", event = "status"), "x", horizon = 100,
                     missing = "complete_case")
  expect_equal(nrow(augment(cc, d)), nrow(d) - 5L)
  lr <- logrank_test(d, "a", "time", "status")
  tl <- tidy(lr)
  expect_equal(tl$arm, c("control", "treated"))
  expect_equal(tl$observed, unname(lr$observed))
  gl <- glance(lr)
  expect_equal(c(gl$statistic, gl$p.value, gl$estimate),
               c(lr$statistic, lr$p_value, exp(lr$log_hr)))
})
