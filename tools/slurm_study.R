# Runs a small study and power analysis sequentially and through a Slurm cluster
# (future.batchtools::batchtools_slurm with the package's template) and checks that the
# estimates are identical. Called by tools/slurm_test.sh once Slurm is up; exits non-zero on
# any difference or error.
suppressPackageStartupMessages({
  library(causalsandbox)
  library(future)
})
options(causalsandbox.threads = 1L)
template <- system.file("templates", "slurm-causalsandbox.tmpl", package = "causalsandbox")
if (!nzchar(template)) stop("the installed causalsandbox has no inst/templates/slurm-causalsandbox.tmpl")
registry_dir <- Sys.getenv("CAUSALSANDBOX_SLURM_REGISTRY", tempfile("batchtools-"))
options(future.batchtools.workers = 20L, future.cache.path = registry_dir)

# A generator fitted on a public cohort: the workers run the package's C draws.
data("lalonde", package = "MatchIt")
lalonde <- MatchIt::lalonde
fit <- causalmix(lalonde, "treat", "re78", c("age", "educ", "race", "married", "nodegree",
                                             "re74", "re75"),
                 epochs = 15, hidden = 16, seed = 1, threads = 1)
design <- scenario_grid(overlap = c(1, 2), confounding = c(0, 0.1))
estimators <- list(aipw = "aipw", ipw = "ipw", naive = "naive")

run_both <- function(label, expr_fun) {
  plan(sequential)
  t0 <- proc.time()[["elapsed"]]
  sequential_result <- expr_fun()
  t_seq <- proc.time()[["elapsed"]] - t0
  # expire.after: polls a finished job may stay unseen before it counts as lost (batchtools
  # can look for its result file before the file system shows it)
  plan(future.batchtools::batchtools_slurm, template = template,
       resources = list(ncpus = 1, walltime = 600), workers = 20L,
       registry = list(expire.after = 30L))
  t0 <- proc.time()[["elapsed"]]
  slurm_result <- expr_fun()
  t_slurm <- proc.time()[["elapsed"]] - t0
  plan(sequential)
  cat(sprintf("%s: sequential %.1f s, Slurm %.1f s\n", label, t_seq, t_slurm))
  list(sequential = sequential_result, slurm = slurm_result)
}

study <- run_both("run_study (4 scenarios x 4 replicates x 3 estimators, n = 300)", function()
  run_study(fit, design, n = 300, reps = 4, estimators = estimators, seed = 11))
power <- run_both("power_analysis (n = 200, 400; 5 replicates)", function()
  power_analysis(fit, n = c(200, 400), reps = 5, seed = 12, ate = 1000))

compare <- c("scenario", "n", "rep", "estimator", "estimate", "se", "lower", "upper",
             "p_value", "truth", "sample_truth")
same_study <- identical(study$sequential$results[compare], study$slurm$results[compare])
same_power <- identical(power$sequential$power, power$slurm$power) &&
  identical(power$sequential$study$results[compare], power$slurm$study$results[compare])
cat(sprintf("study estimates identical: %s (%d rows, %d failed runs)\n", same_study,
            nrow(study$slurm$results), sum(!is.na(study$slurm$results$error))))
cat(sprintf("power estimates identical: %s (power %s)\n", same_power,
            paste(format(power$slurm$power$power), collapse = ", ")))
if (!same_study || !same_power) {
  print(all.equal(study$sequential$results[compare], study$slurm$results[compare]))
  print(all.equal(power$sequential$power, power$slurm$power))
  quit(status = 1L)
}
if (any(!is.na(study$slurm$results$error))) {
  cat("failed runs in the Slurm study:\n")
  print(unique(study$slurm$results$error))
  quit(status = 1L)
}
