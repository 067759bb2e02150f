# Benchmark of causalmix() training: lalonde (MatchIt) and a 100,000-row x 20-covariate mixed
# table, with default settings and 2 threads. Prints epochs per second, the GFLOP/s of the
# training loop next to one large dgemm measured in the same run (and their ratio), and the
# peak resident memory of the process (VmHWM).
#
#   Rscript inst/bench/causalmix_fit.R [rows] [threads]  # the machine's default BLAS
#   LD_PRELOAD=/path/to/openblas-pthread/libblas.so.3 Rscript inst/bench/causalmix_fit.R
#
# FLOPs of one epoch are counted from the network shapes: each dense layer costs
# 2 n_in n_out per row forward and twice that backward (weights and inputs), over the
# training rows, plus the forward pass over the held-out rows. The per-row likelihood, prior
# and optimiser work is not counted (it is small next to the dense layers).
suppressPackageStartupMessages(library(causalsandbox))
ns <- asNamespace("causalsandbox")
rows <- as.integer(commandArgs(trailingOnly = TRUE)[1])
if (is.na(rows)) rows <- 100000L
threads <- as.integer(commandArgs(trailingOnly = TRUE)[2])
if (is.na(threads)) threads <- 2L

cat("BLAS:", extSoftVersion()[["BLAS"]], "\n")
cat("load average:", tryCatch(readLines("/proc/loadavg"), error = function(e) "?"), "\n")

peak_mb <- function() {
  s <- tryCatch(readLines("/proc/self/status"), error = function(e) character(0))
  v <- grep("^VmHWM", s, value = TRUE)
  if (length(v)) as.numeric(gsub("[^0-9]", "", v)) / 1024 else NA_real_
}

# One large dgemm: the throughput ceiling of this BLAS on this machine.
set.seed(1)
m <- 1500L
a <- matrix(rnorm(m * m), m)
b <- matrix(rnorm(m * m), m)
dgemm_t <- lapply(1:3, function(i) system.time(a %*% b))
dgemm_s <- min(vapply(dgemm_t, `[[`, 0, "elapsed"))
dgemm_cpu <- min(vapply(dgemm_t, function(t) t[["user.self"]] + t[["sys.self"]], 0))
dgemm_gflops <- 2 * m^3 / dgemm_s / 1e9
rm(a, b)
cat(sprintf("dgemm %d^3: %.3f s elapsed, %.3f s CPU: %.2f GFLOP/s (%.2f per CPU second)\n", m,
            dgemm_s, dgemm_cpu, dgemm_gflops, 2 * m^3 / dgemm_cpu / 1e9))

epoch_flops <- function(fit) {
  n_valid <- floor(fit$n * fit$settings$validation_share)
  n_train <- fit$n - n_valid
  per_row <- sum(vapply(fit$model[c("encoder", "decoder", "propensity", "outcome")], function(net) {
    s <- net$sizes
    sum(2 * s[-length(s)] * s[-1])
  }, 0))
  per_row * (3 * n_train + n_valid)
}

# CPU seconds (user + system, all threads) of an expression, next to its elapsed time: on a
# shared machine the elapsed time includes waiting for a processor, the CPU time does not.
timed_fit <- function(...) {
  t0 <- proc.time()
  fit <- causalmix(...)
  t1 <- proc.time() - t0
  fit$cpu_seconds <- t1[["user.self"]] + t1[["sys.self"]]
  fit
}

report <- function(label, fit) {
  flops <- epoch_flops(fit) * fit$epochs_run
  gflops <- flops / fit$seconds / 1e9
  cat(sprintf(paste0("%s: %d rows, %d epochs in %.1f s elapsed, %.1f s CPU (%.2f epochs/s, ",
                     "batch %d); training %.2f GFLOP/s = %.0f%% of dgemm (per CPU second ",
                     "%.2f GFLOP/s); peak memory %.0f MB\n"),
              label, fit$n, fit$epochs_run, fit$seconds, fit$cpu_seconds,
              fit$epochs_run / fit$seconds, fit$settings$batch_size, gflops,
              100 * gflops / dgemm_gflops, flops / fit$cpu_seconds / 1e9, peak_mb()))
}

if (requireNamespace("MatchIt", quietly = TRUE)) {
  data("lalonde", package = "MatchIt", envir = environment())
  fit <- timed_fit(lalonde, "treat", "re78", seed = 1, threads = threads)
  report("lalonde", fit)
}

source(file.path("inst", "bench", "mixed_table.R"))  # mixed_table(n): the 20-covariate table
d <- mixed_table(rows)
fit <- timed_fit(d, "treat", "y", seed = 1, threads = threads)
report(sprintf("mixed %d x 20", rows), fit)
print(fit)
