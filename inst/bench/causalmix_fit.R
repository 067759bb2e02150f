# Benchmark of causalmix() training: lalonde (MatchIt) and a 100,000-row x 20-covariate mixed
# table, with default settings and 2 threads. Prints epochs per second, the GFLOP/s of the
# training loop next to one large dgemm measured in the same run (and their ratio), and the
# peak resident memory of the process (VmHWM).
#
#   Rscript inst/bench/causalmix_fit.R [rows] [threads]  # the machine's default BLAS
#   CAUSALMIX_BENCH_REPS=5 (default): each fit is run this many times, the fastest reported
#   LD_PRELOAD=/path/to/openblas-pthread/libblas.so.3 Rscript inst/bench/causalmix_fit.R
#
# The baseline is a 1500^3 dgemm on the same cores with the same BLAS, as that BLAS runs it
# (a multithreaded BLAS uses its own threads, here the machine's two cores); the dgemm with one
# BLAS thread is printed too (a child process with the BLAS thread variables set to 1).
# Training computes its matrix products with the package's own kernels for network-sized
# operands (src/small_gemm.c), on its own threads; the dgemm is the ceiling it is compared with.
#
# FLOPs count the matrix products the training loop computes, from the network shapes: a dense
# layer costs 2 n_in n_out per row forward, as much again for its weight gradient and as much
# again for the gradient of its input, which is not computed for the first layers of the
# encoder, propensity and outcome networks (their inputs are data). The mixture prior's
# quadratic forms are matrix products too: 2 K 2L per row forward, as much again for the
# gradient of the latent draw and for that of a learned prior. Every epoch runs the forward
# pass of all networks on all rows (training and held-out rows) and the backward pass, on the
# training rows, of the models that have not stopped early. The element-wise work (likelihood
# heads, the prior's responsibilities, the optimiser) is not counted.
#
# Figures measured (2 cores, AMD EPYC, 100,000 x 20, 2 threads, other processes paused; see
# inst/bench/results/): training 3.49-3.81 s over five identical fits, best 33.2 GFLOP/s = 33%
# of the two-thread OpenBLAS 0.3.21 dgemm (99.3 GFLOP/s), 63% of its one-thread dgemm; whole
# call 6.0 s elapsed; peak memory 304 MB. With the reference BLAS (training does not use it):
# 3.48-3.56 s, 33.3 GFLOP/s = 506% of its dgemm (6.6 GFLOP/s).
suppressPackageStartupMessages(library(causalsandbox))
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

# One large dgemm: the throughput ceiling of this BLAS on these cores (best of five).
dgemm_code <- "
set.seed(1); m <- 1500L
a <- matrix(rnorm(m * m), m); b <- matrix(rnorm(m * m), m)
t <- lapply(1:5, function(i) system.time(a %*% b))
s <- min(vapply(t, `[[`, 0, 'elapsed'))
cpu <- min(vapply(t, function(x) x[['user.self']] + x[['sys.self']], 0))
cat(2 * m^3 / s / 1e9, s, cpu, '\n')"
dgemm <- scan(text = capture.output(eval(parse(text = dgemm_code))), quiet = TRUE)
one_thread <- c("OPENBLAS_NUM_THREADS=1", "MKL_NUM_THREADS=1", "BLIS_NUM_THREADS=1",
                "FLEXIBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1")
dgemm1 <- tryCatch(scan(text = system2(file.path(R.home("bin"), "Rscript"),
                                       c("-e", shQuote(dgemm_code)), stdout = TRUE,
                                       env = one_thread), quiet = TRUE),
                   error = function(e) rep(NA_real_, 3))
cat(sprintf("dgemm 1500^3, the BLAS's own threads: %.3f s elapsed, %.3f s CPU: %.2f GFLOP/s\n",
            dgemm[2], dgemm[3], dgemm[1]))
cat(sprintf("dgemm 1500^3, one BLAS thread: %.3f s elapsed, %.3f s CPU: %.2f GFLOP/s\n",
            dgemm1[2], dgemm1[3], dgemm1[1]))

# Matrix-multiply FLOPs of a whole fit (see the header).
train_flops <- function(fit) {
  n_valid <- floor(fit$n * fit$settings$validation_share)
  n_train <- fit$n - n_valid
  layers <- function(net) {
    s <- net$sizes
    2 * s[-length(s)] * s[-1]
  }
  backward <- function(net, first_input) {
    f <- layers(net)
    2 * sum(f) - if (first_input) 0 else f[1]
  }
  m <- fit$model
  # the mixture prior's quadratic forms of a row's latent draw: (K x 2L) (2L x 1) forward; the
  # latent gradient and, for a learned prior, the prior's gradient as large again each
  prior <- 2 * m$n_components * 2 * m$latent
  forward <- sum(vapply(m[c("encoder", "decoder", "propensity", "outcome")],
                        function(net) sum(layers(net)), 0)) + prior
  per_model <- c(backward(m$encoder, FALSE) + backward(m$decoder, TRUE) +
                   prior * (1 + fit$settings$learn_prior),
                 backward(m$propensity, FALSE), backward(m$outcome, FALSE))
  trained_epochs <- pmin(fit$epochs_run, fit$best_epoch + fit$settings$patience)
  fit$epochs_run * fit$n * forward + n_train * sum(trained_epochs * per_model)
}

# Elapsed and CPU seconds (user + system, all threads) of the whole causalmix() call (training,
# then the prior refit and the other steps after it), next to the elapsed time of the training
# alone: on a shared machine elapsed time includes waiting for a processor.
timed_fit <- function(...) {
  t0 <- proc.time()
  fit <- causalmix(...)
  t1 <- proc.time() - t0
  fit$call_seconds <- t1[["elapsed"]]
  fit$cpu_seconds <- t1[["user.self"]] + t1[["sys.self"]]
  fit
}

# The same fit `reps` times (one seed, so one result): the fastest is reported, as the dgemm's
# best of five is, since a shared machine only ever slows a run down; every time is printed.
best_fit <- function(reps, ...) {
  best <- NULL
  seconds <- numeric(0)
  for (r in seq_len(reps)) {
    fit <- timed_fit(...)
    seconds <- c(seconds, fit$seconds)
    if (is.null(best) || fit$seconds < best$seconds) best <- fit
    rm(fit)
  }
  cat(sprintf("  training times of %d identical fits: %s s\n", reps,
              paste(sprintf("%.2f", seconds), collapse = ", ")))
  best
}
reps <- as.integer(Sys.getenv("CAUSALMIX_BENCH_REPS", "5"))

report <- function(label, fit) {
  gflops <- train_flops(fit) / fit$seconds / 1e9
  cat(sprintf(paste0("%s: %d rows, %d epochs, training %.1f s elapsed (%.2f epochs/s, batch %d), ",
                     "whole call %.1f s elapsed, %.1f s CPU; training %.2f GFLOP/s = %.0f%% of ",
                     "the dgemm (%.0f%% of the one-thread dgemm); peak memory %.0f MB\n"),
              label, fit$n, fit$epochs_run, fit$seconds, fit$epochs_run / fit$seconds,
              fit$settings$batch_size, fit$call_seconds, fit$cpu_seconds, gflops,
              100 * gflops / dgemm[1], 100 * gflops / dgemm1[1], peak_mb()))
}

if (requireNamespace("MatchIt", quietly = TRUE)) {
  data("lalonde", package = "MatchIt", envir = environment())
  fit <- best_fit(reps, lalonde, "treat", "re78", seed = 1, threads = threads)
  report("lalonde", fit)
}

source(file.path("inst", "bench", "mixed_table.R"))  # mixed_table(n): the 20-covariate table
d <- mixed_table(rows)
fit <- best_fit(reps, d, "treat", "y", seed = 1, threads = threads)
report(sprintf("mixed %d x 20", rows), fit)
print(fit)
