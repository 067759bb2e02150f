make_cohort <- function(n = 300) {
  set.seed(11)
  x <- rnorm(n)
  ps <- plogis(x)
  t <- rbinom(n, 1, ps)
  mu0 <- x
  tau <- 1 + 0.5 * x
  y0 <- rnorm(n, mu0)
  y1 <- rnorm(n, mu0 + tau)
  data.frame(x = x, t = t, y = ifelse(t == 1, y1, y0), .ps = ps, .mu0 = mu0,
             .mu1 = mu0 + tau, .tau = tau, .y0 = y0, .y1 = y1)
}
roles <- list(treatment = "t", outcome = "y", covariates = "x")

test_that("new_sandbox_data computes sample estimands and overlap from the truth columns", {
  d <- make_cohort()
  cohort <- new_sandbox_data(d, roles, list(ate = 1))
  tr <- truth(cohort)
  expect_s3_class(cohort, "sandbox_data")
  expect_equal(tr$sample_ate, mean(d$.tau))
  expect_equal(tr$sample_att, mean(d$.tau[d$t == 1]))
  expect_equal(tr$sample_atc, mean(d$.tau[d$t == 0]))
  expect_equal(tr$overlap$ps_range, range(d$.ps))
  expect_equal(tr$overlap$share_in_0.1_0.9, mean(d$.ps >= 0.1 & d$.ps <= 0.9))
  w <- 1 / d$.ps[d$t == 1]
  expect_equal(tr$overlap$ess_treated, sum(w)^2 / sum(w^2))
  expect_equal(tr$bias, 0)
  expect_output(print(cohort), "ATE")
})

test_that("the sample summaries equal the R expressions for every treatment type", {
  d <- make_cohort()
  treated <- d$t == 1
  w1 <- 1 / d$.ps[treated]
  w0 <- 1 / (1 - d$.ps[!treated])
  expected <- c(mean(d$.tau[treated]), mean(d$.tau[!treated]),
                mean(d$.ps >= 0.1 & d$.ps <= 0.9), sum(w1)^2 / sum(w1^2),
                sum(w0)^2 / sum(w0^2))
  arms <- list(d$t, as.integer(d$t), treated, factor(ifelse(treated, "yes", "no")))
  for (arm in arms) {
    d$t <- arm
    tr <- truth(new_sandbox_data(d, roles, list(ate = 1)))
    expect_identical(c(tr$sample_att, tr$sample_atc, tr$overlap$share_in_0.1_0.9,
                       tr$overlap$ess_treated, tr$overlap$ess_control), expected)
  }
  # an arm without rows has no mean and no effective sample size
  d$t <- 0
  tr <- truth(new_sandbox_data(d, roles, list(ate = 1)))
  expect_identical(c(tr$sample_att, tr$overlap$ess_treated), c(NA_real_, NA_real_))
  d$t <- c(NA, rep(TRUE, nrow(d) - 1))
  err <- expect_error(new_sandbox_data(d, roles, list(ate = 1)), "has 1 missing value",
                      class = "causalsandbox_input_error")
  expect_identical(err$column, "t")
})

test_that("the bias defaults to the mean of .k when confounding is present", {
  d <- make_cohort()
  d$.k <- 0.2 + 0.1 * d$x
  cohort <- new_sandbox_data(d, roles, list(ate = 1))
  expect_equal(truth(cohort)$bias, mean(d$.k))
})

test_that("subsets are plain data.frames and the truth is not carried over", {
  cohort <- new_sandbox_data(make_cohort(), roles, list(ate = 1))
  sub <- cohort[1:10, ]
  expect_identical(class(sub), "data.frame")
  expect_null(attr(sub, "truth"))
  expect_identical(class(as.data.frame(cohort)), "data.frame")
})

test_that("new_sandbox_data refuses malformed input with a clear message", {
  d <- make_cohort()
  expect_error(new_sandbox_data(as.list(d), roles, list(ate = 1)), "`data` must be a data.frame")
  expect_error(new_sandbox_data(d[setdiff(names(d), ".mu1")], roles, list(ate = 1)),
               "lacks the truth column `.mu1`", class = "causalsandbox_input_error")
  bad <- d
  bad$.ps[3] <- 1.5
  expect_error(new_sandbox_data(bad, roles, list(ate = 1)), "`.ps` must hold probabilities")
  bad <- d
  bad$.tau[2] <- NA
  expect_error(new_sandbox_data(bad, roles, list(ate = 1)), "`.tau` must be numeric and finite")
  expect_error(new_sandbox_data(d, roles, list()), "at least the population `ate`")
  expect_error(new_sandbox_data(d, list(treatment = "t"), list(ate = 1)), "`roles` must be a list")
  bad <- d
  bad$t <- bad$t + seq_len(nrow(bad)) %% 3
  expect_error(new_sandbox_data(bad, roles, list(ate = 1)),
               "Treatment `t` must have exactly two values", class = "causalsandbox_input_error")
  # bad inputs of the issue's fuzz: no rows, the treatment among the covariates, NA or
  # infinite outcomes, .tau inconsistent with .mu1 - .mu0
  expect_error(new_sandbox_data(d[0, ], roles, list(ate = 1)), "at least 1 row",
               class = "causalsandbox_input_error")
  err <- expect_error(new_sandbox_data(d, modifyList(roles, list(covariates = c("x", "t"))),
                                       list(ate = 1)), "has two roles")
  expect_identical(c(err$argument, err$column), c("roles", "t"))
  bad <- d
  bad$y[4] <- NA
  err <- expect_error(new_sandbox_data(bad, roles, list(ate = 1)), "Outcome `y` has 1 missing")
  expect_identical(err$column, "y")
  bad$y[4] <- Inf
  expect_error(new_sandbox_data(bad, roles, list(ate = 1)), "Outcome `y` has infinite values")
  bad <- d
  bad$.tau <- bad$.tau + 0.5
  err <- expect_error(new_sandbox_data(bad, roles, list(ate = 1)), "must equal `.mu1 - .mu0`")
  expect_identical(err$column, ".tau")
  expect_error(truth(d), "truth\\(\\) needs a sandbox_data")
})

test_that("the truth prints numeric, character and function knobs", {
  cohort <- new_sandbox_data(make_cohort(), roles,
                             list(ate = 1, knobs = list(process = "toy", scale = 1.23456789,
                                                        effect = function(x) 1,
                                                        seed = c(1140358706L, 313033113L))))
  expect_output(print(truth(cohort)),
                "process = toy; scale = 1.235; effect = <function>; seed = 1140358706, 313033113")
})
