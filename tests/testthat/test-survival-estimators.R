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

test_that("g-formula and AIPCW agree with riskRegression::ate on the same nuisance models", {
  skip_if_not_installed("riskRegression")
  d <- survival_cohort(1500, 1)
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
                             se = FALSE, verbose = FALSE)
  diffs <- as.data.frame(ref$diffRisk)
  expect_equal(ours$estimates$estimate[ours$estimates$method == "cox_gformula"],
               diffs$estimate[diffs$estimator == "GFORMULA"], tolerance = 1e-6)
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
  for (m in c("aipcw", "ipw_km"))
    expect_lt(abs(est$estimate[est$method == m] - rd), 4 * est$se[est$method == m])
  expect_true(all(is.na(est$se[est$method == "cox_gformula"])))
  hr <- est[est$method == "ipw_cox_hr", ]
  expect_gt(hr$estimate, 0.5)
  expect_lt(hr$estimate, 0.85)
})

test_that("estimate_ate() finds the time and event columns of a synthetic survival cohort", {
  options(causalsandbox.threads = 1)
  d <- survival_cohort(800, 3)
  fit <- causalmix(d, "a", c(time = "time", event = "status"), epochs = 30, seed = 1,
                   threads = 1)
  syn <- simulate(fit, nsim = 1500, seed = 4, horizon = 100)
  r <- estimate_ate(syn, method = c("aipcw", "ipw_km"))
  expect_equal(r$horizon, 100)
  expect_equal(r$roles$time, "time")
  expect_lt(abs(r$estimates$estimate[1] - truth(syn)$ate), 5 * r$estimates$se[1])
})

test_that("run_study() and power_analysis() run the survival estimators and tests", {
  options(causalsandbox.threads = 1)
  d <- survival_cohort(800, 5)
  fit <- causalmix(d, "a", c(time = "time", event = "status"), epochs = 30, seed = 1,
                   threads = 1)
  st <- run_study(fit, scenario_grid(ate = -0.1, horizon = 100), n = 400, reps = 2,
                  estimators = list(s = estimator_survival(c("aipcw", "ipw_km"))), seed = 3)
  res <- st$results
  expect_equal(res$estimator, rep(c("s:aipcw", "s:ipw_km"), 2))
  expect_equal(res$truth, rep(-0.1, 4), tolerance = 1e-8)
  expect_true(all(res$se > 0 & res$se < 0.2))
  gen <- survival_generator(fit, "hazard_ratio", horizon = 100)
  st_hr <- run_study(gen, scenario_grid(ate = 0.6), n = 400, reps = 2,
                     estimators = list(s = estimator_survival()), seed = 3)
  expect_equal(st_hr$results$truth, c(0.6, 0.6), tolerance = 1e-8)
  expect_equal(st_hr$results$estimator, c("s", "s"))  # one method: named by the estimator
  pw <- power_analysis(fit, n = c(200, 400), test = test_survival(), reps = 3, seed = 2,
                       ate = -0.15, horizon = 100)
  expect_equal(pw$power$reps, c(3L, 3L))
  expect_true(all(pw$power$power >= 0 & pw$power$power <= 1))
  lr <- test_logrank()(simulate(fit, nsim = 300, seed = 1, horizon = 100))
  expect_true(lr > 0 && lr < 1)
})
