# The simulated cohort of the survival benchmarks (inst/bench/survival.R and
# survival_paired.R), in one place so both time the same table.
# A cohort of n rows with 20 covariates (12 continuous, 5 binary, 3 four-level factors),
# Weibull proportional hazards, logistic propensity, exponential loss to follow-up and
# administrative censoring at 365 days.
bench_cohort <- function(n, seed) {
  set.seed(seed)
  d <- as.data.frame(matrix(rnorm(n * 12), n, 12, dimnames = list(NULL, paste0("x", 1:12))))
  for (j in 1:5) d[[paste0("b", j)]] <- rbinom(n, 1, 0.3 + 0.05 * j)
  for (j in 1:3) d[[paste0("f", j)]] <- factor(sample(letters[1:4], n, TRUE))
  lin <- 0.4 * d$x1 - 0.3 * d$x2 + 0.2 * d$b1 + 0.3 * (d$f1 == "b")
  d$treat <- rbinom(n, 1, plogis(0.5 * d$x1 + 0.3 * d$x3 - 0.2 * d$b2))
  te <- rweibull(n, 1.3, 400 * exp(-(lin - 0.35 * d$treat) / 1.3))
  tc <- pmin(rexp(n, 1 / 900 * exp(0.2 * d$x2)), 365)
  d$days <- ceiling(pmin(te, tc))
  d$status <- as.integer(te <= tc)
  d
}
