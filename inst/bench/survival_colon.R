# A new user's run on survival::colon (deaths, etype == 2; Lev+5FU against observation): fit,
# summary, knob limits, real-data estimates, a synthetic cohort with known RMST difference and
# confounding, a small study and fidelity. Rscript inst/bench/survival_colon.R
suppressPackageStartupMessages({library(causalsandbox); library(survival)})
options(causalsandbox.threads = 2)
d <- subset(colon, etype == 2 & rx != "Lev")
d$lev5fu <- as.integer(d$rx == "Lev+5FU")
d <- d[c("sex", "age", "obstruct", "perfor", "adhere", "nodes", "differ", "extent", "surg", "node4", "lev5fu", "time", "status")]
cat("rows", nrow(d), "events", sum(d$status), "NA nodes", sum(is.na(d$nodes)), "NA differ", sum(is.na(d$differ)), "\n")
t0 <- proc.time()
fit <- causalmix(d, "lev5fu", c(time = "time", event = "status"), seed = 1)
print(proc.time() - t0)
print(fit)
sm <- summary(fit, horizon = 1825); print(sm)
lim <- knob_limits(fit, horizon = 1825, estimand = "rmst_difference", ate = 150); print(lim)
# real-data estimates (complete cases: the estimators refuse missing covariates)
cc <- d[complete.cases(d), ]
covs <- c("sex", "age", "obstruct", "perfor", "adhere", "nodes", "differ", "extent", "surg", "node4")
real <- estimate_survival(cc, "lev5fu", "time", "status", covs, horizon = 1825, estimand = c("risk_difference", "rmst_difference"))
print(real)
print(logrank_test(d, "lev5fu", "time", "status", horizon = 1825))
# synthetic cohort with a known RMST difference of 150 days at 5 years and confounding of -60 days
syn <- simulate(fit, nsim = 5000, seed = 2, ate = 150, estimand = "rmst_difference", horizon = 1825, confounding = -60)
print(truth(syn))
e <- estimate_ate(syn, method = c("aipcw", "ipw_km", "cox_gformula"))
print(e)
# study: bias/coverage at no confounding vs confounding
st <- run_study(survival_generator(fit, "rmst_difference", horizon = 1825), scenario_grid(ate = 150, confounding = c(0, -60)),
                n = 614, reps = 20, estimators = list(s = estimator_survival(c("aipcw", "ipw_km", "cox_gformula")), lr = estimator_logrank()), seed = 3)
print(summary(st)[, c("confounding", "estimator", "bias", "coverage", "power")])
f <- fidelity(d[complete.cases(d), ], as.data.frame(simulate(fit, nsim = 614, seed = 9, horizon = 1825))[names(d)], treatment = "lev5fu", outcome = c(time = "time", event = "status"), network = FALSE, forest = FALSE, threads = 2)
print(f)
print(proc.time() - t0)
