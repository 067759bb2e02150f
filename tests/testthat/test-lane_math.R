# The package's one implementation of its elementary functions (src/lane_math.h), which the
# draws compute with and training over arrays (src/vecmath.c): accurate to about an ulp over
# the ranges used, with the stated behaviour at the edges.

lane <- causalsandbox:::engine_lane_math
ulps <- function(got, want) abs(got - want) / (abs(want) * .Machine$double.eps)

test_that("exp and log are accurate to about one unit in the last place", {
  set.seed(1)
  x <- c(runif(20000, -708, 709), runif(20000, -3, 3), -1, 0, 1, 2^-40)
  expect_lt(max(ulps(lane(x, "exp"), exp(x))), 1.5)
  # uniforms of the streams: (0, 1) down to 2^-54, including values close to 1
  u <- c(runif(20000), 2^-(1:54), 1 - 2^-(1:40), 0.5, 0.75)
  expect_lt(max(ulps(lane(u, "log"), log(u))), 1.5)
  expect_identical(lane(1, "log"), 0)
})

test_that("exp is 0 below -708 and infinite above 709; NaN stays NaN", {
  expect_identical(lane(c(-1000, -708.5, 709.5, 1000), "exp"), c(0, 0, Inf, Inf))
  expect_true(is.nan(lane(NaN, "exp")))
  expect_gt(lane(-708, "exp"), 0)
})

test_that("tanh and the cosine and sine of 2 pi u are accurate to a few 1e-16", {
  set.seed(2)
  y <- c(runif(20000, -20, 20), runif(2000, -1e-3, 1e-3), 0)
  expect_lt(max(abs(lane(y, "tanh") - tanh(y))), 5e-16)
  u <- c(runif(20000), (0:64) / 64, 1 - 2^-32)
  expect_lt(max(abs(lane(u, "cos2pi") - cos(2 * pi * u))), 2e-15)
  expect_lt(max(abs(lane(u, "sin2pi") - sin(2 * pi * u))), 2e-15)
  # the quarter turns are exact
  expect_identical(lane(c(0, 0.5), "cos2pi"), c(1, -1))
  expect_identical(lane(c(0.25, 0.75), "sin2pi"), c(1, -1))
})

test_that("an unknown function name is refused", {
  expect_error(lane(1, "cosh"), "must be one of")
})

test_that("erfcx, exp(x^2) erfc(x), is accurate to about 1e-14 and 0 at infinity", {
  x <- c(seq(0, 30, by = 0.005), 1.999999, 2, 2.000001)
  # the reference from R's upper normal tail on the log scale
  want <- exp(x^2 + log(2) + pnorm(x * sqrt(2), lower.tail = FALSE, log.p = TRUE))
  expect_lt(max(abs(lane(x, "erfcx") / want - 1)), 1e-12)
  expect_equal(lane(0, "erfcx"), 1, tolerance = 1e-14)
  expect_identical(lane(Inf, "erfcx"), 0)
})

test_that("the array exp, log and sin/cos of training are these functions", {
  # training calls them over arrays (src/vecmath.c), several values at a time, letting the
  # compiler fuse multiply-adds: inside the functions' ranges they must agree with the lanes to
  # rounding, outside them and for special values give what R computes
  vec <- function(x, which) lane(x, c("exp_array", "log_array", "sincos2pi_array")[which + 1])
  rel <- function(a, b) max(abs(a - b) / pmax(abs(b), .Machine$double.xmin))
  set.seed(7)
  x <- c(runif(4001, -40, 40), runif(1000, -745, 709), 0, -0, 1e-300, -707.9, 708.9)
  expect_lt(rel(vec(x, 0), exp(x)), 1e-15)
  special <- c(-800, 710, Inf, -Inf, NaN, NA)
  expect_identical(vec(special, 0), exp(special))
  p <- c(exp(runif(4001, -700, 700)), runif(1000, 0.5, 2), 1, .Machine$double.xmin)
  expect_lt(rel(vec(p, 1), log(p)), 1e-15)
  special <- c(0, -1, Inf, NaN, 1e-310)
  expect_identical(vec(special, 1), suppressWarnings(log(special)))
  u <- c(runif(4001), 0, 0.25, 0.5, 0.75, 1 - 2^-40)
  sc <- vec(u, 2)
  # against R's sinpi/cospi (exact at the quarter turns)
  expect_lt(max(abs(sc[, 1] - sinpi(2 * u))), 1e-15)
  expect_lt(max(abs(sc[, 2] - cospi(2 * u))), 1e-15)
  # each value's result depends on the value alone, not on its place among the others
  expect_identical(vec(x[3:7], 0), vec(x, 0)[3:7])
  inside <- x[x >= -708 & x <= 709]
  expect_lt(rel(vec(inside, 0), lane(inside, "exp")), 4 * .Machine$double.eps)
  expect_lt(rel(vec(p, 1), lane(p, "log")), 4 * .Machine$double.eps)
  expect_lt(max(abs(sc[, 1] - lane(u, "sin2pi"))), 4 * .Machine$double.eps)
  expect_lt(max(abs(sc[, 2] - lane(u, "cos2pi"))), 4 * .Machine$double.eps)
})
