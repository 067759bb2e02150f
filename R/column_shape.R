# The shape of a numeric column's marginal as recorded: point masses (single values holding a
# visible share of the rows: zeros, a top code, round numbers), the recording grid (integers,
# steps of 0.5, cents) and heaping (values piling up on multiples of a round step). The
# schema reports them and the covariate decoder keeps them (see R/marginal_transform.R).

# A value is a point mass when it holds at least `point_mass_share` of the non-missing rows,
# at least `point_mass_rows` rows and at least `point_mass_excess` times the mean count of
# its neighbours (the three nearest distinct values on each side) and four Poisson standard
# deviations above it, so that the commonest ages of a smooth age column, or a chance clump
# in a small table, are not masses while a heap at 40 hours a week is.
point_mass_share <- 0.02
point_mass_rows <- 3L
point_mass_excess <- 2

# Point masses of a numeric column: a data.frame with `value` and `share`, largest share
# first (zero rows when there is none).
find_point_masses <- function(observed, distinct = unique(observed)) {
  values <- sort(as.double(distinct))
  counts <- tabulate(match(as.double(observed), values), length(values))
  k <- length(values)
  # mean count of the (up to) three distinct values on each side
  total <- numeric(k)
  present <- numeric(k)
  for (o in c(-3L, -2L, -1L, 1L, 2L, 3L)) {
    at <- seq_len(k) + o
    inside <- at >= 1L & at <= k
    total[inside] <- total[inside] + counts[at[inside]]
    present <- present + inside
  }
  neighbours <- total / present
  share <- counts / length(observed)
  keep <- counts >= point_mass_rows & share >= point_mass_share &
    counts >= point_mass_excess * neighbours &
    counts >= neighbours + 4 * sqrt(pmax(neighbours, 1))   # more than a chance clump
  out <- data.frame(value = values[keep], share = share[keep])
  out <- out[order(-out$share, out$value), , drop = FALSE]
  rownames(out) <- NULL
  out
}

# The recording grid of a numeric column: the largest step s such that every value is
# lower + k s for whole k, looked for among decimal steps (10^-d times a whole number, d at
# most 6). NA when the values are not on such a grid or the grid is finer than a
# millionth of the range (a measurement without a recording precision).
find_grid <- function(observed) {
  v <- sort(unique(as.double(observed)))
  if (length(v) < 2L) return(NA_real_)
  for (d in 0:6) {
    scaled <- v * 10^d
    units <- round(scaled)
    if (all(abs(scaled - units) <= 1e-7 * pmax(1, abs(scaled)))) {
      if (max(abs(units)) > 2^52) return(NA_real_)
      step <- Reduce(whole_gcd, diff(units)) / 10^d
      if ((v[length(v)] - v[1L]) / step > 1e6) return(NA_real_)
      return(step)
    }
  }
  NA_real_
}

whole_gcd <- function(a, b) {
  while (b > 0.5) {
    r <- a %% b
    a <- b
    b <- r
  }
  a
}

# Heaping: the round multiples (5, 10, 50, 100, 500 or 1000 times the grid step, or of 1
# when there is no grid) holding at least twice the share of the non-zero values that evenly
# spread values would put on them, and at least 10% of them. NULL, or a data.frame with
# `step` and `share` (the share of non-zero values on multiples of `step`).
find_heaping <- function(observed, grid) {
  v <- as.double(observed)
  v <- v[v != 0]
  if (length(v) < 20L || length(unique(v)) < 10L) return(NULL)
  base <- if (is.na(grid)) 1 else grid
  steps <- base * c(5, 10, 50, 100, 500, 1000)
  steps <- steps[steps <= max(abs(v))]
  share <- vapply(steps, function(step) {
    ratio <- v / step
    mean(abs(ratio - round(ratio)) <= 1e-7 * pmax(1, abs(ratio)))
  }, double(1))
  keep <- share >= 0.1 & share >= 2 * base / steps
  if (!any(keep)) return(NULL)
  data.frame(step = steps[keep], share = share[keep])
}

# One-line text of the point masses and heaping of a column spec ("" when none).
shape_text <- function(spec) {
  parts <- character(0)
  masses <- spec$point_masses
  number <- function(v) vapply(v, format, "", digits = 6)
  if (!is.null(masses) && nrow(masses)) {
    shown <- utils::head(masses, 4L)
    parts <- sprintf("mass%s at %s%s", if (nrow(masses) > 1L) "es" else "",
                     paste(sprintf("%s (%.0f%%)", number(shown$value), 100 * shown$share),
                           collapse = ", "),
                     if (nrow(masses) > 4L) sprintf(", +%d more", nrow(masses) - 4L) else "")
  }
  heaps <- spec$heaping
  if (!is.null(heaps))
    parts <- c(parts, sprintf("heaped on multiples of %s",
                              paste(sprintf("%s (%.0f%%)", number(heaps$step),
                                            100 * heaps$share), collapse = ", ")))
  if (!is.null(spec$grid) && !is.na(spec$grid) && !(isTRUE(spec$whole) && spec$grid == 1))
    parts <- c(parts, sprintf("grid %s", format(spec$grid, digits = 6)))
  paste(parts, collapse = "; ")
}
