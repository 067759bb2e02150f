# A semicontinuous outcome (a point mass at 0 plus a continuous part bounded below): its
# marginal transform (the default) and the point-mass and truncated-Gaussian heads (without
# transforms), exact means under the knobs, and reproducibility.
# The covariates take 8 values only, so draws at a fixed x are the rows of one cell.

p_zero <- function(x1, x2, t) plogis(-0.2 + 0.3 * (x1 - 1.5) - 0.8 * t + 0.5 * x2)
location <- function(x1, x2, t) 0.5 + 0.6 * x1 + t * (0.5 + 0.5 * x2)
# E[Y(t) | x]: the positive part is N(location, 1) truncated to [0, inf)
true_mean <- function(x1, x2, t) {
  m <- location(x1, x2, t)
  (1 - p_zero(x1, x2, t)) * (m + dnorm(m) / pnorm(m))
}

local_mass_fit <- local({
  cache <- NULL
  function() {
    if (!is.null(cache)) return(cache)
    set.seed(31)
    n <- 3000
    d <- data.frame(x1 = sample(0:3, n, TRUE), x2 = rbinom(n, 1, 0.4))
    d$t <- rbinom(n, 1, plogis(-0.3 + 0.4 * d$x1 - 0.5 * d$x2))
    m <- location(d$x1, d$x2, d$t)
    positive <- m + qnorm(runif(n, pnorm(-m), 1))
    d$y <- ifelse(runif(n) < p_zero(d$x1, d$x2, d$t), 0, positive)
    fit <- causalmix(d, "t", "y", hidden = 24, epochs = 60, seed = 1, threads = 1)
    cache <<- list(fit = fit, data = d)
    cache
  }
})

test_that("the schema's semicontinuous outcome is decoded through its transform and says so", {
  f <- local_mass_fit()
  expect_identical(f$fit$schema$columns$y$type, "semicontinuous")
  expect_identical(f$fit$model$outcome_mass, 0L)
  expect_identical(f$fit$model$outcome$sizes[3], 4L)
  expect_output(print(f$fit), "marginal transform, which keeps its range \\[0, [0-9.]+\\] and its mass at 0")
  expect_output(print(summary(f$fit)), "Outcome model: semicontinuous")
})

test_that("without marginal transforms the semicontinuous outcome gets the point-mass head", {
  f <- local_mass_fit()
  fit <- causalmix(f$data, "t", "y", hidden = 8, epochs = 5, seed = 1, threads = 1,
                   marginal_transforms = FALSE)
  expect_identical(fit$model$outcome_mass, 1L)
  expect_identical(fit$model$outcome$sizes[3], 6L)
  expect_null(fit$model$outcome_marginal)
  expect_output(print(fit), "semicontinuous: per arm a point mass at 0")
  s <- simulate(fit, nsim = 2000, seed = 1, threads = 1)
  expect_gte(min(s$y), 0)
  expect_gt(mean(s$y == 0), 0.2)
})

test_that("fitted means recover the true E[Y(t) | x] of a zero-inflated outcome", {
  f <- local_mass_fit()
  cells <- expand.grid(x1 = 0:3, x2 = 0:1)
  for (arm in 0:1) {
    fitted <- predict(f$fit, cells, if (arm == 1) "mu1" else "mu0")
    err <- fitted - true_mean(cells$x1, cells$x2, arm)
    # the true means run from 0.54 to 1.78; 3000 rows leave errors of a few hundredths
    expect_lt(mean(abs(err)), 0.1)
    expect_lt(max(abs(err)), 0.25)
  }
  expect_equal(predict(f$fit, cells, "tau"),
               predict(f$fit, cells, "mu1") - predict(f$fit, cells, "mu0"))
})

test_that("at the default knobs draws keep the point mass and the bounds of the data", {
  f <- local_mass_fit()
  s <- simulate(f$fit, nsim = 20000, seed = 3, threads = 2)
  share <- mean(f$data$y == 0)
  for (v in c("y", ".y0", ".y1")) {
    expect_gte(min(s[[v]]), 0)
    expect_lte(max(s[[v]]), max(f$data$y))
  }
  # the share of exact zeros is the data's (0.39), within sampling error
  expect_lt(abs(mean(s$y == 0) - share), 0.02)
  expect_identical(s$y, ifelse(s$t == 1, s$.y1, s$.y0))
})

test_that("with the knobs changed E[Y(t) | x] equals the truth columns exactly", {
  f <- local_mass_fit()
  n <- 80000
  k <- function(x) 0.4 * x$x2
  s <- simulate(f$fit, nsim = n, seed = 2, ate = 1.5, heterogeneity = 0.5, confounding = k,
                threads = 2)
  expect_equal(truth(s)$ate, 1.5, tolerance = 1e-12)
  cells <- split(as.data.frame(s), list(s$x1, s$x2))
  expect_length(cells, 8L)
  for (cell in cells) {
    for (arm in c("0", "1")) {
      y <- cell[[paste0(".y", arm)]]
      mu <- cell[[paste0(".mu", arm)]]
      expect_identical(length(unique(mu)), 1L)
      # within 4 Monte Carlo standard errors, in every cell and arm
      expect_lt(abs(mean(y) - mu[1]), 4 * sd(y) / sqrt(length(y)))
    }
  }
  # the knobs move the learned law as a whole: point mass and bounds move with the mean
  base <- simulate(f$fit, nsim = n, seed = 2, threads = 2)
  expect_identical(s$t, base$t)
  expect_identical(s$.mu0, base$.mu0)
  shift <- s$.k * (s$t - s$.ps)
  expect_equal(s$.y0 - base$.y0, shift, tolerance = 1e-12)
  expect_equal(s$.y1 - base$.y1, s$.mu1 - base$.mu1 + shift, tolerance = 1e-12)
})

test_that("same seed gives the same draws with 1 and 2 threads and with either kernel build", {
  f <- local_mass_fit()
  # enough rows for every parallel loop (draws, knobs, outcomes) to use both threads
  one <- simulate(f$fit, nsim = 70001, seed = 4, ate = 0.5, threads = 1)
  two <- simulate(f$fit, nsim = 70001, seed = 4, ate = 0.5, threads = 2)
  expect_identical(one, two)
  fast <- causalsandbox:::draw_rows(f$fit, 777, c(1L, 3L), offset = 5, threads = 2)
  fast_mu <- predict(f$fit, f$data, "mu1", threads = 2)
  fast_cohort <- simulate(f$fit, nsim = 5000, seed = 4, ate = 0.5, threads = 2)
  old <- options(causalsandbox.portable_kernels = TRUE)
  on.exit(options(old))
  expect_identical(causalsandbox:::draw_rows(f$fit, 777, c(1L, 3L), offset = 5, threads = 2),
                   fast)
  expect_identical(predict(f$fit, f$data, "mu1", threads = 2), fast_mu)
  expect_identical(simulate(f$fit, nsim = 5000, seed = 4, ate = 0.5, threads = 2),
                   fast_cohort)
})

test_that("a semicontinuous-outcome fit read back from disk predicts and draws identically", {
  f <- local_mass_fit()
  path <- tempfile(fileext = ".rds")
  on.exit(unlink(path))
  saveRDS(f$fit, path)
  back <- readRDS(path)
  expect_identical(predict(back, f$data, "tau"), predict(f$fit, f$data, "tau"))
  expect_identical(simulate(back, nsim = 3000, seed = 6, threads = 1),
                   simulate(f$fit, nsim = 3000, seed = 6, threads = 1))
})

test_that("a continuous-outcome fit saved without the point-mass fields still predicts", {
  set.seed(32)
  d <- data.frame(x = rnorm(300))
  d$t <- rbinom(300, 1, plogis(d$x))
  d$y <- d$x + d$t + rnorm(300)
  fit <- quiet_causalmix(d, "t", "y", hidden = 8, epochs = 3, seed = 1, threads = 1)
  expect_identical(fit$model$outcome_mass, 0L)
  old <- fit
  old$model[c("outcome_mass", "y_mass", "y_lower", "y_upper")] <- NULL
  expect_identical(predict(old, d, "tau"), predict(fit, d, "tau"))
  expect_identical(simulate(old, nsim = 500, seed = 1, threads = 1),
                   simulate(fit, nsim = 500, seed = 1, threads = 1))
})
