# Benchmark of the synthetic potential outcomes moment pass (causal_mixture()).
# n = 500,000 rows, 4 binary proxies (2 in z, 2 in x): time of the one-pass C moments
# (moments_by_arm, 1 and 2 threads) against a vectorised R computation of the same moments
# (BLAS crossprod per arm), measured in the same run. Prints medians and ratios.
# Run: Rscript inst/bench/spo.R   (after installing the package)
suppressPackageStartupMessages(library(causalsandbox))

n <- 500000L
reps <- 7L
d <- spo_example_data(n, seed = 1)
zm <- cbind(1, as.matrix(d[c("z1", "z2")]) * 1.0)
xm <- cbind(1, as.matrix(d[c("x1", "x2")]) * 1.0)
arm <- as.integer(d$t)
y <- as.double(d$y)

moments_c <- function(threads) causalsandbox:::spo_moments(zm, xm, arm, y, NULL, threads)

# The same quantities as the C pass, in vectorised R.
moments_r <- function() {
  by_arm <- lapply(0:1, function(a) {
    i <- arm == a
    z <- zm[i, , drop = FALSE]
    x <- xm[i, , drop = FALSE]
    yy <- y[i]
    n_a <- sum(i)
    zx <- crossprod(z, x) / n_a
    list(n = n_a, y = mean(yy), y2 = mean(yy^2), z = colMeans(z), zy = colMeans(z * yy),
         zx = zx, zxy = crossprod(z, x * yy) / n_a,
         zx_var = pmax(crossprod(z^2, x^2) / n_a - zx^2, 0))
  })
  list(by_arm = by_arm, x = colMeans(xm))
}

# Median elapsed and CPU (user + system) seconds; on a loaded machine CPU time is the fairer
# figure for the single-thread ratio, elapsed time the only one for the thread speed-up.
time_median <- function(f) {
  f()
  t <- vapply(seq_len(reps), function(i) {
    s <- system.time(f())
    c(s[["elapsed"]], s[["user.self"]] + s[["sys.self"]])
  }, numeric(2))
  c(elapsed = stats::median(t[1, ]), cpu = stats::median(t[2, ]))
}

c1 <- moments_c(1L)
r <- moments_r()
max_diff <- max(abs(c1$zx[, , 2] - r$by_arm[[2]]$zx), abs(c1$zxy[, , 1] - r$by_arm[[1]]$zxy),
                abs(c1$zx_var[, , 1] - r$by_arm[[1]]$zx_var), abs(c1$x - r$x))
stopifnot(identical(moments_c(1L), moments_c(2L)))

t_c1 <- time_median(function() moments_c(1L))
t_c2 <- time_median(function() moments_c(2L))
t_r <- time_median(moments_r)
t_fit <- time_median(function() causal_mixture(d, "t", "y", c("z1", "z2"), c("x1", "x2"),
                                               k = 2, threads = 1))

cat(sprintf(paste0("causal_mixture moment pass, n = %d, 4 proxies (encoded %d z + %d x ",
                   "columns), median of %d\n"), n, ncol(zm), ncol(xm), reps))
load <- if (file.exists("/proc/loadavg")) readLines("/proc/loadavg") else "unknown"
cat(sprintf("  machine: %d cores, load average %s\n", parallel::detectCores(), load))
cat("                          elapsed      cpu\n")
cat(sprintf("  C one pass, 1 thread : %8.4f %8.4f s\n", t_c1[1], t_c1[2]))
cat(sprintf("  C one pass, 2 threads: %8.4f %8.4f s   (elapsed speed-up %.2fx over 1 thread)\n",
            t_c2[1], t_c2[2], t_c1[1] / t_c2[1]))
cat(sprintf(paste0("  R vectorised (BLAS)  : %8.4f %8.4f s   (C 1 thread faster by %.1fx ",
                   "elapsed, %.1fx cpu)\n"),
            t_r[1], t_r[2], t_r[1] / t_c1[1], t_r[2] / max(t_c1[2], 1e-3)))
cat(sprintf("  max |C - R| over the moments: %.2e; 1 vs 2 threads identical: TRUE\n", max_diff))
cat(sprintf(paste0("  whole causal_mixture() (encoding, moments, solve), 1 thread: %.4f s ",
                   "elapsed, %.4f s cpu\n"), t_fit[1], t_fit[2]))

# Calibration of the bootstrap standard errors: Monte Carlo sd of the estimates over
# independent data sets against the mean bootstrap SE, and 95% normal-interval coverage.
calib_reps <- 40L
calib_n <- 20000L
calib <- t(vapply(seq_len(calib_reps), function(r) {
  dr <- spo_example_data(calib_n, seed = 1000 + r)
  f <- suppressWarnings(causal_mixture(dr, "t", "y", c("z1", "z2"), c("x1", "x2"), k = 2,
                                       bootstrap = 50, seed = r, threads = 1))
  c(f$ate, f$se$ate, f$potential_outcomes[[1]], f$se$potential_outcomes[[1]],
    if (is.null(f$mixture)) c(NA, NA) else c(f$mixture$effect[2], f$se$effect[2]))
}, numeric(6)))
calib_line <- function(label, est, se, truth) {
  cat(sprintf("  %-14s MC sd %.4f, mean bootstrap SE %.4f (ratio %.2f), coverage %.2f\n",
              label, stats::sd(est, na.rm = TRUE), mean(se, na.rm = TRUE),
              mean(se, na.rm = TRUE) / stats::sd(est, na.rm = TRUE),
              mean(abs(est - truth) < stats::qnorm(0.975) * se, na.rm = TRUE)))
}
cat(sprintf("\nBootstrap calibration: %d data sets of n = %d, 50 replicates each\n", calib_reps,
            calib_n))
calib_line("ATE", calib[, 1], calib[, 2], 0.25)
calib_line("E[Y(0)]", calib[, 3], calib[, 4], 0.375)
calib_line("class-2 effect", calib[, 5], calib[, 6], 0.5)
