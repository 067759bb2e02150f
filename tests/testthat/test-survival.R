# Time-to-event outcomes: a cohort with known Weibull hazards (proportional hazards, log HR
# -0.4 for treatment, 0.5 per sd of age, -0.4 for sex), censoring by an exponential loss to
# follow-up and at 365 days.
weibull_cohort <- function(n, seed) {
  set.seed(seed)
  d <- data.frame(age = rnorm(n), sex = rbinom(n, 1, 0.5))
  d$treat <- rbinom(n, 1, plogis(0.6 * d$age))
  lin <- 0.5 * d$age - 0.4 * d$sex
  te <- rweibull(n, 1.5, 300 * exp(-(lin - 0.4 * d$treat) / 1.5))
  tc <- pmin(rexp(n, 1 / 1000), 365)
  d$time <- pmin(te, tc)
  d$status <- as.integer(te <= tc)
  d
}
true_survival <- function(d, arm, s) {
  lin <- 0.5 * d$age - 0.4 * d$sex
  exp(-(s / (300 * exp(-(lin - 0.4 * arm) / 1.5)))^1.5)
}

options(causalsandbox.threads = 1)
cohort <- weibull_cohort(3000, 1)
fit <- causalmix(cohort, "treat", c(time = "time", event = "status"), seed = 1, threads = 1)

test_that("the learned survival at the horizon is close to the Weibull truth", {
  enc <- causalsandbox:::encode_table(fit$schema, cohort)
  lh <- causalsandbox:::survival_log_hazards(fit, enc$x, enc$missing)
  s <- fit$survival
  J <- s$J_event
  E <- causalsandbox:::grid_exposure(s$cut_event, 300 / s$unit)
  learned0 <- exp(-drop(exp(lh[, 1:J]) %*% t(E)))
  learned1 <- exp(-drop(exp(lh[, J + 1:J]) %*% t(E)))
  # measured: mean absolute error 0.041 (control) and 0.032 (treated) with 3,000 rows
  expect_lt(mean(abs(learned0 - true_survival(cohort, 0, 300))), 0.06)
  expect_lt(mean(abs(learned1 - true_survival(cohort, 1, 300))), 0.06)
  expect_equal(fit$survival$summary$event_share, mean(cohort$status))
  expect_equal(fit$survival$summary$censoring_share, mean(cohort$status == 0))
})

test_that("the requested estimand equals the population truth", {
  a <- simulate(fit, nsim = 500, seed = 2, ate = -0.08, horizon = 300)
  expect_equal(truth(a)$ate, -0.08, tolerance = 1e-8)
  expect_equal(truth(a)$survival$risk_difference, -0.08, tolerance = 1e-8)
  b <- simulate(fit, nsim = 500, seed = 2, ate = 12, estimand = "rmst_difference",
                horizon = 300)
  expect_equal(truth(b)$survival$rmst_difference, 12, tolerance = 1e-8)
  h <- simulate(fit, nsim = 500, seed = 2, ate = 0.7, estimand = "hazard_ratio",
                heterogeneity = 0, horizon = 300)
  expect_equal(truth(h)$survival$hazard_ratio, 0.7, tolerance = 1e-8)
  # a constant conditional hazard ratio: every row has the same log HR
  expect_equal(diff(range(h$.loghr)), 0)
})

test_that("draws are identical for 1 and 2 threads and for chunks with offsets", {
  one <- simulate(fit, nsim = 3000, seed = 5, ate = -0.05, confounding = 0.02, threads = 1)
  two <- simulate(fit, nsim = 3000, seed = 5, ate = -0.05, confounding = 0.02, threads = 2)
  expect_identical(as.data.frame(one), as.data.frame(two))
  first <- simulate(fit, nsim = 1000, seed = 5, ate = -0.05, confounding = 0.02)
  rest <- simulate(fit, nsim = 2000, seed = 5, ate = -0.05, confounding = 0.02, offset = 1000)
  expect_identical(rbind(as.data.frame(first), as.data.frame(rest)), as.data.frame(one))
})

test_that("drawn censoring and follow-up match the data", {
  syn <- simulate(fit, nsim = 20000, seed = 7)
  expect_lt(abs(mean(syn$status == 0) - mean(cohort$status == 0)), 0.03)
  expect_lt(abs(mean(syn$time >= 365) - mean(cohort$time >= 365)), 0.03)
  q_data <- stats::quantile(cohort$time, c(0.25, 0.5))
  q_syn <- stats::quantile(syn$time, c(0.25, 0.5))
  expect_lt(max(abs(q_syn / q_data - 1)), 0.12)
  expect_true(all(syn$time <= 365))
})

test_that("knobs leave each other's quantities unchanged", {
  base <- simulate(fit, nsim = 2000, seed = 9, ate = -0.06, horizon = 300)
  conf <- simulate(fit, nsim = 2000, seed = 9, ate = -0.06, confounding = 0.03, horizon = 300)
  over <- simulate(fit, nsim = 2000, seed = 9, ate = -0.06, overlap = 2, horizon = 300)
  eff <- simulate(fit, nsim = 2000, seed = 9, ate = -0.12, horizon = 300)
  expect_equal(truth(conf)$ate, truth(base)$ate, tolerance = 1e-10)
  expect_equal(truth(over)$ate, truth(base)$ate, tolerance = 1e-10)
  expect_identical(conf$.ps, base$.ps)
  expect_identical(eff$.ps, base$.ps)
  expect_identical(conf$.s1, base$.s1)
  expect_equal(truth(conf)$bias, 0.03)
  expect_equal(truth(base)$bias, 0)
  expect_false(isTRUE(all.equal(over$.ps, base$.ps)))
})

test_that("an oracle adjusted estimator on 2e5 rows lands on truth + bias", {
  skip_on_cran()  # two draws of 2e5 rows and a Cox fit on 4e5: a few seconds of CPU
  k <- 0.04
  big <- simulate(fit, nsim = 2e5, seed = 11, ate = -0.07, confounding = k, horizon = 300)
  a <- big$treat
  t_received <- ifelse(a == 1, big$.t1, big$.t0)
  y <- as.double(t_received <= 300)
  # IPW with the true propensity on the uncensored event indicator of the received arm
  phi <- a * y / big$.ps - (1 - a) * y / (1 - big$.ps)
  se <- sqrt(stats::var(phi) / length(phi) + truth(big)$ate_mcse^2)
  expect_lt(abs(mean(phi) - (truth(big)$ate + k)), 4 * se)
  # the marginal Cox hazard ratio of the potential event times, followed up to the horizon
  stacked <- data.frame(time = pmin(c(big$.t0, big$.t1), 300),
                        event = as.integer(c(big$.t0, big$.t1) <= 300),
                        arm = rep(0:1, each = nrow(big)))
  cox <- survival::coxph(survival::Surv(time, event) ~ arm, data = stacked)
  hr_se <- sqrt(stats::vcov(cox)[1, 1] + (truth(big)$survival$hazard_ratio_mcse /
                                             truth(big)$survival$hazard_ratio)^2)
  expect_lt(abs(stats::coef(cox)[[1]] - log(truth(big)$survival$hazard_ratio)), 4 * hr_se)
})

test_that("a Surv column works as the outcome and bad outcomes are refused", {
  d <- cohort[1:800, ]
  d$y <- survival::Surv(d$time, d$status)
  d$time <- NULL
  d$status <- NULL
  f <- causalmix(d, "treat", "y", epochs = 20, seed = 2, threads = 1)
  syn <- simulate(f, nsim = 300, seed = 1)
  expect_s3_class(syn$y, "Surv")
  expect_equal(mean(syn$y[, 2] == 1), mean(syn$.t0 * (1 - syn$treat) + syn$.t1 * syn$treat <=
                                             syn$.c))
  bad <- cohort[1:100, ]
  bad$status <- bad$status + 1L
  err <- tryCatch(causalmix(bad, "treat", c(time = "time", event = "status")),
                  error = identity)
  expect_s3_class(err, "causalsandbox_input_error")
  expect_equal(err$column, "status")
  err <- tryCatch(simulate(fit, nsim = 10, ate = 0.99, horizon = 300), error = identity)
  expect_s3_class(err, "causalsandbox_knob_error")
  expect_equal(err$argument, "ate")
})

test_that("fidelity() compares Kaplan-Meier curves by arm", {
  syn <- as.data.frame(simulate(fit, nsim = 3000, seed = 13))
  f <- fidelity(cohort, syn, treatment = "treat", outcome = c(time = "time", event = "status"),
                network = FALSE, threads = 1)
  expect_s3_class(f, "sandbox_fidelity_survival")
  expect_equal(f$horizon, fit$survival$horizon)
  km_rows <- f$table$value[grepl("^KM largest", f$table$metric)]
  expect_length(km_rows, 2L)
  expect_true(all(km_rows > 0 & km_rows < 0.06))
  expect_equal(f$survival$real[2], mean(cohort$status == 0))
  expect_equal(f$survival$synthetic[2], mean(syn$status == 0))
  # the Kaplan-Meier RMST of the real control arm, against survival::survfit
  km <- survival::survfit(survival::Surv(time, status) ~ 1, data = cohort[cohort$treat == 0, ])
  expect_equal(f$survival$real[3],
               summary(km, rmean = f$horizon)$table[["rmean"]], tolerance = 1e-10)
  # a synthetic table drawn with a different effect is further from the real one
  far <- as.data.frame(simulate(fit, nsim = 3000, seed = 13, ate = -0.3))
  g <- fidelity(cohort, far, treatment = "treat", outcome = c(time = "time", event = "status"),
                network = FALSE, threads = 1)
  expect_gt(g$table$value[g$table$metric == "KM largest vertical distance, treated arm"],
            km_rows[2] + 0.05)
})

test_that("mcrpc_tte is consistent with mcrpc$hosp_ed_any", {
  expect_identical(dim(mcrpc_tte), c(4098L, 21L))
  expect_identical(mcrpc_tte[1:19], mcrpc[setdiff(names(mcrpc), "hosp_ed_any")])
  expect_true(all(mcrpc_tte$hosp_ed_event <= mcrpc$hosp_ed_any))
  # an event-free year means no hospitalisation or ED visit within a year
  expect_true(all(mcrpc$hosp_ed_any[mcrpc_tte$hosp_ed_days == 365 &
                                      mcrpc_tte$hosp_ed_event == 0] == 0L))
  expect_equal(mean(mcrpc_tte$hosp_ed_event), 0.384, tolerance = 0.002 / 0.384)
  expect_equal(mean(mcrpc_tte$hosp_ed_event == 0 & mcrpc_tte$hosp_ed_days < 365), 0.092,
               tolerance = 0.002 / 0.092)
})

test_that("effect = f sets the conditional log hazard ratio; confounding on other scales", {
  f <- function(x) -0.5 * x$sex
  a <- simulate(fit, nsim = 2000, seed = 17, effect = f, horizon = 300)
  expect_equal(a$.loghr, -0.5 * a$sex)
  expect_equal(a$.s1, a$.s0^exp(a$.loghr), tolerance = 1e-12)
  r <- simulate(fit, nsim = 500, seed = 17, ate = 10, estimand = "rmst_difference",
                confounding = -4, horizon = 300)
  expect_equal(truth(r)$ate, 10, tolerance = 1e-8)
  expect_equal(truth(r)$bias, -4)
  h <- simulate(fit, nsim = 500, seed = 17, ate = 0.8, estimand = "hazard_ratio",
                confounding = 0.05, horizon = 300)
  expect_equal(truth(h)$ate, 0.8, tolerance = 1e-8)
  expect_equal(truth(h)$bias, 0.05)
  err <- tryCatch(simulate(fit, nsim = 10, confounding = 0.9, horizon = 300), error = identity)
  expect_s3_class(err, "causalsandbox_knob_error")
  expect_equal(err$argument, "confounding")
})

test_that("confounding on the hazard-ratio scale biases the IPW Cox limit by k", {
  skip_on_cran()  # a draw of 2e5 rows and a weighted Cox fit
  # kappa was solved so that the IPW-weighted marginal Cox model of the received arm's event
  # times, followed up to the horizon, converges to the hazard ratio plus 0.05
  big <- simulate(fit, nsim = 2e5, seed = 19, ate = 0.8, estimand = "hazard_ratio",
                  confounding = 0.05, horizon = 300)
  t_received <- ifelse(big$treat == 1, big$.t1, big$.t0)
  w <- ifelse(big$treat == 1, 1 / big$.ps, 1 / (1 - big$.ps))
  cox <- survival::coxph(survival::Surv(pmin(t_received, 300), as.integer(t_received <= 300)) ~
                           big$treat, weights = w, robust = TRUE)
  hr <- exp(stats::coef(cox)[[1]])
  se <- hr * sqrt(stats::vcov(cox)[1, 1])
  expect_lt(abs(hr - 0.85), 4 * sqrt(se^2 + truth(big)$ate_mcse^2))
})
