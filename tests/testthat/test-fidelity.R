# Tests of fidelity(), dcr() and the distance and classifier engines behind them.

test_that("column metrics equal hand-computed values", {
  real <- data.frame(x = c(1, 2, 3, 4), g = c("a", "a", "b", "c"))
  syn <- data.frame(x = c(2, 3, 4, 5), g = c("a", "b", "b", "b"))
  f <- fidelity(real, syn, network = FALSE, threads = 1)
  cols <- f$columns
  # ECDF gaps at 1..5: .25 .25 .25 .25 0 -> KS = .25
  expect_equal(cols$score[cols$column == "x"], 0.75)
  # a shift by 1 moves all mass by 1: W1 = 1, divided by the real range 3
  expect_equal(cols$wasserstein[cols$column == "x"], 1 / 3)
  # frequencies (.5, .25, .25) vs (.25, .75, 0): TV = (.25 + .5 + .25) / 2
  expect_equal(cols$score[cols$column == "g"], 0.5)
  expect_equal(cols$type, c("continuous", "categorical"))
})

test_that("pair metrics equal hand-computed values", {
  real <- data.frame(x = c(1, 2, 3, 4), y = c(2, 4, 6, 8),
                     a = c("p", "p", "q", "q"), b = c("u", "v", "u", "v"))
  syn <- data.frame(x = c(1, 2, 3, 4), y = c(8, 6, 4, 2),
                    a = c("p", "p", "q", "q"), b = c("u", "u", "v", "v"))
  f <- fidelity(real, syn, network = FALSE, bins = 2, threads = 1)
  p <- f$pairs
  score <- function(c1, c2) p$score[p$column1 == c1 & p$column2 == c2]
  # r_real = 1, r_syn = -1: 1 - |1 - (-1)| / 2 = 0
  expect_equal(score("x", "y"), 0)
  expect_equal(p$real[p$column1 == "x" & p$column2 == "y"], 1)
  # real cells (pu, pv, qu, qv) = 1/4 each; synthetic (1/2, 0, 0, 1/2): TV = 1/2
  expect_equal(score("a", "b"), 0.5)
  expect_equal(p$type[p$column1 == "a" & p$column2 == "b"], "categorical")
  # x cut at its real median 2.5 into {1,2} and {3,4}: bins match `a` exactly in both tables
  expect_equal(score("x", "a"), 1)
  expect_equal(p$type[p$column1 == "x" & p$column2 == "a"], "mixed")
  # x bins (lo, lo, hi, hi) vs b: real (u, v, u, v) -> cells 1/4 each; synthetic (u, u, v, v)
  # -> (lo,u) = (hi,v) = 1/2: TV = 1/2
  expect_equal(score("x", "b"), 0.5)
})

test_that("the energy distance equals its hand-computed value", {
  # real (0, 1, 2) has mean 1 and sd 1, so the encoding leaves distances unchanged
  real <- data.frame(x = c(0, 1, 2))
  syn <- data.frame(x = c(1, 2, 3))
  f <- fidelity(real, syn, network = FALSE, threads = 1)
  # A = mean |x - y| = 11/9, B = C = 8/9: E = 2A - B - C = 6/9, normalised E / 2A = 3/11
  expect_equal(f$joint$energy, 6 / 9)
  expect_equal(f$joint$energy_normalised, 3 / 11)
})

test_that("dcr() equals hand-computed distances, ratio and copy rate", {
  real <- data.frame(x = c(0, 1, 3))
  syn <- data.frame(x = c(0.5, 3))
  s <- sqrt(7 / 3)  # sd of (0, 1, 3)
  d <- dcr(real, syn, threads = 1)
  expect_s3_class(d, "sandbox_dcr")
  expect_equal(d$synthetic, c(0.5, 0) / s)
  expect_equal(d$baseline, c(1, 1, 2) / s)  # leave-one-out within real
  expect_identical(d$baseline_type, "leave-one-out")
  expect_equal(d$ratio, 0.25)  # median 0.25 / median 1
  expect_equal(d$exact_copy_rate, 0.5)
  # 5th percentile of (1, 1, 2) / s is 1 / s; both synthetic rows are closer
  expect_equal(d$share_closer, 1)
  hold <- data.frame(x = c(2, 5))
  dh <- dcr(real, syn, holdout = hold, threads = 1)
  expect_identical(dh$baseline_type, "holdout")
  expect_equal(dh$baseline, c(1, 2) / s)
  # categorical columns: a differing category adds 2 to the squared distance
  dc <- dcr(data.frame(g = c("a", "b", "c")), data.frame(g = c("a", "d")), threads = 1)
  expect_equal(dc$synthetic, c(0, sqrt(2)))
})

test_that("identical tables score 1 on similarities and 0 on distances", {
  set.seed(3)
  n <- 150
  real <- data.frame(age = rnorm(n, 50, 10), bmi = rnorm(n, 27, 4),
                     sex = factor(sample(c("F", "M"), n, TRUE)),
                     stage = sample(c("I", "II", "III"), n, TRUE),
                     smoker = rbinom(n, 1, 0.3))
  f <- fidelity(real, real, threads = 1)
  tab <- stats::setNames(f$table$value, f$table$metric)
  expect_equal(unname(tab["KS complement (continuous columns)"]), 1)
  expect_equal(unname(tab["TV complement (categorical columns)"]), 1)
  expect_equal(unname(tab["normalised Wasserstein (continuous columns)"]), 0)
  expect_equal(unname(tab["correlation similarity (continuous pairs)"]), 1)
  expect_equal(unname(tab["contingency similarity (categorical pairs)"]), 1)
  expect_equal(unname(tab["binned contingency similarity (mixed pairs)"]), 1)
  expect_equal(f$joint$energy_normalised, 0)
  expect_equal(f$joint$c2st_logistic, 1)
  expect_equal(f$joint$c2st_network, 1)
  expect_equal(c(f$joint$c2st_logistic_sdmetrics, f$joint$c2st_network_sdmetrics), c(1, 1))
  expect_equal(f$dcr$exact_copy_rate, 1)
  expect_true(all(f$dcr$synthetic == 0))
})

test_that("the SDMetrics form of the C2ST score counts a fold's AUC below 0.5 as chance", {
  y <- rep(c(0, 1), 4)
  fold <- rep(1:2, each = 4)
  # fold 1: real rows (y = 0) scored above the synthetic ones, AUC 0; fold 2: AUC 0.75
  prob <- c(0.9, 0.1, 0.8, 0.2, 0.1, 0.9, 0.6, 0.5)
  expect_equal(causalsandbox:::auc(prob[5:8], y[5:8]), 0.75)
  expect_equal(causalsandbox:::sdmetrics_detection(prob, y, fold), 1 - mean(c(0, 0.5)))
  # a classifier that only ever ranks the tables the wrong way round scores 1
  expect_equal(causalsandbox:::sdmetrics_detection(1 - y, y, fold), 1)
})

test_that("a table with independently shuffled columns scores visibly worse", {
  set.seed(4)
  n <- 600
  x1 <- rnorm(n)
  real <- data.frame(x1 = x1, x2 = x1 + rnorm(n, 0, 0.3), x3 = x1^2 + rnorm(n, 0, 0.2),
                     g = ifelse(x1 + rnorm(n, 0, 0.5) > 0, "hi", "lo"))
  shuffled <- as.data.frame(lapply(real, function(v) v[sample.int(n)]))
  resample <- real[sample.int(n, replace = TRUE), ]
  good <- fidelity(real, resample, threads = 1)
  bad <- fidelity(real, shuffled, threads = 1)
  # marginals are untouched by shuffling ...
  expect_equal(bad$columns$score, rep(1, 4))
  # ... but the dependence is gone
  pair <- function(f, a, b) f$pairs$score[f$pairs$column1 == a & f$pairs$column2 == b]
  # r(x1, x2) is about 0.96 in real data and 0 after shuffling: similarity about 1 - 0.48
  expect_gt(pair(good, "x1", "x2"), 0.97)
  expect_lt(pair(bad, "x1", "x2"), 0.6)
  expect_gt(pair(good, "x1", "g") - pair(bad, "x1", "g"), 0.15)
  # the network sees the lost dependence; a linear classifier cannot, as the margins agree
  expect_gt(good$joint$c2st_network - bad$joint$c2st_network, 0.4)
  expect_gt(bad$joint$c2st_logistic - bad$joint$c2st_network, 0.3)
  expect_gt(good$joint$c2st_network_sdmetrics - bad$joint$c2st_network_sdmetrics, 0.4)
  expect_gt(bad$joint$energy_normalised, 5 * good$joint$energy_normalised)
})

test_that("missing values and factors are handled and reported", {
  real <- data.frame(x = c(1, NA, 3, 4, 5, NA, 7, 8),
                     f = factor(c("a", "b", NA, "a", "b", "a", "c", "c"),
                                levels = c("a", "b", "c", "unused")))
  syn <- data.frame(x = c(1, 2, 3, NA, 5, 6, 7, 8),
                    f = factor(c("a", "b", "b", "a", "b", "a", "c", "c"),
                               levels = c("a", "b", "c", "unused")))
  f <- fidelity(real, syn, network = FALSE, threads = 1)
  cols <- f$columns
  expect_equal(cols$missing_real, c(2 / 8, 1 / 8))
  expect_equal(cols$missing_synthetic, c(1 / 8, 0))
  expect_equal(cols$missing_similarity, c(1 - 1 / 8, 1 - 1 / 8))
  # TV on observed values: real (3, 2, 2, 0) / 7 vs synthetic (3, 3, 2, 0) / 8
  expect_equal(cols$score[2], 1 - 0.5 * sum(abs(c(3, 2, 2, 0) / 7 - c(3, 3, 2, 0) / 8)))
  expect_true(all(is.finite(f$table$value[!is.na(f$table$value)])))
  # missingness indicators enter the distances: a row differing only by NA is not a copy
  d <- dcr(data.frame(x = c(1, 2, 3)), data.frame(x = c(NA, 2)), threads = 1)
  expect_gt(d$synthetic[1], 0)
  expect_equal(d$synthetic[2], 0)
})

test_that("bad input gives clear errors naming the argument or column", {
  real <- data.frame(x = c(1, 2, 3), g = c("a", "b", "a"))
  expect_error(fidelity(as.matrix(real), real), "`real` must be a data.frame")
  expect_error(fidelity(real, data.frame(x = 1:3)), "`synthetic` lacks column `g`")
  expect_error(fidelity(real, data.frame(x = c("1", "2", "3"), g = "a")),
               "Column `x` is numeric in `real` but categorical in `synthetic`")
  expect_error(dcr(real, real, holdout = data.frame(x = 1)), "`holdout` lacks column `g`")
  expect_error(fidelity(real, data.frame(x = c(1, Inf, 2), g = "a")),
               "Column `x` of `synthetic` has infinite values")
  expect_error(fidelity(real, real, columns = "nope"), "`real` lacks column `nope`")
  expect_error(fidelity(real, real, outcome = "x"), "`outcome` needs `treatment`")
  err <- expect_error(fidelity(real, real, treatment = "x"), "Treatment `x` must have exactly two",
                      class = "causalsandbox_input_error")
  expect_identical(c(err$argument, err$column), c("treatment", "x"))
  expect_error(fidelity(real, real, treatment = "t"), "`treatment` = \"t\" is not among")
  expect_error(fidelity(real, real, c2st_folds = 1), "`c2st_folds`")
  expect_error(dcr(real, real, max_rows = 0), "`max_rows`")
  bad_t <- data.frame(x = c(1, 2, 3, 4), t = c(0, 1, NA, 1), y = c(1, 2, 3, 4))
  err <- expect_error(fidelity(bad_t, bad_t, treatment = "t", outcome = "y", network = FALSE),
                      "Treatment `t` has 1 missing value", class = "causalsandbox_input_error")
  expect_identical(c(err$argument, err$column), c("treatment", "t"))
  good_t <- transform(bad_t, t = c(0, 1, 0, 1))
  err <- expect_error(fidelity(good_t, bad_t, treatment = "t", outcome = "y", network = FALSE),
                      "In `synthetic`: Treatment `t` has 1 missing value",
                      class = "causalsandbox_input_error")
  expect_identical(c(err$argument, err$column), c("synthetic", "t"))
})

test_that("tiny and degenerate tables do not break the joint metrics", {
  r <- data.frame(x = c(1, 2, 3), g = c("a", "b", "a"))
  one <- fidelity(r, r[1, ], threads = 1)
  expect_true(is.na(one$joint$c2st_logistic))
  expect_equal(one$dcr$exact_copy_rate, 1)
  same <- data.frame(x = c(1, 1, 1, 1), g = "a")
  f <- fidelity(same, same, threads = 1)
  expect_equal(c(f$joint$c2st_logistic, f$joint$c2st_network), c(1, 1))
  expect_equal(f$columns$score, c(1, 1))
  two <- fidelity(r[1:2, ], r[2:3, ], threads = 1)
  expect_true(is.finite(two$joint$c2st_logistic))
})

test_that("causal structure: propensity AUC and AIPW ATE recover the truth", {
  set.seed(5)
  n <- 4000
  x <- rnorm(n)
  w <- rbinom(n, 1, 0.5)
  t <- rbinom(n, 1, plogis(1.5 * x))
  y <- 2 * t + x + w + rnorm(n)
  real <- data.frame(x = x, w = w, t = t, y = y)
  f <- fidelity(real, real, treatment = "t", outcome = "y", network = FALSE, threads = 1)
  ate <- f$causal[f$causal$quantity == "ATE (AIPW)", ]
  se <- f$causal$real[f$causal$quantity == "ATE standard error"]
  expect_lt(abs(ate$real - 2), 4 * se)
  expect_equal(ate$real, ate$synthetic)
  auc_real <- f$causal$real[1]
  expect_equal(auc_real, causalsandbox:::auc(stats::fitted(
    stats::glm(t ~ x + w, family = binomial())), t), tolerance = 1e-8)
  # binary outcome: risk difference
  yb <- rbinom(n, 1, plogis(-0.5 + t + 0.5 * x))
  truth <- mean(plogis(0.5 + 0.5 * x) - plogis(-0.5 + 0.5 * x))
  fb <- fidelity(transform(real, y = yb), transform(real, y = yb), treatment = "t",
                 outcome = "y", network = FALSE, threads = 1)
  expect_lt(abs(fb$causal$real[2] - truth), 4 * fb$causal$real[3])
  # a numeric treatment coded 9/10: the treated value is the larger one, not the later string
  coded <- transform(real, t = 9 + t)
  fc <- fidelity(coded, coded, treatment = "t", outcome = "y", network = FALSE, threads = 1)
  expect_equal(fc$causal$real[2], f$causal$real[2])
})

test_that("auc() matches the Mann-Whitney count", {
  # positives 0.35 and 0.8 against negatives 0.1 and 0.4: 3 of 4 pairs ordered
  expect_equal(causalsandbox:::auc(c(0.1, 0.4, 0.35, 0.8), c(0, 0, 1, 1)), 0.75)
  expect_equal(causalsandbox:::auc(c(1, 1, 1, 1), c(0, 0, 1, 1)), 0.5)
})

test_that("distance kernels agree with brute force, with exclusions and ties", {
  set.seed(6)
  x <- matrix(rnorm(300 * 7), 300)
  ref <- matrix(rnorm(1001 * 7), 1001)
  brute <- apply(x, 1L, function(q) {
    d <- sqrt(colSums((t(ref) - q)^2))
    c(min(d), which.min(d))
  })
  for (method in 0:1) {
    r <- .Call(causalsandbox:::C_distance_nearest, x, ref, NULL, method, 2L)
    expect_equal(r$distance, brute[1, ])
    expect_equal(r$index, as.integer(brute[2, ]))
    loo <- .Call(causalsandbox:::C_distance_nearest, ref, ref, seq_len(1001), method, 2L)
    expect_equal(loo$distance[1:5], vapply(1:5, function(i)
      min(sqrt(colSums((t(ref[-i, ]) - ref[i, ])^2))), 0))
    dup <- .Call(causalsandbox:::C_distance_nearest, ref[1:3, ], rbind(ref, ref), NULL,
                 method, 1L)
    expect_equal(dup$index, 1:3)  # first of two equal candidates
    expect_equal(dup$distance, c(0, 0, 0))
  }
  # squared norms overflow (1e320) but differences do not: direct differences take over
  huge <- matrix(c(1e160, 3e160, 2e160), ncol = 1L)
  query <- matrix(3e160 + 1e150, ncol = 1L)
  for (method in 0:1) {
    h <- .Call(causalsandbox:::C_distance_nearest, query, huge, NULL, method, 1L)
    expect_equal(h$index, 2L)
    expect_equal(h$distance, abs(query[1] - 3e160))
  }
  m <- .Call(causalsandbox:::C_distance_mean, x[1:50, ], ref[1:70, ], 2L)
  expect_equal(m, mean(sqrt(outer(rowSums(x[1:50, ]^2), rowSums(ref[1:70, ]^2), `+`) -
                              2 * tcrossprod(x[1:50, ], ref[1:70, ]))))
})

test_that("fidelity() gives the same result with 1 and 2 threads", {
  set.seed(7)
  n <- 400
  real <- data.frame(a = rnorm(n), b = rexp(n), g = sample(c("u", "v", "w"), n, TRUE),
                     t = rbinom(n, 1, 0.4))
  real$y <- real$a + real$t + rnorm(n)
  syn <- real[sample.int(n, replace = TRUE), ]
  syn$a <- syn$a + rnorm(n, 0, 0.3)
  set.seed(11)
  f1 <- fidelity(real, syn, treatment = "t", outcome = "y", c2st_rows = 300,
                 energy_rows = 200, dcr_rows = 250, threads = 1)
  set.seed(11)
  f2 <- fidelity(real, syn, treatment = "t", outcome = "y", c2st_rows = 300,
                 energy_rows = 200, dcr_rows = 250, threads = 2)
  expect_identical(f1, f2)
  expect_length(f1$dcr$synthetic, 250)
  expect_equal(f1$joint$c2st_rows, 300)
})

test_that("print, summary and plot run and show the overview", {
  set.seed(8)
  real <- data.frame(a = rnorm(100), b = rnorm(100), g = sample(c("u", "v"), 100, TRUE),
                     t = rbinom(100, 1, 0.5), y = rnorm(100))
  f <- fidelity(real, real[sample.int(100, replace = TRUE), ], treatment = "t", outcome = "y",
                network = FALSE, threads = 1)
  expect_s3_class(f, "sandbox_fidelity")
  out <- capture.output(print(f))
  expect_true(any(grepl("KS complement", out)))
  expect_true(any(grepl("DCR ratio", out)))
  expect_true(any(grepl("propensity AUC", out)))
  s <- summary(f)
  expect_s3_class(s, "summary.sandbox_fidelity")
  expect_true(any(grepl("Least similar pairs", capture.output(print(s)))))
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_invisible(plot(f))
  expect_invisible(plot(f$dcr))
  # identical tables: every distance is 0, the histogram still draws
  expect_invisible(plot(dcr(real, real, threads = 1)))
  expect_error(plot(f, columns = "zzz"), "`columns` names columns that were not compared")
})

test_that("C2ST folds keep identical rows together and hold both tables in equal shares", {
  set.seed(3)
  x <- cbind(rnorm(200), rnorm(200))
  y <- rep(0:1, each = 100)
  x[150, ] <- x[10, ]  # a synthetic copy of a real row
  fold <- causalsandbox:::grouped_folds(x, y, 5)
  expect_equal(fold[150], fold[10])
  expect_setequal(unique(fold), 1:5)
  counts <- table(factor(fold, 1:5), y)
  expect_true(all(abs(counts[, 1] - counts[, 2]) <= 1))
})

test_that("the forest C2ST sees through independent marginals; a copy scores 0.5 and memorises", {
  skip_if_not_installed("ranger")
  d <- heaped_hours_table(2000, seed = 21)
  train <- d[1:1000, ]
  hold <- d[1001:2000, ]
  set.seed(5)
  copy <- fidelity(train, train, holdout = hold, network = FALSE, threads = 1)
  expect_equal(copy$joint$auc_forest, 0.5, tolerance = 0.02)
  expect_equal(copy$joint$c2st_forest, 1, tolerance = 0.04)
  expect_lt(copy$dcr$memorisation$ratio, 0.9)
  expect_identical(copy$dcr$exact_copy_rate, 1)
  shuffled <- as.data.frame(lapply(train, function(v) v[sample.int(length(v))]))
  indep <- fidelity(train, shuffled, holdout = hold, network = FALSE, threads = 1)
  expect_gt(indep$joint$auc_forest, 0.6)
  # the logistic regression on standardised columns does not see it
  expect_lt(indep$joint$auc_logistic, indep$joint$auc_forest - 0.1)
  imp <- indep$joint$forest_importance
  expect_setequal(imp$column, names(train))
  expect_gt(max(imp$auc_drop), 0.02)
  # fresh rows from the same law: no memorisation, forest near chance
  fresh <- heaped_hours_table(1000, seed = 22)
  same <- fidelity(train, fresh, holdout = hold, network = FALSE, threads = 1)
  expect_gt(same$dcr$memorisation$ratio, 0.85)
  expect_lt(same$dcr$memorisation$ratio, 1.15)
  expect_lt(abs(same$joint$auc_forest - 0.5), 0.06)
  expect_match(paste(capture.output(print(indep)), collapse = "\n"),
               "What gives the synthetic rows away")
  set.seed(5)
  again <- fidelity(train, train, holdout = hold, network = FALSE, threads = 2)
  expect_identical(again$joint$auc_forest, copy$joint$auc_forest)
})

test_that("the DCR 5th-percentile share is tie-aware when real rows are duplicated", {
  set.seed(8)
  base <- data.frame(a = round(rnorm(400), 2), b = sample(c("x", "y"), 400, TRUE),
                     c = sample(1:3, 400, TRUE))
  real <- base[1:300, ]
  hold <- base[301:400, ]   # 15% of hold-out rows duplicate a real row: p5 is 0
  r <- dcr(real, real, holdout = hold, threads = 1)
  expect_identical(r$p5, 0)
  expect_equal(r$baseline_exact_rate, 0.15)
  # the baseline itself scores 5%; a straight copy is counted at the same weight for every row
  expect_equal(causalsandbox:::share_closer(r$baseline, r$baseline, r$p5), 0.05)
  expect_equal(r$share_closer, 0.05 / 0.15)   # was 0 for copies before ties were counted
  # without ties it is the plain share strictly below p5
  expect_identical(causalsandbox:::share_closer(c(0.1, 0.2, 0.5), seq(0.15, 2, length.out = 40),
                                                 0.2), 1 / 3)
})
