toy_columns <- c(paste0("W", 1:6), "A", "Y")

test_that("the positivity toy process has the documented structure and truth", {
  d <- positivity_example_data(3000, design = "rct", seed = 1)
  expect_s3_class(d, "sandbox_data")
  expect_equal(truth(d)$ate, 0.4186)
  expect_true(all(d$.ps == 0.5))
  # the sample ATE of 3000 rows lies within 4 Monte Carlo SEs of the population value
  expect_lt(abs(truth(d)$sample_ate - 0.4186), 4 * sd(d$.tau) / sqrt(3000))
  expect_identical(d$Y, ifelse(d$A == 1, d$.y1, d$.y0))
  obs <- positivity_example_data(2000, design = "observational", seed = 1)
  expect_gt(mean(obs$.ps < 0.001 | obs$.ps > 0.999), 0.8)
  expect_identical(positivity_example_data(50, seed = 9), positivity_example_data(50, seed = 9))
  expect_error(positivity_example_data(5), "`n` must be a whole number >= 20")
})

test_that("targeted hybrid data carry the real-data TMLE ATE as their truth", {
  real <- as.data.frame(positivity_example_data(600, design = "rct", seed = 2))[toy_columns]
  syn <- hybrid_synth(real, "A", "Y", covariate_model = "bootstrap", n = 1000, seed = 3)
  info <- attr(syn, "hybrid")
  expect_s3_class(syn, "sandbox_data")
  expect_equal(nrow(syn), 1000)
  # bootstrap covariates: the population law is the real sample, so the truth is exact
  expect_equal(truth(syn)$ate, info$real_ate, tolerance = 1e-12)
  expect_equal(truth(syn)$ate_mcse, 0)
  expect_true(info$targeted)
  expect_true(all(is.finite(info$epsilon)) && any(info$epsilon != 0))
  # the targeted truth is exactly the real-data TMLE estimate of estimate_ate()
  tmle <- as.data.frame(estimate_ate(real, "A", "Y", paste0("W", 1:6), method = "tmle"))
  expect_equal(info$real_ate, tmle$estimate, tolerance = 1e-10)
  # the real-data estimate is close to the true ATE of the real process
  expect_lt(abs(info$real_ate - 0.4186), 0.1)
  # treatment is drawn from the propensities and the outcome is the realised potential one
  expect_lt(abs(mean(syn$A) - mean(syn$.ps)), 4 * sqrt(0.25 / 1000))
  expect_identical(syn$Y, as.integer(ifelse(syn$A == 1, syn$.y1, syn$.y0)))
  expect_identical(class(syn$A), class(real$A))
  expect_identical(syn, hybrid_synth(real, "A", "Y", covariate_model = "bootstrap", n = 1000,
                                     seed = 3))
})

test_that("without targeting the truth is the g-computation contrast of the outcome model", {
  real <- as.data.frame(positivity_example_data(500, design = "rct", seed = 4))[toy_columns]
  syn <- hybrid_synth(real, "A", "Y", covariate_model = "bootstrap", targeted = FALSE,
                      seed = 5)
  w <- real[paste0("W", 1:6)]
  q <- glm(Y ~ ., data = cbind(w, .treated = real$A, Y = real$Y), family = binomial())
  gcomp <- mean(predict(q, cbind(w, .treated = 1), type = "response") -
                  predict(q, cbind(w, .treated = 0), type = "response"))
  expect_equal(truth(syn)$ate, gcomp, tolerance = 1e-6)
  expect_equal(attr(syn, "hybrid")$epsilon, c(control = 0, treated = 0))
})

test_that("a continuous outcome is fluctuated on the unit scale and drawn with noise", {
  set.seed(6)
  n <- 400
  real <- data.frame(x1 = rnorm(n), x2 = rbinom(n, 1, 0.4))
  real$t <- rbinom(n, 1, plogis(0.5 * real$x1))
  real$y <- 1 + real$x1 + 2 * real$t + rnorm(n)
  syn <- hybrid_synth(real, "t", "y", covariate_model = "bootstrap", seed = 7)
  expect_equal(truth(syn)$ate, attr(syn, "hybrid")$real_ate, tolerance = 1e-12)
  tmle <- as.data.frame(estimate_ate(real, "t", "y", c("x1", "x2"), method = "tmle"))
  expect_equal(attr(syn, "hybrid")$real_ate, tmle$estimate, tolerance = 1e-10)
  expect_lt(abs(truth(syn)$ate - 2), 0.3)
  expect_gt(sd(syn$y - ifelse(syn$t == 1, syn$.mu1, syn$.mu0)), 0.5)
})

test_that("hybrid_synth refuses bad input clearly", {
  real <- as.data.frame(positivity_example_data(100, seed = 8))[toy_columns]
  expect_error(hybrid_synth(real, "A", "Y", covariate_model = "bootstrap",
                            propensity_learner = "glm"), "`propensity_learner` must be a learner")
  expect_error(hybrid_synth(real, "A", "Y", covariate_model = "bootstrap", n = 0),
               "`n` must be a whole number")
  expect_error(hybrid_synth(real, "A", "Y", fit = list()), "`fit` must be NULL or a causalmix")
  expect_error(hybrid_synth(real, "A", "Y", covariate_model = "copula"),
               "`covariate_model` must be one of \"causalmix\", \"bootstrap\"")
})

test_that("augment_overlap adds the nearest opposite-arm synthetic records to flagged units", {
  real <- as.data.frame(positivity_example_data(200, design = "observational",
                                                seed = 10))[toy_columns]
  pool <- as.data.frame(positivity_example_data(3000, design = "rct", seed = 11))[toy_columns]
  aug <- suppressWarnings(augment_overlap(real, "A", "Y", fit = pool, seed = 12))
  info <- attr(aug, "augmentation")
  expect_s3_class(aug, "augmented_data")
  expect_equal(nrow(aug), nrow(real) + length(info$flagged))
  expect_gt(length(info$flagged), 0)
  expect_identical(as.data.frame(aug)[seq_len(nrow(real)), toy_columns], real)
  added <- aug[aug$.synthetic, ]
  # every added record sits in the arm opposite to the unit that asked for it
  expect_identical(added$A, 1L - real$A[info$flagged])
  expect_equal(sum(info$added), length(info$flagged))
  expect_equal(info$threshold, 5 / (sqrt(200) * log(200)))
  expect_true(all(c("column", "smd") %in% names(info$shift)))
  # the added rows are records of the pool (covariates, arm and outcome), used once each
  key <- function(d) do.call(paste, c(d[toy_columns], sep = "|"))
  expect_true(all(key(added) %in% key(pool)))
  expect_false(anyDuplicated(key(added)) > 0)
  # each is the nearest pool record of its arm to the flagged unit (standardised distance)
  z <- function(d) scale(d[paste0("W", 1:6)], center = colMeans(real[paste0("W", 1:6)]),
                         scale = apply(real[paste0("W", 1:6)], 2, sd))
  first <- info$flagged[1]
  arm <- 1L - real$A[first]
  d2 <- rowSums(sweep(z(pool[pool$A == arm, ]), 2, z(real[first, ]))^2)
  expect_equal(key(added[1, ]), key(pool[pool$A == arm, ][which.min(d2), ]))
  expect_output(print(aug), "synthetic rows")
})

test_that("augment_overlap's old argument name `generator` warns and gives the same rows as `fit`", {
  real <- as.data.frame(positivity_example_data(200, design = "observational",
                                                seed = 10))[toy_columns]
  pool <- as.data.frame(positivity_example_data(3000, design = "rct", seed = 11))[toy_columns]
  new <- capture_deprecation(augment_overlap(real, "A", "Y", fit = pool, seed = 12))
  old <- capture_deprecation(augment_overlap(real, "A", "Y", generator = pool, seed = 12))
  expect_length(new$warnings, 0L)
  expect_renamed(old, "generator", "fit")
  expect_gt(sum(old$value$.synthetic), 0)
  expect_identical(as.data.frame(old$value), as.data.frame(new$value))
  expect_identical(attr(old$value, "augmentation")$flagged,
                   attr(new$value, "augmentation")$flagged)
  err <- expect_error(suppressWarnings(augment_overlap(real, "A", "Y", fit = pool,
                                                       generator = pool)),
                      "got both `fit` and its deprecated name `generator`")
  expect_identical(err$argument, "fit")
})

test_that("augment_overlap can draw outcomes from the mechanisms learned on the real data", {
  real <- as.data.frame(positivity_example_data(200, design = "observational",
                                                seed = 17))[toy_columns]
  pool <- as.data.frame(positivity_example_data(3000, design = "rct",
                                                seed = 18))[c(paste0("W", 1:6), "A")]
  expect_error(suppressWarnings(augment_overlap(real, "A", "Y", fit = pool)),
               "and the outcome with outcome_model")
  aug <- suppressWarnings(augment_overlap(real, "A", "Y", fit = pool,
                                          outcome_model = "real", seed = 19))
  expect_true(all(aug$Y %in% 0:1))
  expect_equal(sum(aug$.synthetic), length(attr(aug, "augmentation")$flagged))
})

test_that("augment_overlap leaves data alone when no unit needs it and checks its generator", {
  real <- as.data.frame(positivity_example_data(300, design = "rct", seed = 13))[toy_columns]
  pool <- real[c(paste0("W", 1:6), "A")]
  expect_message(out <- augment_overlap(real, "A", "Y", fit = pool),
                 "nothing to augment")
  expect_identical(out, real)
  obs <- as.data.frame(positivity_example_data(200, design = "observational",
                                               seed = 14))[toy_columns]
  expect_error(suppressWarnings(augment_overlap(obs, "A", "Y", fit = pool["W1"])),
               "`fit` lacks the column\\(s\\) `W2`")
  expect_error(suppressWarnings(augment_overlap(obs, "A", "Y", fit = 3)),
               "`fit` must be a causalmix")
  expect_error(augment_overlap(obs, "A", "Y", fit = pool, threshold = 0.7),
               "`threshold` must be")
  expect_error(augment_overlap(obs, "A", "Y"), "`fit` is required")
})

test_that("joint_synth draws every column, treatment and outcome included, from the VAE", {
  real <- as.data.frame(positivity_example_data(300, design = "rct", seed = 15))[toy_columns]
  control <- causalmix_control(epochs = 5, seed = 1, threads = 1)
  joint <- without_fit_warnings(joint_synth(real, "A", "Y", n = 150, control = control, seed = 2))
  expect_identical(names(joint), toy_columns)
  expect_equal(nrow(joint), 150)
  expect_identical(vapply(joint, class, ""), vapply(real, class, ""))
  expect_true(all(joint$A %in% 0:1) && all(joint$Y %in% 0:1))
  expect_s3_class(attr(joint, "fit"), "causalmix")
  without_fit <- function(d) `attr<-`(d, "fit", NULL)
  again <- without_fit_warnings(joint_synth(real, "A", "Y", n = 150, control = control, seed = 2))
  expect_identical(without_fit(joint), without_fit(again))
  clash <- real
  clash$.joint_outcome <- 1
  expect_error(joint_synth(clash, "A", "Y", covariates = paste0("W", 1:6), control = control),
               "reserved column name")
})

test_that("augment_overlap draws arm-free covariate records from a causalmix fit", {
  real <- as.data.frame(positivity_example_data(200, design = "observational",
                                                seed = 16))[toy_columns]
  fit <- quiet_causalmix(real, "A", "Y", control = causalmix_control(epochs = 5, seed = 3,
                                                               threads = 1))
  aug <- suppressWarnings(augment_overlap(real, "A", "Y", fit = fit, seed = 4))
  info <- attr(aug, "augmentation")
  expect_equal(sum(aug$.synthetic), length(info$flagged))
  expect_identical(aug$A[aug$.synthetic], 1L - real$A[info$flagged])
  expect_identical(aug, suppressWarnings(augment_overlap(real, "A", "Y", fit = fit,
                                                         seed = 4)))
  expect_error(suppressWarnings(augment_overlap(real, "A", "Y", fit = fit,
                                                pool_size = 10, seed = 4)),
               "no unused record left")
})

test_that("a time-to-event outcome is refused by name, not as a malformed string", {
  set.seed(1)
  d <- data.frame(x = rnorm(60))
  d$a <- rbinom(60, 1, 0.5)
  d$time <- rexp(60)
  d$status <- rbinom(60, 1, 0.7)
  for (f in list(hybrid_synth, augment_overlap, joint_synth)) {
    err <- tryCatch(f(d, "a", c(time = "time", event = "status")), error = identity)
    expect_s3_class(err, "causalsandbox_input_error")
    expect_equal(err$argument, "outcome")
    expect_match(conditionMessage(err), "does not take a time-to-event outcome")
  }
  s <- data.frame(x = d$x, a = d$a)
  s$y <- survival::Surv(d$time, d$status)
  err <- tryCatch(hybrid_synth(s, "a", "y"), error = identity)
  expect_equal(c(err$argument, err$column), c("outcome", "y"))
})
