## The flagship demo of causalsandbox: a comparative safety study on the bundled simulated
## mCRPC cohort (abiraterone vs enzalutamide; outcome: any hospitalisation or emergency
## visit within a year). It
##   1. fits the generative model (CausalMix) on `mcrpc`;
##   2. draws scenarios with known truth: the effect learned from the cohort, without and
##      with unmeasured confounding of 0.02 on the risk-difference scale (spread over the
##      patients in proportion to the room their risks leave; its mean is exactly 0.02);
##   3. compares outcome regression, IPW, AIPW and TMLE over a handful of replicates;
##   4. prints the performance table and saves the plot `mcrpc_study.png` in the working
##      directory.
## It takes about a minute on two cores.

library(causalsandbox)
options(causalsandbox.threads = 2)
started <- proc.time()[["elapsed"]]

data(mcrpc)
cat(sprintf(paste0("mcrpc: %d simulated patients, %d covariates, %.1f%% on abiraterone, ",
                   "%.1f%% hospitalised or seen in the ED within a year\n\n"),
            nrow(mcrpc), ncol(mcrpc) - 2, 100 * mean(mcrpc$exp), 100 * mean(mcrpc$hosp_ed_any)))

## 1. The generative model of the cohort (covariates, treatment and outcome models, in C).
fit <- causalmix(mcrpc, treatment = "exp", outcome = "hosp_ed_any", seed = 2024)
print(fit)

## 2. A scenario with known truth. With unmeasured confounding of 0.02, every
##    covariate-adjusted estimator of the ATE converges to ATE + 0.02.
cat("\nOne synthetic cohort with unmeasured confounding of 0.02:\n")
print(truth(simulate(fit, nsim = nrow(mcrpc), seed = 1, confounding = 0.02)))
design <- scenario_grid(confounding = c(0, 0.02))

## 3. Four estimators with the same GLM nuisance models; 25 synthetic cohorts of the real
##    size per scenario, each with its own seed.
estimators <- list(OR = estimator_or(), IPW = estimator_ipw(), AIPW = estimator_aipw(),
                   TMLE = estimator_tmle())
study <- run_study(fit, design = design, n = nrow(mcrpc), reps = 25,
                   estimators = estimators, seed = 1)

## 4. The table and the plot.
cat("\n")
print(summary(study))
png("mcrpc_study.png", width = 1100, height = 600, res = 110)
plot(study)
invisible(dev.off())
cat(sprintf("\nPlot saved to %s\n", normalizePath("mcrpc_study.png")))
cat(sprintf("Demo finished in %.0f s\n", proc.time()[["elapsed"]] - started))
