# Benchmark of causalmix() training on two threads when another process holds a core.
#
#   Rscript inst/bench/causalmix_contention.R [rows]      (default 100,000 rows x 20 columns)
#
# Training splits every mini-batch between two threads that meet at a barrier; when another
# process runs on one of the two cores, the descheduled thread holds up every batch. The
# training loop therefore times its batches with one and with two threads and runs with the
# faster (src/threads.c, cs_team_tuner). This script fits the same table with threads = 1 and
# threads = 2, first as the machine is, then with a busy-loop R process started on the side,
# and prints the training time (fit$seconds) and the whole call, with the ratio of two
# threads to one thread measured in the same condition (the baseline). The fits are
# identical whatever the thread count (checked here too).
#
# Figures measured (2 cores, AMD EPYC, 100,000 x 20, reference BLAS, 2026-11-22, another
# helper's R process running throughout, load average 3-3.7), training 1 thread / 2 threads:
#   before the tuner: machine as it was 1.12 / 46.91 s (x 41.7; whole call 5.2 / 52.0 s),
#                     with the busy loop 2.02 / 32.85 s (x 16.3)
#   with the tuner:   machine as it was 1.10 / 1.28 s (x 1.16; whole call 5.2 / 4.4 s),
#                     with the busy loop 1.06 / 1.62 s (x 1.53)
#   idle machine (load < 1.1), same day, before / with the tuner: 2 threads 0.72 / 0.76 s of
#     training (1 thread 1.07 / 1.10 s), so the probes cost about 5%; with the busy loop
#     2.03 / 1.28 s (1 thread 1.00 / 1.04 s).
# Fits identical in every case.
suppressPackageStartupMessages(library(causalsandbox))
rows <- as.integer(commandArgs(trailingOnly = TRUE)[1])
if (is.na(rows)) rows <- 100000L

set.seed(1)
d <- data.frame(matrix(stats::rnorm(rows * 18), rows))
d$t <- stats::rbinom(rows, 1, stats::plogis(d$X1))
d$y <- d$X1 + d$t + stats::rnorm(rows)

fit_pair <- function(label) {
  fits <- lapply(1:2, function(th) {
    t <- system.time(fit <- causalmix(d, "t", "y", seed = 1, threads = th, epochs = 6))
    list(fit = fit, elapsed = t[["elapsed"]], training = fit$seconds)
  })
  cat(sprintf(paste0("%-28s training %.2f s (1 thread) / %.2f s (2 threads) = %.2f; ",
                     "whole call %.1f / %.1f s = %.2f; identical fits: %s; load %s\n"),
              label, fits[[1]]$training, fits[[2]]$training,
              fits[[2]]$training / fits[[1]]$training, fits[[1]]$elapsed, fits[[2]]$elapsed,
              fits[[2]]$elapsed / fits[[1]]$elapsed,
              identical(fits[[1]]$fit$model, fits[[2]]$fit$model),
              tryCatch(readLines("/proc/loadavg"), error = function(e) "?")))
}

cat(sprintf("causalmix() on %d x 20, 6 epochs, BLAS %s\n", rows,
            basename(extSoftVersion()[["BLAS"]])))
fit_pair("machine as it is:")
# a busy loop on the side for the second pair (killed when the script ends)
hog <- file.path(tempdir(), "hog.pid")
system2(file.path(R.home("bin"), "Rscript"),
        c("-e", shQuote(sprintf("writeLines(as.character(Sys.getpid()), '%s'); repeat {}", hog))),
        wait = FALSE)
for (i in 1:50) if (file.exists(hog)) break else Sys.sleep(0.1)
fit_pair("with a busy loop on the side:")
if (file.exists(hog)) tools::pskill(as.integer(readLines(hog)))
