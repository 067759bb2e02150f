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
  # sample effects are means of `.tau`, risk differences: given on that scale only
  expect_equal(truth(a)$sample_ate, mean(a$.tau))
  expect_equal(truth(a)$sample_att, mean(a$.tau[a$treat == 1]))
  for (x in list(b, h))
    expect_equal(unlist(truth(x)[c("sample_ate", "sample_att", "sample_atc")]),
                 c(sample_ate = NA_real_, sample_att = NA_real_, sample_atc = NA_real_))
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
  # estimators read the Surv column as a time to event (not as a binary outcome), on the cohort
  # and on a plain table, with the same values as with plain time and event columns
  plain <- as.data.frame(syn)
  plain$time <- syn$y[, 1]
  plain$status <- syn$y[, 2]
  ref <- estimate_ate(plain, "treat", c(time = "time", event = "status"), c("age", "sex"),
                      horizon = truth(syn)$survival$horizon)
  on_cohort <- estimate_ate(syn)
  expect_identical(on_cohort$outcome_type, "time-to-event")
  expect_equal(on_cohort$estimates, ref$estimates)
  on_table <- estimate_ate(as.data.frame(syn), "treat", "y", c("age", "sex"),
                           horizon = truth(syn)$survival$horizon)
  expect_equal(on_table$estimates, ref$estimates)
  expect_output(print(on_table), "time to event \\(Surv column `y`\\)")
  expect_output(print(f), "time to event: Surv column `y`")
  expect_output(print(summary(f)), "time-to-event outcome \\(Surv column `y`\\)")
  # fidelity(): the Surv column is compared as its time and event columns, and as an outcome
  # gives the Kaplan-Meier comparison
  fd <- fidelity(d, syn, treatment = "treat", outcome = "y", network = FALSE, forest = FALSE,
                 dcr_rows = 300, threads = 1)
  expect_s3_class(fd, "sandbox_fidelity_survival")
  expect_true(all(c("y.time", "y.event") %in% fd$columns$column))
  expect_equal(fd$survival$real[2], mean(d$y[, 2] == 0))
  bad_syn <- as.data.frame(syn)
  bad_syn$y <- syn$y[, 1]
  err <- tryCatch(fidelity(d, bad_syn, network = FALSE, forest = FALSE, threads = 1),
                  error = identity)
  expect_s3_class(err, "causalsandbox_input_error")
  expect_equal(err$column, "y")
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

test_that("a logical event column: draws keep it logical, with TRUE/FALSE potential events", {
  d <- cohort[1:600, ]
  d$status <- d$status == 1L
  d$time <- as.integer(ceiling(d$time))
  f <- causalmix(d, "treat", c(time = "time", event = "status"), epochs = 10, seed = 3,
                 threads = 1)
  syn <- simulate(f, nsim = 400, seed = 1, ate = -0.05, horizon = 200)
  expect_type(syn$status, "logical")
  expect_type(syn$time, "integer")
  expect_type(syn$.y0, "logical")
  expect_equal(syn$.y1, syn$.t1 <= 200)
  expect_equal(truth(syn)$ate, -0.05, tolerance = 1e-8)
  e <- estimate_ate(syn, method = "aipcw")
  expect_equal(e$n, 400L)
})

test_that("a time-to-event fit does not warn about its internal outcome net", {
  # veteran: 137 rows, treatment unrelated to the covariates; the internal net of
  # P(event observed | x, t), which draws do not use, learned nothing there
  ws <- character(0)
  f <- withCallingHandlers(
    causalmix(survival::veteran, "trt", c(time = "time", event = "status"), epochs = 40,
              seed = 1, threads = 1),
    warning = function(w) {
      ws <<- c(ws, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  expect_false(any(grepl("outcome net", ws)))
  expect_false(any(grepl("outcome net", f$warnings)))
  # the propensity net is still checked
  expect_true(any(grepl("^The propensity net's held-out loss", ws)))
  expect_equal(f$warnings, ws)
})

test_that("fidelity() compares Kaplan-Meier curves by arm", {
  syn <- as.data.frame(simulate(fit, nsim = 3000, seed = 13))
  # (the covariate checks of fidelity() are tested in test-fidelity.R: the cheap ones here)
  f <- fidelity(cohort, syn, treatment = "treat", outcome = c(time = "time", event = "status"),
                network = FALSE, forest = FALSE, dcr_rows = 1000, threads = 1)
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
                network = FALSE, forest = FALSE, dcr_rows = 1000, threads = 1)
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
  # the weighted Cox fit with robust SE of estimate_survival() (= survival::coxph(weights =
  # w, robust = TRUE, ties = "breslow"), which takes 27 s on these 2e5 rows)
  cox <- causalsandbox:::weighted_cox_arm(pmin(t_received, 300),
                                          as.double(t_received <= 300), big$treat, w)
  hr <- exp(cox$beta)
  se <- hr * cox$se
  expect_lt(abs(hr - 0.85), 4 * sqrt(se^2 + truth(big)$ate_mcse^2))
})

test_that("knob_limits() gives the feasible ate and confounding of a time-to-event fit", {
  lim <- knob_limits(fit, ate = -0.06, horizon = 300)
  expect_s3_class(lim, "knob_limits_survival")
  a <- lim$ate
  expect_equal(a$estimand, c("risk_difference", "rmst_difference", "hazard_ratio"))
  # at these knobs each scale's value is the truth of a draw with them
  d <- simulate(fit, nsim = 200, seed = 1, ate = -0.06, horizon = 300)
  s <- truth(d)$survival
  expect_equal(a$at_knobs, c(-0.06, s$rmst_difference, s$hazard_ratio), tolerance = 1e-8)
  # the risk-difference range is (-control risk, control survival) at the horizon
  expect_equal(a$lower[1], -s$risk0, tolerance = 1e-6)
  expect_equal(a$upper[1], 1 - s$risk0, tolerance = 1e-6)
  expect_equal(a$lower[3], 0, tolerance = 1e-6)
  # the boundaries are those simulate() applies: inside accepted, outside refused
  inside <- function(est, v) simulate(fit, nsim = 10, seed = 1, ate = v, estimand = est,
                                      horizon = 300)
  for (i in 1:2) {
    expect_equal(truth(inside(a$estimand[i], 0.999 * a$upper[i]))$ate, 0.999 * a$upper[i],
                 tolerance = 1e-8)
    err <- tryCatch(inside(a$estimand[i], a$upper[i] + 1e-3 * abs(a$upper[i])),
                    error = identity)
    expect_s3_class(err, "causalsandbox_knob_error")
    expect_equal(err$argument, "ate")
  }
  cf <- lim$confounding
  expect_equal(cf$closed, c(TRUE, TRUE, FALSE))
  expect_true(all(cf$lower < 0 & cf$upper > 0))
  for (i in 1:2) {
    at_edge <- simulate(fit, nsim = 10, seed = 1, ate = -0.06, horizon = 300,
                        estimand = "risk_difference",
                        confounding = if (i == 1) cf$upper[1] else cf$lower[1])
    expect_equal(abs(truth(at_edge)$survival$kappa), 1, tolerance = 1e-12)
  }
  err <- tryCatch(simulate(fit, nsim = 10, ate = -0.06, horizon = 300,
                           confounding = 1.001 * cf$upper[1]), error = identity)
  expect_s3_class(err, "causalsandbox_knob_error")
  expect_equal(err$argument, "confounding")
  # hazard-ratio scale: the open bias range of the IPW Cox limit at these knobs
  lim_hr <- knob_limits(fit, ate = 0.8, estimand = "hazard_ratio", horizon = 300)
  hr_cf <- lim_hr$confounding[3, ]
  ok <- simulate(fit, nsim = 10, seed = 1, ate = 0.8, estimand = "hazard_ratio", horizon = 300,
                 confounding = 0.99 * hr_cf$upper)
  expect_equal(truth(ok)$bias, 0.99 * hr_cf$upper)
  err <- tryCatch(simulate(fit, nsim = 10, ate = 0.8, estimand = "hazard_ratio",
                           horizon = 300, confounding = 1.01 * hr_cf$upper), error = identity)
  expect_s3_class(err, "causalsandbox_knob_error")
  expect_output(print(lim), "RMST difference:")
})

test_that("a fit whose survival network read untransformed covariates is refused", {
  old <- fit
  old$survival$network_inputs <- NULL   # as saved by versions before 2026-12-06
  err <- tryCatch(simulate(old, nsim = 10, seed = 1), error = identity)
  expect_s3_class(err, "causalsandbox_input_error")
  expect_equal(err$argument, "fit")
  expect_match(conditionMessage(err), "fit it again")
})

test_that("confounding = function(x) on the risk and RMST scales; refused for the HR", {
  skip_on_cran()  # a draw of 2e5 rows
  kf <- function(x) 5 + 5 * x$sex    # conditional bias in days of restricted mean
  lim <- knob_limits(fit, ate = 10, estimand = "rmst_difference", horizon = 300)
  expect_lt(10, lim$confounding$constant[2])   # the largest k(x) fits every row's room
  big <- simulate(fit, nsim = 2e5, seed = 23, ate = 10, estimand = "rmst_difference",
                  horizon = 300, confounding = kf)
  ref <- causalsandbox:::survival_reference(fit)
  expect_equal(truth(big)$bias, mean(kf(ref$covariates)))
  expect_equal(truth(big)$ate, 10, tolerance = 1e-8)
  expect_true(is.na(truth(big)$survival$kappa))
  # an oracle IPW estimate of E[min(T, 300)] contrasts (true propensity, uncensored times of
  # the received arm) lands on truth + mean k(X)
  a <- big$treat
  y <- pmin(ifelse(a == 1, big$.t1, big$.t0), 300)
  phi <- a * y / big$.ps - (1 - a) * y / (1 - big$.ps)
  se <- sqrt(stats::var(phi) / length(phi) + truth(big)$ate_mcse^2)
  expect_lt(abs(mean(phi) - (10 + truth(big)$bias)), 4 * se)
  expect_gt(abs(mean(phi) - 10), 2 * se)   # and away from the unconfounded value
  # the causal law is untouched: the potential times are those of a draw without confounding
  plain <- simulate(fit, nsim = 1000, seed = 23, ate = 10, estimand = "rmst_difference",
                    horizon = 300)
  conf <- simulate(fit, nsim = 1000, seed = 23, ate = 10, estimand = "rmst_difference",
                   horizon = 300, confounding = kf)
  expect_identical(conf$.s1, plain$.s1)
  expect_identical(conf$.ps, plain$.ps)
  err <- tryCatch(simulate(fit, nsim = 10, ate = 0.8, estimand = "hazard_ratio",
                           horizon = 300, confounding = kf), error = identity)
  expect_s3_class(err, "causalsandbox_knob_error")
  expect_equal(err$argument, "confounding")
  expect_match(conditionMessage(err), "not collapsible")
  # a conditional bias beyond some rows' room on the risk scale is refused
  err <- tryCatch(simulate(fit, nsim = 10, horizon = 300,
                           confounding = function(x) rep(0.05, nrow(x))), error = identity)
  expect_s3_class(err, "causalsandbox_knob_error")
  expect_equal(err$argument, "confounding")
})

test_that("predict(), summary() and plot() describe the survival model", {
  r0 <- predict(fit, type = "risk", arm = 0, horizon = 300)
  r1 <- predict(fit, type = "risk", arm = 1, horizon = 300)
  expect_length(r0, nrow(cohort))
  expect_equal(predict(fit, type = "risk_difference", horizon = 300), r1 - r0)
  expect_equal(predict(fit, type = "tau", horizon = 300), r1 - r0)
  # the training rows' predictions equal those of newdata = the training covariates, and
  # the learned survival at 300 (the first test's check) is what predict() returns
  nd <- predict(fit, newdata = cohort, type = "survival", arm = 0, times = c(100, 300))
  expect_equal(dim(nd), c(nrow(cohort), 2L))
  expect_equal(nd[, 2], 1 - r0, tolerance = 1e-12)
  expect_lt(mean(abs(nd[, 2] - true_survival(cohort, 0, 300))), 0.06)
  # RMST of each row: the area under its predicted curve (fine midpoint rule)
  grid <- (seq_len(3000) - 0.5) * 0.1
  s_rows <- predict(fit, newdata = cohort[1:5, ], type = "survival", arm = 1, times = grid)
  expect_equal(predict(fit, newdata = cohort[1:5, ], type = "rmst", arm = 1, horizon = 300),
               rowSums(s_rows) * 0.1, tolerance = 1e-6)
  # the learned conditional log HR the knobs centre on: a draw at the default knobs has it
  d_lp <- simulate(fit, nsim = 50, seed = 3)
  expect_equal(predict(fit, newdata = d_lp, type = "log_hr"), d_lp$.loghr, tolerance = 1e-10)
  # ... and the risks of both arms and their difference of its truth columns
  for (type in c("mu0", "mu1", "tau"))
    expect_equal(predict(fit, newdata = d_lp, type = type), d_lp[[paste0(".", type)]],
                 tolerance = 1e-10)
  expect_equal(1 - predict(fit, newdata = d_lp, type = "survival", arm = 1),
               matrix(d_lp$.mu1, ncol = 1, dimnames = list(NULL, format(fit$survival$horizon))),
               tolerance = 1e-10)
  expect_equal(predict(fit, newdata = cohort[1:3, ], type = "ps"),
               causalsandbox:::predict.causalmix(fit, newdata = cohort[1:3, ], type = "ps"))
  sm <- summary(fit, horizon = 300)
  expect_s3_class(sm, "summary.causalmix_survival")
  d <- simulate(fit, nsim = 100, seed = 1, horizon = 300)
  expect_equal(sm$truth$risk_difference, truth(d)$survival$risk_difference)
  expect_equal(sm$curves$control[sm$curves$time == 300], 1 - truth(d)$survival$risk0,
               tolerance = 1e-12)
  expect_equal(sm$censoring$censored[1], mean(cohort$status == 0))
  expect_lt(abs(sm$censoring$censored[2] - sm$censoring$censored[1]), 0.03)
  expect_output(print(sm), "At the horizon 300: risk")
  expect_output(print(fit), "time to event: time `time`, event `status`")
  # the internal outcome net is not listed among the best epochs
  shown <- capture.output(print(fit))
  expect_match(shown[grepl("best epochs", shown)], "best epochs vae [0-9]+, propensity [0-9]+$")
  # the broom tidiers report the survival model too (risks at the default horizon)
  aug <- augment(fit, data = cohort)
  expect_equal(aug$.fitted0, predict(fit, type = "risk", arm = 0))
  expect_equal(aug$.tau, predict(fit, type = "risk_difference"))
  expect_equal(glance(fit)$fitted.ate, mean(predict(fit, type = "risk_difference")))
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_silent(plot(fit, horizon = 300))
})
