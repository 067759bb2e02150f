#' causalsandbox: a controllable generative sandbox for causal inference
#'
#' Fit a generative model of a real observational cohort with [causalmix()], draw synthetic
#' cohorts with the truth attached and independent causal knobs with [simulate()][simulate.causalmix],
#' and compare, tune and power estimators on them.
#'
#' @section Threads and reproducibility:
#' Every parallel region in the C engine uses the number of threads decided by
#' [sandbox_threads()]. Random numbers in C come from counter-based streams keyed by a seed
#' drawn from R's generator and by the row, unit or replicate index, so `set.seed()` fixes
#' every result whatever the number of threads.
#'
#' @keywords internal
#' @useDynLib causalsandbox, .registration = TRUE, .fixes = "C_"
"_PACKAGE"
