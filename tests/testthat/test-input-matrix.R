# The input matrix of issue 20: every table causalmix() accepts runs through the exported
# functions with the same reading of its treatment (which value is treated) and outcome (its
# coding; a two-valued outcome is binary everywhere and effects are on P(event)).

options(causalsandbox.threads = 1)
`%||%` <- function(x, y) if (is.null(x)) y else x

# Fits of a few epochs: their nets may learn nothing, which causalmix() rightly warns about
# (tested below); the cells here check codings, not fit quality.
tiny_fit <- function(...) suppressWarnings(causalmix(...))

matrix_base <- function(n = 240) {
  set.seed(20)
  age <- rnorm(n, 60, 8)
  stage <- factor(sample(c("I", "II", "III"), n, TRUE), levels = c("I", "II", "III", "IV"))
  t <- rbinom(n, 1, plogis((age - 60) / 10))
  y <- rbinom(n, 1, plogis(-0.5 + (age - 60) / 10 + 0.8 * t))
  data.frame(age = age, stage = stage, t = t, y = y)
}

# Each variant: the table and the treated value / event level it must be read with.
matrix_variants <- function() {
  b <- matrix_base()
  v <- list()
  na_cov <- b
  na_cov$age[seq(3, nrow(b), by = 9)] <- NA
  v$na_covariates <- list(data = na_cov, treated = "1", event = "1")
  ch <- b
  ch$t <- ifelse(b$t == 1, "yes", "no")
  v$character_treatment <- list(data = ch, treated = "yes", event = "1")
  f1 <- b
  f1$t <- factor(ifelse(b$t == 1, "treated", "control"), levels = c("control", "treated"))
  v$factor_treatment <- list(data = f1, treated = "treated", event = "1")
  f2 <- b
  f2$t <- factor(ifelse(b$t == 1, "treated", "control"), levels = c("treated", "control"))
  v$factor_treatment_reversed <- list(data = f2, treated = "control", event = "1")
  lg <- b
  lg$t <- b$t == 1
  v$logical_treatment <- list(data = lg, treated = "TRUE", event = "1")
  fo <- b
  fo$y <- factor(ifelse(b$y == 1, "dead", "alive"))
  v$factor_outcome <- list(data = fo, treated = "1", event = "dead")
  co <- b
  co$y <- ifelse(b$y == 1, "dead", "alive")
  v$character_outcome <- list(data = co, treated = "1", event = "dead")
  c12 <- b
  c12$y <- b$y + 1
  v$outcome_1_2 <- list(data = c12, treated = "1", event = "2")
  c010 <- b
  c010$y <- 10 * b$y
  v$outcome_0_10 <- list(data = c010, treated = "1", event = "10")
  # the base table's `stage` already has the unused level "IV"
  v$unused_level <- list(data = b, treated = "1", event = "1")
  if (requireNamespace("tibble", quietly = TRUE))
    v$tibble <- list(data = tibble::as_tibble(b), treated = "1", event = "1")
  if (requireNamespace("data.table", quietly = TRUE))
    v$data_table <- list(data = data.table::as.data.table(b), treated = "1", event = "1")
  v
}

# observed outcome = the arm's potential outcome, compared as the user's values
arm_outcome_matches <- function(d, treated) {
  obs <- as.character(d$y)
  arm <- as.character(d$t) == treated
  identical(obs, ifelse(arm, as.character(d$.y1), as.character(d$.y0)))
}

test_that("every table of the input matrix runs from fit to study with one coding", {
  skip_on_cran()
  variants <- matrix_variants()
  for (name in names(variants)) {
    v <- variants[[name]]
    d <- v$data
    fit <- tiny_fit(d, "t", "y", epochs = 3, hidden = 8, seed = 1, calibrate_marginals = FALSE,
                     refit_prior = FALSE)
    expect_identical(fit$schema$columns$t$levels[2L], v$treated, info = name)
    expect_identical(fit$schema$columns$y$levels[2L], v$event, info = name)
    printed_fit <- paste(capture.output(print(fit)), collapse = "\n")
    expect_match(printed_fit, sprintf("treated: \"%s\"", v$treated), fixed = TRUE, info = name)
    expect_match(printed_fit, sprintf("P(y = \"%s\")", v$event), fixed = TRUE, info = name)

    cohort <- simulate(fit, nsim = 300, seed = 2)
    tr <- truth(cohort)
    # observed outcome and treatment in the user's coding and consistent with .y0/.y1
    expect_identical(class(cohort$y), class(d$y), info = name)
    expect_true(arm_outcome_matches(cohort, v$treated), info = name)
    expect_true(all(as.character(cohort$.y0) %in% fit$schema$columns$y$levels), info = name)
    # truth on the probability scale of the event, stated with the coding
    expect_identical(tr$treated, v$treated, info = name)
    expect_identical(tr$event, v$event, info = name)
    expect_true(tr$ate > -1 && tr$ate < 1, info = name)
    expect_equal(tr$sample_ate, mean(cohort$.mu1 - cohort$.mu0), info = name)
    printed <- paste(capture.output(print(tr)), collapse = "\n")
    expect_match(printed, sprintf("P(outcome = \"%s\")", v$event), fixed = TRUE, info = name)
    # the drawn cohort has the class of the input table
    expect_identical(setdiff(class(cohort), "sandbox_data"), class(d), info = name)
    if (name == "na_covariates") expect_true(anyNA(cohort$age), info = name)

    # the estimators read the cohort with the same coding: the AIPW estimate is on P(event)
    est <- estimate_ate(cohort, method = c("aipw", "or"))
    expect_identical(est$treated, v$treated, info = name)
    expect_identical(est$outcome_type, "binary", info = name)
    manual <- mean(as.character(cohort$y)[as.character(cohort$t) == v$treated] == v$event) -
      mean(as.character(cohort$y)[as.character(cohort$t) != v$treated] == v$event)
    naive <- estimator_naive()(cohort)
    expect_equal(unname(naive["estimate"]), manual, info = name)
    expect_lt(abs(est$estimates$estimate[1] - tr$ate), 0.3)
    # and on the real table itself
    real <- estimate_ate(d, "t", "y", c("age", "stage"), method = "or")
    expect_identical(real$treated, v$treated, info = name)
    expect_true(abs(real$estimates$estimate) < 1, info = name)
    # broom: augment() puts each row's fitted outcome for its own arm (by the stated coding)
    rows <- augment(real, data = d)
    own_arm <- as.character(as.data.frame(d)$t) == v$treated
    expect_equal(rows$.fitted, ifelse(own_arm, real$nuisance$Q1, real$nuisance$Q0),
                 info = name)
    event <- as.double(as.character(as.data.frame(d)$y) == v$event)
    expect_equal(rows$.resid, event - rows$.fitted, info = name)
    expect_equal(glance(fit)$nobs, nrow(d), info = name)

    hyb <- hybrid_synth(d, "t", "y", covariate_model = "bootstrap", n = 200, seed = 3)
    expect_true(arm_outcome_matches(hyb, v$treated), info = name)
    expect_identical(setdiff(class(hyb), "sandbox_data"), class(d), info = name)
    expect_equal(truth(hyb)$event, v$event, info = name)

    # the rest of the exported functions on the same table
    tau <- predict(fit, d, type = "tau")
    expect_true(all(abs(tau) <= 1) && length(tau) == nrow(d), info = name)
    fid <- fidelity(d, as.data.frame(cohort)[names(d)], treatment = "t", outcome = "y",
                    network = FALSE, c2st_rows = 200, energy_rows = 200, dcr_rows = 200,
                    threads = 1)
    expect_true(abs(fid$causal$real[2]) < 1, info = name)  # ATE on P(event)
    privacy <- dcr(d, as.data.frame(cohort)[names(d)], threads = 1)
    expect_true(privacy$share_closer >= 0 && privacy$share_closer <= 1, info = name)
    expect_identical(unname(privacy$columns), names(d), info = name)
    aug <- suppressMessages(augment_overlap(d, "t", "y", fit = as.data.frame(cohort)[names(d)],
                                            threshold = 0.2, seed = 4))
    added <- as.data.frame(aug)[aug$.synthetic, ]
    expect_gt(nrow(added), 0L)
    expect_true(all(as.character(added$y) %in% fit$schema$columns$y$levels), info = name)
    expect_identical(class(aug$t), class(d$t), info = name)
    # the augmented table keeps the class of the input behind "augmented_data"
    expect_identical(setdiff(class(aug), "augmented_data"), class(d), info = name)
    # each added record joins the arm opposite its flagged unit, in the user's coding
    flagged_arm <- as.character(as.data.frame(d)$t[attr(aug, "augmentation")$flagged])
    control_value <- setdiff(fit$schema$columns$t$levels, v$treated)
    expect_identical(sort(as.character(added$t)),
                     sort(ifelse(flagged_arm == v$treated, control_value, v$treated)),
                     info = name)
    bgm <- causalbgm(d, "t", "y", control = causalbgm_control(
        z_dims = c(1, 1, 1, 1), epochs = 2, init_iterations = 50,
        hidden = list(g = 8, h = 8, f = 8, e = 8), seed = 1, threads = 1))
    expect_identical(bgm$treatment_levels[2L], v$treated, info = name)
    new <- as.data.frame(d)[1:10, c("age", "stage", "t")]
    pb <- predict(bgm, newdata = new, n_mcmc = 20, burn_in = 20, seed = 1, threads = 1)
    expect_true(all(pb$effects$lower <= pb$effects$upper), info = name)
    # causal mixtures from proxies: k = 1 is the difference in P(event) between the arms
    # (missing proxy values: the missing-indicator default keeps every row)
    cm <- suppressWarnings(causal_mixture(d, "t", "y", treatment_proxies = "stage", outcome_proxies = "age", k = 1,
                                          threads = 1))
    real_naive <- mean(as.character(d$y)[as.character(d$t) == v$treated] == v$event) -
      mean(as.character(d$y)[as.character(d$t) != v$treated] == v$event)
    expect_equal(cm$naive_difference, real_naive, info = name)
    expect_identical(cm$n, nrow(d), info = name)
    expect_true(is.finite(cm$ate) && abs(cm$ate) < 1, info = name)

    # studies: built-in estimators by name and by constructor, tidy results
    ests <- list(aipw = "aipw", naive = estimator_naive(), ot = estimator_ate(c("or", "tmle")))
    if (requireNamespace("ranger", quietly = TRUE))
      ests$dr <- estimator_dr_learner(num.trees = 50, threads = 1)
    st <- run_study(fit, scenario_grid(), n = 150, reps = 1, estimators = ests, seed = 6)
    res <- as.data.frame(st)
    expect_true(all(is.na(res$error)), info = name)
    expect_true(all(is.finite(res$estimate) & abs(res$estimate) < 1), info = name)
    expect_equal(res$truth[1], truth(simulate(fit, nsim = 10, seed = 1))$ate, info = name)
    expect_equal(tidy(st)$estimate, res$estimate, info = name)
    # the schema of the real table states the same codings as the fit
    sch <- sandbox_schema(d, "t", "y")
    expect_identical(sch$columns$t$levels, fit$schema$columns$t$levels, info = name)
    expect_identical(sch$columns$y$levels, fit$schema$columns$y$levels, info = name)
    # the feasible effects of a binary outcome span (-mean m0, 1 - mean m0) on P(event)
    kl <- knob_limits(fit)
    expect_equal(diff(kl$ate), 1, info = name)
    # power and tuning run on the same cohorts, with no failed replicate
    pw <- power_analysis(fit, n = 150, test = test_ate("or"), reps = 2, seed = 7)
    expect_identical(pw$power$n_failed, 0L, info = name)
    expect_equal(pw$power$power, mean(pw$study$results$p_value < 0.05), info = name)
    tu <- tune_estimator(fit, function(truncate) estimator_ipw(truncate = truncate),
                         list(truncate = c(0.01, 0.1)), n = 150, reps = 1, seed = 8)
    expect_equal(tu$ranking$n_failed, c(0, 0), info = name)
    expect_true(all(is.finite(tu$ranking$rmse)), info = name)
    p_mod <- test_modifier("stage")(cohort)$p_value
    expect_true(p_mod >= 0 && p_mod <= 1, info = name)
    # the fully generative baseline: the input's class and codings
    js <- suppressWarnings(joint_synth(d, "t", "y", n = 60, seed = 2,
                                       control = causalmix_control(epochs = 2, hidden = 4,
                                                                   seed = 1)))
    expect_identical(class(js), class(d), info = name)
    expect_identical(class(js$t), class(d$t), info = name)
    expect_true(all(as.character(js$y) %in% fit$schema$columns$y$levels), info = name)
  }
})

test_that("a cohort with missing covariates runs from fit to study, power, tuning, hybrid, augmentation and fidelity", {
  skip_on_cran()
  d <- matrix_variants()$na_covariates$data
  complete <- !is.na(d$age)
  fit <- tiny_fit(d, "t", "y", epochs = 3, hidden = 8, seed = 1, calibrate_marginals = FALSE,
                   refit_prior = FALSE)
  expect_identical(fit$schema$columns$age$n_missing, sum(!complete))
  fail_fields <- function(expr) {
    err <- tryCatch(expr, error = identity)
    expect_s3_class(err, "causalsandbox_input_error")
    c(err$argument, err$column)
  }

  # run_study(): indicator (default) and complete cases on the same cohorts
  design <- scenario_grid(overlap = c(1, 0.5))
  ind <- run_study(fit, design, n = 200, reps = 2, estimators = "aipw", seed = 4)
  cc <- run_study(fit, design, n = 200, reps = 2, estimators = "aipw", seed = 4,
                  missing = "complete_case")
  ri <- as.data.frame(ind)
  rc <- as.data.frame(cc)
  expect_true(all(is.na(ri$error)) && all(is.na(rc$error)))
  expect_true(all(is.finite(ri$estimate)) && all(is.finite(rc$estimate)))
  expect_identical(ri$sample_truth, rc$sample_truth)  # the same cohorts
  expect_true(all(ri$estimate != rc$estimate))        # analysed two ways
  expect_equal(summary(ind)$bias, tapply(ri$estimate - ri$truth, ri$scenario, mean),
               ignore_attr = TRUE)
  expect_equal(nrow(summary(cc)), 2L)
  # an estimator's own setting is kept unless the study sets one
  own <- run_study(fit, design, n = 200, reps = 2, seed = 4,
                   estimators = list(cc = estimator_aipw(missing = "complete_case")))
  expect_identical(as.data.frame(own)$estimate, rc$estimate)
  over <- run_study(fit, design, n = 200, reps = 2, seed = 4, missing = "indicator",
                    estimators = list(cc = estimator_aipw(missing = "complete_case")))
  expect_identical(as.data.frame(over)$estimate, ri$estimate)
  # "fail": refused at the call (every cohort has NAs); an estimator built with "fail"
  # fails each replicate with the message naming `missing`
  expect_identical(fail_fields(run_study(fit, design, n = 200, reps = 1, estimators = "aipw",
                                         seed = 4, missing = "fail")), c("missing", "age"))
  failed <- run_study(fit, scenario_grid(), n = 200, reps = 1, seed = 4,
                      estimators = list(f = estimator_aipw(missing = "fail")))
  expect_match(as.data.frame(failed)$error, "`missing = \"indicator\"`", fixed = TRUE)

  # power_analysis() and tune_estimator() pass `missing` through
  pw_i <- power_analysis(fit, n = 200, test = test_ate("or"), reps = 3, seed = 5)
  pw_c <- power_analysis(fit, n = 200, test = test_ate("or"), reps = 3, seed = 5,
                         missing = "complete_case")
  pi <- pw_i$study$results$p_value
  pc <- pw_c$study$results$p_value
  expect_true(all(is.finite(pi)) && all(is.finite(pc)) && all(pi != pc))
  expect_equal(pw_c$power$power, mean(pc < 0.05))
  expect_identical(fail_fields(power_analysis(fit, n = 200, reps = 2, seed = 5,
                                              missing = "fail")), c("missing", "age"))
  factory <- function(truncate) estimator_ipw(truncate = truncate)
  tu_i <- tune_estimator(fit, factory, list(truncate = c(0.01, 0.1)), n = 200, reps = 2,
                         seed = 6)
  tu_c <- tune_estimator(fit, factory, list(truncate = c(0.01, 0.1)), n = 200, reps = 2,
                         seed = 6, missing = "complete_case")
  expect_true(all(is.finite(tu_i$ranking$rmse)) && all(is.finite(tu_c$ranking$rmse)))
  expect_true(all(tu_i$ranking$bias != tu_c$ranking$bias))
  expect_identical(fail_fields(tune_estimator(fit, factory, list(truncate = 0.01), n = 200,
                                              reps = 1, seed = 6, missing = "fail")),
                   c("missing", "age"))

  # estimate_ate() on the real table
  expect_identical(fail_fields(estimate_ate(d, "t", "y", c("age", "stage"), missing = "fail")),
                   c("missing", "age"))
  cc_real <- estimate_ate(d, "t", "y", c("age", "stage"), missing = "complete_case",
                          method = "or")
  expect_identical(cc_real$n, sum(complete))
  expect_identical(cc_real$missing$rows_dropped, sum(!complete))

  # hybrid_synth(): the indicator keeps the NAs in the draws, complete cases draw complete rows
  h_i <- hybrid_synth(d, "t", "y", fit = fit, n = 150, seed = 5)
  h_c <- hybrid_synth(d, "t", "y", fit = fit, n = 150, seed = 5, missing = "complete_case")
  expect_true(anyNA(h_i$age))
  expect_false(anyNA(h_c$age))
  expect_identical(nrow(h_c), 150L)
  expect_true(is.finite(truth(h_i)$ate) && is.finite(truth(h_c)$ate))
  expect_false(isTRUE(all.equal(truth(h_i)$ate, truth(h_c)$ate)))
  b_c <- hybrid_synth(d, "t", "y", covariate_model = "bootstrap", n = 150, seed = 5,
                      missing = "complete_case", targeted = FALSE)
  expect_false(anyNA(b_c$age))
  # the bootstrap truth is exact over the complete rows: the outcome-regression contrast
  q <- stats::glm(y ~ age + stage + t, family = binomial(), data = d[complete, ])
  contrast <- mean(predict(q, transform(d[complete, ], t = 1), type = "response") -
                     predict(q, transform(d[complete, ], t = 0), type = "response"))
  expect_equal(attr(b_c, "hybrid")$real_ate, contrast, tolerance = 1e-6)
  expect_equal(truth(b_c)$ate, contrast, tolerance = 1e-6)
  expect_identical(fail_fields(hybrid_synth(d, "t", "y", covariate_model = "bootstrap",
                                            missing = "fail")), c("missing", "age"))

  # augment_overlap(): complete cases flag only complete units and add complete records
  pool <- as.data.frame(simulate(fit, nsim = 600, seed = 2))[names(d)]
  a_i <- suppressMessages(augment_overlap(d, "t", "y", fit = pool, threshold = 0.25,
                                          seed = 4))
  a_c <- suppressMessages(augment_overlap(d, "t", "y", fit = pool, threshold = 0.25,
                                          seed = 4, missing = "complete_case"))
  flagged_c <- attr(a_c, "augmentation")$flagged
  expect_gt(length(flagged_c), 0L)
  expect_true(all(complete[flagged_c]))
  expect_false(anyNA(a_c$age[a_c$.synthetic]))
  expect_false(identical(attr(a_i, "augmentation")$flagged, flagged_c))
  expect_identical(fail_fields(augment_overlap(d, "t", "y", fit = pool,
                                               missing = "fail")), c("missing", "age"))

  # fidelity(): the causal checks on every row or on the complete rows of each table
  f_i <- fidelity(d, pool, "t", "y", network = FALSE, forest = FALSE, threads = 1)
  f_c <- fidelity(d, pool, "t", "y", network = FALSE, forest = FALSE, threads = 1,
                  missing = "complete_case")
  used <- function(f) unlist(f$causal[f$causal$quantity == "rows used", c("real", "synthetic")])
  expect_equal(unname(used(f_i)), c(nrow(d), nrow(pool)))
  expect_equal(unname(used(f_c)), c(sum(complete), sum(!is.na(pool$age))))
  ate_i <- f_i$causal$real[f_i$causal$quantity == "ATE (AIPW)"]
  ate_c <- f_c$causal$real[f_c$causal$quantity == "ATE (AIPW)"]
  expect_true(is.finite(ate_i) && is.finite(ate_c) && ate_i != ate_c)
  # the marginal metrics do not depend on `missing`
  expect_identical(f_i$columns, f_c$columns)
  expect_identical(fail_fields(fidelity(d, pool, "t", "y", network = FALSE, forest = FALSE,
                                        threads = 1, missing = "fail")), c("missing", "age"))

  # causal_mixture(): NA proxies handled, not refused
  cm_i <- causal_mixture(d, "t", "y", treatment_proxies = "stage", outcome_proxies = "age", k = 1, threads = 1)
  cm_c <- causal_mixture(d, "t", "y", treatment_proxies = "stage", outcome_proxies = "age", k = 1, threads = 1,
                         missing = "complete_case")
  expect_identical(c(cm_i$n, cm_c$n), c(nrow(d), sum(complete)))
  expect_true(is.finite(cm_i$ate) && is.finite(cm_c$ate) && cm_i$ate != cm_c$ate)
  expect_identical(fail_fields(causal_mixture(d, "t", "y", treatment_proxies = "stage", outcome_proxies = "age", k = 1,
                                              missing = "fail")), c("missing", "age"))
})

test_that("bad inputs are refused with classed errors naming the argument or column", {
  d <- matrix_base()
  field <- function(expr) {
    e <- tryCatch(expr, error = identity)
    expect_s3_class(e, "causalsandbox_input_error")
    c(argument = e$argument %||% NA_character_, column = paste(e$column, collapse = ","))
  }
  `%||%` <- function(x, y) if (is.null(x)) y else x
  dup <- d
  names(dup)[2] <- "age"
  expect_identical(field(causalmix(dup, "t", "y")), c(argument = "data", column = "age"))
  expect_identical(field(estimate_ate(dup, "t", "y", "age")),
                   c(argument = "data", column = "age"))
  expect_identical(field(causalmix(d, "t", "nope")), c(argument = "outcome", column = "nope"))
  expect_identical(field(estimate_ate(d, "t", "y", c("age", "zz"))),
                   c(argument = "covariates", column = "zz"))
  expect_identical(field(sandbox_threads(1e12))[["argument"]], "threads")
  wide <- data.frame(t = rep(0:1, 6), y = rnorm(12), f = factor(letters[1:12]))
  expect_identical(field(estimate_ate(wide, "t", "y", "f"))[["argument"]], "covariates")
  three <- d
  three$t <- three$t + (seq_len(nrow(d)) %% 3 == 0) * 2
  expect_identical(field(causalmix(three, "t", "y")), c(argument = "treatment", column = "t"))
  expect_identical(field(estimate_ate(d, "t", "y", "age", estimand = "ATC"))[["argument"]],
                   "estimand")
  expect_identical(field(estimator_aipw(foldz = 2))[["argument"]], "foldz")
  expect_identical(field(estimator_ate(truncate = 0.9))[["argument"]], "truncate")
  expect_identical(field(hybrid_synth(d, "t", "y", covariate_model = "copula"))[["argument"]],
                   "covariate_model")
  fit <- tiny_fit(d, "t", "y", epochs = 2, hidden = 4, seed = 1, calibrate_marginals = FALSE,
                  refit_prior = FALSE)
  expect_identical(field(predict(fit, d[c("t", "y")]))[["argument"]], "newdata")
  expect_identical(field(run_study(fit, n = 50, reps = 1e12, estimators = "aipw",
                                   seed = 1))[["argument"]], "reps")
  if (requireNamespace("bit64", quietly = TRUE)) {
    big <- d
    big$age <- bit64::as.integer64(round(d$age))
    expect_equal(sandbox_schema(big, "t", "y")$columns$age$upper, max(round(d$age)))
  }
})

test_that("run_study(seed = 5) is identical under any RNG kind, sequentially and on workers", {
  skip_on_cran()
  skip_if_not_installed("future")
  skip_if_not_installed("future.apply")
  d <- matrix_base()
  fit <- tiny_fit(d, "t", "y", epochs = 2, hidden = 4, seed = 1, calibrate_marginals = FALSE,
                  refit_prior = FALSE)
  run <- function() as.data.frame(run_study(fit, scenario_grid(overlap = c(1, 0.5)), n = 150,
                                            reps = 2, estimators = "aipw", seed = 5))[
    c("scenario", "rep", "estimate", "se")]
  old_kind <- RNGkind()
  on.exit(RNGkind(old_kind[1], old_kind[2], old_kind[3]), add = TRUE)
  future::plan(future::sequential)
  reference <- run()
  RNGkind("L'Ecuyer-CMRG")
  set.seed(99)
  sequential <- run()
  expect_identical(RNGkind()[1], "L'Ecuyer-CMRG")  # the caller's kind is left alone
  old_plan <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(old_plan), add = TRUE)
  workers <- run()
  expect_identical(sequential, reference)
  expect_identical(workers, reference)
})

test_that("fit-time warnings: identifier columns, small arms, nets no better than a constant", {
  d <- matrix_base(200)
  d$record <- seq_len(nrow(d))
  d$t[d$t == 1][-(1:12)] <- 0  # 12 treated rows
  w <- character()
  fit <- withCallingHandlers(
    causalmix(d, "t", "y", epochs = 2, hidden = 4, seed = 1, calibrate_marginals = FALSE,
              refit_prior = FALSE),
    warning = function(cond) {
      w <<- c(w, conditionMessage(cond))
      invokeRestart("muffleWarning")
    })
  expect_identical(w, fit$warnings)
  expect_true(any(grepl("Covariate `record` looks like a row identifier", w)))
  expect_true(any(grepl("The treated arm of `t` has 12 rows \\(fewer than 20\\)", w)))
  printed <- paste(capture.output(print(fit)), collapse = "\n")
  expect_match(printed, "Warnings at fit time", fixed = TRUE)
  expect_match(printed, "looks like a row identifier", fixed = TRUE)
  # a propensity with no signal at all is no better than the treated share
  set.seed(3)
  n <- 2000
  flat <- data.frame(x = rnorm(n), z = rnorm(n), t = rbinom(n, 1, 0.3))
  flat$y <- flat$x + rnorm(n)
  flat_fit <- suppressWarnings(causalmix(flat, "t", "y", epochs = 30, hidden = 16, seed = 1))
  expect_true(any(grepl("The propensity net's held-out loss", flat_fit$warnings)))
  expect_false(any(grepl("The outcome net's held-out loss", flat_fit$warnings)))
  expect_false(any(grepl("row identifier", flat_fit$warnings)))  # continuous x is no ID
  expect_false(any(grepl("learned propensity", flat_fit$warnings)))
})

test_that("a fit warns about a categorical covariate with many levels", {
  set.seed(5)
  n <- 600
  d <- data.frame(x = rnorm(n), site = sprintf("s%03d", sample(80, n, replace = TRUE)))
  d$t <- rbinom(n, 1, 0.5)
  d$y <- d$x + d$t + rnorm(n)
  fit <- without_fit_warnings(causalmix(d, "t", "y", epochs = 2, hidden = 4, seed = 1,
                                        threads = 1))
  expect_true(any(grepl("Covariate `site` has 80 levels \\(\\d+ of them with fewer than 10 rows\\)",
                        fit$warnings)))
  expect_false(any(grepl("levels", quiet_causalmix(d[c("x", "t", "y")], "t", "y", epochs = 2,
                                                   hidden = 4, seed = 1, threads = 1)$warnings)))
})

test_that("a fit warns when many rows have a propensity near 0 or 1 (positivity)", {
  set.seed(4)
  n <- 2000
  d <- data.frame(x = rnorm(n), z = rnorm(n))
  d$t <- rbinom(n, 1, plogis(6 * d$x))  # true propensity outside [0.01, 0.99] for |x| > 0.77
  d$y <- d$x + d$t + rnorm(n)
  w <- NULL
  fit <- withCallingHandlers(
    causalmix(d, "t", "y", epochs = 40, hidden = 16, seed = 1, threads = 1),
    causalsandbox_fit_warning = function(cond) {
      w <<- c(w, conditionMessage(cond))
      invokeRestart("muffleWarning")
    })
  share <- mean(fit$fitted$ps < 0.01 | fit$fitted$ps > 0.99)
  expect_gt(share, 0.05)
  expect_true(any(grepl(sprintf("%.1f%% of the rows \\(%d of %d\\) have a learned propensity",
                                100 * share, round(share * n), n), w)))
})

test_that("fuzz defects: ate = NA, always-failing tests, the class of joint_synth()", {
  design <- scenario_grid(ate = NA)
  expect_true(is.na(design$ate))
  expect_identical(nrow(scenario_grid(ate = c(NA, 0.1))), 2L)
  d <- matrix_base()
  fit <- tiny_fit(d, "t", "y", epochs = 2, hidden = 4, seed = 1, calibrate_marginals = FALSE,
                  refit_prior = FALSE)
  broken <- function(data) stop("no test here")
  expect_warning(pw <- power_analysis(fit, n = 100, test = broken, reps = 2, seed = 1),
                 "failed in every replicate at n = 100.*no test here")
  expect_true(is.na(pw$power$power))
  if (requireNamespace("tibble", quietly = TRUE)) {
    tb <- tibble::as_tibble(d)
    joint <- suppressWarnings(joint_synth(tb, "t", "y", n = 50, seed = 2,
                         control = causalmix_control(epochs = 2, hidden = 4, seed = 1)))
    expect_s3_class(joint, "tbl_df")
    expect_identical(nrow(joint), 50L)
  }
})

test_that("knob messages do not quote the internal reference draw's size", {
  d <- matrix_base()
  fit <- tiny_fit(d, "t", "y", epochs = 2, hidden = 4, seed = 1, calibrate_marginals = FALSE,
                  refit_prior = FALSE)
  for (call in list(quote(simulate(fit, nsim = 50, seed = 1, effect = function(x) 0.1)),
                    quote(simulate(fit, nsim = 50, seed = 1, ate = 0.95)))) {
    err <- tryCatch(eval(call), error = identity)
    expect_s3_class(err, "causalsandbox_input_error")
    expect_false(grepl("20000|20,000", conditionMessage(err)))
  }
  err <- tryCatch(simulate(fit, nsim = 50, seed = 1, effect = function(x) 0.1), error = identity)
  expect_identical(err$argument, "effect")
})

test_that("time-to-event tables: every treatment coding, missing covariates and a tibble", {
  skip_on_cran()
  skip_if_not_installed("survival")
  set.seed(3)
  n <- 300
  base <- data.frame(age = rnorm(n), sex = rbinom(n, 1, 0.5))
  arm <- rbinom(n, 1, plogis(0.6 * base$age))
  te <- rweibull(n, 1.5, 300 * exp(-(0.5 * base$age - 0.4 * arm) / 1.5))
  tc <- pmin(rexp(n, 1 / 1000), 365)
  base$time <- pmin(te, tc)
  base$status <- as.integer(te <= tc)
  with_treat <- function(treat) transform(base, treat = treat)
  variants <- list(
    numeric = list(data = with_treat(arm), treated = "1"),
    character = list(data = with_treat(ifelse(arm == 1, "drug", "placebo")), treated = "placebo"),
    factor = list(data = with_treat(factor(ifelse(arm == 1, "drug", "placebo"),
                                           levels = c("placebo", "drug"))), treated = "drug"),
    factor_reversed = list(data = with_treat(factor(ifelse(arm == 1, "drug", "placebo"),
                                                    levels = c("drug", "placebo"))),
                           treated = "placebo"),
    logical = list(data = with_treat(arm == 1), treated = "TRUE"))
  na <- with_treat(arm)
  na$age[seq(2, n, by = 7)] <- NA
  variants$na_covariates <- list(data = na, treated = "1")
  if (requireNamespace("tibble", quietly = TRUE))
    variants$tibble <- list(data = tibble::as_tibble(with_treat(arm)), treated = "1")
  outcome <- c(time = "time", event = "status")
  for (name in names(variants)) {
    v <- variants[[name]]
    d <- v$data
    treated_rows <- as.character(d$treat) == v$treated
    fit <- suppressWarnings(causalmix(d, "treat", outcome, epochs = 3, hidden = 8, seed = 1,
                                      threads = 1))
    expect_identical(fit$schema$columns$treat$levels[2L], v$treated, info = name)
    co <- simulate(fit, nsim = 200, seed = 2)
    expect_identical(class(co$treat), class(d$treat), info = name)
    expect_true(all(as.character(co$treat) %in% fit$schema$columns$treat$levels), info = name)
    expect_identical(setdiff(class(co), "sandbox_data"), class(d), info = name)
    if (name == "na_covariates") expect_true(anyNA(co$age), info = name)
    est <- estimate_ate(co, method = "aipcw")
    expect_true(is.finite(est$estimates$estimate) && abs(est$estimates$estimate) < 1,
                info = name)
    # the real table: the treated arm is the stated value (a Cox model on the arm indicator)
    real <- estimate_survival(d, "treat", "time", "status", c("age", "sex"), horizon = 200,
                              method = "ipw_cox_hr")
    expect_identical(real$n_treated, sum(treated_rows), info = name)
    if (name == "na_covariates") {
      cc <- estimate_survival(d, "treat", "time", "status", c("age", "sex"), horizon = 200,
                              method = "aipcw", missing = "complete_case")
      ind <- estimate_survival(d, "treat", "time", "status", c("age", "sex"), horizon = 200,
                               method = "aipcw")
      expect_identical(cc$n, sum(!is.na(d$age)))
      expect_identical(ind$n, nrow(d))
      expect_true(is.finite(cc$estimates$estimate) && is.finite(ind$estimates$estimate) &&
                    cc$estimates$estimate != ind$estimates$estimate)
      err <- tryCatch(estimate_survival(d, "treat", "time", "status", c("age", "sex"),
                                        horizon = 200, missing = "fail"), error = identity)
      expect_s3_class(err, "causalsandbox_input_error")
      expect_identical(c(err$argument, err$column), c("missing", "age"))
    }
    # fidelity_survival(): the "treated" curves are the stated arm's Kaplan-Meier curves
    fs <- fidelity_survival(d, as.data.frame(co)[names(d)], "treat", outcome, horizon = 200,
                            network = FALSE, forest = FALSE, threads = 1)
    km <- survival::survfit(survival::Surv(time, status) ~ 1,
                            data = as.data.frame(d)[treated_rows, ])
    risk_treated <- 1 - summary(km, times = 200)$surv
    expect_equal(fs$survival$real[fs$survival$quantity == "KM risk at the horizon, treated"],
                 risk_treated, info = name)
    # a study and a power analysis through the survival generator
    gen <- survival_generator(fit)
    st <- run_study(gen, n = 150, reps = 1, estimators = list(s = estimator_survival("aipcw")),
                    seed = 3)
    res <- as.data.frame(st)
    expect_true(is.na(res$error) && is.finite(res$estimate), info = name)
    pw <- power_analysis(gen, n = 150, reps = 2, test = test_survival(), seed = 3)
    expect_identical(pw$power$n_failed, 0L, info = name)
    p_lr <- test_logrank()(co)
    expect_true(p_lr >= 0 && p_lr <= 1, info = name)
  }
})

test_that("time-to-event fits read raw-scale covariates as the other networks do (marginal scores)", {
  skip_on_cran()
  # age in years and a skewed lab value in its own units, as in real cohorts; before the fix
  # the survival network read them unscaled and drew almost no events
  set.seed(22)
  n <- 1500
  d <- data.frame(age = rnorm(n, 60, 10), lab = exp(rnorm(n, 6, 1)))
  d$treat <- rbinom(n, 1, plogis((d$age - 60) / 20))
  lin <- 0.5 * (d$age - 60) / 10 + 0.4 * (log(d$lab) - 6)
  te <- rweibull(n, 1.5, 900 * exp(-(lin - 0.3 * d$treat) / 1.5))
  tc <- pmin(rexp(n, 1 / 3000), 1500)
  d$time <- pmin(te, tc)
  d$status <- as.integer(te <= tc)
  fit <- suppressWarnings(causalmix(d, "treat", c(time = "time", event = "status"), seed = 1,
                                    threads = 1))
  co <- simulate(fit, nsim = 4000, seed = 2, horizon = 730)
  # the drawn follow-up reproduces the real one: event share and Kaplan-Meier risk at 2 years
  expect_lt(abs(mean(co$status) - mean(d$status)), 0.05)
  km_risk <- function(x) {
    km <- survival::survfit(survival::Surv(time, status) ~ 1, data = as.data.frame(x))
    1 - summary(km, times = 730)$surv
  }
  expect_lt(abs(km_risk(co) - km_risk(d)), 0.05)
  # the truth: the Weibull risk at 730 days averaged over the real covariates, per arm
  true_risk <- function(arm) mean(1 - exp(-(730 / (900 * exp(-(lin - 0.3 * arm) / 1.5)))^1.5))
  tr <- truth(co)$survival
  expect_lt(abs(tr$risk0 - true_risk(0)), 0.06)
  expect_lt(abs(tr$risk1 - true_risk(1)), 0.06)
})
