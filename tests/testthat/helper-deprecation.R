# Evaluates expr, keeping the deprecation warnings (class causalsandbox_deprecated_argument)
# and muffling every other warning (e.g. separation warnings of a propensity model).
capture_deprecation <- function(expr) {
  dep <- list()
  value <- withCallingHandlers(expr, warning = function(w) {
    if (inherits(w, "causalsandbox_deprecated_argument")) dep[[length(dep) + 1L]] <<- w
    invokeRestart("muffleWarning")
  })
  list(value = value, warnings = dep)
}

# The one deprecation warning of `res` names `old` and `new`.
expect_renamed <- function(res, old, new) {
  expect_length(res$warnings, 1L)
  w <- res$warnings[[1L]]
  expect_s3_class(w, "deprecatedWarning")
  expect_identical(c(w$old, w$new), c(old, new))
  expect_match(conditionMessage(w), sprintf("`%s`", old), fixed = TRUE)
  expect_match(conditionMessage(w), sprintf("deprecated; use `%s`", new), fixed = TRUE)
}
