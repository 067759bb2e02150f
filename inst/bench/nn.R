# Training-step throughput of a 3-layer MLP (batch 512, width 128) next to one large dgemm
# measured in the same run, with whatever BLAS this R session uses.
#
#   Rscript inst/bench/nn.R                      # the machine's default BLAS
#   LD_PRELOAD=/path/to/openblas-pthread/libblas.so.3 Rscript inst/bench/nn.R
#
# (On Debian, R puts /usr/lib/x86_64-linux-gnu first in LD_LIBRARY_PATH, so LD_PRELOAD is the
# way to try another BLAS without changing the system one.) The BLAS in use is printed first.
# Times are the minimum elapsed time over repetitions, which is the least sensitive to other
# load on the machine. FLOPs of a training step are counted as in the forward pass (2 B n_in
# n_out per layer) plus the backward pass (weights: 2 B n_in n_out; inputs: the same, skipped
# for the first layer); the 6 B sum(n_in n_out) rule of thumb is printed as well.
suppressPackageStartupMessages(library(causalsandbox))
ns <- asNamespace("causalsandbox")

args <- commandArgs(trailingOnly = TRUE)
dgemm_n <- if (length(args) >= 1) as.integer(args[1]) else 2000L
reps <- if (length(args) >= 2) as.integer(args[2]) else 3L

cat("BLAS:", extSoftVersion()[["BLAS"]], "\n")
cat("processors:", parallel::detectCores(), " load average:",
    tryCatch(readLines("/proc/loadavg"), error = function(e) "unknown"), "\n")

# Minimum over repetitions of the elapsed time and of the CPU time (user + system, summed over
# threads). On a loaded machine the CPU time is the steadier of the two.
best_time <- function(expr_fun, reps) {
  times <- vapply(seq_len(reps), function(i) {
    t <- system.time(expr_fun())
    c(elapsed = t[["elapsed"]], cpu = t[["user.self"]] + t[["sys.self"]])
  }, numeric(2))
  apply(times, 1, min)
}

# One large dgemm through R's %*%.
set.seed(1)
a <- matrix(rnorm(dgemm_n^2), dgemm_n)
b <- matrix(rnorm(dgemm_n^2), dgemm_n)
invisible(a[1:200, 1:200] %*% b[1:200, 1:200]) # warm-up
dgemm_time <- best_time(function() a %*% b, reps)
dgemm_gflops <- 2 * dgemm_n^3 / dgemm_time / 1e9 # c(elapsed, cpu)
rm(a, b)

# 3-layer MLP 128 -> 128 -> 128 -> 128, ReLU, ReLU, identity; batch 512, AdamW, squared error.
batch <- 512L
width <- 128L
sizes <- rep(width, 4L)
acts <- c("relu", "relu", "identity")
n <- batch * 8L
x <- matrix(rnorm(width * n), width)
y <- matrix(rnorm(width * n), width)
params <- ns$engine_mlp_init(sizes, acts, seed = c(1L, 2L))
layer_products <- sizes[-length(sizes)] * sizes[-1L]
flops_exact <- 2 * batch * sum(layer_products) +           # forward
  2 * batch * sum(layer_products) +                         # weight gradients
  2 * batch * sum(layer_products[-1L])                      # input gradients (not layer 1)
flops_rule <- 6 * batch * sum(layer_products)

# pick a step count giving roughly a second of work per repetition
probe <- system.time(ns$engine_mlp_train(params, sizes, acts, x, y, steps = 20L,
                                         batch_size = batch, lr = 1e-3,
                                         seed = c(3L, 4L)))[["elapsed"]]
steps <- max(20L, as.integer(20 * 1 / max(probe, 1e-3)))
train_time <- best_time(function() ns$engine_mlp_train(params, sizes, acts, x, y, steps = steps,
                                                       batch_size = batch, lr = 1e-3,
                                                       seed = c(3L, 4L)), reps)
step_time <- train_time / steps
mlp_gflops <- flops_exact / step_time / 1e9

cat(sprintf("dgemm %d x %d x %d: %.3f s elapsed -> %.2f GFLOP/s; per CPU-second %.2f GFLOP\n",
            dgemm_n, dgemm_n, dgemm_n, dgemm_time[["elapsed"]], dgemm_gflops[["elapsed"]],
            dgemm_gflops[["cpu"]]))
cat(sprintf("MLP training step (batch %d, widths %s): %.3f ms/step elapsed over %d steps\n",
            batch, paste(sizes, collapse = "-"), 1000 * step_time[["elapsed"]], steps))
cat(sprintf("  %.1f MFLOP/step counted exactly -> %.2f GFLOP/s (6*B*sum rule: %.2f GFLOP/s);",
            flops_exact / 1e6, mlp_gflops[["elapsed"]], flops_rule / step_time[["elapsed"]] / 1e9))
cat(sprintf(" per CPU-second %.2f GFLOP\n", mlp_gflops[["cpu"]]))
cat(sprintf("ratio MLP / dgemm throughput: %.2f elapsed, %.2f per CPU-second\n",
            mlp_gflops[["elapsed"]] / dgemm_gflops[["elapsed"]],
            mlp_gflops[["cpu"]] / dgemm_gflops[["cpu"]]))
