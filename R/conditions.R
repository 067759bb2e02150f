# The package's one way to raise an error: a classed condition that names the argument (and the
# column, where one is at fault), so that callers and tests can match on class and fields
# rather than on message text.
#
# Classes, most specific first:
#   causalsandbox_input_error  a user's argument or data is not what was expected
#   causalsandbox_knob_error   a knob setting is infeasible for this fit (also an input error)
#   causalsandbox_engine_error the C engine reported a failure status
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

# An engine failure (a cs_status other than CS_OK turned into a message by the glue) as a
# classed condition; used where R code catches and re-raises engine errors.
engine_error <- function(message, call = NULL) {
  stop(structure(class = c("causalsandbox_engine_error", "causalsandbox_error", "error",
                           "condition"),
                 list(message = message, call = call)))
}
