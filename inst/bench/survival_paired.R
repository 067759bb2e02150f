# Paired before/after timings of time-to-event draws and of the AIPCW estimate, both versions in
# one R process (the machine is shared: timings taken minutes apart are not comparable).
#
#   Rscript inst/bench/survival_paired.R [baseline-ref] [baseline-lib]
#
# The baseline is the package at git ref `baseline-ref` (default HEAD~1), exported with
# `git archive`, renamed to `causalsandboxold` (DESCRIPTION, NAMESPACE, R_init_) and installed
# into `baseline-lib` (default: a temporary directory; an existing installation there is
# reused). The installed causalsandbox (first on .libPaths()) is the candidate. Each version
# fits the same cohort (5,000 rows, 20 covariates, 20 epochs; the draw cost does not depend on
# the training size), then the two are timed alternately: draws of 5e5 rows with all truth
# columns on one thread (5 rounds), and 20 AIPCW estimates on 4,098 rows (5 rounds). Reported:
# median CPU seconds (user + system) of each and their ratio.
suppressPackageStartupMessages(library(causalsandbox))
args <- commandArgs(trailingOnly = TRUE)
ref <- if (length(args) >= 1L) args[1L] else "HEAD~1"
lib <- if (length(args) >= 2L) args[2L] else file.path(tempdir(), "baseline-lib")
dir.create(lib, showWarnings = FALSE, recursive = TRUE)
if (!dir.exists(file.path(lib, "causalsandboxold"))) {
  src <- file.path(tempdir(), "baseline-src")
  dir.create(src, showWarnings = FALSE)
  stopifnot(system(sprintf("git archive %s | tar -x -C %s", shQuote(ref), shQuote(src))) == 0)
  edit <- function(file, from, to) {
    path <- file.path(src, file)
    writeLines(sub(from, to, readLines(path)), path)
  }
  edit("DESCRIPTION", "^Package: causalsandbox$", "Package: causalsandboxold")
  edit("NAMESPACE", "useDynLib\\(causalsandbox,", "useDynLib(causalsandboxold,")
  edit("src/init.c", "R_init_causalsandbox\\(", "R_init_causalsandboxold(")
  unlink(file.path(src, c("vignettes", "tests")), recursive = TRUE)
  stopifnot(system(sprintf("R CMD INSTALL --no-multiarch --no-docs -l %s %s", shQuote(lib),
                           shQuote(src))) == 0)
}
old <- suppressMessages(asNamespace(loadNamespace("causalsandboxold", lib.loc = lib)))
new <- asNamespace("causalsandbox")
cat(sprintf("baseline %s; load average: %s\n", ref, readLines("/proc/loadavg", warn = FALSE)))

source(file.path("inst", "bench", "survival_cohort.R"))  # bench_cohort(n, seed)
cpu <- function(expr) {
  t0 <- proc.time()
  force(expr)
  t <- proc.time() - t0
  t[["user.self"]] + t[["sys.self"]]
}

d <- bench_cohort(5000, 1)
fits <- lapply(list(old = old, new = new), function(ns)
  ns$causalmix(d, "treat", c(time = "days", event = "status"), seed = 1, epochs = 20,
               threads = 1))
draw <- function(ns, fit, rows) ns$simulate.causalmix_survival(fit, nsim = rows, seed = 2,
                                                               threads = 1)
for (v in names(fits)) invisible(draw(get(v), fits[[v]], 1000))  # warm the caches
rows <- 5e5
times <- matrix(NA_real_, 5, 2, dimnames = list(NULL, c("old", "new")))
for (k in 1:5) for (v in c("old", "new")) times[k, v] <- cpu(draw(get(v), fits[[v]], rows))
med <- apply(times, 2, stats::median)
cat(sprintf(paste0("draw %g rows x 20 covariates, all truth columns, 1 thread: baseline %.3f s ",
                   "CPU (%.3g rows per CPU-second), candidate %.3f s (%.3g rows per CPU-second); ",
                   "ratio new/old %.2f (median of 5 alternating rounds)\n"),
            rows, med[["old"]], rows / med[["old"]], med[["new"]], rows / med[["new"]],
            med[["new"]] / med[["old"]]))

e <- bench_cohort(4098, 2)
covs <- setdiff(names(e), c("treat", "days", "status"))
dr <- function(ns) ns$estimate_survival(e, "treat", "days", "status", covs, 300,
                                        method = "aipcw")$estimates$estimate
agree <- dr(old) - dr(new)
reps <- 20
times <- matrix(NA_real_, 5, 2, dimnames = list(NULL, c("old", "new")))
for (k in 1:5) for (v in c("old", "new"))
  times[k, v] <- cpu(for (i in seq_len(reps)) dr(get(v))) / reps
med <- apply(times, 2, stats::median)
cat(sprintf(paste0("one AIPCW estimate on 4,098 rows x 20: baseline %.1f ms CPU, candidate ",
                   "%.1f ms CPU; ratio new/old %.2f; estimates differ by %.2g\n"),
            1000 * med[["old"]], 1000 * med[["new"]], med[["new"]] / med[["old"]], agree))
