# Small helpers shared across the package: thread counts, engine seeds and argument checks.

#' Number of threads used by the C engine
#'
#' Decides the thread count of every parallel region: the `threads` argument when given,
#' otherwise `getOption("causalsandbox.threads")`, otherwise half the processors (at least
#' one). The result is capped by the `OMP_THREAD_LIMIT` environment variable, by the number of
#' processors, and by 2 when `_R_CHECK_LIMIT_CORES_` is set (as during `R CMD check`).
#' Results never depend on it: random streams are keyed by row or unit, not by thread.
#'
#' @param threads `NULL` or a positive whole number.
#' @return A positive integer.
#' @examples
#' sandbox_threads()
#' sandbox_threads(1)
#' @export
sandbox_threads <- function(threads = NULL) {
  if (is.null(threads)) threads <- getOption("causalsandbox.threads", NULL)
  cores <- parallel_cores()
  if (is.null(threads)) {
    threads <- max(1L, cores %/% 2L)
  } else {
    check_size(threads, "threads")
  }
  threads <- min(as.integer(threads), cores)
  limit <- suppressWarnings(as.integer(Sys.getenv("OMP_THREAD_LIMIT", "")))
  if (!is.na(limit) && limit >= 1L) threads <- min(threads, limit)
  if (nzchar(Sys.getenv("_R_CHECK_LIMIT_CORES_"))) threads <- min(threads, 2L)
  as.integer(max(1L, threads))
}

# The processor count, asked once per session: parallel::detectCores() starts a shell on
# Linux, which costs more than a small draw.
core_count <- new.env(parent = emptyenv())

parallel_cores <- function() {
  if (is.null(core_count$cores)) {
    cores <- tryCatch(parallel::detectCores(logical = TRUE), error = function(e) NA_integer_)
    core_count$cores <- if (is.na(cores) || cores < 1L) 1L else as.integer(cores)
  }
  core_count$cores
}

# The package's one seed path. `seed` (a whole number) or, without it, R's generator as set
# by set.seed() gives a 64-bit engine seed (two integers, high word first); everything else
# is derived from it: engine streams by cs_rng_derive_seed() (derive_seed()), and R-side
# randomness (fold labels, learners' seeds) under with_seed(), which pins the generator kind
# so that a given seed gives the same numbers whatever RNGkind() the session or a future
# worker uses.
engine_seed <- function(seed = NULL) {
  with_seed(seed, sample.int(.Machine$integer.max, 2L, replace = TRUE) - 1L)
}

# Evaluates `expr` with R's RNG seeded from `seed` (unless NULL) under the default generator
# kinds (Mersenne-Twister, Inversion, Rejection), restoring the caller's kind and state after.
with_seed <- function(seed, expr) {
  if (is.null(seed)) return(expr)
  check_seed(seed)
  old_kind <- RNGkind()
  had_seed <- exists(".Random.seed", envir = globalenv(), inherits = FALSE)
  if (had_seed) old <- get(".Random.seed", envir = globalenv(), inherits = FALSE)
  on.exit({
    RNGkind(old_kind[1L], old_kind[2L], old_kind[3L])
    if (had_seed) assign(".Random.seed", old, envir = globalenv())
    else if (exists(".Random.seed", envir = globalenv(), inherits = FALSE))
      rm(".Random.seed", envir = globalenv())
  })
  set.seed(seed, kind = "Mersenne-Twister", normal.kind = "Inversion",
           sample.kind = "Rejection")
  expr
}

# The engine seed cs_rng_derive_seed(seed, tag) (high word first, as engine seeds are).
derive_seed <- function(seed, tag) {
  words <- .Call(C_rng_derive_seed, as.integer(seed), as.double(tag))
  words <- ifelse(words >= 2^31, words - 2^32, words)
  as.integer(words[2:1])
}

# A whole number for set.seed() derived from an engine seed and a tag.
derive_r_seed <- function(seed, tag) {
  as.integer(abs(derive_seed(seed, tag)[2L]) %% .Machine$integer.max)
}

check_seed <- function(seed, name = "seed") {
  if (!is.numeric(seed) || length(seed) != 1L || is.na(seed) || seed != round(seed))
    stopf("`%s` must be NULL or a single whole number, not %s.", name, describe(seed),
          argument = name)
  invisible(seed)
}

# A whole number in [min, max]; the default bound is the largest R integer, so that a count
# never becomes NA when stored as an integer and nothing of an absurd size is allocated.
check_count <- function(x, name, min = 1, max = .Machine$integer.max) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) || x != round(x) || x < min)
    stopf("`%s` must be a whole number >= %s, not %s.", name, format(min), describe(x),
          argument = name)
  if (x > max)
    stopf("`%s` must be at most %s, not %s.", name,
          format(max, big.mark = ",", scientific = FALSE),
          format(x, big.mark = ",", scientific = FALSE), argument = name)
  invisible(x)
}

check_number <- function(x, name, lower = -Inf, upper = Inf,
                         lower_open = FALSE, upper_open = FALSE) {
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) && is.finite(x) &&
    (if (lower_open) x > lower else x >= lower) && (if (upper_open) x < upper else x <= upper)
  if (!ok) {
    range <- sprintf("%s%s, %s%s", if (lower_open) "(" else "[", format(lower),
                     format(upper), if (upper_open) ")" else "]")
    stopf("`%s` must be a single finite number in %s, not %s.", name, range, describe(x),
          argument = name)
  }
  invisible(x)
}

check_flag <- function(x, name) {
  if (!is.logical(x) || length(x) != 1L || is.na(x))
    stopf("`%s` must be TRUE or FALSE, not %s.", name, describe(x), argument = name)
  invisible(x)
}

check_string <- function(x, name) {
  if (!is.character(x) || length(x) != 1L || is.na(x) || !nzchar(x))
    stopf("`%s` must be a single non-empty string, not %s.", name, describe(x), argument = name)
  invisible(x)
}

# A short description of a bad value for error messages.
describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.function(x)) return("a function")
  if (length(x) == 0L) return(sprintf("an empty %s vector", class(x)[1L]))
  if (length(x) > 1L) return(sprintf("a %s vector of length %d", class(x)[1L], length(x)))
  if (is.character(x)) return(sprintf("\"%s\"", x))
  if (is.atomic(x)) return(format(x))
  sprintf("an object of class %s", class(x)[1L])
}

`%||%` <- function(x, y) if (is.null(x)) y else x
