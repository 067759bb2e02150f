# Missing covariates: the "indicator" default of estimate_ate(missing = ) against complete-case
# analysis, on synthetic cohorts drawn from a fit of raw NHEFS (covariates with their own
# missing values: sbp, income, alcoholhowmuch, cholesterol). The truth is the effect in the
# whole cohort, rows with missing values included. Run from the package root:
#   R_LIBS=<lib> Rscript inst/bench/missing_strategy.R
library(causalsandbox)
options(causalsandbox.threads = 1)
stopifnot(requireNamespace("causaldata", quietly = TRUE))
data("nhefs", package = "causaldata")
cols <- c("qsmk", "wt82_71", "sex", "race", "age", "education", "smokeintensity", "smokeyrs",
          "exercise", "active", "wt71", "sbp", "income", "alcoholhowmuch", "cholesterol")
d <- as.data.frame(nhefs)[cols]
d <- d[!is.na(d$wt82_71), ]  # the outcome must be observed
d$education <- factor(d$education)
cat(sprintf("NHEFS: %d rows, %.1f%% with a missing covariate\n", nrow(d),
            100 * mean(!stats::complete.cases(d))))
fit <- suppressWarnings(causalmix(d, "qsmk", "wt82_71", seed = 1))
reps <- as.integer(Sys.getenv("BENCH_REPS", "100"))
started <- proc.time()[["elapsed"]]
study <- run_study(fit, scenario_grid(confounding = c(0, 0.5)), n = 1500, reps = reps,
                   estimators = list(indicator = estimator_aipw(missing = "indicator"),
                                     complete_case = estimator_aipw(missing = "complete_case")),
                   seed = 11)
cat(sprintf("%d replicates per scenario in %.0f s\n", reps, proc.time()[["elapsed"]] - started))
print(summary(study))
res <- as.data.frame(summary(study))
cc <- res$rmse[res$estimator == "complete_case"]
ind <- res$rmse[res$estimator == "indicator"]
cat(sprintf("RMSE ratio complete_case / indicator per scenario: %s\n",
            paste(format(cc / ind, digits = 3), collapse = ", ")))
