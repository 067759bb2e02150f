# The 20-covariate mixed table shared by the causalmix_fit and simulate benchmarks (sourced
# from the repository root): 8 continuous, 3 counts, 2 semicontinuous, 5 binary, 2 categorical
# (4 levels), 2% missing in two columns; binary treatment, continuous outcome.
mixed_table <- function(n) {
  set.seed(2)
  z <- matrix(rnorm(n * 4), n)
  d <- data.frame(row.names = seq_len(n))
  for (j in 1:8) d[[paste0("c", j)]] <- z[, (j - 1) %% 4 + 1] * j + rnorm(n)
  for (j in 1:3) d[[paste0("k", j)]] <- rpois(n, exp(0.5 + 0.3 * z[, j]))
  for (j in 1:2) d[[paste0("s", j)]] <- ifelse(z[, j + 1] < 0, 0, round(exp(7 + z[, j]), 2))
  for (j in 1:5) d[[paste0("b", j)]] <- rbinom(n, 1, plogis(z[, (j %% 4) + 1]))
  for (j in 1:2) d[[paste0("f", j)]] <- factor(cut(z[, j] + rnorm(n), c(-Inf, -1, 0, 1, Inf),
                                                   labels = c("a", "b", "c", "d")))
  d$c1[sample(n, n / 50)] <- NA
  d$f2[sample(n, n / 50)] <- NA
  d$treat <- rbinom(n, 1, plogis(0.5 * z[, 1] - 0.3 * z[, 2]))
  d$y <- z[, 1] + d$treat * (1 + 0.5 * z[, 3]) + rnorm(n)
  d
}
