# The package's one way to raise an error: a classed condition that names the argument (and the
# column, where one is at fault), so that callers and tests can match on class and fields
# rather than on message text.
#
# Classes, most specific first:
#   causalsandbox_input_error  a user's argument or data is not what was expected
#   causalsandbox_knob_error   a knob setting is infeasible for this fit (also an input error)
#   causalsandbox_engine_error the C engine reported a failure status
#   causalsandbox_dependency_error a suggested package the call needs is not installed
# all of them inherit from causalsandbox_error, error, condition.

# Raises an error whose message is sprintf(fmt, ...). `argument` names the argument at fault,
# `column` the data column (if any); `class` adds subclasses in front of the input-error class.
stopf <- function(fmt, ..., argument = NULL, column = NULL, class = NULL,
                  call = NULL) {
  message <- if (...length()) sprintf(fmt, ...) else fmt
  cond <- structure(
    class = c(class, "causalsandbox_input_error", "causalsandbox_error", "error", "condition"),
    list(message = message, call = call, argument = argument, column = column))
  stop(cond)
}

# Stops unless the suggested package `pkg` is installed: `fn` (e.g. "learner_ranger()") needs
# it. Class causalsandbox_dependency_error.
need_package <- function(pkg, fn) {
  if (!requireNamespace(pkg, quietly = TRUE))
    stopf("%s needs the package '%s'; install it with install.packages(\"%s\").", fn, pkg, pkg,
          class = "causalsandbox_dependency_error")
  invisible(TRUE)
}

# An engine failure (a cs_status other than CS_OK turned into a message by the glue) as a
# classed condition; used where R code catches and re-raises engine errors.
engine_error <- function(message, call = NULL) {
  stop(structure(class = c("causalsandbox_engine_error", "causalsandbox_error", "error",
                           "condition"),
                 list(message = message, call = call)))
}

# ---- renamed arguments ----
# An argument renamed in this release keeps working under its old name for one release: the
# old name gives a warning of class `causalsandbox_deprecated_argument` (also
# `deprecatedWarning`, as base R's .Deprecated()) that names the new one, with fields `old`,
# `new` and `fn`. Giving both names is an error.

# Warns that `old` of fn() is deprecated in favour of `new` (`what`: "Argument", "Option").
warn_renamed <- function(old, new, fn, what = "Argument") {
  where <- if (what == "Option") "" else sprintf(" of %s()", fn)
  deprecation_warning(sprintf(paste0("%s `%s`%s is deprecated; use `%s` instead (the old ",
                                     "name is accepted until the next release)."),
                              what, old, where, new), old, new, fn)
}

deprecation_warning <- function(message, old, new, fn) {
  warning(structure(
    class = c("causalsandbox_deprecated_argument", "deprecatedWarning", "warning",
              "condition"),
    list(message = message, call = NULL, old = old, new = new, fn = fn)))
}

# The value of a renamed argument: call as
#   if (!missing(old)) new <- renamed_arg(old, missing(new), "old", "new", "fn")
# It warns, refuses both names together and returns the old name's value.
renamed_arg <- function(old_value, new_missing, old, new, fn) {
  if (!new_missing)
    stopf("%s() got both `%s` and its deprecated name `%s`; give `%s` only.", fn, new, old,
          new, argument = new)
  warn_renamed(old, new, fn)
  old_value
}
