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
  score <- stats::qnorm(pmin(pmax(p, 0.5 / n), 1 - 0.5 / n))
  list(value = smoothed_quantile(values, p), score = score, from = score)
}

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
                 0, kernel_choice(), sandbox_threads(threads))$columns
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
