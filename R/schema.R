# The schema: roles and column types of a user's table, and the exact encoding of that table
# to the engine's numeric matrix and back (see SCHEMA_CONTRACT.md for the interface).

# Column types in engine code order (type_code() = position - 1).
schema_types <- c("continuous", "count", "semicontinuous", "binary", "categorical")
numeric_types <- c("continuous", "count", "semicontinuous")
discrete_types <- c("binary", "categorical")

#' Describe a table for the generative sandbox
#'
#' Records the role of each column (treatment, outcome, covariate) and detects its type, so
#' that the table can be encoded to the numeric matrix the C engine works on and decoded back
#' exactly (same column order, storage, factor levels, integerness and missing values).
#'
#' Types are detected as follows:
#' * logical columns, and factor or character columns with two levels, are `"binary"`;
#'   factors with more than two declared levels (unused levels are kept) and character columns
#'   with more than two values are `"categorical"`; ordered factors stay ordered;
#' * numeric columns with exactly two distinct values are `"binary"`;
#' * a numeric covariate with point masses - values each holding at least 2% of the
#'   non-missing rows, at least 3 rows, at least twice the mean count of its six nearest
#'   distinct values and four Poisson standard deviations above that mean (zeros, a top
#'   code, round numbers; any number of them,
#'   anywhere in the range) -
#'   and at least 10 other distinct values is `"semicontinuous"` with all of them, unless
#'   it is whole with at most 24 distinct values;
#' * other numeric columns whose values are all whole and non-negative are `"count"`;
#' * numeric columns with non-whole values whose observed minimum or maximum holds at least
#'   10% of the non-missing rows (the larger of the two is the point mass) and which have at
#'   least 10 other distinct values are `"semicontinuous"` (a point mass plus a continuous part, such as
#'   earnings with many zeros); this is the only rule for the outcome, whose model has one
#'   point mass at an edge;
#' * any other numeric column is `"continuous"`.
#'
#' The treatment must have exactly two values of any type (0/1, 1/2, `TRUE`/`FALSE`, two
#' strings, a two-level factor); the treated value is the second: the larger number, `TRUE`,
#' the second string in sorted order, the second factor level. It is decided here once,
#' stored in the schema (`columns[[treatment]]$levels[2]`) and stated by `print()`. The
#' outcome must be numeric or have two values of any type (e.g. 1/2, 0/10, `"alive"`/`"dead"`):
#' a two-valued outcome is binary everywhere, its event being the second value by the same
#' rule, and effects are differences in the probability of the event. Neither may contain
#' `NA` (errors name the column and the argument).
#' Covariates may contain `NA`: each such column is encoded as a filled value plus a
#' missingness indicator and the `NA` are restored on decoding.
#'
#' Columns of class list, Date, POSIXct, complex (or any other class besides factor) are
#' refused, as are constant columns, infinite or `NaN` values, tables with fewer than 20 rows
#' and categorical columns with more levels than half the rows.
#'
#' @param data A data.frame with at least 20 rows and unique column names.
#' @param treatment Name of the binary treatment column.
#' @param outcome Name of the outcome column (numeric, or binary).
#' @param covariates Names of the covariate columns. Default: every column other than the
#'   treatment and the outcome.
#' @param types Optional named character vector overriding detected types, e.g.
#'   `c(age = "continuous")`. Names must be columns used by the schema; values one of
#'   `"continuous"`, `"count"`, `"semicontinuous"`, `"binary"`, `"categorical"`, and
#'   compatible with the column (e.g. `"binary"` needs exactly two values, `"count"` whole
#'   non-negative numbers).
#' @return An object of class `sandbox_schema`: a list with
#'   * `names`: the columns used (treatment, outcome and covariates) in data order;
#'   * `treatment`, `outcome`: column names; `covariates`: character vector in data order;
#'   * `n`: number of rows; `row_names`: the data's row names (internal form, for exact
#'     decoding); `frame_class`: the class of the decoded table; `input_class`: the kind
#'     of the user's table (`"data.frame"`, `"tbl_df"` or `"data.table"`), whose class the
#'     tables returned by [simulate.causalmix()] and [hybrid_synth()] get back;
#'   * `columns`: a named list with one specification per used column, each a list with
#'     `name`, `role`, `type`, `storage` (`"double"`, `"integer"`, `"logical"`, `"factor"`,
#'     `"ordered"` or `"character"`), `levels` (values in code order for binary and
#'     categorical columns, code 0 being the first; `NULL` otherwise), `level_values`
#'     (the numeric values of numeric binary or categorical columns; `NULL` otherwise),
#'     `counts` (observed count of each level; `NULL` for numeric types), `whole` (every
#'     observed value is a whole number; always `FALSE` for non-numeric columns), `lower`,
#'     `upper` (observed range), `center`, `scale` (mean and standard deviation of the
#'     observed values), `point_mass` (the largest point mass of a semicontinuous column) and
#'     `mass_share` (its share of the non-missing rows), these six being `NA` where they do
#'     not apply (`lower` to `scale` are set for the continuous, count and semicontinuous
#'     types only), `point_masses` (a semicontinuous column's masses: a data.frame with
#'     `value` and `share`, largest first; `NULL` otherwise), `grid` (numeric types: the
#'     recording step, e.g. 1 for whole numbers or 0.5, such that every value is `lower`
#'     plus a whole number of steps; `NA` when there is none), `heaping` (numeric types:
#'     `NULL`, or a data.frame of the round steps (5, 10, 50, ... grid steps) whose
#'     multiples hold a `share` of the non-zero values at least twice what evenly spread
#'     values would, and at least 10%; e.g. cigarettes per day heaped on multiples of 10), `n_missing` (number of `NA`) and `fill` (the value that replaces `NA`
#'     in the encoding: the mean for continuous and semicontinuous columns, the rounded
#'     median for counts, the code of the most frequent level for binary and categorical
#'     columns).
#' @examples
#' tg <- datasets::ToothGrowth
#' tg$vc <- tg$supp == "VC"          # a logical treatment
#' s <- sandbox_schema(tg, treatment = "vc", outcome = "len", covariates = "dose")
#' s
#' summary(s)
#'
#' # Override a detected type
#' s2 <- sandbox_schema(tg, "vc", "len", "dose", types = c(dose = "categorical"))
#' s2$columns$dose$levels
#' @export
sandbox_schema <- function(data, treatment, outcome, covariates = NULL, types = NULL) {
  if (missing(treatment))
    stopf("`treatment` is missing; expected the name of the treatment column.",
          argument = "treatment")
  if (missing(outcome))
    stopf("`outcome` is missing; expected the name of the outcome column.", argument = "outcome")
  data <- check_table(data, "data", min_rows = 20L)
  roles <- input_roles(data, treatment, outcome, covariates)
  used <- names(data)[names(data) %in% c(roles$treatment, roles$outcome, roles$covariates)]
  types <- check_types_argument(types, used)

  role_of <- function(name) {
    if (name == roles$treatment) "treatment" else if (name == roles$outcome) "outcome"
    else "covariate"
  }
  columns <- lapply(used, function(name) {
    column_spec(data[[name]], name, role_of(name), override = unname(types[name]), n = nrow(data))
  })
  names(columns) <- used

  structure(list(
    names = used,
    treatment = roles$treatment,
    outcome = roles$outcome,
    covariates = used[used %in% roles$covariates],
    n = nrow(data),
    row_names = .row_names_info(data, 0L),
    frame_class = frame_class(data),
    input_class = input_class(data),
    columns = columns
  ), class = "sandbox_schema")
}

# ---- argument checks --------------------------------------------------------------------

describe_class <- function(x) {
  if (is.null(x)) return("NULL")
  sprintf("an object of class %s", paste(class(x), collapse = "/"))
}

quote_names <- function(x) paste0("`", x, "`", collapse = ", ")

check_types_argument <- function(types, used) {
  if (is.null(types)) return(stats::setNames(rep(NA_character_, length(used)), used))
  if (!is.character(types) || is.null(names(types)) || anyNA(names(types)) ||
      any(!nzchar(names(types))))
    stopf(paste0("`types` must be NULL or a named character vector such as ",
                        "c(age = \"continuous\"), not %s."), describe(types), argument = "types")
  dup <- unique(names(types)[duplicated(names(types))])
  if (length(dup))
    stopf("`types` names %s more than once.", quote_names(dup), argument = "types")
  unknown <- setdiff(names(types), used)
  if (length(unknown))
    stopf("`types` names %s, not a column used by the schema.", quote_names(unknown),
          argument = "types")
  bad <- is.na(types) | !types %in% schema_types
  if (any(bad))
    stopf("`types` gives %s for column %s; expected one of %s.",
                 describe(unname(types[bad][1L])), quote_names(names(types)[bad][1L]),
                 paste0("\"", schema_types, "\"", collapse = ", "), argument = "types")
  out <- stats::setNames(rep(NA_character_, length(used)), used)
  out[names(types)] <- types
  out
}

frame_class <- function(data) {
  # Tibbles rebuild from their class alone; other subclasses (e.g. data.table) carry state,
  # so they decode to a plain data.frame.
  cls <- class(data)
  if (identical(cls, "data.frame") || identical(cls, c("tbl_df", "tbl", "data.frame"))) cls
  else "data.frame"
}

# ---- column specification -----------------------------------------------------------------

# Checks one column's class and values; returns "logical", "factor", "character" or "numeric".
column_kind <- function(x, name) {
  fail <- function(what)
    stopf(paste0("Column `%s` is %s; expected a numeric, integer, logical, factor or ",
                 "character column."), name, what, column = name)
  if (is.list(x)) fail("a list")
  if (inherits(x, "Date")) fail("a Date (convert it, e.g. to days since a reference date)")
  if (inherits(x, "POSIXt")) fail("a date-time (POSIXct/POSIXlt)")
  if (is.complex(x)) fail("complex")
  if (!is.null(dim(x))) fail("a matrix")
  if (is.factor(x)) {
    if (anyNA(levels(x))) fail("a factor with NA as a level")
    return("factor")
  }
  if (is.object(x)) fail(sprintf("of class %s", paste(class(x), collapse = "/")))
  if (is.logical(x)) return("logical")
  if (is.character(x)) return("character")
  if (is.integer(x) || is.double(x)) {
    if (is.double(x) && any(is.nan(x)))
      stopf("Column `%s` contains NaN; expected numbers, with NA for missing values.",
                   name, column = name)
    if (any(is.infinite(x)))
      stopf("Column `%s` contains infinite values; expected finite numbers.", name, column = name)
    return("numeric")
  }
  fail(sprintf("of type %s", typeof(x)))
}

column_storage <- function(x, kind) {
  switch(kind,
         logical = "logical",
         character = "character",
         factor = if (is.ordered(x)) "ordered" else "factor",
         numeric = if (is.integer(x)) "integer" else "double")
}

# Type detection of a numeric column from its observed (non-NA) values. A column with
# point masses (see find_point_masses()) and at least 10 other distinct values is
# semicontinuous, unless it is a short range of whole numbers (a count); so is a
# non-integer column with a mass of at least 10% at its minimum or maximum.
detect_numeric_type <- function(observed, distinct = unique(observed)) {
  if (length(distinct) == 2L) return("binary")
  whole <- all(observed == round(observed))
  if (!whole || length(distinct) > softmax_count_levels) {
    masses <- find_point_masses(observed, distinct)
    if (nrow(masses) && length(distinct) - nrow(masses) >= 10L) return("semicontinuous")
  }
  if (whole && min(observed) >= 0) return("count")
  if (!whole) {
    mass <- if (length(distinct) - 1L >= 10L) find_point_mass(observed, distinct, 0.1)
    if (!is.null(mass))
      return("semicontinuous")
  }
  "continuous"
}

# The larger of the masses at the observed minimum and maximum when it holds at least
# `min_share` of the values (NULL otherwise). It need not be the most frequent value: CPS
# earnings have 14% zeros at the minimum and a larger top code inside the range.
find_point_mass <- function(observed, distinct = unique(observed), min_share = 0) {
  lo <- min(observed)
  hi <- max(observed)
  n_lo <- sum(observed == lo)
  n_hi <- sum(observed == hi)
  if (max(n_lo, n_hi) < min_share * length(observed)) return(NULL)
  if (n_lo >= n_hi) return(list(value = lo, share = n_lo / length(observed)))
  list(value = hi, share = n_hi / length(observed))
}

# Which types a column may be given through `types`, with the reason when not.
check_override <- function(type, kind, observed, n_levels, name) {
  fail <- function(why)
    stopf("`types` sets column `%s` to \"%s\", but %s.", name, type, why, argument = "types")
  if (type %in% numeric_types && kind != "numeric")
    fail(sprintf("it is a %s column; expected \"binary\" or \"categorical\"", kind))
  if (type == "binary" && n_levels != 2L)
    fail(sprintf("it has %d distinct values or levels; a binary column needs exactly 2",
                 n_levels))
  if (type == "count" && !(all(observed == round(observed)) && min(observed) >= 0))
    fail("it is not whole and non-negative")
  if (type == "semicontinuous") {
    mass <- find_point_mass(observed)
    if (is.null(mass) || mass$share * length(observed) < 2)
      fail("neither its minimum nor its maximum is a repeated value")
  }
  invisible(type)
}

column_spec <- function(x, name, role, override, n) {
  kind <- column_kind(x, name)
  # the two values of the treatment and of a binary outcome are decided by the input layer
  coding <- if (role == "treatment") treatment_coding(x, name)
            else if (role == "outcome") outcome_coding(x, name)
  storage <- column_storage(x, kind)
  missing <- is.na(x)
  n_missing <- sum(missing)
  observed <- x[!missing]
  if (length(observed) == 0L)
    stopf("Column `%s` has no non-missing values.", name, column = name)

  levels <- switch(kind,
                   logical = c("FALSE", "TRUE"),
                   factor = levels(x),
                   character = sort(unique(observed)),
                   numeric = NULL)
  distinct_values <- if (kind == "factor") unique(as.integer(observed)) else unique(observed)
  distinct <- length(distinct_values)
  if (distinct < 2L)
    stopf("Column `%s` is constant (its only value is %s); expected at least two values.",
          name, format_value(observed[1L]), column = name,
          argument = if (role %in% c("treatment", "outcome")) role else "covariates")

  detected <- switch(kind,
                     numeric = detect_numeric_type(observed, distinct_values),
                     logical = "binary",
                     if (length(levels) == 2L) "binary" else "categorical")
  type <- detected
  if (!is.na(override)) {
    n_levels <- if (kind == "numeric") distinct else length(levels)
    type <- check_override(override, kind, observed, n_levels, name)
  }

  check_role(type, role, x, name)

  spec <- list(name = name, role = role, type = type, storage = storage,
               levels = NULL, level_values = NULL, counts = NULL,
               whole = FALSE, lower = NA_real_, upper = NA_real_,
               point_mass = NA_real_, mass_share = NA_real_, point_masses = NULL,
               grid = NA_real_, heaping = NULL,
               center = NA_real_, scale = NA_real_,
               n_missing = n_missing, fill = NA_real_)

  if (kind == "numeric") spec$whole <- all(observed == round(observed))
  if (type %in% numeric_types) {
    values <- as.double(observed)
    spec$lower <- min(values)
    spec$upper <- max(values)
    spec$center <- mean(values)
    spec$scale <- stats::sd(values)
    spec$grid <- find_grid(values)
    spec["heaping"] <- list(find_heaping(values, spec$grid))
    if (type == "semicontinuous") {
      masses <- find_point_masses(values, as.double(distinct_values))
      edge <- find_point_mass(values, as.double(distinct_values))
      if (!nrow(masses)) masses <- data.frame(value = edge$value, share = edge$share)
      rownames(masses) <- NULL
      spec$point_masses <- masses
      # the outcome's point-mass head (without marginal transforms) is built on the mass at
      # an edge of the range; a covariate's on its largest mass
      first <- if (role == "outcome") edge else list(value = masses$value[1L],
                                                      share = masses$share[1L])
      spec$point_mass <- first$value
      spec$mass_share <- first$share
    }
    spec$fill <- if (type == "count") round(stats::median(values)) else mean(values)
  } else {
    if (!is.null(coding$levels)) {
      spec$levels <- coding$levels
      if (kind == "numeric") spec$level_values <- as.double(coding$levels)
    } else if (kind == "numeric") {
      spec$level_values <- sort(unique(as.double(observed)))
      spec$levels <- value_labels(spec$level_values)
    } else {
      spec$levels <- levels
    }
    if (type == "categorical" && length(spec$levels) > n / 2)
      stopf(paste0("Column `%s` has %d levels for %d rows; a categorical column may ",
                          "have at most half as many levels as rows."),
                   name, length(spec$levels), n, column = name)
    codes <- encode_codes(spec, observed)
    spec$counts <- stats::setNames(tabulate(codes + 1L, length(spec$levels)), spec$levels)
    spec$fill <- as.double(which.max(spec$counts) - 1L)
  }
  spec
}

# Treatment and outcome codings are decided by the input layer (R/input.R); a categorical
# outcome (more than two values, not numeric) is refused.
check_role <- function(type, role, x, name) {
  if (role == "treatment" && type != "binary")
    stopf("Treatment `%s` must be binary; `types` cannot make it %s.", name, type,
          argument = "types", column = name)
  if (role == "outcome" && type == "categorical")
    stopf("Outcome `%s` must be numeric or have exactly two values, but it is categorical with %s.",
          name, count_values(x), argument = "outcome", column = name)
  invisible(TRUE)
}

format_value <- function(x) {
  if (is.character(x) || is.factor(x)) paste0("\"", as.character(x), "\"")
  else format(x, digits = 7)
}

#' Engine code of a column type
#'
#' @param type Character vector of column types.
#' @return Integer codes: continuous 0, count 1, semicontinuous 2, binary 3, categorical 4.
#' @noRd
type_code <- function(type) {
  code <- match(type, schema_types) - 1L
  if (!is.character(type) || anyNA(code))
    stopf("`type` must be one of %s, not %s.",
                 paste0("\"", schema_types, "\"", collapse = ", "), describe(type),
          argument = "type")
  code
}

# ---- encoding and decoding --------------------------------------------------------------

# Level codes 0..K-1 of a discrete column (NA stays NA; unknown values become NA too).
encode_codes <- function(spec, x) {
  index <- if (!is.null(spec$level_values)) match(as.double(x), spec$level_values)
           else if (is.logical(x)) as.integer(x) + 1L
           else if (is.factor(x) && identical(levels(x), spec$levels)) as.integer(x)
           else match(as.character(x), spec$levels)
  index - 1L
}

# The raw numeric encoding of one column, NA kept.
encode_column <- function(spec, x) {
  if (spec$type %in% numeric_types) return(as.double(x))
  codes <- encode_codes(spec, x)
  unknown <- is.na(codes) & !is.na(x)
  if (any(unknown))
    stopf("Column `%s` has values not in the schema's levels: %s.", spec$name,
                 paste(format_value(utils::head(unique(x[unknown]), 5L)), collapse = ", "),
          column = spec$name)
  as.double(codes)
}

# Rebuilds one R column from its numeric encoding (NA where `miss` is TRUE).
decode_column <- function(spec, v, miss = NULL) {
  v <- as.double(v)
  if (!is.null(miss)) v[miss] <- NA
  if (spec$type %in% numeric_types) {
    if (spec$whole) v <- round(v)
    return(switch(spec$storage,
                  integer = as.integer(v),
                  double = v,
                  stopf("Column `%s` has storage \"%s\" for a numeric type.",
                               spec$name, spec$storage, column = spec$name)))
  }
  code <- as.integer(round(v))
  k <- length(spec$levels)
  bad <- !is.na(code) & (code < 0L | code >= k)
  if (any(bad))
    stopf("Column `%s` has codes outside 0..%d in the encoded table.", spec$name, k - 1L,
          column = spec$name)
  index <- code + 1L
  switch(spec$storage,
         logical = index == 2L,
         character = spec$levels[index],
         factor = structure(index, levels = spec$levels, class = "factor"),
         ordered = structure(index, levels = spec$levels, class = c("ordered", "factor")),
         integer = as.integer(spec$level_values)[index],
         double = spec$level_values[index])
}

# Encodes a table that matches `schema` (see SCHEMA_CONTRACT.md). With `roles = TRUE` the
# treatment and outcome are encoded (0/1 by the input layer) when present in `data` (else
# `t`/`y` are NULL); predict() encodes the covariates only.
encode_table <- function(schema, data, argument = "data", roles = TRUE) {
  check_schema(schema)
  data <- check_table(data, argument)
  check_data_matches_schema(schema, data, need_outcome = FALSE, need_treatment = FALSE,
                            argument = argument)
  n <- nrow(data)
  covariates <- schema$covariates
  with_missing <- covariates[vapply(schema$columns[covariates],
                                    function(s) s$n_missing > 0L, logical(1))]
  x <- matrix(0, n, length(covariates), dimnames = list(NULL, covariates))
  missing <- matrix(0, n, length(with_missing), dimnames = list(NULL, with_missing))
  for (name in covariates) {
    spec <- schema$columns[[name]]
    v <- encode_column(spec, data[[name]])
    absent <- is.na(v)
    v[absent] <- spec$fill
    x[, name] <- v
    if (name %in% with_missing) missing[, name] <- as.double(absent)
  }
  # the treatment and the outcome through the input layer, with the schema's codings
  coded <- if (roles && schema$treatment %in% names(data)) {
    present <- schema_roles(schema)
    if (!schema$outcome %in% names(data)) present$outcome <- NULL
    role_vectors(data, present)
  }
  list(x = x, missing = missing,
       t = if (!is.null(coded)) as.double(coded$a), y = coded$y,
       row_names = .row_names_info(data, 0L))
}

# The roles of a schema with its stored codings, as the input layer's role_vectors() reads
# them: the treatment's two values, a binary outcome's two values or a numeric outcome.
schema_roles <- function(schema) {
  y_spec <- schema$columns[[schema$outcome]]
  binary <- identical(y_spec$type, "binary")
  list(treatment = schema$treatment, outcome = schema$outcome,
       covariates = schema$covariates,
       treatment_levels = schema$columns[[schema$treatment]]$levels,
       outcome_levels = if (binary) y_spec$levels,
       outcome_type = if (!binary) "numeric")
}

# Rebuilds a data.frame from an encoded list with `x` (n x covariates) and optional
# `missing`, `t`, `y`, `row_names`. Columns come in schema order; absent `t`/`y` are omitted.
decode_table <- function(schema, encoded) {
  check_schema(schema)
  # [[ ]] rather than $ throughout: no partial matching of, e.g., `t` to a `tau` element.
  if (!is.list(encoded) || is.null(encoded[["x"]]))
    stopf("`encoded` must be a list with at least a matrix `x`.", argument = "encoded")
  x <- encoded[["x"]]
  covariates <- schema$covariates
  if (!is.matrix(x) || !is.numeric(x) || ncol(x) != length(covariates))
    stopf("`encoded$x` must be a numeric matrix with %d columns (one per covariate).",
                 length(covariates), argument = "encoded")
  x_col <- function(name) if (is.null(colnames(x))) match(name, covariates) else name
  if (!is.null(colnames(x)) && !all(covariates %in% colnames(x)))
    stopf("`encoded$x` lacks covariate columns %s.",
                 quote_names(setdiff(covariates, colnames(x))), argument = "encoded")
  n <- nrow(x)
  missing <- encoded[["missing"]]
  if (!is.null(missing) && (!is.matrix(missing) || nrow(missing) != n ||
                            (ncol(missing) > 0L && is.null(colnames(missing)))))
    stopf("`encoded$missing` must be a matrix with one named column per covariate with NA.",
          argument = "encoded")
  for (role in c("t", "y")) {
    if (!is.null(encoded[[role]]) && length(encoded[[role]]) != n)
      stopf("`encoded$%s` must have length %d (the rows of `x`), not %d.", role, n,
                   length(encoded[[role]]))
  }

  out_names <- schema$names[schema$names %in% c(
    covariates,
    if (!is.null(encoded[["t"]])) schema$treatment,
    if (!is.null(encoded[["y"]])) schema$outcome)]
  columns <- lapply(out_names, function(name) {
    spec <- schema$columns[[name]]
    if (name == schema$treatment) return(decode_column(spec, encoded[["t"]]))
    if (name == schema$outcome) return(decode_column(spec, encoded[["y"]]))
    miss <- if (!is.null(missing) && name %in% colnames(missing)) missing[, name] == 1
    decode_column(spec, x[, x_col(name)], miss)
  })
  row_names <- encoded[["row_names"]] %||% c(NA_integer_, -n)
  structure(columns, names = out_names, row.names = row_names,
            class = schema$frame_class %||% "data.frame")
}

check_schema <- function(schema) {
  if (!inherits(schema, "sandbox_schema"))
    stopf("`schema` must be a sandbox_schema (from sandbox_schema()), not %s.",
                 describe_class(schema), argument = "schema")
  invisible(schema)
}

# Checks that new data (for predict(), fidelity(), encode_table()) has the schema's columns
# with compatible types and levels. Errors name every offending column.
check_data_matches_schema <- function(schema, data, need_outcome = TRUE,
                                      need_treatment = TRUE, argument = "data") {
  check_schema(schema)
  data <- check_table(data, argument)
  required <- c(schema$covariates, if (need_treatment) schema$treatment,
                if (need_outcome) schema$outcome)
  absent <- setdiff(required, names(data))
  if (length(absent))
    stopf("`%s` lacks column%s %s used by the fit.", argument,
          if (length(absent) > 1L) "s" else "", quote_names(absent),
          argument = argument, column = absent)
  problems <- character(0)
  bad <- character(0)
  for (name in intersect(schema$names, names(data))) {
    why <- column_mismatch(schema$columns[[name]], data[[name]])
    if (!is.null(why)) {
      problems <- c(problems, sprintf("`%s` %s", name, why))
      bad <- c(bad, name)
    }
  }
  if (length(problems))
    stopf("`%s` does not match the fitted table: %s.", argument,
          paste(problems, collapse = "; "), argument = argument, column = bad)
  invisible(TRUE)
}

# NULL when column `x` fits `spec`, else a short description of the mismatch.
column_mismatch <- function(spec, x) {
  kind <- tryCatch(column_kind(x, spec$name), error = function(e) conditionMessage(e))
  if (!kind %in% c("logical", "factor", "character", "numeric"))
    return(sub(sprintf("^Column `%s` ", spec$name), "", sub("\\.$", "", kind)))
  expected <- switch(spec$storage, integer = , double = "numeric",
                     ordered = "factor", spec$storage)
  if (kind != expected)
    return(sprintf("is %s but the schema expects %s", kind, expected))
  if (spec$storage %in% c("factor", "ordered")) {
    if (is.ordered(x) != (spec$storage == "ordered"))
      return(sprintf("must %sbe an ordered factor", if (is.ordered(x)) "not " else ""))
    if (!identical(levels(x), spec$levels))
      return(sprintf("has levels %s but the schema expects %s",
                     paste(levels(x), collapse = ", "), paste(spec$levels, collapse = ", ")))
  }
  if (spec$type %in% discrete_types) {
    codes <- encode_codes(spec, x)
    unknown <- unique(x[is.na(codes) & !is.na(x)])
    if (length(unknown))
      return(sprintf("has values not in the schema's levels (%s)",
                     paste(format_value(utils::head(unknown, 5L)), collapse = ", ")))
  }
  n_na <- sum(is.na(x))
  if (n_na > 0L && spec$role != "covariate")
    return(sprintf("(the %s) has %d missing values; expected none", spec$role, n_na))
  if (n_na > 0L && spec$n_missing == 0L)
    return(sprintf(paste0("has %d missing values but had none when the schema was built, ",
                          "so the model has no missingness for it"), n_na))
  NULL
}

# ---- print and summary ------------------------------------------------------------------

# One-line description of a column's levels or bounds.
spec_range_text <- function(spec, max_levels = 4L) {
  if (spec$type %in% discrete_types) {
    lev <- spec$levels
    text <- if (length(lev) > max_levels)
      sprintf("%s, ... (%d levels)", paste(lev[seq_len(max_levels)], collapse = ", "),
              length(lev))
    else paste(lev, collapse = ", ")
    if (spec$role == "treatment") text <- sprintf("%s (treated: %s)", text, lev[2L])
    return(text)
  }
  text <- sprintf("[%s, %s]", format(spec$lower, digits = 6), format(spec$upper, digits = 6))
  shape <- shape_text(spec)
  if (nzchar(shape)) text <- sprintf("%s, %s", text, shape)
  text
}

schema_table <- function(x) {
  specs <- x$columns[x$names]
  data.frame(
    column = x$names,
    role = vapply(specs, `[[`, "", "role"),
    type = vapply(specs, `[[`, "", "type"),
    storage = vapply(specs, `[[`, "", "storage"),
    `levels / bounds` = vapply(specs, spec_range_text, ""),
    missing = vapply(specs, function(s) {
      if (s$n_missing == 0L) "0"
      else sprintf("%d (%.1f%%)", s$n_missing, 100 * s$n_missing / x$n)
    }, ""),
    check.names = FALSE, stringsAsFactors = FALSE, row.names = NULL)
}

#' @export
print.sandbox_schema <- function(x, ...) {
  cat(sprintf("<sandbox_schema> %d rows, %d columns: treatment `%s`, outcome `%s`, %d covariate%s\n",
              x$n, length(x$names), x$treatment, x$outcome, length(x$covariates),
              if (length(x$covariates) == 1L) "" else "s"))
  cat_table(schema_table(x))
  invisible(x)
}

# Prints a data.frame of strings as left-aligned columns, formatted by hand so that a wide
# table never wraps into column blocks.
cat_table <- function(table) {
  cells <- rbind(names(table), as.matrix(table))
  cells[is.na(cells)] <- ""
  widths <- apply(nchar(cells, type = "width"), 2L, max)
  lines <- apply(cells, 1L, function(row)
    paste(mapply(formatC, row, width = -widths), collapse = "  "))
  cat(paste0("  ", sub("\\s+$", "", lines)), sep = "\n")
}

#' @export
summary.sandbox_schema <- function(object, ...) {
  specs <- object$columns[object$names]
  num <- function(field) vapply(specs, function(s) as.double(s[[field]]), 0)
  cols <- data.frame(
    column = object$names,
    role = vapply(specs, `[[`, "", "role"),
    type = vapply(specs, `[[`, "", "type"),
    storage = vapply(specs, `[[`, "", "storage"),
    n_levels = vapply(specs, function(s) length(s$levels), 0L),
    lower = num("lower"), upper = num("upper"),
    center = num("center"), scale = num("scale"),
    point_mass = num("point_mass"), mass_share = num("mass_share"),
    n_missing = vapply(specs, function(s) as.integer(s$n_missing), 0L),
    mode = vapply(specs, function(s) if (is.null(s$counts)) NA_character_
                  else names(s$counts)[which.max(s$counts)], ""),
    mode_share = vapply(specs, function(s) if (is.null(s$counts)) NA_real_
                        else max(s$counts) / sum(s$counts), 0),
    stringsAsFactors = FALSE, row.names = NULL)
  treat <- object$columns[[object$treatment]]
  structure(list(
    n = object$n,
    treated = unname(treat$counts[2L]),
    treated_share = unname(treat$counts[2L]) / object$n,
    outcome_type = object$columns[[object$outcome]]$type,
    types = table(factor(cols$type[cols$role == "covariate"], levels = schema_types)),
    columns_with_missing = sum(cols$n_missing > 0L),
    columns = cols),
    class = "summary.sandbox_schema")
}

#' @export
print.summary.sandbox_schema <- function(x, digits = 4, ...) {
  cat(sprintf("Schema of %d rows: %d treated (%.1f%%), outcome modelled as %s\n",
              x$n, x$treated, 100 * x$treated_share,
              if (x$outcome_type == "binary") "binary" else "continuous"))
  types <- x$types[x$types > 0]
  cat(sprintf("Covariate types: %s\n",
              paste(sprintf("%s %d", names(types), types), collapse = ", ")))
  cat(sprintf("Columns with missing values: %d\n", x$columns_with_missing))
  cols <- x$columns
  shown <- data.frame(
    column = cols$column, role = cols$role, type = cols$type,
    levels = ifelse(cols$n_levels > 0L, as.character(cols$n_levels), NA),
    `most frequent` = ifelse(is.na(cols$mode), NA,
                             sprintf("%s (%.0f%%)", cols$mode, 100 * cols$mode_share)),
    range = ifelse(is.na(cols$lower), NA,
                   sprintf("[%s, %s]", format_num(cols$lower, digits),
                           format_num(cols$upper, digits))),
    mean = format_num(cols$center, digits), sd = format_num(cols$scale, digits),
    `point mass` = ifelse(is.na(cols$point_mass), NA,
                          sprintf("%s (%.0f%%)", format_num(cols$point_mass, digits),
                                  100 * cols$mass_share)),
    missing = cols$n_missing,
    check.names = FALSE, stringsAsFactors = FALSE)
  cat_table(shown)
  invisible(x)
}

format_num <- function(x, digits) {
  ifelse(is.na(x), NA_character_, vapply(x, function(v) format(signif(v, digits)), ""))
}
