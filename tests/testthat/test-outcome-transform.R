# The marginal transform of a numeric outcome: closed-form means of the decoded law, the
# data's point masses, heaps and range in the draws, exact truths under the knobs.

test_that("the decoded law's mean and sd are exact (closed form against quadrature)", {
  set.seed(5)
  y <- sort(c(rep(0, 300), rep(40, 100), round(rexp(600, 1 / 12), 1)))
  k <- 151
  p <- seq(0, 1, length.out = k)
  value <- causalsandbox:::smoothed_quantile(y, p)
  from <- qnorm(pmin(pmax(p, 0.5 / 1000), 1 - 0.5 / 1000)) + 0.2 * p^2
  decode <- function(s) approx(from, value, s, rule = 2, ties = "ordered")$y
  u <- seq(-12, 12, length.out = 400001)
  w <- dnorm(u) / sum(dnorm(u))
  for (law in list(c(0, 1), c(-1.5, 0.2), c(2.5, 0.05), c(-30, 1), c(30, 3), c(0.3, 15))) {
    got <- .Call(causalsandbox:::C_marginal_moments, from, value, law[1], law[2])
    d <- decode(law[1] + law[2] * u)
    m <- sum(w * d)
    expect_lt(abs(got[1] - m), 1e-7 * max(1, abs(m)))
    expect_lt(abs(got[2] - sqrt(sum(w * (d - m)^2))), 1e-6 * max(1, abs(m)))
  }
})

# 30% zeros, 8% at a top code of 80, the rest recorded to 0.1 and 70% of it heaped on
# multiples of 5.
local_heaped_fit <- local({
  cache <- NULL
  function() {
    if (!is.null(cache)) return(cache)
    set.seed(41)
    n <- 2500
    d <- data.frame(x1 = rnorm(n), x2 = rbinom(n, 1, 0.5))
    d$t <- rbinom(n, 1, plogis(0.5 * d$x1))
    positive <- pmin(80, round(exp(2.6 + 0.4 * d$x1 + 0.3 * d$t + 0.5 * rnorm(n)), 1))
    heap <- runif(n) < 0.7
    positive[heap] <- pmax(5, 5 * round(positive[heap] / 5))
    d$y <- ifelse(runif(n) < plogis(-0.85 - 0.5 * d$x2), 0, positive)
    d$y[sample(which(d$y > 0), round(0.06 * n))] <- 80
    fit <- quiet_causalmix(d, "t", "y", hidden = 16, epochs = 40, seed = 2, threads = 1)
    cache <<- list(fit = fit, data = d)
    cache
  }
})

test_that("draws keep the outcome's point masses, heaps and range at the default knobs", {
  f <- local_heaped_fit()
  expect_false(is.null(f$fit$model$outcome_marginal))
  s <- simulate(f$fit, nsim = 10000, seed = 1, threads = 2)
  y <- f$data$y
  expect_lt(abs(mean(s$y == 0) - mean(y == 0)), 0.01)
  expect_lt(abs(mean(s$y == 80) - mean(y == 80)), 0.02)
  heaped <- function(v) mean(abs(v[v > 0 & v < 80] / 5 - round(v[v > 0 & v < 80] / 5)) < 1e-9)
  expect_lt(abs(heaped(s$y) - heaped(y)), 0.03)
  for (v in c("y", ".y0", ".y1")) {
    expect_gte(min(s[[v]]), min(y))
    expect_lte(max(s[[v]]), max(y))
  }
  expect_lt(suppressWarnings(ks.test(s$y, y)$statistic), 0.04)
  expect_identical(f$fit$schema$columns$y$type, "semicontinuous")
  expect_output(print(f$fit), "keeps its range \\[0, 80\\] and its masses at 0 \\(25%\\), 10")
})

test_that("the truth columns are the means of a transformed outcome's draws", {
  f <- local_heaped_fit()
  n <- 60000
  for (knobs in list(list(), list(ate = 3, heterogeneity = 0, confounding = 2))) {
    s <- do.call(simulate, c(list(f$fit, nsim = n, seed = 7, threads = 2), knobs))
    for (arm in c("0", "1")) {
      r <- s[[paste0(".y", arm)]] - s[[paste0(".mu", arm)]] -
        if (is.null(knobs$confounding)) 0 else s$.k * (s$t - s$.ps)
      expect_lt(abs(mean(r)), 4 * sd(r) / sqrt(n))
    }
    if (!is.null(knobs$ate)) expect_equal(truth(s)$ate, 3, tolerance = 1e-12)
  }
  # predict() gives the same means as the draws' truth columns
  cells <- data.frame(x1 = c(-1, 0, 1), x2 = c(0, 1, 1))
  ref <- causalsandbox:::predict_encoded(
    f$fit, causalsandbox:::encode_table(f$fit$schema, cbind(cells, t = 0, y = 0))$x,
    matrix(0, 3, 0))
  expect_equal(predict(f$fit, cells, "mu0"), ref[, 2])
})

test_that("an outcome recorded as 0, 0.5 and 1 is drawn inside [0, 1]", {
  set.seed(8)
  n <- 800
  d <- data.frame(x = rnorm(n))
  d$t <- rbinom(n, 1, 0.5)
  d$support <- sample(c(0, 0.5, 1), n, TRUE, prob = c(0.3, 0.3, 0.4))
  fit <- quiet_causalmix(d, "t", "support", hidden = 8, epochs = 10, seed = 1, threads = 1)
  s <- simulate(fit, nsim = 5000, seed = 1, threads = 1)
  expect_gte(min(s$support), 0)
  expect_lte(max(s$support), 1)
  expect_gt(mean(s$support %in% c(0, 0.5, 1)), 0.9)
})

test_that("a whole-number transformed outcome keeps exact truths when a knob moves its mean", {
  # every value is a heap, so the decoded draws sit on whole numbers and a knob's shift of a
  # fraction must not be rounded away
  set.seed(12)
  n <- 1500
  d <- data.frame(x = rnorm(n))
  d$t <- rbinom(n, 1, plogis(d$x))
  d$y <- rpois(n, exp(0.3 + 0.3 * d$x + 0.2 * d$t))
  fit <- quiet_causalmix(d, "t", "y", hidden = 8, epochs = 20, seed = 1, threads = 1)
  expect_false(is.null(fit$model$outcome_marginal))
  nsim <- 40000
  for (knobs in list(list(ate = 0.25), list(ate = 1, confounding = 0.3))) {
    s <- do.call(simulate, c(list(fit, nsim = nsim, seed = 2, threads = 1), knobs))
    expect_true(all(s$y == round(s$y)))
    k <- if (is.null(knobs$confounding)) 0 else s$.k * (s$t - s$.ps)
    for (arm in c("0", "1")) {
      r <- s[[paste0(".y", arm)]] - s[[paste0(".mu", arm)]] - k
      expect_lt(abs(mean(r)), 4 * sd(r) / sqrt(nsim))
    }
    effect <- s$.y1 - s$.y0
    expect_lt(abs(mean(effect) - mean(s$.tau)), 4 * sd(effect) / sqrt(nsim))
  }
})

test_that("thinning keeps both edge knots of every held value, so each heap keeps its share", {
  # heaps of 9 to 11 rows (0.36% to 0.44%) sat inside the thinning tolerance and were
  # dropped to a single knot, i.e. drawn with probability 0
  set.seed(3)
  n <- 2500
  y <- round(rexp(n, 1 / 20), 1)
  y[sample(n, 10)] <- 55
  y[sample(which(y != 55), 9)] <- 60
  m <- causalsandbox:::outcome_transform(y)
  values <- sort(y)
  runs <- rle(values)
  last <- cumsum(runs$lengths)
  first <- last - runs$lengths + 1L
  held <- which(runs$lengths >= max(2, causalsandbox:::outcome_mass_share * n))
  expect_true(all(c(55, 60) %in% runs$values[held]))
  for (h in held) {
    at <- m$value == runs$values[h]
    # the flat stretch in probability is exactly the heap's share c / n
    expect_equal(range(m$p[at]), c(first[h] - 1, last[h]) / n)
  }
  f <- local_heaped_fit()
  s <- simulate(f$fit, nsim = 20000, seed = 3, threads = 1)
  for (v in c(55, 60)) expect_gt(mean(s$y == v), 0.5 * mean(f$data$y == v))
})

test_that("the outcome's point masses are fitted as intervals of scores", {
  f <- local_heaped_fit()
  m <- f$fit$model$outcome_marginal
  atoms <- m$atoms
  expect_false(is.null(atoms))
  # one atom per flat stretch of knots, increasing, with the scores that decode to its value
  flat_values <- unique(m$value[duplicated(m$value)])
  expect_length(atoms$score, length(flat_values))
  expect_true(all(diff(atoms$score) > 0))
  expect_identical(atoms$lower[1], -Inf)   # the zeros are the lowest values
  expect_identical(atoms$upper[length(atoms$upper)], Inf)   # 80, the top code
  expect_true(all(atoms$lower < atoms$score & atoms$score < atoms$upper))
  # every training row at a mass gets exactly its atom's score (the engine matches on it)
  y <- f$data$y
  at_mass <- y %in% flat_values
  scores <- causalsandbox:::outcome_scores(f$fit$model, y[at_mass])
  expect_true(all(scores %in% atoms$score))
  expect_false(any(causalsandbox:::outcome_scores(f$fit$model, y[!at_mass]) %in% atoms$score))
})

test_that("the outcome net's halves stop early apart and are assembled into one net", {
  set.seed(12)
  n <- 3000
  d <- data.frame(x1 = rnorm(n), x2 = rnorm(n))
  d$t <- rbinom(n, 1, 0.5)
  d$y <- d$x1 + d$t * d$x2 + rnorm(n)
  fit <- quiet_causalmix(d, "t", "y", hidden = 16, epochs = 40, seed = 1, threads = 1,
                         validation_share = 0)
  m <- fit$model$outcome
  expect_identical(fit$model$outcome_split, 1L)
  expect_identical(m$sizes, c(2L, 32L, 4L))
  # the weights between the halves are 0: hidden units 17-32 (the treated half) feed only
  # outputs 3-4, units 1-16 only outputs 1-2
  first <- 2L * 32L + 32L
  out_w <- matrix(m$params[first + seq_len(32L * 4L)], 32L, 4L)
  expect_true(all(out_w[17:32, 1:2] == 0) && all(out_w[1:16, 3:4] == 0))
  expect_true(any(out_w[1:16, 1:2] != 0) && any(out_w[17:32, 3:4] != 0))
  expect_named(fit$outcome_best_epoch, c("control", "treated"))
  expect_output(print(fit), "outcome [0-9]+ \\(control\\) and [0-9]+ \\(treated\\)")
  # the kept net is the one whose loss training reported: each arm's halves at its own best
  # epoch, nothing of the other arm's later weights
  enc <- causalsandbox:::encode_table(fit$schema, d)
  pred <- causalsandbox:::predict_encoded(fit, enc$x, enc$missing)
  loc <- ifelse(d$t == 1, pred[, 9], pred[, 8])
  scale <- ifelse(d$t == 1, pred[, 11], pred[, 10])
  s <- causalsandbox:::outcome_scores(fit$model, d$y)
  expect_lt(abs(mean(-dnorm(s, loc, scale, log = TRUE)) - fit$best_loss[["outcome"]]), 0.02)
})

test_that("knob_limits() names the outcome's type and says the knobs move its masses", {
  f <- local_heaped_fit()
  lim <- knob_limits(f$fit, threads = 1)
  expect_identical(lim$outcome, "semicontinuous")
  expect_output(print(lim), "semicontinuous outcome")
  expect_output(print(lim), "point masses\\s+and observed range move with its mean")
})

test_that("tidy() reports the outcome's held-out loss of the kept halves, as print() does", {
  f <- local_heaped_fit()
  td <- generics::tidy(f$fit)
  expect_equal(td$valid.loss[td$term == "outcome"], f$fit$best_loss[["outcome"]])
  expect_equal(td$best.epoch[td$term == "outcome"], max(f$fit$outcome_best_epoch))
})
