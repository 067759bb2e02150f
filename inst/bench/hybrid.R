# Hybrid synthetic data versus fully generative synthesis, and targeted positivity
# augmentation (issue: hybrid synthesis). Prints tables; run with
#   Rscript inst/bench/hybrid.R
# Environment: CS_BENCH_REPS (default 20) replicates for the ATE-preservation study,
# CS_BENCH_POSITIVITY_REPS (default 100) for the positivity study, CS_THREADS (default 2);
# CS_BENCH_SECTIONS (default "toy,lalonde,positivity") selects the sections to run.
suppressPackageStartupMessages(library(causalsandbox))
threads <- as.integer(Sys.getenv("CS_THREADS", "2"))
options(causalsandbox.threads = threads)
reps <- as.integer(Sys.getenv("CS_BENCH_REPS", "20"))
positivity_reps <- as.integer(Sys.getenv("CS_BENCH_POSITIVITY_REPS", "100"))
toy_truth <- truth(positivity_example_data(20, seed = 1))$ate
toy_covariates <- paste0("W", 1:6)
sections <- strsplit(Sys.getenv("CS_BENCH_SECTIONS", "toy,lalonde,positivity"), ",")[[1]]
started <- Sys.time()

aipw_ipw <- function(data, treatment, outcome, covariates) {
  est <- tryCatch(as.data.frame(estimate_ate(data, treatment, outcome, covariates,
                                             method = c("aipw", "ipw"))),
                  error = function(e) NULL)
  if (is.null(est)) return(c(aipw = NA_real_, ipw = NA_real_))
  stats::setNames(est$estimate, est$method)
}

rbind_fill <- function(rows) {
  cols <- unique(unlist(lapply(rows, names)))
  do.call(rbind, lapply(rows, function(r) {
    for (col in setdiff(cols, names(r))) r[[col]] <- NA_real_
    r[cols]
  }))
}

# One replicate: real data, then AIPW/IPW on fully generative, hybrid and targeted hybrid
# synthetic data of the same size.
preservation_replicate <- function(real, treatment, outcome, covariates, seed) {
  control <- causalmix_control(seed = seed)
  joint <- joint_synth(real, treatment, outcome, covariates, control = control, seed = seed)
  fit <- causalmix(real, treatment, outcome, covariates, control = control)
  hybrid <- hybrid_synth(real, treatment, outcome, covariates, fit = fit, targeted = FALSE,
                         seed = seed)
  targeted <- hybrid_synth(real, treatment, outcome, covariates, fit = fit, targeted = TRUE,
                           seed = seed)
  rbind_fill(list(
    data.frame(data = "real", t(aipw_ipw(real, treatment, outcome, covariates))),
    data.frame(data = "fully generative", t(aipw_ipw(joint, treatment, outcome, covariates))),
    data.frame(data = "hybrid", t(aipw_ipw(hybrid, treatment, outcome, covariates)),
               process_truth = truth(hybrid)$ate),
    data.frame(data = "targeted hybrid", t(aipw_ipw(targeted, treatment, outcome, covariates)),
               process_truth = truth(targeted)$ate)))
}

summarise_errors <- function(results, reference) {
  out <- lapply(split(results, factor(results$data, unique(results$data))), function(r) {
    err_aipw <- r$aipw - reference(r)
    err_ipw <- r$ipw - reference(r)
    data.frame(data = r$data[1], reps = sum(is.finite(r$aipw)),
               mean_aipw = mean(r$aipw, na.rm = TRUE),
               mean_abs_error_aipw = mean(abs(err_aipw), na.rm = TRUE),
               rmse_aipw = sqrt(mean(err_aipw^2, na.rm = TRUE)),
               mean_ipw = mean(r$ipw, na.rm = TRUE),
               mean_abs_error_ipw = mean(abs(err_ipw), na.rm = TRUE))
  })
  do.call(rbind, out)
}

cat(sprintf("causalsandbox hybrid benchmark: %d replicates, %d positivity replicates, %d threads\n\n",
            reps, positivity_reps, threads))

if ("toy" %in% sections) {
cat("== ATE preservation on the positivity toy process (seed data: RCT, n = 1000; truth",
    format(toy_truth), ")\n")
toy <- rbind_fill(lapply(seq_len(reps), function(r) {
  real <- as.data.frame(positivity_example_data(1000, design = "rct", seed = r))
  real <- real[c(toy_covariates, "A", "Y")]
  cbind(rep = r, preservation_replicate(real, "A", "Y", toy_covariates, seed = 1000 + r))
}))
print(summarise_errors(toy, function(r) toy_truth), digits = 3, row.names = FALSE)
}

if ("lalonde" %in% sections && requireNamespace("MatchIt", quietly = TRUE)) {
  cat("\n== ATE preservation on lalonde (reference: AIPW on the real data)\n")
  lalonde <- get(utils::data("lalonde", package = "MatchIt", envir = environment()))
  lalonde_covariates <- setdiff(names(lalonde), c("treat", "re78"))
  reference <- aipw_ipw(lalonde, "treat", "re78", lalonde_covariates)[["aipw"]]
  cat(sprintf("real-data AIPW ATE: %.1f\n", reference))
  lal <- rbind_fill(lapply(seq_len(reps), function(r) {
    cbind(rep = r, preservation_replicate(lalonde, "treat", "re78", lalonde_covariates,
                                          seed = 2000 + r))
  }))
  print(summarise_errors(lal, function(r) reference), digits = 4, row.names = FALSE)
}

if ("positivity" %in% sections) {
cat("\n== Positivity: observational toy process, n = 200; AIPW with and without augmentation\n")
cat("   generator: causalmix fitted once on a seed RCT of n = 1000 from the same process\n")
seed_rct <- as.data.frame(positivity_example_data(1000, design = "rct", seed = 4999))
generator <- causalmix(seed_rct[c(toy_covariates, "A", "Y")], "A", "Y",
                       control = causalmix_control(seed = 4999))
positivity <- do.call(rbind, lapply(seq_len(positivity_reps), function(r) {
  real <- as.data.frame(positivity_example_data(200, design = "observational", seed = 5000 + r))
  real <- real[c(toy_covariates, "A", "Y")]
  plain <- aipw_ipw(real, "A", "Y", toy_covariates)[["aipw"]]
  augmented_aipw <- function(threshold, outcome_model) {
    augmented <- suppressMessages(augment_overlap(real, "A", "Y", fit = generator,
                                                  threshold = threshold,
                                                  outcome_model = outcome_model, seed = r))
    added <- if (".synthetic" %in% names(augmented)) sum(augmented$.synthetic) else 0L
    c(aipw = aipw_ipw(as.data.frame(augmented), "A", "Y", toy_covariates)[["aipw"]],
      added = added)
  }
  adaptive <- augmented_aipw("adaptive", "generator")
  fixed <- augmented_aipw("fixed", "generator")
  real_outcomes <- augmented_aipw("adaptive", "real")
  data.frame(rep = r, without = plain, adaptive = adaptive[["aipw"]],
             added_adaptive = adaptive[["added"]], fixed = fixed[["aipw"]],
             added_fixed = fixed[["added"]], real_outcomes = real_outcomes[["aipw"]])
}))
rmse <- function(v) sqrt(mean((v - toy_truth)^2, na.rm = TRUE))
mc_se_rmse <- function(v) {
  # delta-method Monte Carlo SE of an RMSE (Morris, White and Crowther 2019)
  e2 <- (v[is.finite(v)] - toy_truth)^2
  stats::sd(e2) / sqrt(length(e2)) / (2 * sqrt(mean(e2)))
}
columns <- c(without = "AIPW on real data",
             adaptive = "augmented, adaptive threshold, generator outcomes",
             fixed = "augmented, fixed 0.001, generator outcomes",
             real_outcomes = "augmented, adaptive threshold, outcomes from real-data Q")
print(do.call(rbind, lapply(names(columns), function(col) {
  v <- positivity[[col]]
  data.frame(analysis = columns[[col]], reps = sum(is.finite(v)),
             mean = mean(v, na.rm = TRUE), bias = mean(v, na.rm = TRUE) - toy_truth,
             rmse = rmse(v), rmse_mc_se = mc_se_rmse(v))
})), digits = 3, row.names = FALSE)
cat(sprintf("rows added per replicate: adaptive median %g (range %g-%g); fixed median %g (range %g-%g)\n",
            stats::median(positivity$added_adaptive), min(positivity$added_adaptive),
            max(positivity$added_adaptive), stats::median(positivity$added_fixed),
            min(positivity$added_fixed), max(positivity$added_fixed)))
}
cat(sprintf("\nwall time: %.1f min\n", as.numeric(difftime(Sys.time(), started, units = "mins"))))
