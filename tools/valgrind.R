# Memory check of the C code: runs every registered .Call entry point (src/init.c) through the
# package's R functions on tiny inputs (a few hundred rows at most, 1-3 epochs, 1 and 2
# threads), so that the whole run under valgrind takes minutes rather than hours.
#
# How to run (from the package root, after installing the package into a library):
#   mkdir -p /tmp/lib_vg && R CMD INSTALL --no-multiarch -l /tmp/lib_vg .
#   R_LIBS=/tmp/lib_vg R -d "valgrind --error-exitcode=1 --leak-check=full --track-origins=yes \
#     --suppressions=tools/valgrind.supp" --vanilla -f tools/valgrind.R > valgrind.log 2>&1
# or `make valgrind` (the same, writes valgrind.log). Then read the log:
#   - "ERROR SUMMARY: 0 errors" is required (invalid reads/writes, uninitialised values);
#   - "definitely lost" must be 0 bytes; "still reachable" blocks are R's own heap at exit.
#   - The OpenMP runtime (libgomp) keeps its thread pool alive until exit: the thread-local
#     storage of a worker shows as one "possibly lost" block allocated under pthread_create
#     from GOMP_parallel. It is expected, not a package leak; tools/valgrind.supp suppresses
#     it. Without the suppressions file that block alone makes --leak-check=full report
#     "1 errors from 1 contexts" and exit 1.
# For readable stack traces, install with debug information and no optimisation, e.g.
#   MAKEFLAGS='CFLAGS=-O0\ -g' R CMD INSTALL --no-multiarch -l /tmp/lib_vg .
# Valgrind cannot see overflows of stack arrays or of small R vectors (R pools those in its own
# pages); `make sanitize` runs this script and the test suite under AddressSanitizer and
# UndefinedBehaviorSanitizer for that.
# Without valgrind (`Rscript tools/valgrind.R`) the script is a quick smoke test of the same
# calls (about a minute). It stops with an error if a registered entry point is not exercised
# here, so a new entry point must get a section below.
suppressPackageStartupMessages(library(causalsandbox))
ns <- asNamespace("causalsandbox")

# Entry points exercised by the sections below; checked against the registered ones at the end.
covered <- character(0)
section <- function(entry_points, label, code) {
  t0 <- proc.time()[["elapsed"]]
  force(code)
  covered <<- union(covered, entry_points)
  cat(sprintf("[valgrind.R] %-60s %6.1f s\n", label, proc.time()[["elapsed"]] - t0))
  invisible(NULL)
}
engine <- function(name) get(name, envir = ns)

# ---- engine core: rng --------------------------------------------------------------------------
section(c("rng_draw", "rng_stream", "rng_philox", "rng_derive_seed", "threads_cap"),
        "rng: every distribution, 1 and 2 threads", {
  draw <- engine("engine_rng_draw")
  stream <- engine("engine_rng_stream")
  seed <- c(12L, 34L)
  specs <- list(list("u32", numeric(0)), list("uniform", numeric(0)),
                list("normal", numeric(0)), list("bernoulli", 0.3),
                list("categorical", c(0.2, 0.5, 0.3)), list("gamma", 0.5),
                list("gamma", 3), list("poisson", 2), list("poisson", 50),
                list("exponential", numeric(0)))
  for (s in specs) {
    a <- draw(37, s[[1]], s[[2]], seed = seed, threads = 1)
    b <- draw(37, s[[1]], s[[2]], seed = seed, threads = 2)
    stopifnot(identical(a, b))
    stream(11, s[[1]], s[[2]], seed = seed, index = 5)
  }
  draw(0, "normal", seed = seed, threads = 1)
  engine("engine_philox")(c("243f6a88", "85a308d3", "13198a2e", "03707344"),
                          c("a4093822", "299f31d0"))
  engine("engine_derive_seed")(seed, 7)
  engine("engine_threads_cap")(2L)
  # error paths release nothing they should not
  try(draw(3, "bernoulli", 2, seed = seed), silent = TRUE)
  try(draw(3, "nosuch", seed = seed), silent = TRUE)
})

# ---- engine core: nn ---------------------------------------------------------------------------
section(c("nn_init", "nn_forward", "nn_loss", "nn_loss_each", "nn_train"),
        "nn: init, forward, losses, training", {
  sizes <- c(3L, 5L, 4L, 2L)
  acts <- c("relu", "tanh", "identity")
  p <- engine("engine_mlp_init")(sizes, acts, seed = c(1L, 2L))
  set.seed(1)
  x <- matrix(rnorm(3 * 9), 3, 9)
  y <- matrix(runif(2 * 9), 2, 9)
  for (th in 1:2) {
    engine("engine_mlp_forward")(p, sizes, acts, x, threads = th)
    engine("engine_mlp_forward")(p, sizes, acts, x, per_example = TRUE, threads = th)
    engine("engine_mlp_loss_each")(p, sizes, acts, x, y, "logistic", threads = th)
  }
  for (a in c("leaky_relu", "sigmoid", "softplus")) {
    acts2 <- c(a, a, "identity")
    p2 <- engine("engine_mlp_init")(sizes, acts2, seed = c(3L, 4L))
    engine("engine_mlp_loss")(p2, sizes, acts2, x, y, "mse")
    engine("engine_mlp_loss_each")(p2, sizes, acts2, x, y, "mse", threads = 1)
  }
  engine("engine_mlp_loss")(p, sizes, acts, x, y, "logistic")
  engine("engine_mlp_train")(p, sizes, acts, x, y, steps = 5, batch_size = 4,
                             weight_decay = 0.01, seed = c(5L, 6L))
  try(engine("engine_mlp_forward")(p[-1], sizes, acts, x), silent = TRUE)
})

# ---- causalmix and simulate --------------------------------------------------------------------
set.seed(2)
n <- 120
mixed <- data.frame(
  age = round(rnorm(n, 60, 8), 1),
  sex = factor(sample(c("female", "male"), n, TRUE)),
  stage = factor(sample(c("I", "II", "III"), n, TRUE)),
  visits = rpois(n, 3),
  cost = ifelse(runif(n) < 0.35, 0, round(rexp(n, 1 / 2000), 2)),
  smoker = sample(c(TRUE, FALSE), n, TRUE))
mixed$age[sample(n, 10)] <- NA
mixed$stage[sample(n, 8)] <- NA
mixed$treat <- rbinom(n, 1, plogis((ifelse(is.na(mixed$age), 60, mixed$age) - 60) / 8))
mixed$y <- 0.1 * mixed$visits + mixed$treat + rnorm(n)
mixed$yb <- rbinom(n, 1, plogis(-0.5 + mixed$treat))

fits <- list()
section(c("causalmix_train", "causalmix_predict", "causalmix_draw", "causalmix_posterior",
          "prior_fit_aggregate"),
        "causalmix: mixed types with NA, both priors, both outcomes", {
  for (th in 1:2) {
    fits[[sprintf("cont%d", th)]] <- causalmix(mixed[setdiff(names(mixed), "yb")], "treat", "y",
                                               hidden = 8, epochs = 2, batch_size = 32,
                                               n_components = 3, seed = 1, threads = th)
  }
  fits$bin <- causalmix(mixed[setdiff(names(mixed), "y")], "treat", "yb", hidden = c(8, 8),
                        epochs = 2, batch_size = 32, prior = "gaussian", seed = 2, threads = 2)
  fits <<- fits
  for (f in fits) for (type in c("ps", "mu0", "mu1", "tau")) {
    predict(f, type = type, threads = 1)
    predict(f, mixed[1:7, ], type = type, threads = 2)
  }
  print(fits$cont1)
  summary(fits$bin)
})

section("marginal_moments", "outcome transform: closed-form means, rows in and across blocks", {
  m <- fits$cont1$model$outcome_marginal
  for (n_rows in c(1L, 8L, 13L))
    .Call(causalsandbox:::C_marginal_moments, m$from, m$value, seq(-3, 3, length.out = n_rows),
          rep(c(0.01, 0.7, 30), length.out = n_rows))
})

section(c("simulate_outcomes", "simulate_knobs", "cohort_summary", "simulate_logit_constants"),
        "simulate: knobs on continuous and binary outcomes", {
  for (th in 1:2) {
    simulate(fits$cont1, nsim = 50, seed = 3, threads = th)
    simulate(fits$cont2, nsim = 50, seed = 3, ate = 2, heterogeneity = 0, overlap = 2,
             confounding = 0.3, threads = th)
  }
  simulate(fits$cont1, nsim = 40, seed = 4, effect = function(x) 1 + 0 * seq_len(nrow(x)),
           confounding = function(x) 0.1 + 0 * seq_len(nrow(x)), overlap = 0, threads = 2)
  simulate(fits$bin, nsim = 50, seed = 5, overlap = 0.5, threads = 2)
  simulate(fits$bin, nsim = 50, seed = 5, ate = 0.05, heterogeneity = 0.5, threads = 1)
  try(simulate(fits$bin, nsim = 20, seed = 5, confounding = 5), silent = TRUE)
})

# ---- estimators (glm IRLS) ---------------------------------------------------------------------
section("glm_irls", "glm: learner_glm and estimate_ate", {
  set.seed(6)
  m <- 150
  d <- data.frame(x1 = rnorm(m), x2 = rbinom(m, 1, 0.5))
  d$a <- rbinom(m, 1, plogis(0.5 * d$x1))
  d$y <- 1 + 2 * d$a + d$x1 + rnorm(m)
  d$yb <- rbinom(m, 1, plogis(d$a + d$x1))
  learner_glm()(d[c("x1", "x2")], d$a, "binomial")(d[1:5, ])
  learner_glm()(d[c("x1", "x2")], d$y, "gaussian")(d[1:5, ])
  estimate_ate(d[c("x1", "x2", "a", "y")], "a", "y", c("x1", "x2"))
  estimate_ate(d[c("x1", "x2", "a", "yb")], "a", "yb", c("x1", "x2"))
  # perfectly separated treatment: IRLS must stop cleanly
  d$sep <- as.integer(d$x1 > 0)
  try(learner_glm()(d["x1"], d$sep, "binomial"), silent = TRUE)
})

# ---- fidelity and dcr --------------------------------------------------------------------------
section(c("distance_nearest", "distance_mean", "classifier_cv"),
        "fidelity: dcr, energy distance, classifier two-sample test", {
  syn <- simulate(fits$cont1, nsim = 80, seed = 7, threads = 1)
  real <- mixed[setdiff(names(mixed), "yb")]
  for (th in 1:2) {
    dcr(real[1:60, ], syn, holdout = real[61:120, ], threads = th)
    f <- fidelity(real[1:60, ], syn[names(real)], treatment = "treat", outcome = "y",
                  holdout = real[61:120, ], c2st_folds = 2, threads = th)
  }
  summary(f)
  fidelity(real, syn[names(real)], network = FALSE, threads = 1)
})

# ---- causalbgm ---------------------------------------------------------------------------------
section(c("bgm_fit", "bgm_predict", "bgm_encode"),
        "causalbgm: binary and continuous treatment, both samplers", {
  set.seed(8)
  m <- 60
  v <- matrix(rnorm(m * 3), m, 3, dimnames = list(NULL, paste0("v", 1:3)))
  t <- rbinom(m, 1, plogis(v[, 1]))
  d <- data.frame(v, t = t, y = v[, 1] + 2 * t + rnorm(m, sd = 0.5))
  small <- list(g = 6, h = 4, f = 4, e = 6)
  for (th in 1:2) {
    fit <- causalbgm(d, "t", "y", control = causalbgm_control(
        z_dims = c(1, 1, 1, 1), hidden = small, epochs = 1, batch_size = 16,
        init_iterations = 20, seed = 1, threads = th))
    predict(fit, n_mcmc = 5, burn_in = 5, seed = 2, threads = th)
    predict(fit, newdata = d[1:9, ], n_mcmc = 5, burn_in = 3, sampler = "mala",
            effect = "conditional", seed = 2, threads = th)
  }
  fit_r <- causalbgm(d, "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), hidden = small, epochs = 1, batch_size = 16, init = "random",
      seed = 3, threads = 1))
  predict(fit_r, newdata = d[1:5, ], n_mcmc = 4, burn_in = 2, weight_noise = FALSE,
          seed = 4, threads = 1)
  dose <- rnorm(m, v[, 1])
  dc <- data.frame(v, dose = dose, y = dose + v[, 1] + rnorm(m, sd = 0.5))
  fit_c <- causalbgm(dc, "dose", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), hidden = small, epochs = 1, batch_size = 16,
      init_iterations = 20, seed = 5, threads = 2))
  predict(fit_c, n_mcmc = 5, burn_in = 5, x_values = c(-1, 0, 1), seed = 6, threads = 2)
  predict(fit_c, newdata = dc[1:6, ], n_mcmc = 4, burn_in = 2, sampler = "mala",
          x_values = 0, seed = 6, threads = 1)
  # an ensemble: 3 members on 2 threads (bgm_train_members), then its pooled posterior
  ens <- causalbgm(d, "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), hidden = small, epochs = 1, batch_size = 16,
      init_iterations = 20, n_fits = 3, seed = 7, threads = 2))
  predict(ens, n_mcmc = 4, burn_in = 2, seed = 8, threads = 2)
})

# ---- progress reports from the C glue -----------------------------------------------------------
# A progressr handler receives every report; one that fails makes the engine stop, free its
# memory and then resume the error (the path of r_progress_step / r_progress_finish).
section(c("causalmix_train", "bgm_fit", "bgm_predict"),
        "progress: reports and a failing progress handler", {
  if (requireNamespace("progressr", quietly = TRUE)) {
    old <- options(progressr.enable = TRUE)
    set.seed(12)
    d <- data.frame(x = rnorm(60))
    d$t <- rbinom(60, 1, 0.5)
    d$y <- d$x + rnorm(60)
    failing <- function(cond) if (cond$type == "update") stop("handler failed")
    counted <- 0
    counting <- function(cond) if (cond$type == "update") counted <<- counted + 1
    withCallingHandlers(causalmix(d, "t", "y", epochs = 2, hidden = 4, seed = 1, threads = 1),
                        progression = counting)
    try(withCallingHandlers(causalmix(d, "t", "y", epochs = 2, hidden = 4, seed = 1,
                                      threads = 2), progression = failing), silent = TRUE)
    small <- list(g = 4, h = 4, f = 4, e = 4)
    fit <- withCallingHandlers(causalbgm(d, "t", "y", control = causalbgm_control(
        z_dims = c(1, 1, 1, 1), hidden = small, epochs = 1, init_iterations = 20, seed = 1,
        n_fits = 1, threads = 1)), progression = counting)
    try(withCallingHandlers(causalbgm(d, "t", "y", control = causalbgm_control(
        z_dims = c(1, 1, 1, 1), hidden = small, epochs = 2, init_iterations = 20, seed = 1,
        threads = 1)),
                            progression = failing), silent = TRUE)
    try(withCallingHandlers(predict(fit, n_mcmc = 4, burn_in = 2, seed = 1, threads = 2),
                            progression = failing), silent = TRUE)
    # a failing handler while 2 members train on 2 threads
    try(withCallingHandlers(causalbgm(d, "t", "y", control = causalbgm_control(
        z_dims = c(1, 1, 1, 1), hidden = small, epochs = 2, init_iterations = 20, seed = 1,
        n_fits = 2, threads = 2)), progression = failing), silent = TRUE)
    options(old)
    stopifnot(counted == 2 + 20 + 1)
  }
})

# ---- synthetic potential outcomes (moments) ----------------------------------------------------
section("moments_by_arm", "spo: causal_mixture with and without bootstrap", {
  # too few rows for k = 2: the rank check fails, an error path through the same code
  try(causal_mixture(spo_example_data(300, seed = 1), "t", "y", c("z1", "z2"), c("x1", "x2"),
                     k = 2, threads = 1), silent = TRUE)
  d <- spo_example_data(5000, seed = 1)
  for (th in 1:2)
    causal_mixture(d, "t", "y", treatment_proxies = c("z1", "z2"),
                   outcome_proxies = c("x1", "x2"), k = 2, threads = th)
  causal_mixture(d, "t", "y", c("z1", "z2"), c("x1", "x2"), k = 2, method = "prony",
                 bootstrap = 2, seed = 1, threads = 2)
})

# ---- block edges ---------------------------------------------------------------------------------
# Inputs just past the engines' block sizes (distance.c: 256 queries x 512 references, panels of
# 8 and tiles of 4; nn.c: transpose tiles of 32; bgm.c: encoder chunks of 256 rows), with
# remainders, so the partial-block code runs too.
section(c("distance_nearest", "distance_mean", "classifier_cv", "nn_forward", "nn_loss",
          "bgm_fit", "bgm_encode", "bgm_predict"),
        "block edges: distances, wide layers, bgm encoder chunks", {
  set.seed(9)
  big_real <- data.frame(a = rnorm(301), b = rexp(301), g = sample(letters[1:3], 301, TRUE))
  big_syn <- data.frame(a = rnorm(531), b = rexp(531), g = sample(letters[1:3], 531, TRUE))
  for (blas in c(FALSE, TRUE)) {
    old <- options(causalsandbox.distance_blas = blas)
    dcr(big_real, big_syn, threads = 2)
    dcr(big_syn, big_real, holdout = big_real[1:259, ], threads = 1)
    options(old)
  }
  fidelity(big_real, big_syn, network = FALSE, c2st_folds = 3, threads = 2)
  # squared norms overflow, differences do not: the direct-difference fallback of both kernels
  huge <- matrix(c(1e160, 3e160, 2e160), ncol = 1L)
  for (blas in c(FALSE, TRUE)) {
    old <- options(causalsandbox.distance_blas = blas)
    engine("nearest_distance")(matrix(3e160 + 1e150, ncol = 1L), huge, NULL, 1L)
    engine("nearest_distance")(huge, huge, 1:3, 2L)
    options(old)
  }
  # degenerate tables: one synthetic row, constant columns
  tiny <- data.frame(x = c(1, 2, 3), g = c("a", "b", "a"))
  fidelity(tiny, tiny[1, ], threads = 1)
  same <- data.frame(x = c(1, 1, 1, 1), g = "a")
  fidelity(same, same, threads = 2)
  sizes <- c(37L, 41L, 3L)
  acts <- c("softplus", "identity")
  p <- engine("engine_mlp_init")(sizes, acts, seed = c(7L, 8L))
  x <- matrix(rnorm(37 * 5), 37, 5)
  engine("engine_mlp_forward")(p, sizes, acts, x, threads = 2)
  engine("engine_mlp_loss")(p, sizes, acts, x, matrix(rnorm(15), 3, 5), "mse")
  m <- 300
  v <- matrix(rnorm(m * 2), m, 2, dimnames = list(NULL, c("v1", "v2")))
  t <- rbinom(m, 1, plogis(v[, 1]))
  d <- data.frame(v, t = t, y = v[, 1] + t + rnorm(m))
  fit <- causalbgm(d, "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), hidden = list(g = 4, h = 4, f = 4, e = 4), epochs = 1,
      batch_size = 64, init_iterations = 5, seed = 1, threads = 2))
  predict(fit, newdata = d[1:270, ], n_mcmc = 2, burn_in = 1, seed = 2, threads = 2)
})

# ---- time-to-event outcomes -------------------------------------------------------------------
# The survival model (train, predict, the draws on each estimand scale with confounding) and
# the survival estimators (AIPCW on both estimands, the step-curve areas of IPW-KM/g-formula).
# A raw-scale covariate (age) gets a marginal transform, so new rows go through its lookup.
section(c("survival_train", "survival_predict", "survival_draw", "survival_aipcw",
          "survival_step_areas", "survival_aipcw_rmst", "marginal_encode"),
        "survival: fit, predict, draws on three scales, estimators", {
  set.seed(21)
  m <- 200
  ds <- data.frame(age = round(rnorm(m, 70, 8)), x2 = rnorm(m),
                   grp = factor(sample(c("a", "b", "c"), m, TRUE)))
  ds$age[c(3, 9)] <- NA
  ds$treat <- rbinom(m, 1, plogis(0.5 * ds$x2))
  event_time <- rexp(m, 0.01 * exp(0.3 * ds$x2 - 0.4 * ds$treat))
  censor_time <- runif(m, 20, 200)
  ds$time <- pmin(event_time, censor_time)
  ds$status <- as.integer(event_time <= censor_time)
  for (th in 1:2) {
    sf <- causalmix(ds, "treat", c(time = "time", event = "status"), hidden = 8, epochs = 2,
                    batch_size = 32, seed = 1, threads = th)
    for (type in c("risk", "survival", "rmst", "log_hr", "ps"))
      predict(sf, ds[1:9, ], type = type, threads = th)
    simulate(sf, nsim = 60, seed = 3, threads = th)
    simulate(sf, nsim = 60, seed = 3, estimand = "rmst_difference", confounding = 0.5,
             threads = th)
    simulate(sf, nsim = 60, seed = 3, estimand = "hazard_ratio", ate = 0.8, threads = th)
  }
  cohort <- simulate(sf, nsim = 150, seed = 4, threads = 2)
  estimate_ate(cohort, method = c("aipcw", "ipw_km", "cox_gformula", "ipw_cox_hr"))
  estimate_survival(ds, "treat", "time", "status", c("age", "x2", "grp"), horizon = 100,
                    estimand = c("risk_difference", "rmst_difference"))
})

# ---- elementary functions and small products ------------------------------------------------------
section(c("lane_math", "small_gemm_product"),
        "lane math, array exp/log/sincos, small products (AVX2 and portable)", {
  x <- c(seq(-750, 720, length.out = 37), 0, -0, NaN, Inf, -Inf)
  for (fun in c("exp", "log", "tanh", "cos2pi", "sin2pi", "erfcx"))
    engine("engine_lane_math")(x, fun)
  u <- c(runif(33), 0, 1)
  for (fun in c("exp_array", "log_array", "sincos2pi_array"))
    engine("engine_lane_math")(c(x, u), fun)
  for (portable in c(FALSE, TRUE)) {
    a <- matrix(rnorm(7 * 5), 7, 5)
    b <- matrix(rnorm(5 * 9), 5, 9)
    engine("engine_small_gemm")(a, b, portable = portable)
    engine("engine_small_gemm")(a, t(b), c = matrix(1, 7, 9), trans_b = TRUE,
                                portable = portable)
  }
})

# ---- coverage of the registered entry points ---------------------------------------------------
registered <- names(getDLLRegisteredRoutines("causalsandbox")$.Call)
missing <- setdiff(registered, covered)
if (length(missing))
  stop("tools/valgrind.R does not exercise: ", paste(missing, collapse = ", "))
cat(sprintf("[valgrind.R] all %d registered entry points exercised\n", length(registered)))
