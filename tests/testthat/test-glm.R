# The C IRLS engine against stats::glm.fit, and learner_glm().

# lalonde (MatchIt, Suggests) where installed; the tests that need it skip without it
if (requireNamespace("MatchIt", quietly = TRUE)) {
  lalonde <- get(utils::data("lalonde", package = "MatchIt", envir = environment()))
  X <- stats::model.matrix(~ age + educ + race + married + nodegree + re74 + re75, lalonde)
}

rel_diff <- function(a, b) max(abs(a - b) / pmax(abs(b), 1e-300))

test_that("logistic IRLS reproduces glm.fit on lalonde", {
  skip_if_not_installed("MatchIt")
  ours <- causalsandbox:::glm_irls_fit(X, lalonde$treat, "binomial")
  ref <- stats::glm.fit(X, lalonde$treat, family = stats::binomial())
  expect_lt(rel_diff(ours$coefficients, ref$coefficients), 1e-8)
  expect_lt(max(abs(ours$fitted - ref$fitted.values)), 1e-10)
  expect_equal(ours$deviance, ref$deviance, tolerance = 1e-10)
  expect_equal(ours$iterations, ref$iter)
  expect_true(ours$converged)
  cov_ref <- summary.glm(structure(ref, class = c("glm", "lm")))$cov.unscaled
  expect_lt(rel_diff(ours$cov_unscaled, cov_ref), 1e-8)
})

test_that("Gaussian IRLS reproduces lm with weights and offset", {
  skip_if_not_installed("MatchIt")
  set.seed(2)
  w <- runif(nrow(X), 0.5, 2)
  off <- rnorm(nrow(X), sd = 100)
  ours <- causalsandbox:::glm_irls_fit(X, lalonde$re78, "gaussian", weights = w, offset = off)
  ref <- stats::glm.fit(X, lalonde$re78, weights = w, offset = off, family = stats::gaussian())
  expect_lt(rel_diff(ours$coefficients, ref$coefficients), 1e-8)
  expect_lt(rel_diff(ours$fitted, ref$fitted.values), 1e-10)
})

test_that("weighted logistic fit with offset and fractional response matches glm.fit", {
  skip_if_not_installed("MatchIt")
  set.seed(3)
  w <- runif(nrow(X), 0.1, 3)
  off <- rnorm(nrow(X), sd = 0.3)
  yfrac <- (lalonde$re78 - min(lalonde$re78)) / diff(range(lalonde$re78))
  ours <- causalsandbox:::glm_irls_fit(X, yfrac, "binomial", weights = w, offset = off)
  ref <- suppressWarnings(stats::glm.fit(X, yfrac, weights = w, offset = off,
                                         family = stats::quasibinomial()))
  expect_lt(rel_diff(ours$coefficients, ref$coefficients), 1e-8)
})

test_that("collinear columns are aliased like glm.fit (same column, same fit)", {
  skip_if_not_installed("MatchIt")
  X2 <- cbind(X, twice_age = 2 * X[, "age"])
  ours <- causalsandbox:::glm_irls_fit(X2, lalonde$treat, "binomial")
  ref <- stats::glm.fit(X2, lalonde$treat, family = stats::binomial())
  expect_identical(ours$aliased, unname(is.na(ref$coefficients)))
  expect_equal(ours$rank, ref$rank)
  expect_equal(ours$coefficients[!ours$aliased], unname(ref$coefficients[!is.na(ref$coefficients)]),
               tolerance = 1e-8)
  expect_lt(max(abs(ours$fitted - ref$fitted.values)), 1e-10)
})

collect_warnings <- function(expr) {
  msgs <- character()
  withCallingHandlers(expr, warning = function(w) {
    msgs <<- c(msgs, conditionMessage(w))
    invokeRestart("muffleWarning")
  })
  msgs
}

test_that("non-convergence and separation are reported as warnings naming the model", {
  skip_if_not_installed("MatchIt")
  expect_warning(learner_glm(maxit = 1)(lalonde[c("age", "educ")], lalonde$treat, "binomial"),
                 "did not converge")
  x <- data.frame(x = 1:10)
  msgs <- collect_warnings(learner_glm()(x, as.numeric(x$x > 5), "binomial"))
  expect_true(any(grepl("separation", msgs)))
  set.seed(4)
  d <- data.frame(x = rnorm(40), a = rep(0:1, 20))
  d$y <- as.numeric(d$x > 0)
  msgs <- collect_warnings(estimate_ate(d, "a", "y", "x", method = "or"))
  expect_true(length(msgs) > 0 && all(grepl("^outcome model: ", msgs)))
})

test_that("bad responses are refused", {
  skip_if_not_installed("MatchIt")
  expect_error(causalsandbox:::glm_irls_fit(X, lalonde$re78, "binomial"), "\\[0, 1\\]")
  expect_error(learner_glm()(as.matrix(lalonde[c("age")]), lalonde$treat, "binomial"),
               "`x` must be a data.frame")
  expect_error(learner_glm()(lalonde[c("age")], lalonde$treat, "poisson"), "`family`")
  expect_error(learner_glm(maxit = 0), "`maxit`")
})

test_that("learner_glm expands factors and predicts like glm on new data", {
  skip_if_not_installed("MatchIt")
  cols <- c("age", "race", "married", "re74")
  fit <- learner_glm()(lalonde[cols], lalonde$treat, "binomial")
  ref <- stats::glm(treat ~ age + race + married + re74, data = lalonde, family = binomial())
  new <- lalonde[c(5, 200, 400), cols]
  expect_equal(fit(new), unname(stats::predict(ref, new, type = "response")), tolerance = 1e-9)
  # a subset of rows missing a factor level still gets the full design
  expect_equal(fit(lalonde[lalonde$race == "white", cols][1:3, ]),
               unname(stats::predict(ref, lalonde[lalonde$race == "white", ][1:3, ],
                                     type = "response")), tolerance = 1e-9)
  lin <- learner_glm()(lalonde[cols], lalonde$re78, "gaussian")
  expect_equal(lin(new), unname(stats::predict(stats::lm(re78 ~ age + race + married + re74,
                                                        lalonde), new)), tolerance = 1e-9)
})

test_that("nearly collinear designs (QR path) still match glm.fit", {
  skip_if_not_installed("MatchIt")
  set.seed(5)
  near <- X[, "age"] + stats::rnorm(nrow(X), sd = 1e-3)  # keeps ~1e-4 of its norm
  X3 <- cbind(X, near = near)
  ours <- causalsandbox:::glm_irls_fit(X3, lalonde$treat, "binomial")
  ref <- stats::glm.fit(X3, lalonde$treat, family = stats::binomial())
  expect_false(any(ours$aliased))
  expect_lt(max(abs(ours$fitted - ref$fitted.values)), 1e-9)
  expect_lt(rel_diff(ours$coefficients, ref$coefficients), 1e-6)
})

test_that("the design builder reproduces model.matrix, including characters and logicals", {
  d <- data.frame(num = c(1.5, 2, 3, 4), int = 1:4, lgl = c(TRUE, FALSE, TRUE, TRUE),
                  fac = factor(c("b", "a", "c", "a"), levels = c("a", "b", "c", "z")),
                  chr = c("u", "v", "u", "w"), `odd name` = 4:1, check.names = FALSE,
                  stringsAsFactors = FALSE)
  ours <- causalsandbox:::design_builder(d)
  ref <- stats::model.matrix(~ ., data = within(d, chr <- factor(chr)))
  expect_equal(unname(ours$matrix), unname(ref[, ]))
  expect_identical(colnames(ours$matrix), colnames(ref))
  expect_equal(unname(ours$build(d[c(4, 2), ])), unname(ref[c(4, 2), ]))
  unseen <- d
  unseen$chr <- "new"
  expect_error(ours$build(unseen), "level\\(s\\) not seen")
  ordered_d <- data.frame(o = factor(c("lo", "hi", "mid", "lo"), ordered = TRUE), x = 1:4)
  expect_equal(causalsandbox:::design_builder(ordered_d)$matrix[, ],
               stats::model.matrix(~ ., ordered_d)[, ])
})
