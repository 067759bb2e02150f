# Calibration of the decoder's probability heads to the data's level shares.

calibration_data <- function(n = 600) {
  set.seed(11)
  x <- rnorm(n)
  d <- data.frame(
    x = x,
    grp = factor(sample(c("common", "middle", "rare"), n, TRUE, prob = c(0.75, 0.2, 0.05))),
    flag = rbinom(n, 1, plogis(-2 + x)),
    cost = ifelse(runif(n) < 0.4, 0, exp(1 + 0.5 * x)),
    lab = ifelse(runif(n) < 0.15, NA, rnorm(n, 5)))
  d$t <- rbinom(n, 1, 0.5)
  d$y <- d$x + d$t + rnorm(n)
  d
}

shares <- function(d) c(table(d$grp) / nrow(d), flag = mean(d$flag == 1),
                        zero_cost = mean(d$cost == 0), lab_missing = mean(is.na(d$lab)))

test_that("calibrated draws have the data's level shares; only the head biases move", {
  d <- calibration_data()
  raw <- causalmix(d, "t", "y", epochs = 8, hidden = 16, seed = 2, threads = 1,
                   calibrate_marginals = FALSE)
  cal <- causalmix(d, "t", "y", epochs = 8, hidden = 16, seed = 2, threads = 1)
  expect_null(raw$calibration)
  expect_lte(cal$calibration$largest_gap_after, cal$calibration$largest_gap_before)
  expect_output(print(cal), "level shares calibrated")
  target <- shares(d)
  gap_raw <- max(abs(shares(simulate(raw, 20000, seed = 5, threads = 1)) - target))
  gap_cal <- max(abs(shares(simulate(cal, 20000, seed = 5, threads = 1)) - target))
  # eight epochs leave the shares visibly off; calibration brings them within draw noise
  # (a share's standard error in 20,000 rows is at most 0.0035)
  expect_gt(gap_raw, 0.02)
  expect_lt(gap_cal, 0.015)
  # the decoder's weights and every other network are those of the uncalibrated fit; the
  # biases of the probability heads are the only parameters that differ
  changed <- which(raw$model$decoder$params != cal$model$decoder$params)
  W <- utils::tail(cal$model$decoder$sizes, 1L)
  expect_true(all(changed > length(cal$model$decoder$params) - W))
  heads <- causalsandbox:::probability_heads(cal, d)
  positions <- unlist(lapply(heads, `[[`, "positions"))
  expect_setequal(changed - (length(cal$model$decoder$params) - W), positions)
  expect_identical(raw$model$encoder$params, cal$model$encoder$params)
  expect_identical(raw$model$outcome$params, cal$model$outcome$params)
  expect_error(causalmix_control(calibrate_marginals = NA), "calibrate_marginals")
})

test_that("the heads found are the binary, categorical, point-mass and missingness ones", {
  d <- calibration_data(200)
  fit <- quiet_causalmix(d, "t", "y", epochs = 2, hidden = 8, seed = 1, threads = 1,
                         calibrate_marginals = FALSE)
  heads <- causalsandbox:::probability_heads(fit, d)
  kinds <- stats::setNames(vapply(heads, `[[`, "", "kind"), vapply(heads, `[[`, "", "column"))
  # by default the point mass of `cost` is kept by its marginal transform, not by a head
  expect_equal(unname(kinds[c("grp", "flag", "cost")]), c("categorical", "binary", NA))
  plain <- quiet_causalmix(d, "t", "y", epochs = 2, hidden = 8, seed = 1, threads = 1,
                           calibrate_marginals = FALSE, marginal_transforms = FALSE)
  plain_heads <- causalsandbox:::probability_heads(plain, d)
  expect_identical(vapply(plain_heads, `[[`, "", "kind")[
    vapply(plain_heads, `[[`, "", "column") == "cost"], "point mass")
  expect_true("missing" %in% kinds[names(kinds) == "lab"])
  grp <- heads[[which(names(kinds) == "grp")]]
  expect_equal(grp$target, (as.vector(table(d$grp)) + 0.5) / (nrow(d) + 1.5))
})
