# Cost of the outcome's marginal transform (issue 24): fit and draw CPU of the same table with
# the transform (default) and without it (marginal_transforms = FALSE: the Gaussian and
# point-mass heads), measured alternately in one run, and the realism it buys (KS distance
# and point-mass shares of the drawn outcome).
#   Rscript inst/bench/outcome_transform.R [rounds]
suppressPackageStartupMessages(library(causalsandbox))
rounds <- as.integer(commandArgs(TRUE)[1])
if (is.na(rounds)) rounds <- 3L
cpu <- function(expr) {
  t <- system.time(force(expr))
  t[["user.self"]] + t[["sys.self"]]
}
source(file.path("inst", "bench", "public_cohorts.R"))   # public_cohorts()
tables <- public_cohorts()[c("lalonde", "nhefs")]
tables <- tables[!vapply(tables, is.null, logical(1))]
cat(sprintf("outcome transform bench: %s, %d rounds, 1 thread, load average %s\n",
            format(Sys.time()), rounds, paste(readLines("/proc/loadavg"), collapse = "")))
for (name in names(tables)) {
  tb <- tables[[name]]
  treatment <- tb$treatment
  real <- tb$data[[tb$outcome]]
  res <- NULL
  for (r in seq_len(rounds)) for (transform in c(TRUE, FALSE)) {
    fit <- NULL
    fit_cpu <- cpu(fit <- suppressWarnings(causalmix(tb$data, treatment, tb$outcome, seed = r,
                                                     threads = 1,
                                                     marginal_transforms = transform)))
    invisible(simulate(fit, nsim = 1000, seed = 1, threads = 1))   # reference draw cached
    s <- NULL
    draw_cpu <- cpu(s <- simulate(fit, nsim = 200000, seed = r, threads = 1))
    y <- s[[tb$outcome]]
    res <- rbind(res, data.frame(
      transform = transform, fit_cpu = fit_cpu, draw_cpu = draw_cpu,
      ks = unname(suppressWarnings(stats::ks.test(y, real)$statistic)),
      zero_gap = abs(mean(y == 0) - mean(real == 0)),
      outside = mean(y < min(real) | y > max(real))))
  }
  agg <- aggregate(. ~ transform, res, mean)
  cat(sprintf("\n-- %s (%d rows): means over %d fits --\n", name, nrow(tb$data), rounds))
  print(agg, digits = 3, row.names = FALSE)
  with_t <- agg[agg$transform, ]
  without <- agg[!agg$transform, ]
  cat(sprintf("ratio with / without transform: fit CPU %.2f, draw CPU (200,000 rows) %.2f\n",
              with_t$fit_cpu / without$fit_cpu, with_t$draw_cpu / without$draw_cpu))
}
