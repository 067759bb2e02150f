# simulate() on a causalmix fit: knob independence, knob meaning, reproducibility, chunking
# and argument checks. One small fit per outcome type is shared by the tests.

local_fits <- local({
  cache <- NULL
  function() {
    if (!is.null(cache)) return(cache)
    set.seed(21)
    n <- 1500
    d <- data.frame(x = rnorm(n), z = rbinom(n, 1, 0.4),
                    g = factor(sample(c("a", "b", "c"), n, TRUE)))
    d$t <- rbinom(n, 1, plogis(0.8 * d$x - 0.3))
    d$y <- d$x + (1 + d$z) * d$t + rnorm(n)
    d$yb <- rbinom(n, 1, plogis(-0.5 + 0.7 * d$x + 0.5 * d$t))
    cont <- causalmix(d[c("x", "z", "g", "t", "y")], "t", "y", hidden = 24, epochs = 40,
                      seed = 1, threads = 1)
    bin <- causalmix(d[c("x", "z", "g", "t", "yb")], "t", "yb", hidden = 24, epochs = 40,
                     seed = 2, threads = 1)
    cache <<- list(cont = cont, bin = bin, data = d)
    cache
  }
})

covariates <- c("x", "z", "g")

test_that("a draw has the user's columns, types and truth columns, and Y = Y(T)", {
  f <- local_fits()
  s <- simulate(f$cont, nsim = 800, seed = 1, threads = 1)
  expect_s3_class(s, "sandbox_data")
  expect_identical(names(s), c("x", "z", "g", "t", "y", ".ps", ".mu0", ".mu1", ".tau",
                               ".y0", ".y1"))
  for (v in c("x", "z", "g", "t", "y")) expect_identical(class(s[[v]]), class(f$data[[v]]))
  expect_identical(levels(s$g), levels(f$data$g))
  expect_true(all(s$t %in% c(0, 1)) && all(s$z %in% c(0, 1)))
  expect_identical(s$y, ifelse(s$t == 1, s$.y1, s$.y0))
  expect_equal(s$.tau, s$.mu1 - s$.mu0)
  expect_identical(attr(s, "roles")$covariates, covariates)
  expect_equal(nrow(simulate(f$cont, seed = 1, threads = 1)), nrow(f$data))
  tr <- truth(s)
  expect_true(all(c("ate", "att", "atc", "ate_mcse", "att_mcse", "atc_mcse", "sample_ate",
                    "sample_att", "sample_atc", "bias", "overlap", "knobs") %in% names(tr)))
  expect_equal(tr$sample_ate, mean(s$.tau))
  expect_output(print(s), "Truth of a synthetic cohort")
})

test_that("changing overlap leaves covariates and the ATE unchanged", {
  f <- local_fits()
  a <- simulate(f$cont, nsim = 20000, seed = 3, overlap = 1, threads = 2)
  b <- simulate(f$cont, nsim = 20000, seed = 3, overlap = 2.5, threads = 2)
  expect_identical(as.data.frame(a)[covariates], as.data.frame(b)[covariates])
  expect_identical(a$.tau, b$.tau)
  expect_identical(truth(a)$ate, truth(b)$ate)
  # the propensities change, the treated share stays (within Monte Carlo error at n = 20000)
  expect_gt(sd(qlogis(b$.ps)), 2 * sd(qlogis(a$.ps)))
  share <- truth(a)$knobs$treated_share
  expect_lt(abs(mean(b$.ps) - share), 4 * sqrt(share * (1 - share) / 20000))
  expect_lt(abs(mean(b$t) - share), 4 * sqrt(share * (1 - share) / 20000))
})

test_that("changing ate or heterogeneity leaves covariates, propensities and T unchanged", {
  f <- local_fits()
  a <- simulate(f$cont, nsim = 5000, seed = 4, threads = 1)
  b <- simulate(f$cont, nsim = 5000, seed = 4, ate = -2, heterogeneity = 3, threads = 1)
  expect_identical(as.data.frame(a)[c(covariates, "t", ".ps", ".mu0")],
                   as.data.frame(b)[c(covariates, "t", ".ps", ".mu0")])
  expect_equal(truth(b)$ate, -2, tolerance = 1e-12)
  expect_equal(sd(b$.tau), 3 * sd(a$.tau), tolerance = 1e-8)
})

test_that("knobs mean what they say: constant effect, randomised design, imposed ATE", {
  f <- local_fits()
  h0 <- simulate(f$cont, nsim = 3000, seed = 5, ate = 0.7, heterogeneity = 0, threads = 1)
  expect_equal(h0$.tau, rep(0.7, 3000), tolerance = 1e-12)
  expect_equal(truth(h0)$ate, 0.7, tolerance = 1e-12)
  expect_equal(truth(h0)$att, 0.7, tolerance = 1e-12)
  o0 <- simulate(f$cont, nsim = 3000, seed = 5, overlap = 0, threads = 1)
  expect_equal(length(unique(o0$.ps)), 1L)
  expect_equal(o0$.ps[1], truth(o0)$knobs$treated_share, tolerance = 1e-8)
  # the learned heterogeneity (tau depends on z in the data) is kept at heterogeneity = 1
  d1 <- simulate(f$cont, nsim = 20000, seed = 6, threads = 1)
  expect_gt(mean(d1$.tau[d1$z == 1]) - mean(d1$.tau[d1$z == 0]), 0.5)
  # a user effect function replaces tau outright
  e <- simulate(f$cont, nsim = 2000, seed = 6, effect = function(x) 2 * x$z, threads = 1)
  expect_equal(e$.tau, 2 * e$z)
  expect_equal(truth(e)$ate, 2 * mean(causalsandbox:::draw_covariates(
    f$cont, f$cont$reference$n, f$cont$reference$seed)$z), tolerance = 1e-12)
})

test_that("an overlap target is solved for the overlap scale", {
  f <- local_fits()
  s <- simulate(f$cont, nsim = 20000, seed = 7, overlap = overlap_target(0.8), threads = 2)
  k <- truth(s)$knobs
  expect_gt(k$overlap, 1)
  inside <- mean(s$.ps >= 0.1 & s$.ps <= 0.9)
  expect_lt(abs(inside - 0.8), 4 * sqrt(0.8 * 0.2 / 20000))
  expect_error(simulate(f$cont, nsim = 10, overlap = overlap_target(0.5, 0.6, 0.9)),
               "cannot be met")
  expect_error(overlap_target(1.2), "share")
  expect_error(overlap_target(0.5, lower = 0.9, upper = 0.1), "lower")
})

test_that("confounding keeps E[Y(t) | x] and biases adjusted estimators by E[k(X)]", {
  f <- local_fits()
  n <- 50000
  a <- simulate(f$cont, nsim = n, seed = 8, threads = 2)
  k <- function(x) 0.5 + 0.5 * x$z
  b <- simulate(f$cont, nsim = n, seed = 8, confounding = k, threads = 2)
  expect_identical(a$.mu0, b$.mu0)
  expect_identical(a$.mu1, b$.mu1)
  expect_identical(a$t, b$t)
  expect_equal(b$.k, 0.5 + 0.5 * b$z)
  # E[Y(t) - mu_t(x)] = 0 (within 4 Monte Carlo standard errors) although Y(t) depends on T
  for (v in c(".y0", ".y1")) {
    r <- b[[v]] - b[[sub(".y", ".mu", v, fixed = TRUE)]]
    expect_lt(abs(mean(r)), 4 * sd(r) / sqrt(n))
  }
  # E[Y(1) | x, T = 1] - E[Y(1) | x, T = 0] = k(x): regression of the residual on (T - e)
  slope <- coef(lm(I(b$.y1 - b$.mu1) ~ I((b$t - b$.ps) * b$.k) - 1))[[1]]
  expect_equal(slope, 1, tolerance = 0.05)
  tr <- truth(b)
  expect_equal(tr$bias, 0.5 + 0.5 * mean(causalsandbox:::draw_covariates(
    f$cont, f$cont$reference$n, f$cont$reference$seed)$z), tolerance = 1e-12)
  # AIPW with the true nuisances of the observed-data law converges to ATE + E[k(X)]:
  # Q_t(x) = E[Y | x, T = t] = mu_t(x) + k(x) (t - e(x))
  q1 <- b$.mu1 + b$.k * (1 - b$.ps)
  q0 <- b$.mu0 - b$.k * b$.ps
  phi <- q1 - q0 + b$t * (b$y - q1) / b$.ps - (1 - b$t) * (b$y - q0) / (1 - b$.ps)
  expect_lt(abs(mean(phi) - (tr$ate + tr$bias)), 4 * sd(phi) / sqrt(n))
  expect_gt(abs(mean(phi) - tr$ate), 10 * sd(phi) / sqrt(n))
})

test_that("binary outcomes: risk-difference knobs and refusals that say by how much", {
  f <- local_fits()
  s <- simulate(f$bin, nsim = 20000, seed = 9, ate = 0.05, heterogeneity = 0.5,
                confounding = 0.05, effect_scale = "difference", threads = 2)
  expect_identical(class(s$yb), class(f$data$yb))
  expect_true(all(s$yb %in% c(0, 1)) && all(s$.y0 %in% c(0, 1)))
  expect_equal(truth(s)$ate, 0.05, tolerance = 1e-12)
  expect_true(all(s$.mu0 >= 0 & s$.mu1 <= 1))
  r <- s$.y1 - s$.mu1
  expect_lt(abs(mean(r)), 4 * sd(r) / sqrt(20000))
  expect_error(simulate(f$bin, nsim = 100, seed = 1, ate = 0.9, effect_scale = "difference"),
               "outside \\[0, 1\\] for [0-9.]+% of the fitted covariate law.*by up to",
               class = "causalsandbox_knob_error")
  expect_error(simulate(f$bin, nsim = 100, seed = 1, effect_scale = "difference",
                        effect = function(x) rep(1.5, nrow(x))), "outside \\[0, 1\\]")
  # a constant confounding function is checked row by row, as the difference scale
  expect_error(simulate(f$bin, nsim = 100, seed = 1, confounding = function(x) rep(2, nrow(x))),
               "by up to", class = "causalsandbox_knob_error")
})

test_that("same seed gives the same cohort with 1 and 2 threads; chunks concatenate", {
  f <- local_fits()
  k <- function(x) 0.2 * x$x
  # enough rows for every parallel loop (draws, knobs, outcomes) to use both threads
  one <- simulate(f$cont, nsim = 140001, seed = 10, confounding = k, overlap = 1.5, threads = 1)
  two <- simulate(f$cont, nsim = 140001, seed = 10, confounding = k, overlap = 1.5, threads = 2)
  expect_identical(one, two)
  # chunk borders that are not tile borders (rows are drawn 8 at a time)
  a <- simulate(f$cont, nsim = 1203, seed = 10, confounding = k, overlap = 1.5, threads = 2)
  b <- simulate(f$cont, nsim = 1797, seed = 10, confounding = k, overlap = 1.5, offset = 1203,
                threads = 1)
  joined <- rbind(as.data.frame(a), as.data.frame(b))
  expect_identical(joined, as.data.frame(one)[1:3000, ])
  expect_identical(truth(a)$ate, truth(one)$ate)
  set.seed(5); r1 <- simulate(f$cont, nsim = 100, threads = 1)
  set.seed(5); r2 <- simulate(f$cont, nsim = 100, threads = 1)
  expect_identical(r1, r2)
  expect_false(identical(r1$x, simulate(f$cont, nsim = 100, seed = 11, threads = 1)$x))
})

test_that("bad arguments give clear errors", {
  f <- local_fits()
  expect_error(simulate(f$cont, nsim = 0), "nsim")
  expect_error(simulate(f$cont, nsim = 2.5), "nsim")
  expect_error(simulate(f$cont, nsim = "10"), "nsim")
  expect_error(simulate(f$cont, nsim = 10, overlap = -1), "overlap")
  expect_error(simulate(f$cont, nsim = 10, overlap = "high"), "overlap")
  expect_error(simulate(f$cont, nsim = 10, heterogeneity = -0.5), "heterogeneity")
  expect_error(simulate(f$cont, nsim = 10, ate = NA), "ate")
  expect_error(simulate(f$cont, nsim = 10, ate = c(1, 2)), "ate")
  expect_error(simulate(f$cont, nsim = 10, confounding = "yes"), "confounding")
  expect_error(simulate(f$cont, nsim = 10, offset = -1), "offset")
  expect_error(simulate(f$cont, nsim = 10, effect = 2), "effect")
  expect_error(simulate(f$cont, nsim = 10, effect = function(x) 1), "effect.*one value per row")
  expect_error(simulate(f$cont, nsim = 10, effect = function(x) rep(NA_real_, nrow(x))),
               "effect.*NA")
  expect_error(simulate(f$cont, nsim = 10, effect = function(x) as.character(x$x)),
               "effect.*numeric")
  expect_error(simulate(f$cont, nsim = 10, effect = function(x) x$x, ate = 1), "effect")
  expect_error(simulate(f$cont, nsim = 10, confounding = function(x) x$x[1:3]),
               "confounding.*one value per row")
  expect_error(simulate(f$cont, nsim = 10, confounding = function(x) x$x / 0),
               "confounding.*non-finite")
  expect_error(simulate(f$cont, nsim = 10, overlaps = 2), "Unknown argument")
  # every refusal is a classed input error naming its argument
  arg_of <- function(expr) tryCatch(expr, error = function(e) e$argument)
  expect_equal(arg_of(simulate(f$cont, nsim = 10, effect = 2)), "effect")
  expect_equal(arg_of(simulate(f$cont, nsim = 10, effect = function(x) x$x, ate = 1)), "effect")
  expect_equal(arg_of(simulate(f$cont, nsim = 10, overlaps = 2)), "...")
  expect_equal(arg_of(causalmix_control(hiden = 3)), "hiden")
})
