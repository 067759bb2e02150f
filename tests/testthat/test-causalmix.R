# causalmix(): recovery of known nuisances, mixture prior vs Gaussian ablation, schema
# fidelity of draws, determinism, persistence and argument checks. Fits are small (few
# epochs, narrow layers, at most 2 threads).

sim_nuisance <- function(n) {
  x1 <- rnorm(n)
  x2 <- rbinom(n, 1, 0.4)
  ps <- plogis(0.8 * x1 - 0.5 * x2)
  t <- rbinom(n, 1, ps)
  mu0 <- x1 + 0.5 * x2
  mu1 <- mu0 + 1 + 0.5 * x1
  y <- ifelse(t == 1, mu1, mu0) + rnorm(n, sd = 0.5)
  data.frame(x1, x2, t, y, ps, mu0, mu1)
}

mixed_table <- function(n) {
  d <- data.frame(
    age = round(rnorm(n, 60, 8), 1),
    sex = factor(sample(c("female", "male"), n, TRUE)),
    stage = factor(sample(c("I", "II", "III"), n, TRUE, prob = c(0.5, 0.3, 0.2))),
    visits = rpois(n, 3),
    cost = ifelse(runif(n) < 0.35, 0, round(rexp(n, 1 / 2000), 2)),
    smoker = sample(c(TRUE, FALSE), n, TRUE))
  d$age[sample(n, 40)] <- NA
  d$stage[sample(n, 30)] <- NA
  d$treat <- rbinom(n, 1, plogis(0.05 * (ifelse(is.na(d$age), 60, d$age) - 60)))
  d$y <- 0.02 * d$visits + d$treat + rnorm(n)
  d
}

test_that("fitted propensity and outcome functions recover known truth", {
  set.seed(10)
  d <- sim_nuisance(3000)
  fit <- causalmix(d[c("x1", "x2", "t", "y")], "t", "y", hidden = c(32, 32), seed = 1,
                   threads = 1)
  nd <- sim_nuisance(2000)
  # A correctly specified logistic regression on 3000 rows has propensity errors of about
  # 0.01-0.02; the network is allowed about three times that on average. The outcome noise
  # sd is 0.5 with about 1500 rows per arm, so a root-mean-square error of 0.2 (40% of the
  # noise sd) in each arm still means the network learned the regression (the spread of
  # the true mu is about 1.1).
  expect_lt(mean(abs(predict(fit, nd, "ps") - nd$ps)), 0.05)
  expect_lt(sqrt(mean((predict(fit, nd, "mu0") - nd$mu0)^2)), 0.2)
  expect_lt(sqrt(mean((predict(fit, nd, "mu1") - nd$mu1)^2)), 0.2)
  tau <- predict(fit, nd, "tau")
  expect_equal(tau, predict(fit, nd, "mu1") - predict(fit, nd, "mu0"))
  # the learned effect varies with x1 as the truth does (slope 0.5)
  expect_equal(unname(coef(lm(tau ~ nd$x1))[2]), 0.5, tolerance = 0.3)
  # fitted values of the training rows without newdata
  expect_length(predict(fit, type = "ps"), nrow(d))
})

test_that("the outcome network starts from per-arm linear fits of the training rows", {
  set.seed(11)
  d <- sim_nuisance(3000)
  nd <- sim_nuisance(2000)
  rmse <- function(fit) sqrt(mean((predict(fit, nd, "mu1") - nd$mu1)^2))
  # after one epoch of 19 small steps the linear truth is already there (least squares on
  # about 1000 rows per arm is off by about 0.02), while a layer of one unit per arm (the
  # outcome net is two halves, one per arm), too narrow for the pair of units each arm's start
  # needs, starts at random and is still far off
  started <- quiet_causalmix(d[c("x1", "x2", "t", "y")], "t", "y", epochs = 1, hidden = 16,
                             seed = 1, threads = 1)
  narrow <- quiet_causalmix(d[c("x1", "x2", "t", "y")], "t", "y", epochs = 1, hidden = 1,
                            seed = 1, threads = 1)
  expect_lt(rmse(started), 0.1)
  expect_gt(rmse(narrow), 0.3)
})

test_that("the mixture prior reproduces two separated clusters; the Gaussian prior does worse", {
  set.seed(3)
  n <- 1500
  cl <- rbinom(n, 1, 0.5)
  d <- data.frame(a = rnorm(n, ifelse(cl == 1, 3, -3), 0.4),
                  b = rnorm(n, ifelse(cl == 1, -2, 2), 0.4), c = rnorm(n))
  d$t <- rbinom(n, 1, 0.5)
  d$y <- d$a + rnorm(n)
  gap_share <- function(prior) {
    # the decoder's own Gaussian heads: a marginal transform would restore each column's
    # bimodal marginal whatever the prior, and the test is about the prior
    fit <- quiet_causalmix(d, "t", "y", prior = prior, hidden = c(32, 32), epochs = 80, seed = 1,
                           threads = 1, marginal_transforms = FALSE)
    draws <- causalsandbox:::draw_covariates(fit, 4000, c(11L, 12L))
    # fidelity: share of draws in the empty gap between the clusters (0 in the real data),
    # and share of the upper cluster (0.5 in the real data)
    c(gap = mean(abs(draws$a) < 1.5), upper = mean(draws$a > 1.5))
  }
  mix <- gap_share("mixture")
  gauss <- gap_share("gaussian")
  expect_lt(mix[["gap"]], 0.04)
  expect_gt(mix[["upper"]], 0.4)
  expect_lt(mix[["upper"]], 0.6)
  expect_gt(gauss[["gap"]], 2 * mix[["gap"]] + 0.03)
})

test_that("draws respect the schema's types, levels, bounds and missingness", {
  set.seed(5)
  d <- mixed_table(1200)
  fit <- causalmix(d, "treat", "y", hidden = 32, epochs = 30, seed = 2, threads = 1)
  s <- fit$schema
  expect_identical(vapply(s$columns[s$covariates], `[[`, "", "type"),
                   c(age = "continuous", sex = "binary", stage = "categorical",
                     visits = "count", cost = "semicontinuous", smoker = "binary"))
  draws <- causalsandbox:::draw_covariates(fit, 5000, c(3L, 4L))
  expect_identical(names(draws), s$covariates)
  for (v in s$covariates) expect_identical(class(draws[[v]]), class(d[[v]]), info = v)
  expect_identical(levels(draws$sex), levels(d$sex))
  expect_identical(levels(draws$stage), levels(d$stage))
  expect_true(all(draws$visits == round(draws$visits)))
  for (v in c("age", "visits", "cost")) {
    r <- range(d[[v]], na.rm = TRUE)
    expect_true(all(draws[[v]] >= r[1] & draws[[v]] <= r[2], na.rm = TRUE), info = v)
  }
  # the point mass of cost is reproduced near its observed share (0.35), not piled on a bound
  expect_equal(mean(draws$cost == 0), mean(d$cost == 0), tolerance = 0.1)
  expect_lt(mean(draws$age == max(d$age, na.rm = TRUE), na.rm = TRUE), 0.01)
  # missing values appear only where the real data had them, at a similar rate (3.3%, 2.5%)
  expect_equal(mean(is.na(draws$age)), mean(is.na(d$age)), tolerance = 0.5)
  expect_equal(mean(is.na(draws$stage)), mean(is.na(d$stage)), tolerance = 0.5)
  expect_false(anyNA(draws$visits))
  expect_false(anyNA(draws$sex))
})

test_that("a count over a short range gets a softmax head that keeps a spike; a wide one not", {
  set.seed(12)
  n <- 1500
  d <- data.frame(x = rnorm(n))
  # years of schooling: a third of the rows at 12, the rest spread over 0 .. 18
  d$school <- as.integer(ifelse(runif(n) < 1 / 3, 12, pmin(18, pmax(0, round(10 + 3 * d$x)))))
  d$days <- rpois(n, 40)
  d$t <- rbinom(n, 1, 0.5)
  d$y <- d$x + rnorm(n)
  fit <- quiet_causalmix(d, "t", "y", hidden = 32, epochs = 40, seed = 3, threads = 1)
  span <- as.integer(diff(range(d$school))) + 1L
  expect_identical(fit$model$n_levels[fit$model$covariates == "school"], span)
  expect_identical(fit$model$n_levels[fit$model$covariates == "days"], 0L)
  draws <- causalsandbox:::draw_covariates(fit, 20000, c(7L, 8L))
  expect_true(all(draws$school >= min(d$school) & draws$school <= max(d$school)))
  expect_identical(class(draws$school), "integer")
  # the spike is reproduced (the level shares are calibrated like those of a factor)
  expect_equal(mean(draws$school == 12), mean(d$school == 12), tolerance = 0.05)
  expect_lt(max(abs(cumsum(tabulate(draws$school + 1L, 19) / 20000) -
                    cumsum(tabulate(d$school + 1L, 19) / n))), 0.03)
  expect_gt(span, 10L)
  expect_true(all(draws$days >= min(d$days) & draws$days <= max(d$days)))
  old <- options(causalsandbox.portable_kernels = TRUE)
  on.exit(options(old))
  expect_identical(causalsandbox:::draw_covariates(fit, 2001, c(7L, 8L), threads = 2),
                   draws[1:2001, ])
})

test_that("draws decode every column storage as decode_column() does", {
  set.seed(8)
  n <- 500
  d <- data.frame(
    temp = round(rnorm(n, 0, 5)),                         # whole numbers, some negative
    grade = factor(sample(c("low", "mid", "high"), n, TRUE), c("low", "mid", "high"),
                   ordered = TRUE),
    sex = sample(c("f", "m"), n, TRUE),                   # character, binary
    region = sample(c("north", "south", "east"), n, TRUE),  # character, categorical
    visits = rpois(n, 2),                                 # integer storage
    flag = rbinom(n, 1, 0.3) * 1.0,                       # numeric 0/1
    code = sample(c(2L, 5L), n, TRUE),                    # integer binary with values 2, 5
    smoker = sample(c(TRUE, FALSE), n, TRUE),
    stringsAsFactors = FALSE)
  d$sex[sample(n, 25)] <- NA
  d$temp[sample(n, 25)] <- NA
  d$t <- rbinom(n, 1, 0.5)
  d$y <- rnorm(n)
  fit <- quiet_causalmix(d, "t", "y", hidden = 16, epochs = 5, seed = 4, threads = 1)
  draws <- causalsandbox:::draw_covariates(fit, 3000, c(9L, 10L), threads = 2)
  s <- fit$schema
  for (v in s$covariates) expect_identical(class(draws[[v]]), class(d[[v]]), info = v)
  expect_identical(levels(draws$grade), levels(d$grade))
  expect_true(all(draws$temp == round(draws$temp), na.rm = TRUE))
  expect_true(all(draws$code %in% c(2L, 5L)) && all(draws$flag %in% c(0, 1)))
  expect_true(all(draws$region %in% c("north", "south", "east")))
  expect_true(anyNA(draws$sex) && anyNA(draws$temp) && !anyNA(draws$region))
  # encoding the draws and decoding them again gives them back unchanged
  back <- causalsandbox:::decode_table(s, causalsandbox:::encode_table(s, draws))
  expect_identical(back, draws)
})

test_that("the AVX2 and the portable builds of the draw code give identical results", {
  set.seed(9)
  d <- mixed_table(400)
  fit <- quiet_causalmix(d, "treat", "y", hidden = 16, epochs = 5, seed = 5, threads = 1)
  fast <- causalsandbox:::draw_rows(fit, 777, c(1L, 3L), offset = 5, threads = 2)
  fast_ps <- predict(fit, d, "ps", threads = 2)
  old <- options(causalsandbox.portable_kernels = TRUE)
  on.exit(options(old))
  portable <- causalsandbox:::draw_rows(fit, 777, c(1L, 3L), offset = 5, threads = 2)
  expect_identical(portable, fast)
  expect_identical(predict(fit, d, "ps", threads = 2), fast_ps)
})

test_that("same seed gives the same fit and the same draws with 1 and 2 threads", {
  set.seed(6)
  d <- sim_nuisance(500)[c("x1", "x2", "t", "y")]
  f1 <- causalmix(d, "t", "y", hidden = 16, epochs = 5, seed = 42, threads = 1)
  # the small table trains on two threads only when told to (see training_threads())
  old <- options(causalsandbox.parallel_training_rows = 0)
  f2 <- causalmix(d, "t", "y", hidden = 16, epochs = 5, seed = 42, threads = 2)
  options(old)
  expect_identical(f1$model, f2$model)
  expect_identical(f1$history, f2$history)
  # 9001 rows: enough for the draws and predictions to use both threads
  draws <- causalsandbox:::draw_covariates(f1, 9001, c(1L, 2L), threads = 1)
  expect_identical(draws, causalsandbox:::draw_covariates(f2, 9001, c(1L, 2L), threads = 2))
  expect_identical(predict(f1, draws, "tau", threads = 1), predict(f1, draws, "tau", threads = 2))
  # the predictions made during a draw are exactly those of the drawn rows read back
  dr <- causalsandbox:::draw_rows(f1, 1001, c(3L, 4L), threads = 2)
  enc <- causalsandbox:::encode_table(f1$schema, dr$covariates)
  expect_identical(causalsandbox:::predict_encoded(f1, enc$x, enc$missing, 1),
                   unname(do.call(cbind, dr$pred)))
  # set.seed() controls the fit when no seed is given
  set.seed(99); g1 <- quiet_causalmix(d, "t", "y", hidden = 16, epochs = 3, threads = 1)
  set.seed(99); g2 <- quiet_causalmix(d, "t", "y", hidden = 16, epochs = 3, threads = 1)
  expect_identical(g1$model, g2$model)
  f3 <- causalmix(d, "t", "y", hidden = 16, epochs = 5, seed = 43, threads = 1)
  expect_false(identical(f1$model$encoder$params, f3$model$encoder$params))
})

test_that("a fit read back from disk predicts and draws identically", {
  set.seed(7)
  d <- mixed_table(400)
  fit <- quiet_causalmix(d, "treat", "y", hidden = 16, epochs = 5, seed = 3, threads = 1)
  path <- tempfile(fileext = ".rds")
  on.exit(unlink(path))
  saveRDS(fit, path)
  back <- readRDS(path)
  expect_identical(predict(back, d, "ps"), predict(fit, d, "ps"))
  expect_identical(predict(back, d, "tau"), predict(fit, d, "tau"))
  expect_identical(causalsandbox:::draw_covariates(back, 500, c(5L, 6L)),
                   causalsandbox:::draw_covariates(fit, 500, c(5L, 6L)))
  # weights are plain numeric vectors, not external pointers
  expect_true(is.double(back$model$decoder$params))
})

test_that("print, summary and plot work and report the learned quantities", {
  set.seed(8)
  d <- sim_nuisance(600)[c("x1", "x2", "t", "y")]
  fit <- quiet_causalmix(d, "t", "y", hidden = 16, epochs = 8, n_components = 3, seed = 4,
                         threads = 1)
  expect_output(print(fit), "mixture of 3 Gaussians")
  s <- summary(fit, threads = 1)
  expect_length(s$mixture_weights, 3)
  expect_equal(sum(s$mixture_weights), 1)
  expect_equal(dim(s$propensity), c(2L, 7L))
  expect_true(is.finite(s$ate))
  expect_output(print(s), "Learned ATE")
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(fit))
  expect_true(all(c("vae_valid", "propensity_valid", "outcome_valid") %in% names(fit$history)))
})

test_that("bad arguments give clear errors before training", {
  d <- sim_nuisance(50)[c("x1", "x2", "t", "y")]
  expect_error(causalmix_control(latent_dim = 0), "latent_dim")
  expect_error(causalmix_control(n_components = 0), "n_components")
  expect_error(causalmix_control(hidden = c(32, 0)), "hidden")
  expect_error(causalmix_control(hidden = -1), "hidden")
  expect_error(causalmix_control(epochs = 0), "epochs")
  expect_error(causalmix_control(batch_size = 2.5), "batch_size")
  expect_error(causalmix_control(learning_rate = 0), "learning_rate")
  expect_error(causalmix_control(validation_share = 0.9), "validation_share")
  expect_error(causalmix_control(patience = -1), "patience")
  expect_error(causalmix_control(prior = "flat"), "prior")
  expect_error(causalmix_control(verbose = NA), "verbose")
  expect_error(causalmix_control(dropout = 0.1), "Unknown causalmix setting.*dropout")
  expect_error(causalmix(d, "t", "y", n_components = 51), "n_components.*51.*50")
  expect_error(causalmix(d, "t", "y", control = list(epochs = 1)), "control")
  expect_error(causalmix(d, "t", "y", latent_dim = 0), "latent_dim")
  d_na <- d
  d_na$y[3] <- NA
  expect_error(causalmix(d_na, "t", "y", epochs = 1), "Outcome `y` has 1 missing")
  fit <- quiet_causalmix(d, "t", "y", hidden = 4, epochs = 2, seed = 1, threads = 1)
  expect_error(predict(fit, d, type = "ate"), "type")
  expect_error(predict(fit, as.list(d)), "newdata")
})

test_that("training can be silent or report progress", {
  d <- sim_nuisance(100)[c("x1", "x2", "t", "y")]
  # silent: no printed output or message (two epochs may well warn that a net learned
  # nothing; those warnings are checked in test-input-matrix.R)
  expect_output(expect_message(suppressWarnings(
    causalmix(d, "t", "y", hidden = 4, epochs = 2, seed = 1, threads = 1)), NA), NA)
  expect_output(quiet_causalmix(d, "t", "y", hidden = 4, epochs = 2, seed = 1, threads = 1,
                                verbose = TRUE), "epoch +2")
})

test_that("causalmix fits lalonde", {
  skip_if_not_installed("MatchIt")
  data("lalonde", package = "MatchIt", envir = environment())
  # lalonde's controls include many rows no treated row resembles: the fit says so
  expect_warning(
    fit <- causalmix(lalonde, "treat", "re78", hidden = 32, epochs = 40, seed = 1, threads = 1),
    "have a learned propensity below 0.01 or above 0.99", class = "causalsandbox_fit_warning")
  expect_s3_class(fit, "causalmix")
  ps <- predict(fit, lalonde, "ps")
  # treated rows (mostly black, unmarried) get clearly higher propensities than controls
  expect_gt(mean(ps[lalonde$treat == 1]) - mean(ps[lalonde$treat == 0]), 0.2)
  draws <- causalsandbox:::draw_covariates(fit, 2000, c(1L, 1L))
  expect_identical(levels(draws$race), levels(lalonde$race))
  expect_true(all(draws$re74 >= 0))
  expect_equal(mean(draws$re74 == 0), mean(lalonde$re74 == 0), tolerance = 0.2)
})

test_that("causalmix fits the bundled mCRPC cohort and draws valid binary outcomes", {
  data("mcrpc", package = "causalsandbox", envir = environment())
  fit <- causalmix(mcrpc, "exp", "hosp_ed_any", epochs = 8, seed = 1, threads = 2)
  expect_equal(fit$treated_share, mean(mcrpc$exp))
  s <- simulate(fit, nsim = 2000, seed = 1, ate = 0.05, threads = 2)
  expect_identical(vapply(as.data.frame(s)[names(mcrpc)], function(v) class(v)[1], ""),
                   vapply(mcrpc, function(v) class(v)[1], ""))
  expect_true(all(s$hosp_ed_any %in% c(0L, 1L)))
  expect_true(all(s$Charlson >= min(mcrpc$Charlson) & s$Charlson <= max(mcrpc$Charlson)))
  expect_equal(truth(s)$ate, 0.05, tolerance = 1e-12)
})
