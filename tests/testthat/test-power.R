# power_analysis(), test_ate(), test_modifier() (HC3) on a known-truth generator.

simulate.power_toy <- function(object, nsim, seed = NULL, ate = 0.3, modification = 0, ...) {
  if (!is.null(seed)) set.seed(seed)
  x <- stats::rnorm(nsim)
  cvd <- stats::rbinom(nsim, 1, 0.4)
  ps <- stats::plogis(0.5 * x + 0.3 * cvd)
  t <- stats::rbinom(nsim, 1, ps)
  tau <- ate + modification * (cvd - 0.4)
  mu0 <- x + 0.5 * cvd
  d <- data.frame(x = x, cvd = cvd, t = t, .ps = ps, .mu0 = mu0, .mu1 = mu0 + tau, .tau = tau)
  d$.y0 <- d$.mu0 + stats::rnorm(nsim)
  d$.y1 <- d$.mu1 + stats::rnorm(nsim)
  d$y <- ifelse(t == 1, d$.y1, d$.y0)
  new_sandbox_data(d, list(treatment = "t", outcome = "y", covariates = c("x", "cvd")),
                   list(ate = ate))
}
gen <- structure(list(), class = "power_toy")

test_that("HC3 standard errors match the textbook formula", {
  set.seed(1)
  n <- 200
  m <- stats::rbinom(n, 1, 0.3)
  y <- 1 + 0.5 * m + stats::rnorm(n, sd = 1 + m)
  X <- stats::model.matrix(~ m)
  out <- causalsandbox:::hc3_test(X, y)
  fit <- stats::lm(y ~ m)
  h <- stats::hatvalues(fit)
  e <- stats::residuals(fit)
  bread <- solve(crossprod(X))
  vc <- bread %*% crossprod(X * (e / (1 - h))) %*% bread
  expect_equal(out$estimate, unname(stats::coef(fit)[2]), tolerance = 1e-10)
  expect_equal(out$se, sqrt(vc[2, 2]), tolerance = 1e-10)
  expect_equal(out$p_value, 2 * stats::pt(-abs(out$estimate / out$se), n - 2), tolerance = 1e-10)
  # HC3 exceeds the model-based SE when the variance grows with m (here)
  expect_gt(out$se, summary(fit)$coefficients[2, 2])
})

test_that("test_modifier holds its level without modification and detects a strong one", {
  null_study <- power_analysis(gen, n = 300, test = test_modifier("cvd"), reps = 60, seed = 3,
                               modification = 0)
  expect_lt(null_study$power$power, 0.15)
  strong <- power_analysis(gen, n = 600, test = test_modifier("cvd"), reps = 30, seed = 4,
                           modification = 1.2)
  expect_gt(strong$power$power, 0.8)
  expect_error(test_modifier("nope")(simulate(gen, 50, seed = 1)), "`nope`")
  expect_error(test_modifier(3), "`modifier`")
})

test_that("power grows with n, has MC SEs, and the target n is interpolated", {
  pw <- power_analysis(gen, n = c(50, 150, 400), reps = 40, seed = 5, ate = 0.3)
  expect_s3_class(pw, "sandbox_power")
  tab <- pw$power
  expect_equal(tab$n, c(50, 150, 400))
  expect_true(tab$power[3] > tab$power[1])
  expect_equal(tab$mcse, sqrt(tab$power * (1 - tab$power) / 40))
  res <- as.data.frame(pw$study)
  expect_equal(tab$power[2], mean(res$p_value[res$n == 150] < 0.05))
  expect_gt(tab$power[3], 0.6)  # true power about 0.85 at n = 400
  expect_output(print(pw), "Smallest n reaching 80% power|No sample size reached")
  pdf(NULL)
  expect_invisible(plot(pw))
  # a power of exactly 1 has no Monte Carlo spread and no error bar, and no warning
  certain <- pw
  certain$power$power[3] <- 1
  certain$power$mcse[3] <- 0
  expect_silent(plot(certain))
  dev.off()
})

test_that("smallest_n interpolates the first crossing", {
  expect_equal(causalsandbox:::smallest_n(c(200, 500, 1000, 2000), c(0.1, 0.5, 0.7, 0.9), 0.8),
               1500)
  expect_equal(causalsandbox:::smallest_n(c(200, 500), c(0.9, 0.95), 0.8), 200)
  expect_true(is.na(causalsandbox:::smallest_n(c(200, 500), c(0.1, 0.2), 0.8)))
})

test_that("any function returning a p-value is a test", {
  always <- function(data) 0.01
  pw <- power_analysis(gen, n = c(40, 80), test = always, reps = 5, seed = 1)
  expect_equal(pw$power$power, c(1, 1))
  expect_equal(pw$n_target, 40)
})

test_that("bad input is refused before any work", {
  expect_error(power_analysis(gen, n = c(100, -5), reps = 5), "`n`")
  expect_error(power_analysis(gen, n = 100.5, reps = 5), "`n`")
  expect_error(power_analysis(gen, n = 100, reps = 0), "`reps`")
  expect_error(power_analysis(gen, n = 100, reps = 5, alpha = 2), "`alpha`")
  expect_error(power_analysis(gen, n = 100, reps = 5, test = "aipw"), "`test`")
  expect_error(power_analysis(gen, n = 100, reps = 5, overlap = c(1, 2)), "one value per knob")
  expect_error(power_analysis(gen, n = 100, reps = 5, overlap = -1), "`overlap`")
  expect_error(test_ate(c("aipw", "or")), "single method")
  # a misspelt knob of a causalmix fit is refused at the call, not in every replicate
  set.seed(1)
  d <- data.frame(x = rnorm(200))
  d$t <- rbinom(200, 1, plogis(d$x))
  d$y <- d$x + d$t + rnorm(200)
  fit <- causalmix(d, "t", "y", epochs = 5, hidden = 8, threads = 1, seed = 1)
  err <- tryCatch(power_analysis(fit, n = 100, reps = 2, atee = 1), error = identity,
                  warning = identity)
  expect_s3_class(err, "causalsandbox_input_error")
  expect_equal(err$argument, "atee")
  expect_match(conditionMessage(err), "no argument `atee`.*`ate`")
  err <- tryCatch(run_study(fit, scenario_grid(confunding = 0.1), n = 100, reps = 2,
                            estimators = "or", seed = 1), error = identity)
  expect_equal(err$argument, "confunding")
})
