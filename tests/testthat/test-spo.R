# Synthetic potential outcomes (causal_mixture) on the seed-003 binary test process, whose
# truth is E[Y(0)] = 0.375, E[Y(1)] = 0.625, class effects 0 and 0.5, weights 0.5 / 0.5.

fit_example <- function(d, k = 2, ...) {
  causal_mixture(d, "t", "y", treatment_proxies = c("z1", "z2"),
                 outcome_proxies = c("x1", "x2"), k = k, threads = 1, ...)
}

# R reference for the C moment pass (weighted means by arm).
moments_in_r <- function(zm, xm, arm, y, w = rep(1, length(y))) {
  one_arm <- function(a) {
    i <- arm == a
    wi <- w[i]
    n <- sum(wi)
    z <- zm[i, , drop = FALSE]
    x <- xm[i, , drop = FALSE]
    list(n = n, y = sum(wi * y[i]) / n, z = colSums(wi * z) / n,
         zy = colSums(wi * y[i] * z) / n, zx = crossprod(z, wi * x) / n,
         zxy = crossprod(z, wi * y[i] * x) / n)
  }
  list(a0 = one_arm(0L), a1 = one_arm(1L), x = colSums(w * xm) / sum(w))
}

test_that("the example process has the stated truth", {
  d <- spo_example_data(2e5, seed = 11)
  truth <- attr(d, "truth")
  expect_equal(c(truth$ey0, truth$ey1), c(0.375, 0.625))
  expect_equal(truth$effects, c(0, 0.5))
  # The latent class and the sample agree with the stated process.
  expect_equal(mean(d$u), 0.5, tolerance = 0.01)
  expect_equal(mean(d$t[d$u == 0]), 0.75, tolerance = 0.01)
  expect_equal(mean(d$t[d$u == 1]), 0.25, tolerance = 0.01)
  expect_equal(mean(d$x1[d$u == 1]) - mean(d$x1[d$u == 0]), 0.3, tolerance = 0.02)
  expect_equal(mean(d$z2[d$u == 0]) - mean(d$z2[d$u == 1]), 0.3, tolerance = 0.02)
  expect_identical(spo_example_data(100, seed = 3), spo_example_data(100, seed = 3))
  expect_error(spo_example_data(10, a = 0.5, b = 0.5), "outside \\[0, 1\\]")
})

test_that("the C moment pass matches an R computation, with and without weights", {
  set.seed(5)
  n <- 3000
  zm <- cbind(1, matrix(rnorm(n * 3), n))
  xm <- cbind(1, matrix(runif(n * 2), n))
  arm <- rbinom(n, 1, 0.4)
  y <- rnorm(n)
  w <- as.double(rpois(n, 1))
  for (weights in list(NULL, w)) {
    got <- causalsandbox:::spo_moments(zm, xm, arm, y, weights, 1L)
    ref <- moments_in_r(zm, xm, arm, y, if (is.null(weights)) rep(1, n) else weights)
    expect_equal(got$n, c(ref$a0$n, ref$a1$n))
    expect_equal(got$y, c(ref$a0$y, ref$a1$y), tolerance = 1e-12)
    expect_equal(got$z[, 2], ref$a1$z, tolerance = 1e-12)
    expect_equal(got$zy[, 1], ref$a0$zy, tolerance = 1e-12)
    expect_equal(got$zx[, , 1], unname(ref$a0$zx), tolerance = 1e-12)
    expect_equal(got$zxy[, , 2], unname(ref$a1$zxy), tolerance = 1e-12)
    expect_equal(got$x, ref$x, tolerance = 1e-12)
  }
})

test_that("pencil and Prony recover an exact mixture from its moments", {
  for (k in 2:3) {
    effects <- c(-0.2, 0.4, 1.1)[seq_len(k)]
    weights <- c(0.3, 0.5, 0.2)[seq_len(k)]
    weights <- weights / sum(weights)
    m <- vapply(0:(2 * k), function(l) sum(weights * effects^l), numeric(1))
    for (method in c("matrix_pencil", "prony")) {
      mix <- causalsandbox:::spo_mixture(m, k, method, quiet = FALSE)$table
      expect_equal(mix$effect, effects, tolerance = 1e-8)
      expect_equal(mix$weight, weights, tolerance = 1e-8)
    }
  }
  # m_2 < 0 is impossible for real effects: the roots are complex and the mixture is refused.
  expect_warning(bad <- causalsandbox:::spo_mixture(c(1, 0, -1, 0, 1), 2, "matrix_pencil",
                                                    quiet = FALSE), "complex roots")
  expect_null(bad$table)
  expect_warning(causalsandbox:::spo_mixture(c(1, 0, -1, 0, 1), 2, "prony", quiet = FALSE),
                 "complex roots")
})

test_that("equal class effects collapse to one class at the ATE", {
  # a = 0: both classes have effect b = 0.25; the second class is spurious or duplicates it.
  d <- spo_example_data(1e5, a = 0, c = 0.25, seed = 3)
  fit <- suppressWarnings(fit_example(d))
  expect_lt(abs(fit$ate - 0.25), 0.02)
  heavy <- fit$mixture$weight > 0.05
  expect_lt(max(abs(fit$mixture$effect[heavy] - 0.25)), 0.05)
})

test_that("n = 1e5 recovers E[Y(0)] = 0.375 and E[Y(1)] = 0.625 within 0.02", {
  d <- spo_example_data(1e5, seed = 2024)
  for (method in c("matrix_pencil", "prony")) {
    fit <- fit_example(d, method = method)
    expect_s3_class(fit, "causal_mixture")
    expect_lt(abs(fit$potential_outcomes[["E[Y(0)]"]] - 0.375), 0.02)
    expect_lt(abs(fit$potential_outcomes[["E[Y(1)]"]] - 0.625), 0.02)
    expect_lt(abs(fit$ate - 0.25), 0.02)
  }
  naive <- mean(d$y[d$t == 1]) - mean(d$y[d$t == 0])
  expect_equal(fit$naive_difference, naive)
})

test_that("the adjustment removes confounding that biases the naive contrast", {
  # With c = 0.25 the class raises the outcome: E[Y(0)] = 0.5, E[Y(1)] = 0.75, ATE = 0.25,
  # while the naive difference in means converges to 0.125.
  d <- spo_example_data(1e5, c = 0.25, seed = 15)
  expect_equal(unlist(attr(d, "truth")[c("ey0", "ey1")]), c(ey0 = 0.5, ey1 = 0.75))
  fit <- fit_example(d)
  expect_lt(abs(fit$naive_difference - 0.125), 0.02)
  expect_lt(abs(fit$ate - 0.25), 0.02)
  expect_lt(abs(fit$potential_outcomes[["E[Y(0)]"]] - 0.5), 0.02)
})

test_that("n = 5e5 recovers class effects 0 and 0.5 and weights 0.5 / 0.5 within 0.03", {
  d <- spo_example_data(5e5, seed = 7)
  fits <- list(pencil = fit_example(d), prony = fit_example(d, method = "prony"))
  for (fit in fits) {
    expect_equal(nrow(fit$mixture), 2L)
    expect_lt(max(abs(fit$mixture$effect - c(0, 0.5))), 0.03)
    expect_lt(max(abs(fit$mixture$weight - c(0.5, 0.5))), 0.03)
    expect_equal(sum(fit$mixture$weight), 1, tolerance = 1e-10)
    # The effect moments are those of the mixture: m_l = sum_u P(u) effect_u^l.
    expect_lt(abs(fit$effect_moments[["m2"]] - 0.5 * 0.5^2), 0.01)
  }
  # Both methods agree closely (they differ only in how noise in m_4 enters).
  expect_equal(fits$pencil$mixture$effect, fits$prony$mixture$effect, tolerance = 0.02)
})

test_that("three latent classes with three-level categorical proxies are recovered", {
  # k = 3 needs effect moments up to m_6 and encoded proxies of rank 3 on each side.
  set.seed(101)
  n <- 3e5
  u <- sample(0:2, n, TRUE, prob = c(0.3, 0.3, 0.4))
  t <- rbinom(n, 1, c(0.7, 0.4, 0.2)[u + 1])
  categorical <- function(p) {  # p: class x level probabilities
    r <- runif(n)
    cum <- t(apply(p, 1, cumsum))
    letters[1 + (r > cum[u + 1, 1]) + (r > cum[u + 1, 2])]
  }
  p1 <- rbind(c(.6, .2, .2), c(.2, .6, .2), c(.2, .2, .6))
  p2 <- rbind(c(.5, .3, .2), c(.2, .3, .5), c(.3, .5, .2))
  d <- data.frame(t = t, z1 = categorical(p1), z2 = categorical(p2), x1 = categorical(p2),
                  x2 = categorical(p1))
  effects <- c(-0.2, 0.1, 0.4)
  d$y <- rbinom(n, 1, c(0.5, 0.3, 0.2)[u + 1] + t * effects[u + 1])
  fit <- causal_mixture(d, "t", "y", c("z1", "z2"), c("x1", "x2"), k = 3, threads = 1)
  expect_equal(length(fit$z_columns), 5L)
  expect_lt(abs(fit$ate - 0.13), 0.02)
  expect_lt(abs(fit$potential_outcomes[["E[Y(0)]"]] - 0.32), 0.02)
  expect_lt(max(abs(fit$mixture$effect - effects)), 0.05)
  expect_lt(max(abs(fit$mixture$weight - c(0.3, 0.3, 0.4))), 0.05)
})

test_that("when X causes Y the ATE is still recovered but the class effects are not", {
  # x1 raises the outcome under treatment only: it modifies the treatment effect, so
  # E[Z X^T Y | T = t] no longer factors through the class effects.
  d <- spo_example_data(5e5, x_effect = c(0, 0.25), seed = 8)
  truth <- attr(d, "truth")
  fit <- fit_example(d)
  expect_lt(abs(fit$ate - truth$ate), 0.02)
  expect_lt(abs(fit$potential_outcomes[["E[Y(1)]"]] - truth$ey1), 0.02)
  expect_gt(max(abs(fit$mixture$effect - truth$effects)), 0.05)

  # An effect of x1 that is the same in both arms cancels between the arms.
  d2 <- spo_example_data(5e5, x_effect = 0.2, seed = 9)
  fit2 <- fit_example(d2)
  expect_lt(abs(fit2$ate - attr(d2, "truth")$ate), 0.02)
  expect_lt(max(abs(fit2$mixture$effect - attr(d2, "truth")$effects)), 0.03)
})

test_that("same result with 1 and 2 threads", {
  # 3e5 rows span more than one parallel round of blocks and end in a partial block.
  d <- spo_example_data(300001, seed = 4)
  f1 <- causal_mixture(d, "t", "y", c("z1", "z2"), c("x1", "x2"), k = 2, threads = 1)
  f2 <- causal_mixture(d, "t", "y", c("z1", "z2"), c("x1", "x2"), k = 2, threads = 2)
  f1$call <- f2$call <- NULL
  expect_identical(f1, f2)
  zm <- cbind(1, as.matrix(d[c("z1", "z2")]) + 0.1)
  xm <- cbind(1, as.matrix(d[c("x1", "x2")]) * 1.7)
  w <- as.double(seq_len(nrow(d)) %% 3)
  expect_identical(causalsandbox:::spo_moments(zm, xm, d$t, as.double(d$y), w, 1L),
                   causalsandbox:::spo_moments(zm, xm, d$t, as.double(d$y), w, 2L))
})

test_that("categorical proxies are one-hot encoded with the first level dropped", {
  d <- spo_example_data(4e4, seed = 12)
  d_cat <- d
  d_cat$z1 <- factor(ifelse(d$z1 == 1, "yes", "no"))
  d_cat$x2 <- d$x2 == 1
  fit <- fit_example(d)
  fit_cat <- fit_example(d_cat)
  expect_equal(fit_cat$z_columns, c("(constant)", "z1=yes", "z2"))
  expect_equal(fit_cat$x_columns, c("(constant)", "x1", "x2=TRUE"))
  expect_equal(fit_cat$ate, fit$ate, tolerance = 1e-12)
  # A three-level proxy contributes two indicators.
  d_cat$z3 <- sample(c("a", "b", "c"), nrow(d), replace = TRUE)
  fit3 <- causal_mixture(d_cat, "t", "y", c("z1", "z3"), c("x1", "x2"), k = 2, threads = 1)
  expect_equal(fit3$z_columns, c("(constant)", "z1=yes", "z3=b", "z3=c"))
  # Treatment as a two-level factor (second level treated) gives the same fit.
  d_cat$t <- factor(ifelse(d$t == 1, "treated", "control"), levels = c("control", "treated"))
  expect_equal(fit_example(d_cat)$ate, fit$ate, tolerance = 1e-12)
})

test_that("bootstrap standard errors are reproducible and of the right size", {
  d <- spo_example_data(2e4, seed = 21)
  b1 <- fit_example(d, bootstrap = 30, seed = 99)
  b2 <- fit_example(d, bootstrap = 30, seed = 99)
  expect_identical(b1$bootstrap, b2$bootstrap)
  expect_equal(dim(b1$bootstrap), c(30L, 7L))
  set.seed(3)
  b3 <- fit_example(d, bootstrap = 30)
  set.seed(3)
  b4 <- fit_example(d, bootstrap = 30)
  expect_identical(b3$bootstrap, b4$bootstrap)
  expect_false(identical(b1$bootstrap, b3$bootstrap))
  # Sampling sd of the ATE at n = 2e4 is about 0.006 * sqrt(1e5 / 2e4) ~ 0.013 (seed paper).
  expect_gt(b1$se$ate, 0.005)
  expect_lt(b1$se$ate, 0.04)
  # Estimates are unchanged by the bootstrap.
  expect_equal(b1$ate, fit_example(d)$ate)
})

test_that("bootstrap gives the same replicates on future workers", {
  skip_on_cran()
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  d <- spo_example_data(2e4, seed = 22)
  seq_fit <- fit_example(d, bootstrap = 4, seed = 5)
  old <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(old), add = TRUE)
  par_fit <- fit_example(d, bootstrap = 4, seed = 5)
  expect_identical(par_fit$bootstrap, seq_fit$bootstrap)
})

test_that("print and summary state the identification level", {
  d <- spo_example_data(2e4, seed = 31)
  fit <- fit_example(d, bootstrap = 5, seed = 1)
  expect_output(print(fit), "level 1: first moments")
  expect_output(print(fit), "level 2: higher moments")
  s <- summary(fit)
  expect_s3_class(s, "summary.causal_mixture")
  expect_equal(rownames(s$first), c("E[Y(0)]", "E[Y(1)]", "ATE"))
  expect_output(print(s), "X independent of Y given \\(U, T\\)")
  expect_output(print(s), "Rank check")
  expect_true(all(is.finite(s$first$se)))
  # intervals at `level` from the bootstrap SE; tidy() reports the same
  expect_equal(s$first$upper, s$first$estimate + qnorm(0.975) * s$first$se)
  s90 <- summary(fit, level = 0.9)
  expect_equal(s90$first$lower, s$first$estimate - qnorm(0.95) * s$first$se)
  expect_output(print(s90), "90% intervals")
  expect_equal(tidy(fit, level = 0.9)$conf.low[1:3], s90$first$lower)
  expect_error(summary(fit, level = 1), "`level`")
})

test_that("k = 1 reduces to a difference in means when there is no confounding", {
  set.seed(41)
  n <- 4e4
  d <- data.frame(t = rbinom(n, 1, 0.5), z1 = rbinom(n, 1, 0.3), x1 = rbinom(n, 1, 0.6))
  d$y <- rbinom(n, 1, 0.3 + 0.2 * d$t)
  fit <- causal_mixture(d, "t", "y", "z1", "x1", k = 1, threads = 1)
  expect_equal(fit$ate, fit$naive_difference, tolerance = 0.01)
  expect_equal(fit$mixture$weight, 1)
  expect_equal(fit$mixture$effect, fit$ate)
  # Two latent classes fitted with k = 1 trigger the rank-above-k warning.
  expect_warning(fit_example(spo_example_data(5e4, seed = 42), k = 1), "more than k classes")
})

test_that("the old proxy argument names z and x warn and give the same fit", {
  d <- spo_example_data(20000, seed = 61)
  new <- capture_deprecation(causal_mixture(d, "t", "y", treatment_proxies = c("z1", "z2"),
                                            outcome_proxies = c("x1", "x2"), k = 2,
                                            threads = 1))
  old_z <- capture_deprecation(causal_mixture(d, "t", "y", z = c("z1", "z2"),
                                              outcome_proxies = c("x1", "x2"), k = 2,
                                              threads = 1))
  old_x <- capture_deprecation(causal_mixture(d, "t", "y", treatment_proxies = c("z1", "z2"),
                                              x = c("x1", "x2"), k = 2, threads = 1))
  both_old <- suppressWarnings(causal_mixture(d, "t", "y", z = c("z1", "z2"),
                                              x = c("x1", "x2"), k = 2, threads = 1))
  expect_length(new$warnings, 0L)
  expect_renamed(old_z, "z", "treatment_proxies")
  expect_renamed(old_x, "x", "outcome_proxies")
  # the estimates, not only their shape, are those of the new names
  expect_lt(abs(new$value$ate - 0.25), 0.1)
  for (old in list(old_z$value, old_x$value, both_old)) {
    expect_identical(old$ate, new$value$ate)
    expect_identical(old$potential_outcomes, new$value$potential_outcomes)
    expect_identical(old$mixture, new$value$mixture)
  }
  both <- capture_deprecation(causal_mixture(d, "t", "y", z = c("z1", "z2"),
                                             x = c("x1", "x2"), k = 2, threads = 1))
  expect_identical(vapply(both$warnings, `[[`, "", "old"), c("z", "x"))
  err <- expect_error(suppressWarnings(
    causal_mixture(d, "t", "y", treatment_proxies = "z1", z = "z1", x = "x1", k = 1)),
    "got both `treatment_proxies` and its deprecated name `z`")
  expect_identical(err$argument, "treatment_proxies")
  expect_error(causal_mixture(d, "t", "y", c("z1", "z2"), k = 2), "`outcome_proxies` is required")
})

test_that("bad input gives clear errors", {
  d <- spo_example_data(5000, seed = 51)
  z <- c("z1", "z2")
  x <- c("x1", "x2")
  bad_t <- d
  bad_t$t[1:10] <- 2
  expect_error(causal_mixture(bad_t, "t", "y", z, x, k = 2),
               "Treatment `t` must have exactly two values", class = "causalsandbox_input_error")
  bad_t$t <- rnorm(nrow(d))
  expect_error(causal_mixture(bad_t, "t", "y", z, x, k = 2), "must have exactly two values")
  bad_t$t <- factor(sample(c("a", "b", "c"), nrow(d), TRUE))
  expect_error(causal_mixture(bad_t, "t", "y", z, x, k = 2), "must have exactly two values")
  one_arm <- d
  one_arm$t <- 1L
  expect_error(causal_mixture(one_arm, "t", "y", z, x, k = 2), "both arms")
  expect_error(causal_mixture(d, "t", "y", z, x, k = 0), "`k` must be a whole number >= 1")
  expect_error(causal_mixture(d, "t", "y", z, x, k = 1.5), "`k`")
  expect_error(causal_mixture(d, "t", "y", z, x, k = 4), "Too few proxies in `treatment_proxies` for k = 4")
  expect_error(causal_mixture(d, "t", "y", z, "x1", k = 3), "Too few proxies in `outcome_proxies` for k = 3")
  expect_error(causal_mixture(d, "t", "y", c("z1", "x1"), x, k = 2),
               "`treatment_proxies` and `outcome_proxies` must not share columns.*`x1`")
  expect_error(causal_mixture(d, "t", "y", c("z1", "t"), x, k = 2),
               "`t` is the treatment and cannot also be in `treatment_proxies`")
  err <- expect_error(causal_mixture(d, "t", "y", c("z1", "nope"), x, k = 2),
                      "`treatment_proxies` names column `nope`, which is not in `data`")
  expect_identical(c(err$argument, err$column), c("treatment_proxies", "nope"))
  dup <- d
  names(dup)[names(dup) == "x2"] <- "x1"
  err <- expect_error(causal_mixture(dup, "t", "y", z, "x1", k = 2), "must be unique")
  expect_identical(err$column, "x1")
  expect_error(causal_mixture(d, "t", "y", z, x, k = 2, method = "svd"), "`method`")
  expect_error(causal_mixture(d, "t", "y", z, x, k = 2, bootstrap = -1), "`bootstrap`")
  expect_error(causal_mixture(as.list(d), "t", "y", z, x, k = 2), "`data` must be a data.frame")
  const_z <- d
  const_z$z2 <- 1
  expect_error(causal_mixture(const_z, "t", "y", z, x, k = 2), "`treatment_proxies` column \"z2\" is constant")
  # a two-valued outcome of any type is binary: "0"/"1" strings give the same fit
  chr_y <- d
  chr_y$y <- as.character(d$y)
  expect_equal(causal_mixture(chr_y, "t", "y", z, x, k = 2, threads = 1)$ate,
               causal_mixture(d, "t", "y", z, x, k = 2, threads = 1)$ate)
  chr_y$y <- sample(c("a", "b", "c"), nrow(d), TRUE)
  expect_error(causal_mixture(chr_y, "t", "y", z, x, k = 2),
               "Outcome `y` must be numeric or have exactly two values")
})

test_that("rank deficiency stops with the singular values", {
  d <- spo_example_data(2e4, seed = 61)
  # Proxies unrelated to the latent class: E[Z X^T | T = t] has rank 1 < k = 2.
  set.seed(62)
  d$x1 <- rbinom(nrow(d), 1, 0.4)
  d$x2 <- rbinom(nrow(d), 1, 0.6)
  expect_error(fit_example(d), paste0("E\\[Z X\\^T \\| T = [01]\\] has rank below k = 2: ",
                                      "its singular values are [0-9.e-]+, [0-9.e-]+, [0-9.e-]+"))
  # Two latent classes cannot support k = 3 even though the proxies encode to 3 columns.
  expect_error(fit_example(spo_example_data(2e4, seed = 63), k = 3), "rank below k = 3")
})

test_that("missing proxy values: indicator keeps the estimand, complete cases change it, fail names `missing`", {
  # x2 goes missing more often in class 1 (40%) than in class 0 (10%): missingness depends
  # on the class only, so the filled proxy and its indicator are proxies of the class
  d <- spo_example_data(40000, seed = 61)
  set.seed(1)
  na <- runif(nrow(d)) < ifelse(d$u == 1, 0.4, 0.1)
  d$x2[na] <- NA
  d$u <- NULL
  z <- c("z1", "z2")
  x <- c("x1", "x2")
  ind <- causal_mixture(d, "t", "y", z, x, k = 2, threads = 1)
  expect_identical(ind$x_columns, c("(constant)", "x1", "x2", "x2.missing"))
  expect_identical(ind$n, nrow(d))
  expect_identical(ind$missing$columns, "x2")
  expect_lt(abs(ind$ate - 0.25), 0.03)  # the population ATE of the process
  # the complete cases have P(U = 1) = 0.5 * 0.6 / (0.5 * 0.6 + 0.5 * 0.9) = 0.4, so their
  # ATE is 0.4 * 0.5 = 0.2 (class effects 0 and 0.5)
  cc <- causal_mixture(d, "t", "y", z, x, k = 2, threads = 1, missing = "complete_case")
  expect_identical(cc$n, sum(!na))
  expect_identical(cc$missing$rows_dropped, sum(na))
  expect_lt(abs(cc$ate - 0.2), 0.03)
  expect_gt(ind$ate - cc$ate, 0.02)
  err <- expect_error(causal_mixture(d, "t", "y", z, x, k = 2, missing = "fail"),
                      "Proxy `x2` has missing values", class = "causalsandbox_input_error")
  expect_identical(c(err$argument, err$column), c("missing", "x2"))
  err <- expect_error(causal_mixture(d, "t", "y", z, x, k = 2, missing = "drop"),
                      class = "causalsandbox_input_error")
  expect_identical(err$argument, "missing")
})
