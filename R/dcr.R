# Distance to closest record (DCR): a privacy check for synthetic tables, plus the column
# matching and numeric encoding that fidelity() shares with it.

#' Distance to closest record
#'
#' For every synthetic row, the Euclidean distance to its closest real row, compared with the
#' same distance for real rows the generator never saw. Synthetic rows that sit much closer to
#' real records than fresh real records do suggest the generator copies patients.
#'
#' Columns are encoded with the real data's statistics: numeric columns with more than two
#' distinct values are standardised by the real mean and standard deviation; other columns
#' (factors, characters, logicals, numeric columns with two values) are one-hot encoded over
#' the categories of both tables, so a differing category adds 2 to the squared distance
#' (a two-valued column is stored as one column equal to 0 or sqrt(2), which gives the same
#' distances). Missing values are encoded as 0 (the real mean, or no category; sqrt(2)/2 for
#' a two-valued column) plus a 0/1 missingness indicator for every column with a missing
#' value in any table.
#'
#' The baseline distances are those of `holdout` rows (real rows not used to fit the
#' generator) to their closest `real` row. Without `holdout`, the baseline is each real row's
#' distance to its closest *other* real row (leave-one-out), which tells how close records
#' naturally sit in the real data; a true hold-out set is the stronger test.
#'
#' Reported: `ratio` = median synthetic DCR / median baseline DCR (ratio of means when the
#' baseline median is 0; at least 1 is the target), `share_closer` = share of synthetic rows
#' closer than the 5th percentile `p5` of the baseline distances (about 0.05 or less is the
#' target), `exact_copy_rate` = share of synthetic rows identical to a real row on every
#' compared column (distance exactly 0; `NA` matches `NA`) and `baseline_exact_rate`, the
#' same share for the baseline rows (the chance rate of exact matches among real rows).
#' `share_closer` is tie-aware: synthetic distances equal to `p5` count with the weight that
#' gives the baseline's own distances a share of exactly 5% (so when real rows are
#' duplicated and more than 5% of baseline distances are 0, a synthetic row at distance 0
#' counts with weight 0.05 / (share of baseline zeros), and the target stays 0.05).
#'
#' With a `holdout`, `memorisation` compares, for each synthetic row, the distance to its
#' closest row among a random subset of the real rows as large as the hold-out with the
#' distance to its closest hold-out row: `ratio` is the mean of the first over the mean of
#' the second. About 1 means the synthetic rows are no closer to the rows the generator was
#' fitted on than to real rows it never saw; well below 1 means memorisation (a row-for-row
#' copy of the real rows scores at most 1 minus the subset's share of the real rows).
#'
#' Distances are computed in C on the threads of [sandbox_threads()]: on x86-64 processors
#' with AVX2 and FMA by a register-tiled kernel, elsewhere from blocked BLAS `dgemm` cross
#' products; the distance to the chosen neighbour is then recomputed exactly, so copies have
#' distance 0 and results do not depend on the number of threads.
#'
#' @param real A data.frame: the real rows the generator was fitted on.
#' @param synthetic A data.frame with (at least) the columns of `real`, of the same types.
#'   Extra columns (such as the truth columns of simulated cohorts) are ignored.
#' @param holdout `NULL` or a data.frame of held-out real rows with the columns of `real`.
#' @param columns `NULL` (every column of `real`) or the names of the columns to compare.
#' @param max_rows Largest number of synthetic (and baseline) rows whose distances are
#'   computed; larger tables are subsampled at random (R's generator, so `set.seed()` fixes
#'   the subsample). Every `real` row is always searched.
#' @param threads `NULL` or the number of threads (see [sandbox_threads()]).
#' @return An object of class `sandbox_dcr`: a list with `synthetic` and `baseline` (the
#'   distances), `baseline_type` ("holdout" or "leave-one-out"), `ratio`, `p5` (5th percentile
#'   of the baseline distances), `share_closer`, `exact_copy_rate`, `baseline_exact_rate`,
#'   `memorisation` (`NULL` without a hold-out, else a list with `ratio`, `training_rows`,
#'   `mean_to_training`, `mean_to_holdout`), `rows` (rows of `synthetic` used) and
#'   `columns`.
#' @examples
#' set.seed(1)
#' real <- data.frame(age = rnorm(200, 50, 10), sex = sample(c("F", "M"), 200, TRUE))
#' synthetic <- data.frame(age = rnorm(200, 50, 10), sex = sample(c("F", "M"), 200, TRUE))
#' dcr(real, synthetic, threads = 1)
#' @export
dcr <- function(real, synthetic, holdout = NULL, columns = NULL, max_rows = Inf,
                threads = NULL) {
  if (!identical(max_rows, Inf)) check_count(max_rows, "max_rows", min = 2)
  real <- check_table(real, "real", min_rows = 2L)
  synthetic <- check_table(synthetic, "synthetic")
  if (!is.null(holdout)) holdout <- check_table(holdout, "holdout")
  specs <- fidelity_columns(real, synthetic, holdout, columns)
  dcr_compute(real, synthetic, holdout, specs, max_rows, sandbox_threads(threads))
}

# The DCR computation once the columns are matched (shared with fidelity()).
dcr_compute <- function(real, synthetic, holdout, specs, max_rows, threads) {
  real_x <- distance_features(real, specs)
  syn_rows <- subsample_rows(nrow(synthetic), max_rows)
  syn_x <- distance_features(synthetic[syn_rows, , drop = FALSE], specs)
  syn_d <- nearest_distance(syn_x, real_x, NULL, threads)
  if (is.null(holdout)) {
    if (nrow(real) < 2L)
      stopf("`real` needs at least two rows for the leave-one-out DCR baseline.", argument = "real")
    base_rows <- subsample_rows(nrow(real), max_rows)
    base_d <- nearest_distance(real_x[base_rows, , drop = FALSE], real_x,
                               as.integer(base_rows), threads)
    baseline_type <- "leave-one-out"
  } else {
    base_rows <- subsample_rows(nrow(holdout), max_rows)
    hold_x <- distance_features(holdout[base_rows, , drop = FALSE], specs)
    base_d <- nearest_distance(hold_x, real_x, NULL, threads)
    baseline_type <- "holdout"
  }
  p5 <- unname(stats::quantile(base_d, 0.05, type = 7))
  memorisation <- if (baseline_type == "holdout")
    memorisation_ratio(real_x, hold_x, syn_x, threads)
  ratio <- stats::median(syn_d) / stats::median(base_d)
  if (!is.finite(ratio)) {
    ratio <- mean(syn_d) / mean(base_d)
    if (!is.finite(ratio)) ratio <- NA_real_
  }
  structure(list(
    synthetic = syn_d, baseline = base_d, baseline_type = baseline_type,
    ratio = ratio, p5 = p5, share_closer = share_closer(syn_d, base_d, p5),
    exact_copy_rate = mean(syn_d == 0), baseline_exact_rate = mean(base_d == 0),
    memorisation = memorisation, rows = syn_rows,
    columns = vapply(specs, `[[`, "", "name")
  ), class = "sandbox_dcr")
}

# Share of synthetic distances below the baseline's 5th percentile p5, tie-aware: distances
# equal to p5 count with the weight that gives the baseline distances themselves a share of
# exactly 5%. When real rows are duplicated (many baseline distances are 0, so p5 is 0), a
# plain "closer than p5" would read 0 for every generator, copies included.
share_closer <- function(syn_d, base_d, p5) {
  below <- mean(base_d < p5)
  at <- mean(base_d == p5)
  weight <- if (at > 0) min(1, max(0, (0.05 - below) / at)) else 0
  mean(syn_d < p5) + weight * mean(syn_d == p5)
}

# Distance from each row of x to its closest row of ref (skipping row exclude[i] of ref).
# The C engine picks its fastest kernel; options(causalsandbox.distance_blas = TRUE) forces
# the dgemm one (used by the tests and the benchmark to compare the two).
nearest_distance <- function(x, ref, exclude, threads) {
  method <- if (isTRUE(getOption("causalsandbox.distance_blas"))) 1L else 0L
  .Call(C_distance_nearest, x, ref, exclude, method, threads)$distance
}


#' @export
print.sandbox_dcr <- function(x, digits = 3, ...) {
  cat(sprintf("Distance to closest record (%d synthetic rows, %d %s rows, %d columns)\n",
              length(x$synthetic), length(x$baseline),
              if (x$baseline_type == "holdout") "held-out" else "leave-one-out real",
              length(x$columns)))
  tab <- data.frame(
    quantity = c("median DCR, synthetic", "median DCR, baseline",
                 "DCR ratio (synthetic / baseline)",
                 "share of synthetic rows closer than baseline 5th percentile",
                 "exact-copy rate", "exact-match rate of the baseline rows",
                 if (!is.null(x$memorisation))
                   "memorisation ratio (to training subset / to hold-out)"),
    value = c(stats::median(x$synthetic), stats::median(x$baseline), x$ratio,
              x$share_closer, x$exact_copy_rate, x$baseline_exact_rate %||% NA_real_,
              x$memorisation$ratio))
  tab$value <- formatC(tab$value, digits = digits, format = "f")
  print(tab, row.names = FALSE, right = FALSE)
  invisible(x)
}

#' Plot distances to closest record
#'
#' Overlaid histograms (densities) of the distances to closest record of the synthetic rows
#' and of the baseline rows (held-out or leave-one-out real rows), with the baseline's 5th
#' percentile as a dashed line.
#'
#' @param x A `sandbox_dcr` object from [dcr()] (or the `dcr` element of [fidelity()]).
#' @param ... Unused.
#' @return `x`, invisibly.
#' @examples
#' set.seed(1)
#' real <- data.frame(a = rnorm(300), b = rexp(300))
#' plot(dcr(real, data.frame(a = rnorm(300), b = rexp(300)), threads = 1))
#' @export
plot.sandbox_dcr <- function(x, ...) {
  base_col <- grDevices::adjustcolor("grey40", 0.5)
  syn_col <- grDevices::adjustcolor("firebrick", 0.5)
  breaks <- pretty(range(c(x$synthetic, x$baseline)), n = 30)
  if (length(breaks) < 2L) breaks <- c(0, 1)
  hs <- graphics::hist(x$synthetic, breaks = breaks, plot = FALSE)
  hb <- graphics::hist(x$baseline, breaks = breaks, plot = FALSE)
  graphics::plot(hb, freq = FALSE, col = base_col, border = NA,
                 ylim = c(0, max(hs$density, hb$density)),
                 main = "Distance to closest real record",
                 xlab = "Euclidean distance (standardised columns)")
  graphics::plot(hs, freq = FALSE, col = syn_col, border = NA, add = TRUE)
  graphics::abline(v = x$p5, lty = 2)
  graphics::legend("topright", bty = "n", fill = c(base_col, syn_col, NA),
                   border = c("black", "black", NA), lty = c(NA, NA, 2),
                   legend = c(if (x$baseline_type == "holdout") "held-out real"
                              else "real (leave-one-out)", "synthetic",
                              "baseline 5th percentile"), cex = 0.8)
  invisible(x)
}
