# Marginal transforms of numeric covariates (see causalmix_control(marginal_transforms)).
#
# Each continuous or semicontinuous covariate, and each count without a softmax head, is
# given to the networks as normal scores and decoded through knots of its smoothed empirical
# quantile function: value[i] = Q(p[i]) on an even grid of probabilities p, Q interpolating
# linearly between order statistics, so that a value held by many rows (a point mass or a
# heap) is a flat stretch of knots. A drawn score s goes to Q(G(s)), G being the distribution
# of the model's own scores, learned from a reference draw after training (knots `from` =
# quantiles of the drawn scores at p); the value is then snapped to the column's recording
# grid. Draws are therefore inside the observed range, on the grid, and have the data's
# marginal (point masses included) up to the reference draw's sampling error. The networks
# see the score of the value written (knots value -> score; a point mass gets the score of
# its middle knot, i.e. of the middle of its ranks), so
# that truths and predict() agree on the decoded row.

# Knots per transform: at most this many, and at least 101 (small tables).
marginal_knots_max <- 1001L

# Positions of the covariates that get a transform, from the schema's specs and the count
# softmax levels of the model description.
marginal_columns <- function(specs, n_levels) {
  type <- vapply(specs, `[[`, "", "type")
  which(type %in% c("continuous", "semicontinuous") | (type == "count" & n_levels == 0L))
}

# Smoothed empirical quantile function (linear between order statistics) of sorted `x` at
# probabilities p, exactly the order statistic where the neighbours are equal (so a point
# mass's value is reproduced bit for bit).
smoothed_quantile <- function(x, p) {
  n <- length(x)
  h <- (n - 1) * p + 1
  lo <- floor(h)
  hi <- pmin(lo + 1, n)
  a <- x[lo]
  b <- x[hi]
  ifelse(a == b, a, a + (h - lo) * (b - a))
}

# The grid of a spec on whole numbers: list(scale, origin, step, last) with values
# (origin + step i) / scale; step 0 when the column has no grid.
grid_units <- function(spec) {
  none <- list(scale = 1, origin = 0, step = 0, last = 0)
  if (is.null(spec$grid) || is.na(spec$grid)) return(none)
  for (d in 0:6) {
    scale <- 10^d
    step <- spec$grid * scale
    origin <- spec$lower * scale
    if (abs(step - round(step)) <= 1e-7 * max(1, step) &&
        abs(origin - round(origin)) <= 1e-7 * max(1, abs(origin)))
      return(list(scale = scale, origin = round(origin), step = round(step),
                  last = round((spec$upper - spec$lower) / spec$grid)))
  }
  none
}

# Transform of one column from its observed values: knots value (data quantiles), score
# (normal scores of the knots) and from (the model's scores; the normal scores until the
# model's own are learned).
marginal_knots <- function(values) {
  values <- sort(as.double(values))
  n <- length(values)
  k <- min(marginal_knots_max, max(101L, n))
  p <- seq(0, 1, length.out = k)
  score <- normal_scores(p, n)
  list(value = smoothed_quantile(values, p), score = score, from = score)
}

# Normal scores of probabilities p of a column of n values, kept half a rank inside (0, 1).
normal_scores <- function(p, n) stats::qnorm(pmin(pmax(p, 0.5 / n), 1 - 0.5 / n))

# The model description's `marginal` element (see vae.h) and the changes the transformed
# columns need: continuous to the networks, standardised already, unbounded, the fill value
# as a score. `x`, `missing`: the encoded covariates.
add_marginal_transforms <- function(model, specs, x, missing) {
  p <- model$p
  columns <- marginal_columns(specs, model$n_levels)
  knots <- integer(p)
  parts <- vector("list", p)
  grid <- list(scale = rep(1, p), origin = numeric(p), step = numeric(p), last = numeric(p))
  for (j in columns) {
    name <- model$covariates[j]
    v <- x[, j]
    if (name %in% colnames(missing)) v <- v[missing[, name] == 0]
    parts[[j]] <- marginal_knots(v)
    knots[j] <- length(parts[[j]]$value)
    g <- grid_units(specs[[j]])
    for (field in names(grid)) grid[[field]][j] <- g[[field]]
  }
  pieces <- function(field) as.double(unlist(lapply(parts, `[[`, field)))
  model$marginal <- list(knots = knots, start = as.integer(cumsum(c(0L, knots))[seq_len(p)]),
                         from = pieces("from"), value = pieces("value"),
                         score = pieces("score"), grid_scale = grid$scale,
                         grid_origin = grid$origin, grid_step = grid$step,
                         grid_last = grid$last)
  model$types[columns] <- 0L
  model$center[columns] <- 0
  model$scale[columns] <- 1
  model$lower[columns] <- -Inf
  model$upper[columns] <- Inf
  model$point_mass[columns] <- 0
  for (j in columns) model$fill[j] <- marginal_scores(model, j, model$fill[j])
  # a Gaussian head (two outputs) per transformed column
  sizes <- model$decoder$sizes
  sizes[length(sizes)] <- sum(decoder_head_widths(model$types, model$n_levels)) + model$m
  model$decoder$sizes <- sizes
  model
}

# Knots of column j of a model's transforms.
marginal_part <- function(model, j, field) {
  m <- model$marginal
  m[[field]][m$start[j] + seq_len(m$knots[j])]
}

# Scores of values of column j (the engine's lookup, as in the draws).
marginal_scores <- function(model, j, v) {
  .Call(C_marginal_encode, marginal_part(model, j, "value"), marginal_part(model, j, "score"),
        as.double(v))
}

# The encoded covariates as the networks see them: transformed columns as scores.
network_inputs <- function(model, x) {
  knots <- model$marginal$knots
  for (j in which(knots > 0L)) x[, j] <- marginal_scores(model, j, x[, j])
  x
}

# Learns each transform's `from` knots: the quantiles of the model's own scores in a fixed
# draw of `n_draw` rows (missing cells left out), so that decoding maps the model's score
# distribution onto the data's. Returns the fit with its model updated.
match_marginal_transforms <- function(fit, n_draw = 20000L, threads = NULL) {
  model <- fit$model
  columns <- which(model$marginal$knots > 0L)
  if (!length(columns)) return(fit)
  # the identity transform for the reference draw, and double columns to hold the scores
  identity <- model
  p <- model$p
  two <- as.integer(seq_len(p) %in% columns) * 2L
  line <- unlist(lapply(two, function(k) if (k) c(-1e6, 1e6)))
  identity$marginal <- list(knots = two, start = as.integer(cumsum(c(0L, two))[seq_len(p)]),
                            from = line, value = line, score = line,
                            grid_scale = rep(1, p), grid_origin = numeric(p),
                            grid_step = numeric(p), grid_last = numeric(p))
  decoding <- lapply(fit$schema$columns[fit$schema$covariates], column_decoding)
  for (j in columns) decoding[[j]] <- list(type = 0L, whole = 0L)
  seed <- seed_offset(seed_offset(seed_offset(fit$reference$seed)))
  drawn <- .Call(C_causalmix_draw, identity, decoding, as.integer(n_draw), as.integer(seed),
                 0, kernel_choice(), sandbox_threads(threads), FALSE)$columns
  from <- model$marginal$from
  for (j in columns) {
    s <- sort(drawn[[j]][!is.na(drawn[[j]])])
    if (length(s) < 2L) next
    k <- model$marginal$knots[j]
    from[model$marginal$start[j] + seq_len(k)] <- smoothed_quantile(s, seq(0, 1, length.out = k))
  }
  fit$model$marginal$from <- from
  fit
}

# Outcome transform (numeric outcomes, with marginal_transforms): the outcome network models
# the normal scores of Y with a Gaussian per arm, Y(t) | x = Q(G(S)) with
# S ~ N(loc_t(x), scale_t(x)^2), and m_t(x) = E[Y(t) | x] is the exact mean of that law
# (closed form, see cs_marginal_moments() in src/marginal_map.c): the decode is constant
# outside the knots and linear between them. The outcome is not snapped to a grid (a snapped
# value's mean would not be m_t(x)); whole-number outcomes are rounded as before.

# Knots of the outcome transform. Every draw and prediction evaluates the normal law at the
# knots, so they are thinned: from the smoothed empirical quantile function at 1001 even
# probabilities, plus the probabilities (first rank - 1) / n and last rank / n of each value
# held by at least `outcome_mass_share` of the rows (point masses and heaps, so that a flat
# stretch holds its value's share c / n exactly; the largest `outcome_mass_values` such
# values), a knot is dropped
# when the line between its kept neighbours (in normal scores) stays within
# `outcome_knot_tolerance` in probability (or 2 / n, the data's resolution, when larger) of
# the quantile function at every dropped knot.
# A smooth outcome keeps a few dozen knots, a heaped one two per heap more.
outcome_knots_max <- 1001L
outcome_mass_share <- 0.002
outcome_mass_values <- 300L
outcome_knot_tolerance <- 0.002

# Indices of the knots kept of (score, value): greedy, each kept knot reaching as far as the
# line to the next stays inside [lower, upper] at the knots in between, and never past a knot
# marked in `fixed` (the edges of a held value's flat stretch, which must stay).
thin_knots <- function(score, value, lower, upper, fixed = logical(length(value))) {
  k <- length(value)
  keep <- 1L
  i <- 1L
  while (i < k) {
    l <- i + 1L
    while (l < k && !fixed[l]) {
      m <- (i + 1L):l
      line <- value[i] + (value[l + 1L] - value[i]) *
        (score[m] - score[i]) / (score[l + 1L] - score[i])
      if (score[l + 1L] == score[i] || any(line < lower[m] | line > upper[m])) break
      l <- l + 1L
    }
    keep <- c(keep, l)
    i <- l
  }
  keep
}

# The transform of the numeric outcome `y` (the encoded outcome of the training table), the
# model description's `outcome_marginal`: knots p, from, value, score and the point masses
# (`atoms`). model_description() gives such an outcome two outputs per arm, no point-mass
# head and the scores on their own scale (y_center 0, y_scale 1).
outcome_transform <- function(y) {
  values <- sort(as.double(y))
  n <- length(values)
  k <- min(outcome_knots_max, max(101L, n))
  p <- seq(0, 1, length.out = k)
  value <- smoothed_quantile(values, p)
  runs <- rle(values)
  last <- cumsum(runs$lengths)
  first <- last - runs$lengths + 1L
  held <- which(runs$lengths >= max(2, outcome_mass_share * n))
  held <- utils::head(held[order(-runs$lengths[held])], outcome_mass_values)
  edges <- numeric(0)
  if (length(held) && n > 1L) {
    # a value held by c of the n rows spans the probabilities of its ranks, an interval of
    # width c / n; the even knots inside it go (the quantile function there would give it
    # (c - 1) / (n - 1) only)
    lower <- (first[held] - 1) / n
    upper <- last[held] / n
    inside <- vapply(p, function(q) any(q > lower & q < upper), logical(1))
    edges <- c(lower, upper)
    p <- c(p[!inside], edges)
    value <- c(value[!inside], runs$values[held], runs$values[held])
    o <- order(p, value)
    p <- p[o]
    value <- value[o]
    # two held values next to each other meet at one probability: both knots stay (a jump)
    keep <- !duplicated(cbind(p, value))
    p <- p[keep]
    value <- value[keep]
  }
  score <- normal_scores(p, n)
  # below the sampling resolution of the data the quantile function's kinks are noise; the
  # edges of the held values are kept whatever the tolerance (a heap of a few rows lies
  # inside it and would otherwise lose its flat stretch, i.e. never be drawn)
  tolerance <- max(outcome_knot_tolerance, 2 / n)
  kept <- thin_knots(score, value, smoothed_quantile(values, pmax(0, p - tolerance)),
                     smoothed_quantile(values, pmin(1, p + tolerance)), p %in% edges)
  p <- p[kept]
  value <- value[kept]
  # a flat stretch (a point mass) gets a knot at the middle of its probabilities, so that its
  # rows' score (the middle knot's, see cs_marginal_encode()) is that of the middle of their
  # ranks, not the mean of its ends' scores (near -4 for the zeros at the bottom)
  flat <- which(value[-1L] == value[-length(value)])
  if (length(flat)) {
    p <- c(p, (p[flat] + p[flat + 1L]) / 2)
    value <- c(value, value[flat])
    o <- order(p)
    p <- p[o]
    value <- value[o]
  }
  score <- normal_scores(p, n)
  m <- list(p = p, from = score, value = value, score = score)
  m$atoms <- knot_atoms(m)
  m
}

# The point masses of the outcome transform as the training sees them (cs_atoms in
# causalmix_train.h): each flat stretch of knots is a value whose rows all get one score
# (`score`, what outcome_scores() gives them), while the scores that decode to it span
# [lower, upper] (infinite at the ends of the range). The outcome net fits those rows by the
# Gaussian's mass on that interval: a density at one score would reward shrinking the
# variance of every row believed to be at a mass without limit. `m`: the transform's knots;
# NULL without a flat stretch.
knot_atoms <- function(m) {
  value <- m$value
  score <- m$score
  k <- length(value)
  flat <- which(value[-1L] == value[-k])
  if (!length(flat)) return(NULL)
  starts <- flat[c(TRUE, diff(flat) > 1L)]
  ends <- flat[c(diff(flat) > 1L, TRUE)] + 1L
  list(score = .Call(C_marginal_encode, value, score, as.double(value[starts])),
       lower = ifelse(starts == 1L, -Inf, score[starts]),
       upper = ifelse(ends == k, Inf, score[ends]))
}

# Loss per row of the best constant law of a transformed outcome's scores `s` (one Gaussian
# for all rows, by the likelihood the outcome net is trained with: the rows at an atom by the
# Gaussian's mass on its interval, the others by its density), the baseline the fit-time
# check compares the outcome net with.
constant_score_loss <- function(s, atoms) {
  at <- if (is.null(atoms)) rep(NA_integer_, length(s)) else match(s, atoms$score)
  dense <- is.na(at)
  lower <- as.double(atoms$lower[at[!dense]])
  upper <- as.double(atoms$upper[at[!dense]])
  loss <- function(par) {
    sd <- exp(par[2])
    mass <- stats::pnorm(upper, par[1], sd) - stats::pnorm(lower, par[1], sd)
    -(sum(stats::dnorm(s[dense], par[1], sd, log = TRUE)) + sum(log(pmax(mass, 1e-300)))) /
      length(s)
  }
  stats::optim(c(mean(s), log(stats::sd(s))), loss)$value
}

# Scores of outcome values (the training targets of a transformed outcome).
outcome_scores <- function(model, y) {
  m <- model$outcome_marginal
  .Call(C_marginal_encode, m$value, m$score, as.double(y))
}

# Learns the outcome transform's `from` knots after training: the quantiles of the model's
# own score law over the fitted rows (each row's observed arm), so that the decoded outcome of
# the fitted rows has the data's marginal, point masses and range included. The law is
# represented without random numbers by at least `draws` normal quantiles, each row's at
# probabilities (j - 1 + f_i) / per_row shifted by a golden-ratio sequence f_i, so that rows
# with the same prediction (discrete covariates) fill in each other's gaps. `pred`:
# predict_encoded() of the fitted rows; `t`: their treatment (0/1).
match_outcome_transform <- function(fit, pred, t, draws = 20000L) {
  m <- fit$model$outcome_marginal
  if (is.null(m)) return(fit)
  n <- length(t)
  per_row <- max(1L, ceiling(draws / n))
  shift <- (seq_len(n) * 0.6180339887498949) %% 1
  u <- stats::qnorm(outer(seq_len(per_row) - 1, shift, `+`) / per_row)
  loc <- ifelse(t == 1, pred[, 9L], pred[, 8L])
  scale <- ifelse(t == 1, pred[, 11L], pred[, 10L])
  s <- sort(as.vector(u * rep(scale, each = per_row) + rep(loc, each = per_row)))
  fit$model$outcome_marginal$from <- smoothed_quantile(s, m$p)
  fit
}

# Whether a fit's outcome is transformed.
outcome_transformed <- function(fit) !is.null(fit$model$outcome_marginal)
