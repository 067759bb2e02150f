# Benchmark of simulate() on a causalmix fit: rows per second for 1e6 rows x 20 covariates
# with every truth column (covariate draws, network evaluation, knobs, outcomes and decoding
# into the data.frame included) on 2 threads against 1 thread, the cost of one small call,
# and the peak memory of the call against the size of the returned data.frame.
#
#   Rscript inst/bench/simulate.R [rows]
#
# Targets (issue 4): >= 1e6 rows/s on 2 cores; peak memory at most 3x the returned data.frame.
#
# Times are the minimum over three calls (elapsed, and CPU = user + system over all threads);
# on a shared machine the elapsed time includes waiting for a processor, so the load average
# is printed first. The small call is a 4,098-row draw (its fixed cost is what matters to
# run_study(), which draws many small cohorts), averaged over 50 calls after a warm-up that
# fills the reference cache.
# Peak memory: the kernel's high-water mark of resident memory is reset just before the call
# (writing 5 to /proc/self/clear_refs) and read after it (VmHWM); the increase over the
# resident memory before the call is the memory the call needed.
#
# Figures measured (inst/bench/results/simulate.txt; AMD EPYC with AVX2, 2 cores, reference
# BLAS, other jobs keeping the 1-minute load at 1.5-1.6, so a second thread rarely found a
# free core): 2 threads 8.1e5-8.2e5 rows/s (1.2 s CPU per million rows), 1 thread 5.4e5-8.8e5
# rows/s (1.1-1.3 s CPU); a 4,098-row call 12.5-14 ms; peak memory 1.11 x the result. The
# one run that found the second core free (load 2.5, before the interrupt checks were spaced
# to 262,144 rows) gave 1.11e6 rows/s on 2 threads, 1.84 x its 1-thread rate. Before the tile
# engine (row-by-row draws decoded in R) the lead measured 2.67e5 rows/s on 2 threads, 1.72e5
# on 1, about 47 ms for a 4,098-row call and 2.53 x the result's memory; the same old code
# with the 32-component prior now fitted by default gave, in the session of the figures
# above, 9.95e4 rows/s on 2 threads (6.9 s CPU) and 2.64 x the result's memory.
suppressPackageStartupMessages(library(causalsandbox))
rows <- as.numeric(commandArgs(trailingOnly = TRUE)[1])
if (is.na(rows)) rows <- 1e6

status_mb <- function(field) {
  s <- tryCatch(readLines("/proc/self/status"), error = function(e) character(0))
  v <- grep(paste0("^", field), s, value = TRUE)
  if (length(v)) as.numeric(gsub("[^0-9]", "", v)) / 1024 else NA_real_
}
reset_peak <- function() tryCatch({
  cat("5", file = "/proc/self/clear_refs")
  TRUE
}, error = function(e) FALSE, warning = function(w) FALSE)
load_average <- function() tryCatch(readLines("/proc/loadavg"), error = function(e) "?")

cat("load average:", load_average(), "\n")

# The 20-covariate mixed table of causalmix_fit.R, smaller; the speed of draws does not
# depend on how long the model trained, so the fit is short.
source(file.path("inst", "bench", "mixed_table.R"))
d <- mixed_table(5000)
fit <- causalmix(d, "treat", "y", epochs = 5, seed = 1, threads = 2)
invisible(simulate(fit, nsim = 1000, seed = 1, threads = 1))  # fills the reference cache

cpu <- function(t) t[["user.self"]] + t[["sys.self"]]

# Minimum elapsed and CPU seconds over three calls.
run <- function(threads) {
  t <- lapply(1:3, function(i) system.time(
    simulate(fit, nsim = rows, seed = i, overlap = 1.5, ate = 1, confounding = 0.2,
             threads = threads)))
  c(elapsed = min(vapply(t, `[[`, 0, "elapsed")), cpu = min(vapply(t, cpu, 0)))
}
t2 <- run(2)
t1 <- run(1)
cat(sprintf(paste0("simulate %.0f rows x %d covariates + truth:\n",
                   "  2 threads: %.2f s elapsed, %.2e rows/s (%.2f s CPU)\n",
                   "  1 thread:  %.2f s elapsed, %.2e rows/s (%.2f s CPU)\n",
                   "  speed-up of 2 threads over 1: %.2f\n"),
            rows, ncol(d) - 2, t2[["elapsed"]], rows / t2[["elapsed"]], t2[["cpu"]],
            t1[["elapsed"]], rows / t1[["elapsed"]], t1[["cpu"]],
            t1[["elapsed"]] / t2[["elapsed"]]))

small <- system.time(for (i in 1:50) simulate(fit, nsim = 4098, seed = i, threads = 2))
cat(sprintf("one 4,098-row call (2 threads): %.1f ms elapsed, %.1f ms CPU\n",
            small[["elapsed"]] * 20, cpu(small) * 20))

invisible(gc())
before <- status_mb("VmRSS")
reset_ok <- reset_peak()
res <- simulate(fit, nsim = rows, seed = 9, overlap = 1.5, ate = 1, confounding = 0.2,
                threads = 2)
peak <- status_mb("VmHWM")
size_mb <- as.numeric(utils::object.size(res)) / 2^20
cat(sprintf(paste0("result %.0f MB; resident before %.0f MB, peak during the call %.0f MB%s: ",
                   "extra %.0f MB = %.2f x the result\n"),
            size_mb, before, peak, if (reset_ok) "" else " (peak not reset: process maximum)",
            peak - before, (peak - before) / size_mb))
cat("load average:", load_average(), "\n")
