# Progress reports through progressr: quiet unless the user asks for them (with_progress() or
# progressr::handlers(global = TRUE)), absent when progressr is not installed.

# A function(amount = 1) that advances a progressr progressor of `steps` steps, or NULL. The
# progressor belongs to the caller's frame, so it finishes when the caller returns. The C glue
# calls it on the main thread between chunks of work (epochs, blocks of MCMC units).
progress_reporter <- function(steps, label = NULL) {
  if (steps < 1 || !requireNamespace("progressr", quietly = TRUE)) return(NULL)
  p <- progressr::progressor(steps = steps, label = label, envir = parent.frame())
  function(amount = 1L, message = NULL) p(message = message, amount = amount)
}

# Advances `reporter` (possibly NULL) by `amount` steps.
report_progress <- function(reporter, amount = 1L, message = NULL) {
  if (!is.null(reporter) && amount > 0) reporter(amount, message)
  invisible(NULL)
}
