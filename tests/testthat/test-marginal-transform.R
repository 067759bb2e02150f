test_that("the knots reproduce point masses bit for bit and score them at their middle rank", {
  values <- c(rep(0, 30), 1:60, rep(100, 10))
  k <- marginal_knots(values)
  expect_identical(k$value[1L], 0)
  expect_identical(k$value[length(k$value)], 100)
  expect_identical(sum(k$value == 0), 30L)   # p <= 29/99 of the 101 knots sit on the mass
  model <- list(p = 1L, marginal = list(knots = length(k$value), start = 0L,
                                        value = k$value, score = k$score))
  zero <- marginal_scores(model, 1L, 0)
  expect_equal(zero, stats::qnorm(0.145), tolerance = 0.01)   # the mass's middle rank
  # values between knots are interpolated, outside the range clamped to the end knots
  s <- marginal_scores(model, 1L, c(-5, 30.5, 200))
  expect_identical(s[1L], k$score[1L])
  expect_true(s[2L] > zero && s[2L] < marginal_scores(model, 1L, 100))
  expect_identical(s[3L], k$score[length(k$score)])
})

test_that("grids are kept as whole units so drawn values are the data's decimals", {
  spec <- list(grid = 0.5, lower = 41, upper = 100)
  g <- grid_units(spec)
  expect_identical(g, list(scale = 10, origin = 410, step = 5, last = 118))
  expect_identical(grid_units(list(grid = NA_real_))$step, 0)
  expect_identical(grid_units(list(grid = 0.01, lower = 0.07, upper = 3.2))$scale, 100)
})

test_that("draws reproduce point masses and heaps, stay in range and on the grid", {
  d <- heaped_hours_table(3000, seed = 11)
  fit <- causalmix(d, "t", "y", seed = 1, threads = 1)
  masses <- fit$schema$columns$hours$point_masses
  expect_gte(nrow(masses), 5L)
  sim <- simulate(fit, nsim = 10000, seed = 2, threads = 1)
  h <- sim$hours
  expect_lt(abs(mean(h == 0) - mean(d$hours == 0)), 0.01)
  for (v in masses$value[-1L])
    expect_lt(abs(mean(h == v) - mean(d$hours == v)), 0.02, label = sprintf("share at %g", v))
  # heaping on multiples of 5 among the non-zero values
  heaped <- function(x) mean(x[x != 0] %% 5 == 0)
  expect_lt(abs(heaped(h) - heaped(d$hours)), 0.02)
  for (name in c("age", "hours", "wt")) {
    expect_gte(min(sim[[name]]), min(d[[name]]))
    expect_lte(max(sim[[name]]), max(d[[name]]))
  }
  expect_true(all(h == round(h)))
  expect_true(all(sim$age == round(sim$age)))
  expect_true(all(sim$wt * 2 == round(sim$wt * 2)))   # steps of 0.5 kg
  expect_true(all(sim$wt %in% seq(41, 100, by = 0.5)))
  # continuous marginals within sampling error (KS distance at 3,000 vs 10,000 rows)
  expect_lt(suppressWarnings(stats::ks.test(sim$wt, d$wt))$statistic, 0.04)
  expect_lt(suppressWarnings(stats::ks.test(sim$age, d$age))$statistic, 0.04)
  # and not a copy: most synthetic rows are no row of the data
  key <- function(x) paste(x$age, x$sex, x$hours, x$wt)
  expect_lt(mean(key(sim) %in% key(d)), 0.2)
})

test_that("truths are the networks' values at the decoded rows; draws ignore threads and chunks", {
  d <- heaped_hours_table(1500, seed = 12)
  fit <- causalmix(d, "t", "y", seed = 3, epochs = 20, threads = 1)
  sim <- simulate(fit, nsim = 3000, seed = 4, threads = 1)
  expect_identical(predict(fit, newdata = sim, type = "mu1"), sim$.mu1)
  expect_identical(predict(fit, newdata = sim, type = "mu0"), sim$.mu0)
  expect_identical(simulate(fit, nsim = 3000, seed = 4, threads = 2), sim)
  whole <- draw_covariates(fit, 600, seed = c(5L, 6L), offset = 0, threads = 1)
  tail_rows <- draw_covariates(fit, 300, seed = c(5L, 6L), offset = 300, threads = 2)
  expect_identical(whole[301:600, ], structure(tail_rows, row.names = 301:600))
})

test_that("marginal_transforms = FALSE keeps the type heads", {
  d <- heaped_hours_table(800, seed = 14)
  fit <- quiet_causalmix(d, "t", "y", seed = 3, epochs = 5, threads = 1,
                         marginal_transforms = FALSE)
  expect_null(fit$model$marginal)
  expect_identical(fit$model$types, type_code(c("count", "binary", "semicontinuous",
                                                "continuous")))
  on <- quiet_causalmix(d, "t", "y", seed = 3, epochs = 5, threads = 1)
  expect_identical(on$model$marginal$knots > 0L, c(TRUE, FALSE, TRUE, TRUE))
  expect_identical(on$model$types, type_code(c("continuous", "binary", "continuous",
                                               "continuous")))
  expect_output(print(on), "marginal transforms .*: age, hours, wt")
})

test_that("the draws' indexed knot lookups score values as predict()'s full search does", {
  # extreme marginals for the bucket index over the knots: a spread over many orders of
  # magnitude (nearly all knots in the first buckets), a column that is mostly one value (a
  # long flat stretch of knots), ties on a coarse grid, and missing values
  set.seed(21)
  n <- 1200
  d <- data.frame(wild = exp(stats::rnorm(n, 0, 4)),
                  lump = ifelse(stats::runif(n) < 0.85, 7, round(stats::rnorm(n, 7, 3), 1)),
                  tied = 10 * round(stats::rnorm(n, 50, 10) / 10),
                  lab = ifelse(stats::runif(n) < 0.2, NA, stats::rnorm(n, 100, 15)))
  d$t <- stats::rbinom(n, 1, 0.5)
  d$y <- log(d$wild) / 4 + d$t + stats::rnorm(n)
  fit <- suppressWarnings(causalmix(d, "t", "y", seed = 2, epochs = 5, threads = 1))
  expect_true(all(fit$model$marginal$knots > 0L))
  sim <- simulate(fit, nsim = 4000, seed = 3, threads = 1)
  expect_identical(predict(fit, newdata = sim, type = "mu1"), sim$.mu1)
  expect_identical(simulate(fit, nsim = 4000, seed = 3, threads = 2), sim)
})
