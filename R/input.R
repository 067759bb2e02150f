# The input layer: every exported function that receives a user's table checks it here, once,
# with the same rules and the same wording. Roles (treatment, outcome, covariates), the two
# values of the treatment and which one is treated, the outcome's type and coding, missing
# covariate values, sizes and seeds are all decided in this file; errors are classed
# conditions from stopf() (R/conditions.R) that name the argument and the column at fault.

# ---- tables -------------------------------------------------------------------------------

# Checks that `data` is a data.frame with unique non-empty column names and at least
# `min_rows` rows, and returns it with bit64::integer64 columns converted to double (exactly;
# a column with values beyond 2^53 in magnitude is refused, as its values cannot be held).
check_table <- function(data, argument = "data", min_rows = 1L) {
  if (missing(data) || !is.data.frame(data))
    stopf("`%s` must be a data.frame, not %s.", argument,
          if (missing(data)) "missing" else describe_class(data), argument = argument)
  nms <- names(data)
  if (is.null(nms) || anyNA(nms) || any(!nzchar(nms)))
    stopf("Every column of `%s` must have a non-empty name.", argument, argument = argument)
  dup <- unique(nms[duplicated(nms)])
  if (length(dup))
    stopf("Column names of `%s` must be unique; duplicated: %s.", argument, quote_names(dup),
          argument = argument, column = dup)
  if (nrow(data) < min_rows)
    stopf("`%s` must have at least %d row%s, not %d.", argument, as.integer(min_rows),
          if (min_rows == 1L) "" else "s", nrow(data), argument = argument)
  convert_integer64(data, argument)
}

# bit64::integer64 columns hold 64-bit integers in the bits of a double: read as numbers they
# are garbage. They are converted to double when every value is exactly representable.
convert_integer64 <- function(data, argument = "data") {
  big <- names(data)[vapply(data, function(v) inherits(v, "integer64"), logical(1))]
  for (name in big) {
    v <- data[[name]]
    as_double <- if (requireNamespace("bit64", quietly = TRUE))
      suppressWarnings(as.double(v)) else NULL
    if (is.null(as_double))
      stopf("Column `%s` of `%s` is a bit64::integer64 column and the bit64 package is not installed; convert it with as.numeric() first.",
            name, argument, argument = argument, column = name)
    if (any(abs(as_double) > 2^53, na.rm = TRUE))
      stopf("Column `%s` of `%s` is a bit64::integer64 column with values beyond 2^53, which a double cannot hold exactly; rescale or drop it.",
            name, argument, argument = argument, column = name)
    data[[name]] <- as_double
  }
  data
}

# One wording for every "column not in the table" error.
check_columns_exist <- function(data, columns, argument, table = "data") {
  unknown <- unique(setdiff(columns, names(data)))
  if (length(unknown))
    stopf("`%s` names column%s %s, which %s not in `%s`.", argument,
          if (length(unknown) > 1L) "s" else "", quote_names(unknown),
          if (length(unknown) > 1L) "are" else "is", table,
          argument = argument, column = unknown)
  invisible(columns)
}

# Resolves and checks the roles of a table: single-column `treatment` and `outcome` (the
# outcome may be absent with need_outcome = FALSE), `covariates` defaulting to every other
# column. Returns list(treatment, outcome, covariates).
input_roles <- function(data, treatment, outcome, covariates = NULL, table = "data",
                        need_outcome = TRUE, min_covariates = 1L,
                        covariates_argument = "covariates") {
  cov_arg <- covariates_argument
  check_string(treatment, "treatment")
  check_columns_exist(data, treatment, "treatment", table)
  if (need_outcome || !is.null(outcome)) {
    check_string(outcome, "outcome")
    check_columns_exist(data, outcome, "outcome", table)
    if (identical(treatment, outcome))
      stopf("Column `%s` cannot be both the treatment and the outcome.", treatment,
            argument = "outcome", column = outcome)
  }
  if (is.null(covariates)) {
    covariates <- setdiff(names(data), c(treatment, outcome))
  } else {
    if (!is.character(covariates) || anyNA(covariates) || any(!nzchar(covariates)))
      stopf("`%s` must be NULL or a character vector of column names, not %s.",
            cov_arg, describe(covariates), argument = cov_arg)
    dup <- unique(covariates[duplicated(covariates)])
    if (length(dup))
      stopf("`%s` lists %s more than once.", cov_arg, quote_names(dup),
            argument = cov_arg, column = dup)
    check_columns_exist(data, covariates, cov_arg, table)
    clash <- intersect(c(treatment, outcome), covariates)
    if (length(clash))
      stopf("Column `%s` is the %s and cannot also be in `%s`.", clash[1L],
            if (clash[1L] == treatment) "treatment" else "outcome", cov_arg,
            argument = cov_arg, column = clash[1L])
  }
  if (length(covariates) < min_covariates)
    stopf("At least one covariate is needed; `%s` is empty.", cov_arg, argument = cov_arg)
  list(treatment = treatment, outcome = outcome, covariates = covariates)
}

# ---- the class of returned tables ----------------------------------------------------------

# What kind of table the user gave: "data.table", "tbl_df" or "data.frame". Tables returned
# to the user (simulate(), hybrid_synth(), joint_synth()) have that class again.
input_class <- function(data) {
  if (inherits(data, "data.table")) "data.table"
  else if (inherits(data, "tbl_df")) "tbl_df"
  else "data.frame"
}

# `out` (a data.frame) as a table of kind `kind` (see input_class()). A data.table is rebuilt
# by data.table itself (it carries internal state); NULL keeps `out` as it is.
as_input_class <- function(out, kind) {
  if (is.null(kind)) return(out)
  switch(kind,
         data.table = if (requireNamespace("data.table", quietly = TRUE))
           data.table::as.data.table(as.data.frame(out)) else out,
         tbl_df = structure(as.data.frame(out), class = c("tbl_df", "tbl", "data.frame")),
         structure(as.data.frame(out), class = "data.frame"))
}

# ---- two-valued columns: the treatment and a binary outcome ------------------------------

# The two values of a column in code order, as strings: the second is the treated value of a
# treatment and the event of a binary outcome. Logical: FALSE, TRUE; factor: its two declared
# levels in order; character: the two values sorted; numeric: the two values sorted (so 0/1,
# 1/2, 0/10 all make the larger value the second). NULL when the column does not have exactly
# two values. This is the rule the schema's codes follow (code 1 = the second value).
two_values <- function(x) {
  if (is.logical(x)) return(c("FALSE", "TRUE"))
  if (is.factor(x)) return(if (nlevels(x) == 2L) levels(x) else NULL)
  observed <- unique(x[!is.na(x)])
  if (length(observed) != 2L) return(NULL)
  if (is.numeric(x)) return(value_labels(sort(as.double(observed))))
  if (is.character(x)) return(sort(observed))
  NULL
}

# Labels of numeric values that round-trip: as.double(label) gives the value back exactly
# (15 significant digits when they do, e.g. "0.5", else 17), so labels are distinct for
# distinct values and as_indicator() matches the values themselves.
value_labels <- function(v) {
  labels <- as.character(v)
  if (anyDuplicated(labels) || any(as.double(labels) != v)) labels <- sprintf("%.17g", v)
  labels
}

# Stops when the role column (`role`: "Treatment", "Outcome") has missing values.
refuse_missing <- function(x, role, column, argument) {
  n_na <- sum(is.na(x))
  if (n_na > 0L)
    stopf("%s `%s` has %d missing value%s; expected none (remove those rows first).", role,
          column, n_na, if (n_na > 1L) "s" else "", argument = argument, column = column)
}

# The coding of a treatment column: its two values (control first, treated second). The
# column must have exactly two values and no NA.
treatment_coding <- function(x, column, argument = "treatment") {
  refuse_missing(x, "Treatment", column, argument)
  levels <- two_values(x)
  # a 0/1 column of a small cohort may show one arm only
  if (is.null(levels) && is.numeric(x) && length(x) && all(x %in% c(0, 1))) levels <- c("0", "1")
  if (is.null(levels))
    stopf("Treatment `%s` must have exactly two values (0/1, TRUE/FALSE, two strings or a two-level factor); it has %s.",
          column, count_values(x), argument = argument, column = column)
  list(levels = levels, treated = levels[2L])
}

# The coding of an outcome column: binary (exactly two values of any type; `levels` gives the
# non-event and the event) or numeric. NA is refused.
outcome_coding <- function(x, column, argument = "outcome") {
  refuse_missing(x, "Outcome", column, argument)
  levels <- two_values(x)
  if (!is.null(levels)) return(list(type = "binary", levels = levels, event = levels[2L]))
  if (is.numeric(x) && !is.object(x)) {
    if (any(!is.finite(x)))
      stopf("Outcome `%s` has infinite values; expected finite numbers.", column,
            argument = argument, column = column)
    return(list(type = "numeric", levels = NULL, event = NULL))
  }
  stopf("Outcome `%s` must be numeric or have exactly two values; it is %s with %s.", column,
        class(x)[1L], count_values(x), argument = argument, column = column)
}

count_values <- function(x) {
  k <- if (is.factor(x)) nlevels(x) else length(unique(x[!is.na(x)]))
  sprintf("%d %s", k, if (is.factor(x)) "levels" else "distinct values")
}

# 0/1 indicator of the second value of `levels` (the treated value or the event). Values other
# than the two are refused.
as_indicator <- function(x, levels, column, argument) {
  code <- if (is.numeric(x)) match(as.double(x), as.double(levels)) - 1L
          else match(as.character(x), levels) - 1L
  unknown <- is.na(code) & !is.na(x)
  if (any(unknown))
    stopf("Column `%s` has values other than its two values %s: %s.", column,
          paste(format_value(levels), collapse = " and "),
          paste(format_value(utils::head(unique(x[unknown]), 3L)), collapse = ", "),
          argument = argument, column = column)
  code
}

# Treatment as 0/1 (integer) and outcome as numbers (0/1 for a binary outcome), with their
# codings. `roles` may carry a stored coding: `treatment_levels`, and `outcome_levels` (a
# binary outcome) or `outcome_type = "numeric"` (so that a numeric outcome stays numeric in a
# table where it happens to show two values). The one place where a treatment or a binary
# outcome is recoded to 0/1: the schema's encoding, the estimators, the studies, hybrid and
# augmented data, fidelity(), causal_mixture() and CausalBGM all come here.
role_vectors <- function(data, roles) {
  t <- data[[roles$treatment]]
  t_coding <- if (is.null(roles$treatment_levels)) treatment_coding(t, roles$treatment)
              else list(levels = roles$treatment_levels, treated = roles$treatment_levels[2L])
  if (anyNA(t)) treatment_coding(t, roles$treatment)  # the error about NA
  a <- as_indicator(t, t_coding$levels, roles$treatment, "treatment")
  if (is.null(roles$outcome)) return(list(a = a, treatment = t_coding))
  y_raw <- data[[roles$outcome]]
  # a time-to-event outcome in one survival::Surv column: its event status is the binary
  # outcome of the cohort's summaries (.y0/.y1 are events by the horizon)
  if (inherits(y_raw, "Surv")) y_raw <- as.double(unclass(y_raw)[, 2L])
  y_coding <- if (!is.null(roles$outcome_levels)) {
    if (anyNA(y_raw)) outcome_coding(y_raw, roles$outcome)  # the error about NA
    list(type = "binary", levels = roles$outcome_levels, event = roles$outcome_levels[2L])
  } else if (identical(roles$outcome_type, "numeric")) {
    numeric_outcome(y_raw, roles$outcome)
  } else outcome_coding(y_raw, roles$outcome)
  y <- if (y_coding$type == "binary")
    as.double(as_indicator(y_raw, y_coding$levels, roles$outcome, "outcome"))
  else as.double(y_raw)
  list(a = a, y = y, treatment = t_coding, outcome = y_coding)
}

# The coding of an outcome known to be numeric (a stored coding): NA and infinite values are
# refused.
numeric_outcome <- function(x, column, argument = "outcome") {
  if (!is.numeric(x) || is.object(x))
    stopf("Outcome `%s` must be numeric (as in the fitted table), not %s.", column,
          class(x)[1L], argument = argument, column = column)
  if (anyNA(x)) outcome_coding(x, column, argument)  # the error about NA
  if (any(!is.finite(x)))
    stopf("Outcome `%s` has infinite values; expected finite numbers.", column,
          argument = argument, column = column)
  list(type = "numeric", levels = NULL, event = NULL)
}

# The numbers of an outcome-like vector (the outcome column, or potential outcomes .y0/.y1)
# by the stored `roles`: 0/1 for a binary outcome (1 = its event), the values otherwise.
outcome_numbers <- function(x, roles, column = roles$outcome) {
  if (!is.null(roles$outcome_levels))
    return(as.double(as_indicator(x, roles$outcome_levels, column, "outcome")))
  as.double(x)
}

# The 0/1 indicator of a two-valued treatment vector (the treated value as decided by
# treatment_coding()), for code that holds the column but not the roles.
treatment_indicator <- function(x, name) {
  coding <- treatment_coding(x, name)
  as_indicator(x, coding$levels, name, "treatment")
}

# ---- missing covariate values -------------------------------------------------------------

missing_choices <- c("indicator", "complete_case", "fail")

check_missing_choice <- function(missing, argument = "missing") {
  check_choice(missing, missing_choices, argument)
}

# Covariates ready for regression learners, by the `missing` strategy:
# * "indicator": a numeric or logical column with NA is filled with the mean of its observed
#   values and gets a 0/1 column `<name>.missing`; a factor or character column gets the
#   level "(missing)". Every row is kept.
# * "complete_case": rows with any NA covariate are dropped (`keep` marks the rows kept).
# * "fail": NA is refused with an error naming `missing`.
# Factors keep their declared levels, so that synthetic rows with any level can be prepared.
# Returns list(x, keep, with_missing, apply): `apply(newx)` prepares other rows (synthetic
# covariates) the same way, with the fill values and levels learned here.
prepare_covariates <- function(x, missing = "indicator", argument = "missing",
                               what = "Covariate") {
  x <- as.data.frame(x)
  with_missing <- names(x)[vapply(x, anyNA, logical(1))]
  keep <- rep(TRUE, nrow(x))
  if (length(with_missing) && missing == "fail")
    stopf("%s%s %s ha%s missing values; set `%s = \"indicator\"` (missing-indicator adjustment) or `%s = \"complete_case\"` (drop those rows).",
          what, if (length(with_missing) > 1L) "s" else "", quote_names(with_missing),
          if (length(with_missing) > 1L) "ve" else "s", argument, argument,
          argument = argument, column = with_missing)
  if (length(with_missing) && missing == "complete_case") {
    keep <- stats::complete.cases(x)
    if (sum(keep) == 0L)
      stopf("Every row has a missing %s, so `%s = \"complete_case\"` keeps none; use `%s = \"indicator\"`.",
            tolower(what), argument, argument, argument = argument, column = with_missing)
    x <- x[keep, , drop = FALSE]
  }
  fills <- lapply(stats::setNames(nm = if (missing == "indicator") with_missing else character(0)),
                  function(name) {
    v <- x[[name]]
    if (is.factor(v) || is.character(v)) "(missing)" else mean(as.double(v), na.rm = TRUE)
  })
  levels <- lapply(x, function(v) {
    if (is.factor(v)) levels(v) else if (is.character(v)) sort(unique(v[!is.na(v)]))
  })
  apply_plan <- function(newx) {
    newx <- as.data.frame(newx)
    for (name in names(newx)) {
      v <- newx[[name]]
      absent <- is.na(v)
      if (!is.null(levels[[name]])) {
        lev <- levels[[name]]
        v <- as.character(v)
        if (!is.null(fills[[name]])) {
          v[absent] <- fills[[name]]
          lev <- c(lev, fills[[name]])
        }
        newx[[name]] <- factor(v, levels = lev)
      } else if (!is.null(fills[[name]])) {
        v <- as.double(v)
        v[absent] <- fills[[name]]
        newx[[name]] <- v
        newx[[paste0(name, ".missing")]] <- as.double(absent)
      }
    }
    newx
  }
  list(x = apply_plan(x), keep = keep, with_missing = with_missing, apply = apply_plan)
}

# ---- sizes --------------------------------------------------------------------------------

# A whole number between `min` and `max` (by default the largest R integer), checked before
# anything of that size is allocated; returned as an integer.
check_size <- function(x, name, min = 1, max = .Machine$integer.max) {
  check_count(x, name, min = min, max = max)
  as.integer(x)
}

# The 0/1 treatment of a table whose roles are `roles` (a cohort's stored coding when given).
treatment_01 <- function(data, roles) {
  role_vectors(data, list(treatment = roles$treatment,
                          treatment_levels = roles$treatment_levels))$a
}

# match.arg() whose error is a classed condition naming the argument and its choices (the
# choices are the default of the calling function's formal argument, as for match.arg()).
match_arg <- function(arg) {
  name <- deparse(substitute(arg))
  choices <- eval(formals(sys.function(sys.parent()))[[name]])
  check_choice(arg, choices, name)
}
