# Runs the whole test suite against the installed package and ends with one line
# "N passed, N failed" (testthat expectations; errors and skips reported separately).
suppressPackageStartupMessages({
  library(testthat)
  library(causalsandbox)
})
options(causalsandbox.threads = 2L)
# Run every test, the slower ones skipped on CRAN included.
Sys.setenv(NOT_CRAN = "true")
results <- testthat::test_dir("tests/testthat", package = "causalsandbox",
                              load_package = "installed", reporter = "summary",
                              stop_on_failure = FALSE)
summary_table <- as.data.frame(results)
passed <- sum(summary_table$passed)
failed <- sum(summary_table$failed) + sum(summary_table$error)
skipped <- sum(summary_table$skipped)
cat(sprintf("\n%d passed, %d failed, %d skipped\n", passed, failed, skipped))
quit(status = if (failed > 0) 1L else 0L)
