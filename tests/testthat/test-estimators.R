# estimate_ate(): agreement with tmle::tmle, recovery of known effects, influence-function
# standard errors, cross-fitting, ATT, and refusal of bad input.

# lalonde (MatchIt, Suggests) where installed; the tests that need it skip without it
if (requireNamespace("MatchIt", quietly = TRUE))
  lalonde <- get(utils::data("lalonde", package = "MatchIt", envir = environment()))
lalonde_cov <- c("age", "educ", "race", "married", "nodegree", "re74", "re75")

# A confounded cohort with a known effect: tau(x) = 1 + x1 (ATE 1 when E[x1] = 0).
confounded <- function(n, binary = FALSE) {
  x1 <- stats::rnorm(n)
  x2 <- stats::rbinom(n, 1, 0.4)
  f <- factor(sample(c("a", "b", "c"), n, replace = TRUE))
  ps <- stats::plogis(-0.3 + 0.8 * x1 - 0.5 * x2 + 0.4 * (f == "c"))
  a <- stats::rbinom(n, 1, ps)
  if (binary) {
    mu0 <- stats::plogis(-0.5 + 0.7 * x1 + 0.5 * x2)
    mu1 <- stats::plogis(0.3 + 0.7 * x1 + 0.5 * x2)
    y <- stats::rbinom(n, 1, ifelse(a == 1, mu1, mu0))
  } else {
    mu0 <- 2 + x1 + 0.5 * x2 + 0.3 * (f == "b")
    mu1 <- mu0 + 1 + x1
    y <- ifelse(a == 1, mu1, mu0) + stats::rnorm(n)
  }
  data.frame(x1, x2, f, a, y, mu0, mu1)
}

test_that("TMLE and AIPW equal tmle::tmle with the same GLM nuisances on lalonde", {
  skip_if_not_installed("MatchIt")
  skip_if_not_installed("tmle")
  suppressPackageStartupMessages(requireNamespace("tmle"))
  ours <- estimate_ate(lalonde, "treat", "re78", lalonde_cov, method = c("tmle", "aipw"))
  # cvQinit = FALSE: tmle's default cross-validates the initial Q over random folds; with it
  # off, Q is the full-sample main-terms glm as ours.
  ref <- suppressWarnings(tmle::tmle(lalonde$re78, lalonde$treat, lalonde[lalonde_cov],
                                     Q.SL.library = "SL.glm", g.SL.library = "SL.glm",
                                     cvQinit = FALSE))
  est <- as.data.frame(ours)
  expect_lt(abs(est$estimate[1] / ref$estimates$ATE$psi - 1), 1e-6)
  expect_lt(abs(est$se[1] / sqrt(ref$estimates$ATE$var.psi) - 1), 1e-6)
  expect_lt(abs(est$p_value[1] / ref$estimates$ATE$pvalue - 1), 1e-6)
  # AIPW evaluated on tmle's own (bounded) nuisance estimates
  A <- lalonde$treat
  Y <- lalonde$re78
  Q <- ref$Qinit$Q
  g1 <- pmax(ref$g$g1W, ref$g$bound[1])
  g0 <- pmax(1 - ref$g$g1W, ref$g$bound[1])
  aipw <- mean(Q[, "Q1W"] - Q[, "Q0W"] + A / g1 * (Y - Q[, "Q1W"]) - (1 - A) / g0 * (Y - Q[, "Q0W"]))
  expect_lt(abs(est$estimate[2] / aipw - 1), 1e-6)
})

test_that("TMLE equals tmle::tmle on a binary-outcome sandbox cohort", {
  skip_if_not_installed("tmle")
  suppressPackageStartupMessages(requireNamespace("tmle"))
  set.seed(11)
  d <- confounded(1500, binary = TRUE)
  cohort <- d
  cohort$.ps <- 0.5; cohort$.mu0 <- d$mu0; cohort$.mu1 <- d$mu1; cohort$.tau <- d$mu1 - d$mu0
  cohort$.y0 <- d$y; cohort$.y1 <- d$y
  cohort <- new_sandbox_data(cohort, list(treatment = "a", outcome = "y",
                                          covariates = c("x1", "x2", "f")),
                             list(ate = mean(d$mu1 - d$mu0)))
  ours <- estimate_ate(cohort, method = "tmle")
  ref <- suppressWarnings(tmle::tmle(d$y, d$a, d[c("x1", "x2", "f")], family = "binomial",
                                     Q.SL.library = "SL.glm", g.SL.library = "SL.glm",
                                     cvQinit = FALSE))
  expect_lt(abs(ours$estimates$estimate / ref$estimates$ATE$psi - 1), 1e-6)
  expect_lt(abs(ours$estimates$se / sqrt(ref$estimates$ATE$var.psi) - 1), 1e-6)
})

test_that("TMLE equals tmle::tmle on the bundled mCRPC cohort (binary outcome, factors)", {
  skip_if_not_installed("tmle")
  suppressPackageStartupMessages(requireNamespace("tmle"))
  mcrpc <- get(utils::data("mcrpc", package = "causalsandbox", envir = environment()))
  cov <- setdiff(names(mcrpc), c("exp", "hosp_ed_any"))
  ours <- estimate_ate(mcrpc, "exp", "hosp_ed_any", cov, method = "tmle")
  ref <- suppressWarnings(tmle::tmle(mcrpc$hosp_ed_any, mcrpc$exp, mcrpc[cov],
                                     family = "binomial", Q.SL.library = "SL.glm",
                                     g.SL.library = "SL.glm", cvQinit = FALSE))
  expect_lt(abs(ours$estimates$estimate / ref$estimates$ATE$psi - 1), 1e-6)
  expect_lt(abs(ours$estimates$se / sqrt(ref$estimates$ATE$var.psi) - 1), 1e-6)
})

test_that("all methods recover a known ATE and ATT on a large confounded cohort", {
  set.seed(1)
  d <- confounded(20000)
  fit <- estimate_ate(d, "a", "y", c("x1", "x2", "f"))
  est <- as.data.frame(fit)
  expect_setequal(est$method, c("aipw", "tmle", "ipw", "or"))
  # the outcome model is misspecified (no a:x1 term), yet the doubly robust ones are consistent
  truth_ate <- mean(d$mu1 - d$mu0)
  dr <- est[est$method %in% c("aipw", "tmle", "ipw"), ]
  expect_true(all(abs(dr$estimate - truth_ate) < 4 * dr$se))
  expect_true(all(dr$se > 0.005 & dr$se < 0.1))
  naive <- mean(d$y[d$a == 1]) - mean(d$y[d$a == 0])
  expect_gt(abs(naive - truth_ate), 0.5)  # confounding is real
  att <- as.data.frame(estimate_ate(d, "a", "y", c("x1", "x2", "f"), estimand = "ATT"))
  truth_att <- mean((d$mu1 - d$mu0)[d$a == 1])
  dr <- att[att$method != "or", ]
  expect_true(all(abs(dr$estimate - truth_att) < 4 * dr$se))
  expect_gt(abs(truth_att - truth_ate), 0.3)  # ATT differs from ATE here
})

test_that("influence-function SEs give nominal coverage (AIPW, TMLE, IPW, OR)", {
  set.seed(2)
  reps <- 150
  covered <- matrix(NA, reps, 4, dimnames = list(NULL, c("aipw", "tmle", "ipw", "or")))
  for (r in seq_len(reps)) {
    d <- confounded(400)
    d$y <- d$y - (d$a == 1) * d$x1  # constant effect 1 so that OR is correctly specified
    e <- as.data.frame(estimate_ate(d, "a", "y", c("x1", "x2", "f")))
    covered[r, e$method] <- e$lower <= 1 & e$upper >= 1
  }
  coverage <- colMeans(covered)
  # 150 replicates: Monte Carlo SE of a 95% coverage is about 0.018
  expect_true(all(coverage > 0.88 & coverage < 0.995), info = paste(coverage, collapse = " "))
})

test_that("the delta-method SE of OR and IPW matches the bootstrap", {
  set.seed(3)
  d <- confounded(600)
  fit <- as.data.frame(estimate_ate(d, "a", "y", c("x1", "x2"), method = c("or", "ipw")))
  boot <- replicate(300, {
    i <- sample.int(nrow(d), replace = TRUE)
    as.data.frame(estimate_ate(d[i, ], "a", "y", c("x1", "x2"), method = c("or", "ipw"),
                               truncate = 0))$estimate
  })
  ratio <- fit$se / apply(boot, 1, stats::sd)
  expect_true(all(ratio > 0.85 & ratio < 1.15), info = paste(ratio, collapse = " "))
})

test_that("Hajek IPW with an intercept-only propensity is the difference in means", {
  set.seed(4)
  d <- confounded(300)
  fit <- estimate_ate(d, "a", "y", character(0), method = c("ipw", "aipw"))
  naive <- mean(d$y[d$a == 1]) - mean(d$y[d$a == 0])
  expect_equal(fit$estimates$estimate[1], naive, tolerance = 1e-10)
  expect_equal(fit$estimates$estimate[2], naive, tolerance = 1e-8)
})

test_that("cross-fitting is reproducible under set.seed and close to the full fit", {
  set.seed(5)
  d <- confounded(2000)
  set.seed(9)
  a <- estimate_ate(d, "a", "y", c("x1", "x2", "f"), folds = 5)
  set.seed(9)
  b <- estimate_ate(d, "a", "y", c("x1", "x2", "f"), folds = 5)
  expect_identical(a$estimates, b$estimates)
  full <- estimate_ate(d, "a", "y", c("x1", "x2", "f"))
  dr <- c("aipw", "tmle")
  expect_lt(max(abs(a$estimates$estimate[1:2] - full$estimates$estimate[1:2])), 0.05)
  expect_true(is.na(a$estimates$se[a$estimates$method == "or"]))
})

test_that("cross-fitting copes with a rare category missing from a training fold", {
  set.seed(12)
  d <- confounded(300)
  d$g <- ifelse(seq_len(300) == 7, "rare", sample(c("u", "v"), 300, replace = TRUE))
  fit <- estimate_ate(d, "a", "y", c("x1", "g"), method = "aipw", folds = 3)
  expect_true(is.finite(fit$estimates$estimate))
})

test_that("truncation bounds the arm probabilities as documented", {
  set.seed(6)
  d <- confounded(500)
  fit <- estimate_ate(d, "a", "y", c("x1", "x2"), truncate = 0.2)
  expect_gte(min(fit$nuisance$g1), 0.2 - 1e-12)
  expect_gte(min(fit$nuisance$g0), 0.2 - 1e-12)
  none <- estimate_ate(d, "a", "y", c("x1", "x2"), truncate = 0)
  expect_equal(none$nuisance$g1, none$nuisance$g)
  expect_equal(estimate_ate(d, "a", "y", "x1", truncate = NULL)$bounds[1],
               5 / sqrt(500) / log(500))
})

test_that("print, summary and as.data.frame describe the fit", {
  skip_if_not_installed("MatchIt")
  fit <- estimate_ate(lalonde, "treat", "re78", lalonde_cov, method = c("aipw", "ipw"))
  expect_output(print(fit), "aipw")
  expect_output(print(summary(fit)), "Propensity quantiles")
  df <- as.data.frame(fit)
  expect_named(df, c("method", "estimand", "estimate", "se", "lower", "upper", "p_value"))
  expect_equal(nrow(df), 2)
  expect_equal(df$lower, df$estimate - stats::qnorm(0.975) * df$se)
})

test_that("a sandbox_data supplies the roles", {
  set.seed(7)
  d <- confounded(300)
  d$.ps <- 0.5; d$.mu0 <- d$mu0; d$.mu1 <- d$mu1; d$.tau <- d$mu1 - d$mu0
  d$.y0 <- d$y; d$.y1 <- d$y
  cohort <- new_sandbox_data(d, list(treatment = "a", outcome = "y", covariates = c("x1", "x2")),
                             list(ate = 1))
  expect_equal(estimate_ate(cohort, method = "or")$estimates$estimate,
               estimate_ate(d, "a", "y", c("x1", "x2"), method = "or")$estimates$estimate)
})

test_that("bad input is refused with a message naming the argument", {
  skip_if_not_installed("MatchIt")
  d <- lalonde
  d$re74[3] <- NA
  d$age[5] <- NA
  err <- expect_error(estimate_ate(d, "treat", "re78", lalonde_cov, missing = "fail"),
                      "`age`, `re74`", class = "causalsandbox_input_error")
  expect_identical(err$argument, "missing")
  expect_error(estimate_ate(lalonde, "treat", "re78", lalonde_cov, method = "dml"),
               "Unknown `method` \"dml\"")
  expect_error(estimate_ate(lalonde, "trt", "re78", lalonde_cov), "`treatment`")
  expect_error(estimate_ate(lalonde, "age", "re78", "educ"), "Treatment `age` must have exactly two values")
  expect_error(estimate_ate(lalonde, "treat", "race", "educ"), "Outcome `race` must be numeric or have exactly two values")
  expect_error(estimate_ate(lalonde, "treat", "re78", c("educ", "nope")), "`covariates`.*nope")
  expect_error(estimate_ate(lalonde, "treat", "re78", "educ", truncate = 0.7), "`truncate`")
  expect_error(estimate_ate(lalonde, "treat", "re78", "educ", folds = 0), "`folds`")
  expect_error(estimate_ate(lalonde, "treat", "re78", "educ", estimand = "ATC"), "`estimand`")
  expect_error(estimate_ate(lalonde, "treat", "re78", "educ", level = 95), "`level`")
  expect_error(estimate_ate(lalonde, "treat", "re78", "educ", outcome_learner = "glm"),
               "`outcome_learner`")
  expect_error(estimate_ate(lalonde, "treat", "re78", c("educ", "treat")),
               "`treat` is the treatment and cannot also be in `covariates`")
})

test_that("other learners plug in (ranger, SuperLearner)", {
  skip_if_not_installed("ranger")
  set.seed(8)
  d <- confounded(600)
  fit <- estimate_ate(d, "a", "y", c("x1", "x2"), method = c("aipw", "or"), folds = 2,
                      outcome_learner = learner_ranger(num.trees = 100, num.threads = 1))
  expect_true(all(is.finite(fit$estimates$estimate)))
  expect_true(is.finite(fit$estimates$se[1]))
  skip_if_not_installed("SuperLearner")
  sl <- estimate_ate(d, "a", "y", c("x1", "x2"), method = "aipw",
                     propensity_learner = learner_superlearner("SL.glm", V = 2),
                     outcome_learner = learner_superlearner("SL.glm", V = 2))
  glm_fit <- estimate_ate(d, "a", "y", c("x1", "x2"), method = "aipw")
  expect_equal(sl$estimates$estimate, glm_fit$estimates$estimate, tolerance = 1e-6)
})
