# Calibration of the covariate decoder's discrete marginals after training.
#
# A VAE trained on a few thousand rows reproduces the share of each category only
# approximately (a few points off for rare levels), and a classifier told to separate real
# from synthetic rows picks that up first. The output biases of the decoder heads that give
# probabilities (binary and categorical columns, counts with a softmax head, the point mass
# of semicontinuous columns, missingness indicators) are shifted on the log-odds scale until the shares in a fixed large
# draw from the model match those of the data. Only those biases change; the networks'
# weights, the prior and the other heads are untouched.

# Decoder output positions and data targets of every probability head of a fit.
# Returns a list of heads, each with the 1-based positions of its logits among the decoder's
# outputs, its kind and the shares observed in `data`.
probability_heads <- function(fit, data) {
  model <- fit$model
  schema <- fit$schema
  widths <- decoder_head_widths(model$types, model$n_levels)
  start <- cumsum(c(0L, widths))[seq_along(widths)]
  heads <- list()
  for (j in seq_along(model$covariates)) {
    name <- model$covariates[j]
    spec <- schema$columns[[name]]
    codes <- encode_column(spec, data[[name]])
    codes <- codes[!is.na(codes)]
    if (!length(codes)) next
    type <- model$types[j]
    if (type == 3L || type == 4L) {
      K <- model$n_levels[j]
      heads[[length(heads) + 1L]] <- list(
        column = name, kind = if (type == 3L) "binary" else "categorical",
        positions = start[j] + if (type == 3L) 1L else seq_len(K),
        target = level_shares(codes, K))
    } else if (type == 1L && model$n_levels[j] > 0L) {
      K <- model$n_levels[j]
      heads[[length(heads) + 1L]] <- list(
        column = name, kind = "count levels", positions = start[j] + seq_len(K),
        target = level_shares(codes - spec$lower, K))
    } else if (type == 2L) {
      heads[[length(heads) + 1L]] <- list(
        column = name, kind = "point mass", positions = start[j] + 1L,
        target = level_shares(as.integer(codes == model$point_mass[j]), 2L))
    }
  }
  offset <- sum(widths)
  for (r in seq_along(model$missing_columns)) {
    name <- model$missing_columns[r]
    heads[[length(heads) + 1L]] <- list(
      column = name, kind = "missing", positions = offset + r,
      target = level_shares(as.integer(is.na(data[[name]])), 2L))
  }
  heads
}

# Shares of codes 0..K-1, each count plus one half (so that no share is 0 and the log-odds
# stay finite when a level is absent).
level_shares <- function(codes, K) {
  counts <- tabulate(codes + 1L, K) + 0.5
  counts / sum(counts)
}

# The same shares in a draw of covariates.
drawn_shares <- function(fit, head, draw) {
  spec <- fit$schema$columns[[head$column]]
  v <- draw[[head$column]]
  switch(head$kind,
         missing = level_shares(as.integer(is.na(v)), 2L),
         "count levels" = level_shares(stats::na.omit(v) - spec$lower, length(head$target)),
         "point mass" = {
           codes <- encode_column(spec, v)
           level_shares(as.integer(codes[!is.na(codes)] == spec$point_mass), 2L)
         },
         level_shares(stats::na.omit(encode_column(spec, v)), length(head$target)))
}

# Shifts the probability heads' output biases of `fit` until a fixed draw of `n_draw` rows
# matches the data's shares (largest absolute difference below `tolerance`, or `iterations`
# rounds). Returns the fit with its decoder updated and a `calibration` record.
calibrate_marginals <- function(fit, data, n_draw = 20000L, iterations = 10L,
                                tolerance = 0.005, threads = NULL) {
  heads <- probability_heads(fit, data)
  if (!length(heads)) return(fit)
  params <- fit$model$decoder$params
  W <- utils::tail(fit$model$decoder$sizes, 1L)
  bias <- length(params) - W  # the last layer's biases are the last W parameters
  seed <- seed_offset(seed_offset(fit$reference$seed))
  gap <- function(draw) max(vapply(heads, function(h)
    max(abs(drawn_shares(fit, h, draw) - h$target)), double(1)))
  first <- NULL
  rounds <- 0L
  repeat {
    draw <- draw_covariates(fit, n_draw, seed, 0, threads)
    current <- gap(draw)
    if (is.null(first)) first <- current
    if (current < tolerance || rounds >= iterations) break
    for (h in heads) {
      drawn <- drawn_shares(fit, h, draw)
      shift <- if (h$kind %in% c("categorical", "count levels")) log(h$target) - log(drawn) else
        stats::qlogis(h$target[2L]) - stats::qlogis(drawn[2L])
      params[bias + h$positions] <- params[bias + h$positions] + shift
    }
    fit$model$decoder$params <- params
    rounds <- rounds + 1L
  }
  fit$calibration <- list(rounds = rounds, draw_rows = as.integer(n_draw),
                          largest_gap_before = first, largest_gap_after = current)
  fit
}
