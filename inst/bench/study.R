# Benchmark: a simulation study of 1,000 replicates x n = 4,098 x {OR, IPW, AIPW, TMLE} with
# GLM nuisance models, against an R loop that calls tmle::tmle plus a glm-based Hajek IPW on
# the same replicates (same cohorts, same estimates).
#
# Run from the package root after installing it:
#   Rscript inst/bench/study.R [reps] [baseline_reps]
# reps (default 1000) replicates go through run_study(); the baseline loop runs on the first
# baseline_reps (default 50) of the same replicates and its time per replicate is scaled to
# `reps` (calling tmle 1,000 times takes the better part of an hour). Everything is timed in
# this run; the ratio is the figure to read.
#
# Generator: a plasmode version of the bundled mCRPC cohort (n = 4,098, 18 covariates):
# covariate rows are resampled, treatment and binary outcome are drawn from logistic models
# fitted to the cohort, with a known effect. (A causalmix fit on `mcrpc` can replace it: any
# object with a simulate() method returning a sandbox_data works.)

suppressPackageStartupMessages(library(causalsandbox))
args <- commandArgs(trailingOnly = TRUE)
reps <- if (length(args) >= 1) as.integer(args[1]) else 1000L
baseline_reps <- if (length(args) >= 2) as.integer(args[2]) else 50L
n <- 4098L

data("mcrpc", package = "causalsandbox", envir = environment())
covariates <- setdiff(names(mcrpc), c("exp", "hosp_ed_any"))
ps_model <- glm(reformulate(covariates, "exp"), binomial(), data = mcrpc)
y_model <- glm(reformulate(c("exp", covariates), "hosp_ed_any"), binomial(), data = mcrpc)

# The covariate law is the empirical one of mcrpc, so the population ATE is exact. Linear
# predictors are computed once per cohort row; a draw resamples rows. The simulate() method
# uses only fields of the object, so future workers need nothing else.
ate_logodds <- 0.25
lp_ps <- predict(ps_model, type = "link")
lp0 <- predict(y_model, newdata = cbind(mcrpc[covariates], exp = 0L), type = "link")
plasmode <- structure(list(data = mcrpc[covariates], covariates = covariates,
                           ps = plogis(lp_ps), mu0 = plogis(lp0),
                           mu1 = plogis(lp0 + ate_logodds),
                           ate = mean(plogis(lp0 + ate_logodds) - plogis(lp0))),
                      class = "plasmode_mcrpc")

simulate.plasmode_mcrpc <- function(object, nsim, seed = NULL, ...) {
  if (!is.null(seed)) set.seed(seed)
  rows <- sample.int(nrow(object$data), nsim, replace = TRUE)
  d <- object$data[rows, , drop = FALSE]
  rownames(d) <- NULL
  ps <- object$ps[rows]
  mu0 <- object$mu0[rows]
  mu1 <- object$mu1[rows]
  t <- rbinom(nsim, 1, ps)
  u <- runif(nsim)
  y0 <- as.integer(u < mu0)
  y1 <- as.integer(u < mu1)
  d$exp <- t
  d$hosp_ed_any <- ifelse(t == 1, y1, y0)
  d$.ps <- ps; d$.mu0 <- mu0; d$.mu1 <- mu1; d$.tau <- mu1 - mu0; d$.y0 <- y0; d$.y1 <- y1
  new_sandbox_data(d, list(treatment = "exp", outcome = "hosp_ed_any",
                           covariates = object$covariates),
                   list(ate = object$ate))
}

cpu <- function(expr) {
  t0 <- proc.time()
  force(expr)
  t1 <- proc.time() - t0
  c(wall = t1[["elapsed"]], cpu = t1[["user.self"]] + t1[["sys.self"]])
}

cat(sprintf("causalsandbox study benchmark: %d replicates x n = %d x {OR, IPW, AIPW, TMLE}\n",
            reps, n))
cat(sprintf("R %s; BLAS: %s\n", getRversion(), extSoftVersion()[["BLAS"]]))

# --- causalsandbox: run_study, sequential plan -----------------------------------------
if (requireNamespace("future", quietly = TRUE)) future::plan(future::sequential)
estimators <- list(glm = estimator_ate(c("or", "ipw", "aipw", "tmle")))
ours_time <- cpu(
  study <- run_study(plasmode, scenario_grid(), n = n, reps = reps, estimators = estimators,
                     seed = 2026)
)
wall <- ours_time[["wall"]]
res <- as.data.frame(study)
cat(sprintf("run_study: %.1f s wall, %.1f s CPU (%.1f ms wall, %.1f ms CPU per replicate incl. the draw), %d failures\n",
            wall, ours_time[["cpu"]], 1000 * wall / reps, 1000 * ours_time[["cpu"]] / reps,
            sum(!is.na(res$error))))

# time of the draws alone, to separate generation from estimation
draw_time <- system.time(for (r in seq_len(min(reps, 100)))
  simulate(plasmode, n, seed = causalsandbox:::task_seed(2026, 1, r)))[["elapsed"]] / min(reps, 100)
cat(sprintf("  of which drawing a cohort: %.1f ms per replicate\n", 1000 * draw_time))

# --- baseline: R loop with tmle::tmle + glm-based Hajek IPW on the same replicates ------------
if (!requireNamespace("tmle", quietly = TRUE)) {
  cat("tmle is not installed: no baseline.\n")
  quit(save = "no")
}
suppressPackageStartupMessages(library(tmle))
baseline_reps <- min(baseline_reps, reps)
base_est <- matrix(NA_real_, baseline_reps, 2, dimnames = list(NULL, c("tmle", "ipw")))
base_time <- cpu(for (r in seq_len(baseline_reps)) {
  d <- as.data.frame(simulate(plasmode, n, seed = causalsandbox:::task_seed(2026, 1, r)))
  W <- d[covariates]
  fit <- suppressWarnings(tmle(d$hosp_ed_any, d$exp, W, family = "binomial",
                               Q.SL.library = "SL.glm", g.SL.library = "SL.glm",
                               cvQinit = FALSE))
  ps <- predict(glm(reformulate(covariates, "exp"), binomial(), data = d), type = "response")
  b <- 5 / sqrt(n) / log(n)
  w1 <- d$exp / pmax(ps, b)
  w0 <- (1 - d$exp) / pmax(1 - ps, b)
  base_est[r, ] <- c(fit$estimates$ATE$psi,
                     sum(w1 * d$hosp_ed_any) / sum(w1) - sum(w0 * d$hosp_ed_any) / sum(w0))
})
base_wall <- base_time[["wall"]]
per_rep_base <- base_time / baseline_reps
per_rep_ours <- ours_time / reps
ours <- res[res$rep <= baseline_reps, ]
diff_tmle <- max(abs(ours$estimate[ours$estimator == "glm:tmle"] / base_est[, "tmle"] - 1))
diff_ipw <- max(abs(ours$estimate[ours$estimator == "glm:ipw"] / base_est[, "ipw"] - 1))
cat(sprintf("baseline loop (tmle::tmle + glm IPW): %.1f s wall for %d replicates = %.0f ms wall, %.0f ms CPU per replicate\n",
            base_wall, baseline_reps, 1000 * per_rep_base[["wall"]], 1000 * per_rep_base[["cpu"]]))
cat(sprintf("  scaled to %d replicates: %.0f s wall\n", reps, per_rep_base[["wall"]] * reps))
cat(sprintf("  same estimates: max relative difference TMLE %.1e, IPW %.1e\n", diff_tmle, diff_ipw))
cat(sprintf("speed-up of run_study over the baseline loop (per replicate, 4 estimators vs 2): %.1fx wall, %.1fx CPU\n",
            per_rep_base[["wall"]] / per_rep_ours[["wall"]],
            per_rep_base[["cpu"]] / per_rep_ours[["cpu"]]))

# --- parallel run through future (2 workers), same results -----------------------------------
if (requireNamespace("future.apply", quietly = TRUE)) {
  future::plan(future::multisession, workers = 2)
  small <- min(reps, 200L)
  par_wall <- system.time(
    par_study <- run_study(plasmode, scenario_grid(), n = n, reps = small,
                           estimators = estimators, seed = 2026))[["elapsed"]]
  future::plan(future::sequential)
  same <- identical(as.data.frame(par_study)$estimate, res$estimate[res$rep <= small])
  cat(sprintf("multisession (2 workers), %d replicates: %.1f s (sequential share: %.1f s); identical estimates: %s\n",
              small, par_wall, wall * small / reps, same))
}
print(summary(study)[, c("estimator", "n_ok", "mean", "emp_se", "model_se", "coverage")])
