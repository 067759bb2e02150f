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
    added <- aug[aug$.synthetic, ]
    expect_true(all(as.character(added$y) %in% fit$schema$columns$y$levels), info = name)
    expect_identical(class(aug$t), class(d$t), info = name)
    bgm <- causalbgm(d, "t", "y", control = causalbgm_control(
        z_dims = c(1, 1, 1, 1), epochs = 2, init_iterations = 50,
        hidden = list(g = 8, h = 8, f = 8, e = 8), seed = 1, threads = 1))
    expect_identical(bgm$treatment_levels[2L], v$treated, info = name)
    new <- as.data.frame(d)[1:10, c("age", "stage", "t")]
    pb <- predict(bgm, newdata = new, n_mcmc = 20, burn_in = 20, seed = 1, threads = 1)
    expect_true(all(pb$effects$lower <= pb$effects$upper), info = name)
    # causal mixtures from proxies: k = 1 is the difference in P(event) between the arms
    if (name == "na_covariates") {
      # proxies must be complete: a classed refusal naming the proxy column
      err <- tryCatch(causal_mixture(d, "t", "y", treatment_proxies = "stage",
                                     outcome_proxies = "age", k = 1, threads = 1),
                      error = identity)
      expect_s3_class(err, "causalsandbox_input_error")
    } else {
      cm <- suppressWarnings(causal_mixture(d, "t", "y", treatment_proxies = "stage",
                                            outcome_proxies = "age", k = 1, threads = 1))
      real_naive <- mean(as.character(d$y)[as.character(d$t) == v$treated] == v$event) -
        mean(as.character(d$y)[as.character(d$t) != v$treated] == v$event)
      expect_equal(cm$naive_difference, real_naive, info = name)
    }
    st <- run_study(fit, scenario_grid(), n = 150, reps = 1, estimators = "aipw", seed = 6)
    expect_true(is.finite(as.data.frame(st)$estimate), info = name)
  }
})

test_that("a cohort with missing covariates runs from fit to study summary", {
  skip_on_cran()
  d <- matrix_variants()$na_covariates$data
  fit <- tiny_fit(d, "t", "y", epochs = 3, hidden = 8, seed = 1, calibrate_marginals = FALSE,
                   refit_prior = FALSE)
  study <- run_study(fit, scenario_grid(overlap = c(1, 0.5)), n = 200, reps = 2,
                     estimators = list(aipw = estimator_aipw(), cc = estimator_or(
                       missing = "complete_case")), seed = 4)
  res <- as.data.frame(study)
  expect_true(all(is.na(res$error)))
  expect_true(all(is.finite(res$estimate)))
  s <- summary(study)
  expect_equal(nrow(s), 4L)
  # the study's string estimators take `missing` too; "fail" names the argument in each error
  failed <- run_study(fit, scenario_grid(), n = 200, reps = 1, estimators = "aipw", seed = 4,
                      missing = "fail")
  expect_match(as.data.frame(failed)$error, "`missing = \"indicator\"`")
  err <- tryCatch(estimate_ate(d, "t", "y", c("age", "stage"), missing = "fail"),
                  error = identity)
  expect_s3_class(err, "causalsandbox_input_error")
  expect_identical(c(err$argument, err$column), c("missing", "age"))
  # complete-case analysis drops the rows with NA and says so
  cc <- estimate_ate(d, "t", "y", c("age", "stage"), missing = "complete_case", method = "or")
  expect_identical(cc$n, sum(!is.na(d$age)))
  expect_identical(cc$missing$rows_dropped, sum(is.na(d$age)))
  aug <- hybrid_synth(d, "t", "y", fit = fit, n = 150, seed = 5)
  expect_true(anyNA(aug$age))
  expect_true(is.finite(truth(aug)$ate))
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
