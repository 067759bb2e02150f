# EM refit of the mixture prior to the encoder's aggregate posterior (src/prior_fit.c).

test_that("one component is the moment match of the aggregate posterior", {
  set.seed(3)
  L <- 3L
  n <- 500L
  mu <- matrix(rnorm(L * n, mean = c(1, -2, 0.5), sd = c(1, 0.5, 2)), L, n)
  v <- matrix(rexp(L * n, 4), L, n)
  start <- c(0.3, rep(0, L), rep(0, L))
  res <- causalsandbox:::refit_prior(mu, v, start, threads = 1)
  m <- rowMeans(mu)
  expect_equal(res$prior[1], 0, tolerance = 1e-12)
  expect_equal(res$prior[1 + seq_len(L)], m, tolerance = 1e-10)
  expect_equal(res$prior[1 + L + seq_len(L)], log(rowMeans(v + (mu - m)^2)), tolerance = 1e-10)
})

test_that("two separated clusters are found with their weights, means and spreads", {
  set.seed(4)
  n <- 3000L
  upper <- runif(n) < 0.7
  centre <- ifelse(upper, 5, -5)
  mu <- rbind(centre + rnorm(n, 0, sqrt(0.2)), rnorm(n, 0, 1))
  v <- matrix(0.05, 2, n)
  # start: both components near the origin, unequal weights
  start <- c(0, 0.1, -1, 0, 1, 0, 0, 0, 0, 0)
  res <- causalsandbox:::refit_prior(mu, v, start, threads = 1)
  K <- 2L
  L <- 2L
  w <- exp(res$prior[1:K]) / sum(exp(res$prior[1:K]))
  means <- matrix(res$prior[K + seq_len(K * L)], L)     # column k = component k
  vars <- exp(matrix(res$prior[K + K * L + seq_len(K * L)], L))
  hi <- which.max(means[1, ])
  expect_equal(w[hi], mean(upper), tolerance = 1e-6)
  expect_equal(means[1, hi], mean(mu[1, upper]), tolerance = 1e-6)
  expect_equal(means[1, 3 - hi], mean(mu[1, !upper]), tolerance = 1e-6)
  # each spread is the cluster's variance plus the posterior variance 0.05
  expect_equal(vars[1, hi], mean((mu[1, upper] - mean(mu[1, upper]))^2) + 0.05, tolerance = 1e-6)
  expect_gt(res$loglik[2], res$loglik[1])
  expect_lt(res$iterations, 500L)
})

test_that("the refit does not depend on the thread count and never lowers the objective", {
  set.seed(5)
  L <- 2L
  n <- 5000L   # several row blocks
  mu <- rbind(c(rnorm(n / 2, -2), rnorm(n / 2, 2)), rnorm(n))
  v <- matrix(runif(L * n, 0.01, 0.3), L, n)
  start <- c(0, 0, 0, 0.5, -0.5, 0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0)  # K = 3
  one <- causalsandbox:::refit_prior(mu, v, start, threads = 1)
  two <- causalsandbox:::refit_prior(mu, v, start, threads = 2)
  expect_identical(one, two)
  expect_gte(one$loglik[2], one$loglik[1])
})

test_that("causalmix() refits the mixture prior by default and records it", {
  set.seed(6)
  n <- 400
  d <- data.frame(a = c(rnorm(n / 2, -3), rnorm(n / 2, 3)), b = rbinom(n, 1, 0.3))
  d$t <- rbinom(n, 1, 0.5)
  d$y <- d$a + d$t + rnorm(n)
  fit <- quiet_causalmix(d, "t", "y", epochs = 30, hidden = 16, seed = 1, threads = 1,
                         calibrate_marginals = FALSE)
  expect_false(is.null(fit$prior_refit))
  expect_gte(fit$prior_refit$loglik[2], fit$prior_refit$loglik[1])
  kept <- quiet_causalmix(d, "t", "y", epochs = 30, hidden = 16, seed = 1, threads = 1,
                          refit_prior = FALSE, calibrate_marginals = FALSE)
  expect_null(kept$prior_refit)
  # the networks are trained identically; only the prior differs
  expect_identical(kept$model$decoder$params, fit$model$decoder$params)
  expect_false(identical(kept$model$prior, fit$model$prior))
  gauss <- quiet_causalmix(d, "t", "y", epochs = 5, hidden = 16, seed = 1, threads = 1,
                           prior = "gaussian")
  expect_null(gauss$prior_refit)
  expect_error(causalmix_control(refit_prior = "yes"), "refit_prior")
})
