# Survival estimators at a horizon on a cohort with proportional hazards and covariate-
# dependent censoring (continuous times, no ties).
survival_cohort <- function(n, seed) {
  set.seed(seed)
  d <- data.frame(x = rnorm(n), z = rbinom(n, 1, 0.4))
  d$a <- rbinom(n, 1, plogis(0.5 * d$x))
  te <- rexp(n, 0.01 * exp(0.5 * d$x - 0.3 * d$z - 0.4 * d$a))
  tc <- rexp(n, 0.004 * exp(0.2 * d$x))
  d$time <- pmin(te, tc)
  d$status <- as.integer(te <= tc)
  d
}

d1500 <- survival_cohort(1500, 1)

test_that("g-formula and AIPCW agree with riskRegression::ate on the same nuisance models", {
  skip_if_not_installed("riskRegression")
  d <- d1500
  ours <- estimate_survival(d, "a", "time", "status", c("x", "z"), horizon = 100,
                            method = c("cox_gformula", "aipcw"))
  d$af <- factor(d$a)
  event <- survival::coxph(survival::Surv(time, status) ~ af + x + z, data = d,
                           ties = "breslow", x = TRUE, y = TRUE)
  censor <- survival::coxph(survival::Surv(time, status == 0) ~ af + x + z, data = d,
                            ties = "breslow", x = TRUE, y = TRUE)
  ps <- stats::glm(af ~ x + z, data = d, family = stats::binomial())
  ref <- riskRegression::ate(event = event, treatment = ps, censor = censor, data = d,
                             times = 100, estimator = c("GFORMULA", "AIPTW,AIPCW"),
                             se = TRUE, verbose = FALSE)
  diffs <- as.data.frame(ref$diffRisk)
  expect_equal(ours$estimates$estimate[ours$estimates$method == "cox_gformula"],
               diffs$estimate[diffs$estimator == "GFORMULA"], tolerance = 1e-6)
  # the g-formula's influence-function SE (Cox coefficients and Breslow baseline estimated)
  # is the one riskRegression computes (measured: equal to 8 digits)
  expect_equal(ours$estimates$se[ours$estimates$method == "cox_gformula"],
               diffs$se[diffs$estimator == "GFORMULA"], tolerance = 1e-6)
  expect_equal(ours$estimates$estimate[ours$estimates$method == "aipcw"],
               diffs$estimate[diffs$estimator == "AIPTW"], tolerance = 1e-6)
})

test_that("the estimators recover the risk difference and hazard ratio", {
  d <- survival_cohort(4000, 2)
  r <- estimate_ate(d, "a", c(time = "time", event = "status"), c("x", "z"), horizon = 100)
  # truth: risk difference at 100 by numerical integration over x and z
  x <- stats::qnorm(stats::ppoints(4000))
  rd <- mean(c(0.6 * (exp(-exp(0.5 * x)) - exp(-exp(0.5 * x - 0.4))),
               0.4 * (exp(-exp(0.5 * x - 0.3)) - exp(-exp(0.5 * x - 0.7))))) * 2
  est <- r$estimates
  for (m in c("aipcw", "ipw_km", "cox_gformula"))
    expect_lt(abs(est$estimate[est$method == m] - rd), 4 * est$se[est$method == m])
  expect_true(all(est$se > 0))
  # the RMST difference up to 100: exponential laws, (1 - exp(-rate 100)) / rate per row
  rmst <- function(rate) (1 - exp(-100 * rate)) / rate
  rate <- function(x, z, a) 0.01 * exp(0.5 * x - 0.3 * z - 0.4 * a)
  truth_rmst <- 0.6 * mean(rmst(rate(x, 0, 1)) - rmst(rate(x, 0, 0))) +
    0.4 * mean(rmst(rate(x, 1, 1)) - rmst(rate(x, 1, 0)))
  m <- estimate_ate(d, "a", c(time = "time", event = "status"), c("x", "z"), horizon = 100,
                    method = c("aipcw", "ipw_km", "cox_gformula"), estimand = "rmst_difference")
  expect_equal(m$estimates$estimand, rep("rmst_difference", 3))
  expect_true(all(abs(m$estimates$estimate - truth_rmst) < 4 * m$estimates$se))
  hr <- est[est$method == "ipw_cox_hr", ]
  expect_gt(hr$estimate, 0.5)
  expect_lt(hr$estimate, 0.85)
})

# one small fit serves the tests of synthetic cohorts, studies and tuning
options(causalsandbox.threads = 1)
small_fit <- causalmix(survival_cohort(800, 5), "a", c(time = "time", event = "status"),
                       epochs = 30, seed = 1, threads = 1)

test_that("estimate_ate() finds the time and event columns of a synthetic survival cohort", {
  syn <- simulate(small_fit, nsim = 1500, seed = 4, horizon = 100)
  r <- estimate_ate(syn, method = c("aipcw", "ipw_km"))
  expect_equal(r$horizon, 100)
  expect_equal(r$roles$time, "time")
  expect_lt(abs(r$estimates$estimate[1] - truth(syn)$ate), 5 * r$estimates$se[1])
  # a cohort drawn on the RMST scale is estimated on it by default
  rm <- simulate(small_fit, nsim = 1500, seed = 4, horizon = 100, ate = 6,
                 estimand = "rmst_difference")
  r <- estimate_ate(rm, method = c("aipcw", "ipw_km", "cox_gformula"))
  expect_equal(r$estimates$estimand, rep("rmst_difference", 3))
  expect_true(all(abs(r$estimates$estimate - 6) < 5 * r$estimates$se))
})

test_that("run_study() and power_analysis() run the survival estimators and tests", {
  fit <- small_fit
  st <- run_study(fit, scenario_grid(ate = -0.1, horizon = 100), n = 400, reps = 2,
                  estimators = list(s = estimator_survival(c("aipcw", "ipw_km")),
                                    lr = estimator_logrank()), seed = 3)
  res <- st$results
  expect_equal(res$estimator, rep(c("s:aipcw", "s:ipw_km", "lr"), 2))
  expect_equal(res$truth, rep(-0.1, 6), tolerance = 1e-8)
  s_rows <- res$estimator != "lr"
  expect_true(all(res$se[s_rows] > 0 & res$se[s_rows] < 0.2))
  # the log-rank rows: the p-value of logrank_test() on the same cohorts, power but no bias
  expect_true(all(is.na(res$estimate[!s_rows])))
  expect_true(all(res$p_value[!s_rows] > 0 & res$p_value[!s_rows] < 1))
  perf <- summary(st)
  lr_perf <- perf[perf$estimator == "lr", ]
  expect_true(is.na(lr_perf$bias))
  expect_equal(lr_perf$power, mean(res$p_value[!s_rows] < 0.05))
  gen <- survival_generator(fit, "hazard_ratio", horizon = 100)
  st_hr <- run_study(gen, scenario_grid(ate = 0.6), n = 400, reps = 2,
                     estimators = list(s = estimator_survival()), seed = 3)
  expect_equal(st_hr$results$truth, c(0.6, 0.6), tolerance = 1e-8)
  expect_equal(st_hr$results$estimator, c("s", "s"))  # one method: named by the estimator
  rmst <- survival_generator(fit, "rmst_difference", horizon = 100)
  st_rm <- run_study(rmst, scenario_grid(ate = 5), n = 400, reps = 2,
                     estimators = list(s = estimator_survival("aipcw")), seed = 3)
  expect_equal(st_rm$results$truth, c(5, 5), tolerance = 1e-8)
  expect_true(all(st_rm$results$se > 0.5 & st_rm$results$se < 10))
  pw <- power_analysis(fit, n = c(200, 400), test = test_survival(), reps = 3, seed = 2,
                       ate = -0.15, horizon = 100)
  expect_equal(pw$power$reps, c(3L, 3L))
  expect_true(all(pw$power$power >= 0 & pw$power$power <= 1))
  # the estimand is no numeric knob: the error names it and points to survival_generator()
  err <- tryCatch(power_analysis(fit, n = 200, reps = 2, ate = 0.7, estimand = "hazard_ratio"),
                  error = identity)
  expect_s3_class(err, "causalsandbox_input_error")
  expect_equal(err$argument, "estimand")
  expect_match(conditionMessage(err), "survival_generator\\(fit, estimand = \"hazard_ratio\"\\)")
  # the default test of power_analysis(), test_ate(), is AIPCW on a survival cohort
  pw_default <- power_analysis(fit, n = 200, reps = 3, seed = 2, ate = -0.15, horizon = 100)
  expect_equal(pw_default$power$n_failed, 0L)
  expect_equal(pw_default$power$power, pw$power$power[1])
  cohort <- simulate(fit, nsim = 300, seed = 1, horizon = 100)
  expect_equal(test_ate()(cohort)$p_value, test_survival()(cohort))
  expect_equal(test_ate("ipw_km")(cohort)$p_value, test_survival("ipw_km")(cohort))
  lr <- test_logrank()(cohort)
  expect_equal(lr, logrank_test(cohort)$p_value)
  expect_equal(lr, logrank_test(as.data.frame(cohort), "a", "time", "status", 100)$p_value)
})

test_that("tune_estimator() ranks survival estimators on common cohorts", {
  tuned <- tune_estimator(small_fit, estimator_survival,
                          settings = list(method = c("aipcw", "cox_gformula")),
                          design = scenario_grid(ate = -0.1, horizon = 100), n = 300, reps = 3,
                          seed = 7)
  rk <- tuned$ranking
  expect_setequal(rk$method, c("aipcw", "cox_gformula"))
  expect_equal(rk$n_failed, c(0, 0))
  res <- tuned$study$results
  expect_equal(res$truth, rep(-0.1, 6), tolerance = 1e-8)
  # the RMSE of each setting is that of its estimates on the shared cohorts
  for (m in rk$method) {
    e <- res$estimate[res$estimator == rk$setting[rk$method == m]]
    expect_length(e, 3L)
    expect_equal(rk$rmse[rk$method == m], sqrt(mean((e + 0.1)^2)), tolerance = 1e-10)
  }
  expect_true(rk$rmse[1] <= rk$rmse[2])
  # common random numbers: both settings see each replicate's cohort; the AIPCW estimate of
  # replicate 1 is that of estimate_ate() on its cohort drawn again
  first <- res[res$rep == 1, ]
  cohort <- simulate(small_fit, nsim = 300, seed = causalsandbox:::task_seed(7, 1L, 1L),
                     ate = -0.1, horizon = 100)
  again <- estimate_ate(cohort, method = "aipcw")$estimates$estimate
  expect_equal(first$estimate[first$estimator == rk$setting[rk$method == "aipcw"]], again,
               tolerance = 1e-12)
  expect_output(print(tuned), "Tuning over 2 setting")
})

test_that("RMST estimates equal the areas under survfit() curves; g-formula SE = bootstrap", {
  d <- d1500
  r <- estimate_survival(d, "a", "time", "status", c("x", "z"), horizon = 100,
                         method = c("ipw_km", "cox_gformula"), estimand = "rmst_difference")
  est <- r$estimates
  # IPW Kaplan-Meier: the restricted means of survfit()'s weighted curves
  e <- stats::fitted(stats::glm(a ~ x + z, data = d, family = stats::binomial()))
  w <- ifelse(d$a == 1, 1 / e, 1 / (1 - e))
  km <- survival::survfit(survival::Surv(time, status) ~ a, data = d, weights = w)
  rmean <- summary(km, rmean = 100)$table[, "rmean"]
  expect_equal(est$estimate[est$method == "ipw_km"], unname(rmean[2] - rmean[1]),
               tolerance = 1e-8)
  # Cox g-formula: the mean area under each row's predicted curve (survfit.coxph, Breslow)
  cox <- survival::coxph(survival::Surv(time, status) ~ a + x + z, data = d,
                         ties = "breslow")
  area <- function(arm) {
    nd <- d
    nd$a <- arm
    f <- survival::survfit(cox, newdata = nd)
    k <- f$time <= 100
    mean(colSums(diff(c(0, f$time[k], 100)) * rbind(1, f$surv[k, , drop = FALSE])))
  }
  expect_equal(est$estimate[est$method == "cox_gformula"], area(1) - area(0),
               tolerance = 1e-8)
  # the influence-function SEs of the g-formula against a nonparametric bootstrap
  small <- d[1:600, ]
  both <- c("risk_difference", "rmst_difference")
  fit <- estimate_survival(small, "a", "time", "status", c("x", "z"), 100,
                           method = "cox_gformula", estimand = both)
  set.seed(5)
  boot <- replicate(60, {
    i <- sample.int(nrow(small), replace = TRUE)
    estimate_survival(small[i, ], "a", "time", "status", c("x", "z"), 100,
                      method = "cox_gformula", estimand = both)$estimates$estimate
  })
  # measured: bootstrap/IF ratios 1.02 and 0.98 (60 resamples: MC error about 9%)
  ratio <- apply(boot, 1, stats::sd) / fit$estimates$se
  expect_true(all(ratio > 0.75 & ratio < 1.3))
})

test_that("logrank_test() reproduces survival::survdiff() and runs in studies", {
  set.seed(3)
  n <- 500
  d <- data.frame(a = rbinom(n, 1, 0.5))
  d$time <- ceiling(rexp(n, 0.01 * exp(-0.3 * d$a)))   # whole days: tied event times
  d$status <- rbinom(n, 1, 0.7)
  lr <- logrank_test(d, "a", "time", "status")
  ref <- survival::survdiff(survival::Surv(time, status) ~ a, data = d)
  expect_equal(lr$statistic, ref$chisq, tolerance = 1e-8)
  expect_equal(unname(lr$observed), ref$obs)
  expect_equal(unname(lr$expected), ref$exp, tolerance = 1e-8)
  expect_equal(lr$p_value, stats::pchisq(ref$chisq, 1, lower.tail = FALSE), tolerance = 1e-8)
  cut <- d
  cut$status[cut$time > 40] <- 0
  cut$time <- pmin(cut$time, 40)
  expect_equal(logrank_test(d, "a", "time", "status", horizon = 40)$statistic,
               survival::survdiff(survival::Surv(time, status) ~ a, data = cut)$chisq,
               tolerance = 1e-8)
  expect_output(print(lr), "Chi-square 11.01 on 1 df")
  err <- tryCatch(logrank_test(d, "a", "days", "status"), error = identity)
  expect_s3_class(err, "causalsandbox_input_error")
  expect_equal(err$argument, "time")
  # survival::lung's coding 1 = censored, 2 = event: refused, naming the column and its values
  coded12 <- d
  coded12$status <- coded12$status + 1
  err <- tryCatch(logrank_test(coded12, "a", "time", "status"), error = identity)
  expect_s3_class(err, "causalsandbox_input_error")
  expect_equal(err$column, "status")
  expect_match(conditionMessage(err), "`status`.*values 1, 2")
  gap <- d
  gap$time[3] <- NA
  err <- tryCatch(logrank_test(gap, "a", "time", "status"), error = identity)
  expect_equal(c(err$argument, err$column), c("time", "time"))
})

test_that("the IPW Cox hazard ratio equals survival::coxph(weights, robust = TRUE)", {
  d <- d1500
  d$time <- ceiling(d$time)   # tied times
  r <- estimate_survival(d, "a", "time", "status", c("x", "z"), horizon = 100,
                         method = "ipw_cox_hr")$estimates
  e <- stats::fitted(stats::glm(a ~ x + z, data = d, family = stats::binomial()))
  w <- ifelse(d$a == 1, 1 / e, 1 / (1 - e))
  cut <- data.frame(time = pmin(d$time, 100), event = as.double(d$status == 1 & d$time <= 100),
                    a = d$a)
  cox <- survival::coxph(survival::Surv(time, event) ~ a, data = cut, weights = w,
                         robust = TRUE, ties = "breslow")
  expect_equal(log(r$estimate), unname(stats::coef(cox)), tolerance = 1e-7)
  expect_equal(r$se, sqrt(stats::vcov(cox)[1, 1]), tolerance = 1e-7)
})

test_that("missing covariates: indicator by default, complete cases or refusal on request", {
  d <- d1500[1:600, ]
  d$x[1:40] <- NA
  r <- estimate_survival(d, "a", "time", "status", c("x", "z"), horizon = 100,
                         method = "aipcw")
  expect_equal(r$n, 600L)
  expect_equal(r$missing$columns, "x")
  # missing-indicator adjustment: the same as filling by the mean with an indicator column
  filled <- d
  filled$x.missing <- as.double(is.na(d$x))
  filled$x[is.na(d$x)] <- mean(d$x, na.rm = TRUE)
  by_hand <- estimate_survival(filled, "a", "time", "status", c("x", "z", "x.missing"),
                               horizon = 100, method = "aipcw")
  expect_equal(r$estimates$estimate, by_hand$estimates$estimate, tolerance = 1e-12)
  cc <- estimate_survival(d, "a", "time", "status", c("x", "z"), horizon = 100,
                          method = "aipcw", missing = "complete_case")
  expect_equal(cc$n, 560L)
  # rows dropped: none with indicators, the 40 incomplete ones with complete cases (whatever
  # the censoring times past the horizon)
  expect_equal(r$missing$rows_dropped, 0L)
  expect_equal(cc$missing$rows_dropped, 40L)
  expect_false(any(grepl("dropped", capture.output(print(r)))))
  expect_output(print(cc), "; 40 row\\(s\\) dropped")
  err <- tryCatch(estimate_survival(d, "a", "time", "status", c("x", "z"), horizon = 100,
                                    missing = "fail"), error = identity)
  expect_s3_class(err, "causalsandbox_input_error")
  expect_equal(err$argument, "missing")
  expect_output(print(r), "aipcw \\(risk difference\\)")
})
