# causalmix(): the generative model of a real cohort (covariates, treatment, outcome), fitted in C.

#' Fit a CausalMix generative model to an observational cohort
#'
#' Learns three models from a real table, all trained in C on mini-batches with held-out
#' early stopping:
#' * a covariate model: a variational autoencoder whose latent prior is a mixture of
#'   diagonal Gaussians (weights, means and variances learned jointly with the networks by
#'   gradient, the KL term estimated by a Monte Carlo draw of z; then, by default, refitted
#'   by expectation-maximisation to the aggregate posterior of the training rows, so that
#'   draws land where the decoder learned to reconstruct real rows), with one decoder head per
#'   column type: Gaussian mean and log-variance (continuous), Bernoulli (binary and each
#'   missingness indicator), softmax (categorical), a point mass and otherwise a Gaussian
#'   truncated to the observed range, fitted by its exact likelihood (semicontinuous) and,
#'   for counts, a Gaussian discretised to whole numbers and censored at the observed bounds
#'   (unlike a negative binomial it represents under-dispersed counts such as comorbidity
#'   scores as well as over-dispersed ones, and it puts any excess of the bounds, e.g. many
#'   zeros, exactly on the bounds); a count over at most 24 whole numbers whose most frequent
#'   value holds more than 1.5 times the share a normal law with its mean and sd gives that
#'   value (such as years of education piling up at 12) gets a softmax over those numbers
#'   instead, calibrated like a factor's levels. Continuous draws are truncated to the
#'   observed range by exact resampling, not clamped;
#'   After training, the output biases of the decoder's probability heads are shifted so
#'   that draws have the data's share of every level (`calibrate_marginals`).
#'   By default (`marginal_transforms`) the continuous and semicontinuous covariates, and
#'   the counts without a softmax head, are instead given to all networks as normal scores
#'   and decoded with a Gaussian head followed by the column's own marginal transform: the
#'   column's smoothed empirical quantile function, matched after training to the model's
#'   own score distribution, with its point masses (zeros, heaps, a top code) kept at the
#'   data's shares, draws inside the observed range and on the column's recording grid
#'   (see [causalmix_control()]); rows are not copied, only each column's marginal is;
#' * a propensity model e(x) = P(T = 1 | x);
#' * an outcome model with one head per arm giving m_t(x) = E\[Y | x, T = t\]: Bernoulli for
#'   a binary outcome. A numeric outcome (continuous, count or semicontinuous) is, by default
#'   (`marginal_transforms`), modelled like the transformed covariates: per arm a Gaussian
#'   with x-dependent mean and variance on the outcome's normal scores, decoded through the
#'   outcome's own smoothed empirical quantile function (matched after training to the
#'   model's score law over the fitted rows), so that draws have the data's marginal: every
#'   point mass (zeros, a top code, heaps at round numbers) at its share, values inside the
#'   observed range. The outcome is not snapped to a grid (whole-number outcomes are rounded
#'   as before). The quantile function is thinned to the knots it needs (a line between kept
#'   knots stays within 0.002, or 2 / n, in probability of it), and m_t(x) is the exact,
#'   closed-form mean of the decoded law. Without transforms the heads are a Gaussian with
#'   an x-dependent variance for a continuous outcome and, for a semicontinuous one, an
#'   x-dependent probability of the mass at its minimum or maximum and otherwise a Gaussian
#'   truncated to the observed range. Either way m_t(x) is the exact mean of the law that is
#'   drawn, so predictions and the truth columns of [simulate.causalmix()] are means of the
#'   outcome that is drawn, and draws keep the point masses and the bounds. The network
#'   starts from per-arm linear fits on the training rows (logistic for a binary outcome and
#'   for the point mass, least squares for a mean or the location off the point mass, spread
#'   constant at the residual variance), carried by pairs of hidden units, so that early
#'   stopping on a small held-out set keeps at least the linear dependence of the outcome on
#'   the covariates; an arm with fewer than 10 training rows per coefficient, or a fit that
#'   fails or separates, starts that head at random instead. The outcome network is two
#'   networks side by side, one per arm (twice `hidden` units, no weights between the
#'   halves), and each arm stops early on its own held-out loss: a small treated arm
#'   overfits within a few epochs, and one shared stopping rule left the control arm's law
#'   barely trained (on the CPS cohort its held-out loss was 0.94 at the shared stop and 0.85
#'   at its own). `print()` shows both arms' best epochs. The rows of a transformed outcome
#'   at a point mass are fitted by the Gaussian's probability of the scores that decode to
#'   that value, not by a density at one score.
#'
#' The networks see standardised numeric columns, 0/1 binary codes, one-hot categorical
#' columns and one missingness indicator per column with missing values. Column types come
#' from [sandbox_schema()].
#'
#' @param data A data.frame with the treatment, the outcome and the covariates.
#' @param treatment,outcome Names of the treatment (binary) and outcome (binary or numeric)
#'   columns. A time-to-event outcome is given as `c(time = "time", event = "status")`
#'   (event 0/1 or logical, right censoring) or as the name of a `survival::Surv` column:
#'   then the outcome model is, per arm, a piecewise-exponential law of the event time and of
#'   the censoring time given the covariates (censoring independent of the event time given
#'   the covariates), see [simulate.causalmix_survival()].
#' @param covariates Names of the covariates; `NULL` uses every other column.
#' @param control Settings from [causalmix_control()].
#' @param types Optional named character vector overriding detected column types (see
#'   [sandbox_schema()]).
#' @param ... Settings of [causalmix_control()] given directly (they override `control`).
#' @section Warnings: problems that do not stop the fit are warnings of class
#'   `causalsandbox_fit_warning`, kept in the fit (`$warnings`) and repeated by `print()`: a
#'   covariate that looks like a row identifier; an arm with fewer than 20 rows; a
#'   categorical covariate with more than 50 levels; more than 1% of the rows (and at least
#'   10) with a learned propensity below 0.01 or above 0.99 (a positivity problem: effects
#'   there are extrapolated); a propensity or outcome network no better than a constant.
#' @section Progress: each training epoch (the epochs left by early
#'   stopping in one last step) is reported through progressr, quiet unless
#'   you ask for it: wrap the call in `progressr::with_progress()` or set
#'   `progressr::handlers(global = TRUE)`.
#' @return An object of class `causalmix` with the schema, the networks' weights as plain
#'   numeric vectors (so a fit saved with [saveRDS()] predicts and draws identically in a
#'   new session), the settings, the training history and the fitted propensities and
#'   outcome means of the training rows.
#' @seealso [predict.causalmix()], [simulate.causalmix()], [summary.causalmix()].
#' @examples
#' set.seed(1)
#' n <- 400
#' d <- data.frame(age = rnorm(n, 50, 10), sex = factor(sample(c("f", "m"), n, TRUE)))
#' d$treat <- rbinom(n, 1, plogis((d$age - 50) / 10))
#' d$y <- 0.05 * d$age + d$treat + rnorm(n)
#' fit <- causalmix(d, "treat", "y", epochs = 20, hidden = 16, threads = 1)
#' fit
#' @export
causalmix <- function(data, treatment, outcome, covariates = NULL,
                      control = causalmix_control(), types = NULL, ...) {
  survival <- survival_outcome(data, outcome)
  if (!is.null(survival)) {
    fit <- causalmix_survival(data, treatment, survival, covariates, control, types, list(...))
    fit$call <- match.call()
    return(fit)
  }
  fit_causalmix(data, treatment, outcome, covariates, update_control(control, list(...)),
                types, match.call())
}

# causalmix() once the control is complete. `call` is kept in the fit; `outcome_net_used`
# FALSE (a time-to-event fit, whose outcome net learns P(event observed | x, t) for nothing
# that draws use) leaves that net out of the fit-time warnings.
fit_causalmix <- function(data, treatment, outcome, covariates, control, types, call,
                          outcome_net_used = TRUE) {
  schema <- sandbox_schema(data, treatment, outcome, covariates, types)
  encoded <- encode_table(schema, data)
  n <- nrow(data)
  if (length(schema$covariates) < 1L)
    stopf("`covariates` must name at least one column.", argument = "covariates")
  if (!is.null(control$n_components) && control$n_components > n)
    stopf("`n_components` (%d) must not exceed the number of rows of `data` (%d).",
                 control$n_components, n, argument = "n_components")
  n_valid <- floor(n * control$validation_share)
  if (n - n_valid < 2L)
    stopf("`data` has %d rows: too few to train with validation_share = %s.", n,
                 format(control$validation_share), argument = "data")

  settings <- resolve_settings(control, n, length(schema$covariates))
  transform_outcome <- isTRUE(control$marginal_transforms) &&
    schema$columns[[schema$outcome]]$type %in% numeric_types
  model <- model_description(schema, encoded, settings, transform_outcome)
  if (isTRUE(control$marginal_transforms))
    model <- add_marginal_transforms(model, schema$columns[schema$covariates], encoded$x,
                                     encoded$missing)
  inputs <- network_inputs(model, encoded$x)
  seed <- engine_seed(control$seed)
  y <- if (transform_outcome) outcome_scores(model, encoded$y) else
    (encoded$y - model$y_center) / model$y_scale
  started <- proc.time()[["elapsed"]]
  # one progress step per epoch, reported by the C glue after each epoch
  progress <- progress_reporter(settings$epochs, "causalmix training")
  res <- .Call(C_causalmix_train, model, settings, inputs, encoded$missing,
               as.double(encoded$t), as.double(y), seed, control$verbose,
               training_threads(control$threads, n - floor(n * control$validation_share)),
               progress)
  # early stopping: the epochs not run complete the bar
  report_progress(progress, settings$epochs - res$epochs_run, "stopped early")
  elapsed <- proc.time()[["elapsed"]] - started
  for (net in c("encoder", "decoder", "propensity", "outcome")) model[[net]]$params <- res[[net]]
  model$prior <- res$prior
  prior_refit <- NULL
  if (settings$learn_prior == 1L && control$refit_prior) {
    posterior <- .Call(C_causalmix_posterior, model, inputs, encoded$missing)
    # an evenly spaced subset of at most 20,000 rows describes the aggregate posterior well
    # enough and keeps the EM to a second on large tables
    rows <- seq(1L, n, by = ceiling(n / 20000))
    prior_refit <- refit_prior(posterior$mu[, rows, drop = FALSE],
                               posterior$var[, rows, drop = FALSE], model$prior,
                               control$threads)
    prior_refit$rows <- length(rows)
    model$prior <- prior_refit$prior
    prior_refit$prior <- NULL
  }

  epochs_run <- res$epochs_run
  history <- as.data.frame(res$history[seq_len(epochs_run), , drop = FALSE])
  names(history) <- c("vae_train", "vae_valid", "propensity_train", "propensity_valid",
                      "outcome_train", "outcome_valid")
  history <- cbind(epoch = seq_len(epochs_run), history)

  fit <- structure(list(
    call = call,
    schema = schema,
    model = model,
    control = control,
    settings = settings,
    history = history,
    # the outcome's arms stop early apart: its epoch is the later one, and its loss the sum of
    # the arms' losses at their own best epochs
    best_epoch = stats::setNames(c(res$best_epoch[1:2], max(res$best_epoch[3:4])),
                                 c("vae", "propensity", "outcome")),
    outcome_best_epoch = stats::setNames(res$best_epoch[3:4], c("control", "treated")),
    best_loss = stats::setNames(c(res$best_loss[1:2], sum(res$best_loss[3:4])),
                                c("vae", "propensity", "outcome")),
    epochs_run = epochs_run,
    prior_refit = prior_refit,
    seconds = elapsed,
    n = n,
    treated_share = mean(encoded$t),
    treatment_observed = encoded$t,
    reference = list(seed = seed_offset(seed), n = 20000L)
  ), class = "causalmix")
  if (control$calibrate_marginals) fit <- calibrate_marginals(fit, data, threads = control$threads)
  fit <- match_marginal_transforms(fit, threads = control$threads)
  pred <- predict_encoded(fit, encoded$x, encoded$missing, control$threads)
  if (transform_outcome) {
    fit <- match_outcome_transform(fit, pred, encoded$t)
    fit$constant_outcome_loss <- constant_score_loss(y, fit$model$outcome_marginal$atoms)
    pred <- predict_encoded(fit, encoded$x, encoded$missing, control$threads)
  }
  fit$fitted <- data.frame(ps = stats::plogis(pred[, 1]), mu0 = pred[, 2], mu1 = pred[, 3])
  if (fit$model$outcome_binary == 1L) fit$outcome_share <- mean(encoded$y)
  # problems that do not stop the fit: warned now, kept, and repeated by print()
  fit$warnings <- fit_warnings(fit, data,
                               nets = c("propensity", if (outcome_net_used) "outcome"))
  for (w in fit$warnings)
    warning(warningCondition(w, class = "causalsandbox_fit_warning"))
  fit
}

# Engine settings with the data-dependent defaults filled in.
resolve_settings <- function(control, n, p) {
  n_train <- n - floor(n * control$validation_share)
  batch <- min(control$batch_size, n_train)
  epochs <- control$epochs %||%
    as.integer(min(300, max(20, ceiling(15000 / ceiling(n_train / batch)))))
  mixture <- control$prior == "mixture"
  latent <- as.integer(control$latent_dim %||% min(10L, max(2L, p)))
  list(epochs = as.integer(epochs), batch_size = as.integer(batch),
       patience = control$patience, learning_rate = control$learning_rate,
       validation_share = control$validation_share,
       kl_weight = control$kl_weight %||% (0.28 * p / latent),
       learn_prior = as.integer(mixture), latent = latent,
       n_components = if (!mixture) 1L else
         control$n_components %||% as.integer(max(1, min(32, floor(n_train / 10)))),
       hidden = control$hidden)
}

# A seed for the reference draw of covariates, derived from the fit's seed so that it is
# stored in the fit and the draw can be recomputed identically.
seed_offset <- function(seed) derive_seed(seed, 7919)

# Decoder output width of each covariate type (continuous, count, semicontinuous, binary,
# categorical); categorical heads have one output per level.
head_widths <- c(2L, 2L, 3L, 1L, NA)

# A count gets a softmax head over the whole numbers lower .. upper instead of a discretised
# Gaussian when it spans at most `softmax_count_levels` of them and piles up on one value:
# its most frequent value holds more than `softmax_count_spike` times the share a normal
# law with the column's mean and sd gives that value (lalonde's years of education: a
# quarter of the rows at 12, 2.1 times the normal share, which a Gaussian per latent point
# smears over the neighbours). Counts without such a spike (comorbidity scores, Poisson-like
# counts: ratios 1.0-1.3) keep the two-output Gaussian head, which is cheaper to train.
softmax_count_levels <- 24L
softmax_count_spike <- 1.5

# Softmax levels of a count column with observed values `v` (0: the Gaussian head).
count_softmax_levels <- function(spec, v) {
  span <- spec$upper - spec$lower + 1
  v <- v[!is.na(v)]
  if (span > softmax_count_levels || length(v) < 2L) return(0L)
  counts <- tabulate(v - spec$lower + 1, span)
  mode <- spec$lower + which.max(counts) - 1
  normal <- diff(stats::pnorm(mode + c(-0.5, 0.5), mean(v), stats::sd(v)))
  if (max(counts) / length(v) > softmax_count_spike * normal) as.integer(span) else 0L
}

# Decoder outputs of each covariate of a model description (model$types, model$n_levels).
decoder_head_widths <- function(types, n_levels) {
  ifelse(n_levels > 0L & types != 3L, n_levels, head_widths[types + 1L])
}

# The model as plain R vectors: column descriptions, network shapes (weights added after
# training), standardisation. This is what the C code reads for training, prediction and draws.
# With `transform_outcome` the numeric outcome is modelled on normal scores and decoded through
# its marginal transform (see outcome_transform()).
model_description <- function(schema, encoded, settings, transform_outcome = FALSE) {
  covs <- schema$covariates
  specs <- schema$columns[covs]
  types <- vapply(specs, function(s) type_code(s$type), integer(1))
  n_levels <- vapply(seq_along(covs), function(j) {
    s <- specs[[j]]
    if (s$type %in% c("binary", "categorical")) return(length(s$levels))
    if (s$type != "count") return(0L)
    v <- encoded$x[, j]
    if (covs[j] %in% colnames(encoded$missing)) v <- v[encoded$missing[, covs[j]] == 0]
    count_softmax_levels(s, v)
  }, integer(1))
  numeric_field <- function(field, default) vapply(specs, function(s) {
    v <- s[[field]]
    if (is.null(v) || length(v) != 1L || is.na(v)) default else as.double(v)
  }, double(1))
  discrete <- types >= 3L
  center <- ifelse(discrete, 0, numeric_field("center", 0))
  scale <- ifelse(discrete, 1, numeric_field("scale", 1))
  scale[!is.finite(scale) | scale <= 0] <- 1
  miss_cols <- colnames(encoded$missing) %||% character(0)
  miss_index <- match(covs, miss_cols) - 1L
  miss_index[is.na(miss_index)] <- -1L
  m <- length(miss_cols)
  features <- sum(ifelse(types == 4L, n_levels, 1L)) + m
  decoder_width <- sum(decoder_head_widths(types, n_levels)) + m
  out_spec <- schema$columns[[schema$outcome]]
  binary <- identical(out_spec$type, "binary")
  transformed <- transform_outcome && !binary
  mass <- !transformed && identical(out_spec$type, "semicontinuous")
  y <- encoded$y
  y_center <- if (binary || transformed) 0 else mean(y)
  y_scale <- if (binary || transformed) 1 else stats::sd(y)
  if (!is.finite(y_scale) || y_scale <= 0) y_scale <- 1
  # a semicontinuous outcome's point mass and bounds on the scale the networks see, by the
  # arithmetic that standardises the outcome (so the mass value matches exactly)
  standardised <- function(v) if (mass) (as.double(v) - y_center) / y_scale else 0
  L <- settings$latent
  hidden <- settings$hidden
  mlp <- function(input, output, width = hidden) list(
    sizes = as.integer(c(input, width, output)),
    activations = as.integer(c(rep(2L, length(hidden)), 0L)))  # leaky ReLU, identity out
  model <- list(p = length(covs), m = m, covariates = covs, missing_columns = miss_cols,
       types = unname(types), n_levels = unname(n_levels), miss_index = unname(miss_index),
       center = unname(center), scale = unname(scale),
       lower = unname(numeric_field("lower", -Inf)), upper = unname(numeric_field("upper", Inf)),
       point_mass = unname(numeric_field("point_mass", 0)), fill = unname(numeric_field("fill", 0)),
       latent = L, n_components = settings$n_components, outcome_binary = as.integer(binary),
       outcome_mass = as.integer(mass), y_mass = standardised(out_spec$point_mass),
       y_lower = standardised(out_spec$lower), y_upper = standardised(out_spec$upper),
       y_center = y_center, y_scale = y_scale, leaky_slope = 0.01,
       encoder = mlp(features, 2L * L), decoder = mlp(L, decoder_width),
       propensity = mlp(features, 1L),
       # two halves side by side, one per arm (the weights between them stay 0): each arm
       # stops early on its own
       outcome = mlp(features, if (binary) 2L else if (mass) 6L else 4L, 2L * hidden),
       outcome_split = 1L)
  if (transformed) model$outcome_marginal <- outcome_transform(y)
  model
}

# Threads for training. Every batch is split between the threads, which meet at barriers
# several times per batch; on a small table a batch is a fraction of a millisecond of work,
# and when another process holds a core each barrier can cost a whole scheduler slice, so
# tables under `causalsandbox.parallel_training_rows` training rows (default 20,000) train on
# one thread. The fit is the same either way.
training_threads <- function(threads, n_train) {
  if (n_train < getOption("causalsandbox.parallel_training_rows", 20000)) 1L else
    sandbox_threads(threads)
}

# EM refit of a diagonal mixture (the layout of model$prior: K logits, K x L means, K x L
# log-variances) to the aggregate of the Gaussians N(mu[, i], diag var[, i]) (L x n matrices),
# starting from `prior`. Returns list(prior, iterations, loglik = expected log-density per
# row before and after).
refit_prior <- function(mu, var, prior, threads = NULL, iterations = 300L, tolerance = 1e-8,
                        min_variance = 1e-4) {
  .Call(C_prior_fit_aggregate, mu, var, as.double(prior),
        list(iterations = as.integer(iterations), tolerance = tolerance,
             min_variance = min_variance), sandbox_threads(threads))
}

# Logit propensity, mu0, mu1, sd0, sd1 of encoded covariates (n x 5; for a semicontinuous
# outcome n x 11 with the summaries of its draws, see draw_rows()): the outcome's mean and sd
# per arm are those of the law simulate() draws from.
predict_encoded <- function(fit, x, missing, threads = NULL) {
  .Call(C_causalmix_predict, fit$model, network_inputs(fit$model, x), missing, kernel_choice(),
        sandbox_threads(threads))
}

# The build of the engine's tile code: the fastest the processor runs, or the portable one
# with options(causalsandbox.portable_kernels = TRUE) (the tests compare the two; they give
# identical results).
kernel_choice <- function() if (isTRUE(getOption("causalsandbox.portable_kernels"))) 1L else 0L

# n rows from the fitted covariate model, rows keyed by offset + i so chunks concatenate
# exactly: `covariates`, a data.frame in the user's column types, and `pred`, the networks'
# predictions for those rows (list of eta = logit e(x), mu0, mu1, sd0, sd1; for a
# semicontinuous outcome also mass0, mass1 = P(Y(t) at the point mass | x) and loc0, loc1,
# scale0, scale1 = the Gaussian truncated to the outcome's bounds otherwise; for a transformed
# outcome mass 0 and the normal law of the score). With `summaries = FALSE` the networks are
# not run and `pred` is empty.
draw_rows <- function(fit, n, seed, offset = 0, threads = NULL, summaries = TRUE) {
  decoding <- lapply(fit$schema$columns[fit$schema$covariates], column_decoding)
  res <- .Call(C_causalmix_draw, fit$model, decoding, as.integer(n),
               as.integer(seed), as.double(offset), kernel_choice(), sandbox_threads(threads),
               summaries)
  covariates <- res$columns
  attributes(covariates) <- list(names = names(covariates),
                                 row.names = c(NA_integer_, -as.integer(n)),
                                 class = fit$schema$frame_class %||% "data.frame")
  list(covariates = covariates, pred = res[names(res) != "columns"])
}

# How the engine writes the values of a column of the user's table into an R vector, as
# decode_column() would decode them (see columns.h): the vector type (0 double, 1 integer, 2
# logical, 3 character), whether numeric values are rounded to whole numbers, the value
# written for each level code of a binary or categorical column, and the levels and class of
# factors.
column_decoding <- function(spec) {
  if (spec$type %in% numeric_types) {
    integer <- spec$storage == "integer"
    return(list(type = as.integer(integer), whole = as.integer(integer || isTRUE(spec$whole))))
  }
  codes <- seq_along(spec$levels)
  switch(spec$storage,
         logical = list(type = 2L, whole = 0L, map = codes - 1L),
         character = list(type = 3L, whole = 0L, map = codes, levels = spec$levels),
         factor = list(type = 1L, whole = 0L, map = codes, levels = spec$levels,
                       class = "factor"),
         ordered = list(type = 1L, whole = 0L, map = codes, levels = spec$levels,
                        class = c("ordered", "factor")),
         integer = list(type = 1L, whole = 0L, map = as.integer(spec$level_values)),
         double = list(type = 0L, whole = 0L, map = as.double(spec$level_values)))
}

# The fixed large draw of covariates standing for the fitted covariate law (population
# averages such as the learned ATE and the knob centring use it); recomputed identically.
reference_draw <- function(fit, threads = NULL) {
  draw_rows(fit, fit$reference$n, fit$reference$seed, 0, threads)
}

#' Predictions of a CausalMix fit
#'
#' @param object A [causalmix()] fit.
#' @param newdata A data.frame with the covariates of the fit (treatment and outcome are not
#'   needed); `NULL` returns the fitted values of the training rows.
#' @param type `"ps"` (propensity e(x)), `"mu0"`, `"mu1"` (E\[Y | x, T = t\]; probabilities
#'   for a binary outcome, means including the point mass for a semicontinuous one) or
#'   `"tau"` (`mu1 - mu0`).
#' @param threads Threads (see [sandbox_threads()]); results do not depend on it.
#' @param ... Unused.
#' @return A numeric vector with one value per row.
#' @examples
#' set.seed(2)
#' d <- data.frame(x = rnorm(300))
#' d$t <- rbinom(300, 1, plogis(d$x))
#' d$y <- d$x + d$t + rnorm(300)
#' fit <- causalmix(d, "t", "y", epochs = 10, hidden = 16, threads = 1)
#' head(predict(fit, d, type = "ps"))
#' @export
predict.causalmix <- function(object, newdata = NULL, type = c("ps", "mu0", "mu1", "tau"),
                              threads = NULL, ...) {
  if (!is.character(type) || length(type) < 1L || anyNA(type) ||
      !type[1L] %in% c("ps", "mu0", "mu1", "tau"))
    stopf("`type` must be one of \"ps\", \"mu0\", \"mu1\", \"tau\", not %s.",
                 describe(type), argument = "type")
  type <- type[1L]
  if (is.null(newdata)) {
    f <- object$fitted
    return(switch(type, ps = f$ps, mu0 = f$mu0, mu1 = f$mu1, tau = f$mu1 - f$mu0))
  }
  if (!is.data.frame(newdata))
    stopf("`newdata` must be a data.frame, not %s.", describe(newdata), argument = "newdata")
  encoded <- encode_table(object$schema, newdata, argument = "newdata", roles = FALSE)
  pred <- predict_encoded(object, encoded$x, encoded$missing, threads)
  switch(type, ps = stats::plogis(pred[, 1]), mu0 = pred[, 2], mu1 = pred[, 3],
         tau = pred[, 3] - pred[, 2])
}

# Mixture weights of the learned prior.
mixture_weights <- function(fit) {
  K <- fit$model$n_components
  w <- exp(fit$model$prior[seq_len(K)] - max(fit$model$prior[seq_len(K)]))
  w / sum(w)
}

#' @export
print.causalmix <- function(x, ...) {
  s <- x$schema
  types <- vapply(s$columns[s$covariates], `[[`, "", "type")
  st <- x$settings
  m <- x$model
  cat("CausalMix fit\n")
  cat(sprintf("Data: %d rows; treatment `%s` (treated: %s, %.1f%%); outcome `%s` (%s)\n",
              x$n, s$treatment, format_value(s$columns[[s$treatment]]$levels[2L]),
              100 * x$treated_share, s$outcome, outcome_description(x)))
  tab <- table(factor(types, levels = c("continuous", "count", "semicontinuous", "binary",
                                        "categorical")))
  tab <- tab[tab > 0]
  cat(sprintf("Covariates: %d (%s); %d with missing values\n", length(types),
              paste(sprintf("%d %s", tab, names(tab)), collapse = ", "), m$m))
  cat(sprintf("Covariate VAE: encoder %s, decoder %s; latent %d (KL weight %.3g); prior %s\n",
              paste(m$encoder$sizes, collapse = "-"), paste(m$decoder$sizes, collapse = "-"),
              m$latent, st$kl_weight, if (x$settings$learn_prior == 1L)
                sprintf("mixture of %d Gaussians (%s)", m$n_components,
                        if (is.null(x$prior_refit)) "learned" else
                          sprintf("learned, refitted to the aggregate posterior in %d EM steps",
                                  x$prior_refit$iterations)) else "N(0, I)"))
  if (!is.null(x$calibration))
    cat(sprintf("Decoder level shares calibrated in %d rounds (largest gap %.4f -> %.4f)\n",
                x$calibration$rounds, x$calibration$largest_gap_before,
                x$calibration$largest_gap_after))
  transformed <- m$covariates[(m$marginal$knots %||% integer(0)) > 0L]
  if (length(transformed))
    cat(sprintf("Decoded through their marginal transforms (normal scores to data quantiles): %s\n",
                paste(transformed, collapse = ", ")))
  survival <- inherits(x, "causalmix_survival")
  # a time-to-event fit's outcome net (P(event observed | x, t)) is internal: its survival
  # model is described by print.causalmix_survival()
  if (survival)
    cat(sprintf("Propensity net %s\n", paste(m$propensity$sizes, collapse = "-")))
  else
    cat(sprintf("Propensity net %s; outcome net %s (%s)\n",
                paste(m$propensity$sizes, collapse = "-"), paste(m$outcome$sizes, collapse = "-"),
                if (isTRUE(m$outcome_split == 1L))
                  "two halves side by side, one per arm, each stopped early on its own" else
                  "one head per arm"))
  best <- best_losses(x)
  # the internal outcome net of a time-to-event fit is not the survival model's
  best_epoch <- if (survival) x$best_epoch[names(x$best_epoch) != "outcome"] else x$best_epoch
  epochs <- sprintf("%s %d", names(best_epoch), best_epoch)
  if (!survival && !is.null(x$outcome_best_epoch))
    epochs[names(best_epoch) == "outcome"] <-
      sprintf("outcome %d (control) and %d (treated)", x$outcome_best_epoch[["control"]],
              x$outcome_best_epoch[["treated"]])
  cat(sprintf("Training: %d of %d epochs in %.1f s (batch %d, lr %g); best epochs %s\n",
              x$epochs_run, st$epochs, x$seconds, st$batch_size, st$learning_rate,
              paste(epochs, collapse = ", ")))
  if (survival)
    cat(sprintf("Held-out loss per row: VAE %.4f, propensity %.4f\n", best[1], best[2]))
  else
    cat(sprintf("Held-out loss per row: VAE %.4f, propensity %.4f, outcome %.4f\n",
                best[1], best[2], best[3]))
  if (length(x$warnings))
    cat("Warnings at fit time:", paste("  -", x$warnings), sep = "\n")
  invisible(x)
}

# The outcome model in words: its type and, for a semicontinuous outcome, the point mass
# and bounds that the draws keep.
outcome_description <- function(fit) {
  if (inherits(fit, "causalmix_survival"))
    return(paste0("time to event: ", follow_up_label(fit$survival$time, fit$survival$event)))
  spec <- fit$schema$columns[[fit$schema$outcome]]
  if (fit$model$outcome_binary == 1L)
    return(sprintf("binary: Bernoulli per arm, effects on P(%s = %s)", fit$schema$outcome,
                   format_value(spec$levels[2L])))
  if (outcome_transformed(fit)) {
    shape <- shape_text(spec)
    return(sprintf(paste0("%s: per arm a Gaussian on normal scores with x-dependent mean ",
                          "and variance, decoded through the outcome's marginal transform, ",
                          "which keeps its range [%s, %s]%s"),
                   spec$type, format(spec$lower, digits = 6), format(spec$upper, digits = 6),
                   if (nzchar(shape)) paste0(" and its ", shape) else ""))
  }
  if (!isTRUE(fit$model$outcome_mass == 1L))
    return("continuous: Gaussian per arm with x-dependent variance")
  sprintf(paste0("semicontinuous: per arm a point mass at %s (%.1f%% of the data) and a ",
                 "Gaussian truncated to [%s, %s]"),
          format(spec$point_mass, digits = 6), 100 * spec$mass_share,
          format(spec$lower, digits = 6), format(spec$upper, digits = 6))
}

# Held-out loss of each model at its kept epoch (training loss without a held-out set).
best_losses <- function(fit) {
  if (!is.null(fit$best_loss)) return(fit$best_loss)
  h <- fit$history
  cols <- if (fit$settings$validation_share > 0)
    c("vae_valid", "propensity_valid", "outcome_valid") else
    c("vae_train", "propensity_train", "outcome_train")
  stats::setNames(vapply(1:3, function(k) {
    e <- fit$best_epoch[k]
    if (e >= 1L) h[[cols[k]]][e] else NA_real_
  }, double(1)), c("vae", "propensity", "outcome"))
}

#' Summary of a CausalMix fit
#'
#' @param object A [causalmix()] fit.
#' @param threads Threads for the reference draw of covariates (see [sandbox_threads()]).
#' @param ... Unused.
#' @return An object of class `summary.causalmix`: held-out losses per model, mixture
#'   weights, propensity quantiles by arm, the learned ATE (mean of tau(x) over a fixed draw
#'   of 20,000 rows from the fitted covariate law) with its Monte Carlo error, and quantiles of
#'   tau(x).
#' @examples
#' set.seed(3)
#' d <- data.frame(x = rnorm(300))
#' d$t <- rbinom(300, 1, plogis(d$x))
#' d$y <- d$x + d$t + rnorm(300)
#' fit <- causalmix(d, "t", "y", epochs = 10, hidden = 16, threads = 1)
#' summary(fit)
#' @export
summary.causalmix <- function(object, threads = NULL, ...) {
  ref <- cached_reference(object, threads)
  tau <- ref$pred$mu1 - ref$pred$mu0
  ps <- object$fitted$ps
  arm <- object$treatment_observed == 1
  probs <- c(0, 0.05, 0.25, 0.5, 0.75, 0.95, 1)
  structure(list(
    losses = best_losses(object),
    best_epoch = object$best_epoch,
    epochs_run = object$epochs_run,
    mixture_weights = if (object$settings$learn_prior == 1L) mixture_weights(object) else NULL,
    propensity = rbind(treated = stats::quantile(ps[arm], probs, names = FALSE),
                       control = stats::quantile(ps[!arm], probs, names = FALSE)),
    ate = mean(tau), ate_mcse = stats::sd(tau) / sqrt(length(tau)),
    tau_sd = stats::sd(tau), tau_quantiles = stats::quantile(tau, probs),
    outcome_binary = object$model$outcome_binary == 1L,
    outcome = outcome_description(object)), class = "summary.causalmix")
}

#' @export
print.summary.causalmix <- function(x, digits = 4, ...) {
  cat("CausalMix fit summary\n")
  cat(sprintf("Outcome model: %s\n", x$outcome))
  cat(sprintf("Held-out loss per row: VAE %.4f, propensity %.4f, outcome %.4f (epochs %s of %d)\n",
              x$losses[1], x$losses[2], x$losses[3], paste(x$best_epoch, collapse = "/"),
              x$epochs_run))
  if (!is.null(x$mixture_weights))
    cat("Mixture weights:", paste(format(round(sort(x$mixture_weights, decreasing = TRUE), 3)),
                                  collapse = " "), "\n")
  else cat("Prior: N(0, I)\n")
  cat("Fitted propensity by arm (min, 5%, 25%, median, 75%, 95%, max):\n")
  p <- x$propensity
  colnames(p) <- c("min", "5%", "25%", "50%", "75%", "95%", "max")
  print(round(p, 3))
  cat(sprintf("Learned ATE (%s) over the fitted covariate law: %s (MC se %s)\n",
              if (x$outcome_binary) "risk difference" else "mean difference",
              format(signif(x$ate, digits)), format(signif(x$ate_mcse, 2))))
  cat(sprintf("Conditional effect tau(x): sd %s; 5%%-95%% range [%s, %s]\n",
              format(signif(x$tau_sd, digits)), format(signif(x$tau_quantiles[2], digits)),
              format(signif(x$tau_quantiles[6], digits))))
  invisible(x)
}

#' Plot a CausalMix fit
#'
#' Training curves (training and held-out loss per epoch for the VAE, the propensity and the
#' outcome model) and the overlap of the fitted propensities by arm. Each model stops on its
#' own (early stopping on its held-out loss), so each curve ends at the epoch its model
#' stopped training; the kept (best) epoch is marked. One legend under the panels.
#'
#' @param x A [causalmix()] fit.
#' @param ... Passed to [graphics::plot()] for the curves.
#' @return `x`, invisibly.
#' @examples
#' set.seed(4)
#' d <- data.frame(x = rnorm(300))
#' d$t <- rbinom(300, 1, plogis(d$x))
#' d$y <- d$x + d$t + rnorm(300)
#' fit <- causalmix(d, "t", "y", epochs = 10, hidden = 16, threads = 1)
#' plot(fit)
#' @export
plot.causalmix <- function(x, ...) {
  old <- graphics::par(mfrow = c(2, 2), mar = c(4, 4, 2.5, 1), oma = c(3, 0, 0, 0))
  on.exit(graphics::par(old))
  h <- x$history
  models <- c(vae = "Covariate VAE", propensity = "Propensity", outcome = "Outcome")
  held_col <- "firebrick"
  best_col <- "royalblue"
  has_valid <- FALSE
  for (k in names(models)) {
    best <- x$best_epoch[[k]]
    # a model stops once `patience` epochs pass without improving on its best
    stopped <- min(nrow(h), best + x$settings$patience)
    rows <- seq_len(stopped)
    tr <- h[[paste0(k, "_train")]][rows]
    va <- h[[paste0(k, "_valid")]][rows]
    yl <- range(c(tr, va), finite = TRUE)
    graphics::plot(h$epoch[rows], tr, type = "l", ylim = yl, xlim = c(1, max(2, nrow(h))),
                   xlab = "epoch", ylab = "loss per row",
                   main = sprintf("%s (%s)", models[[k]],
                                  if (best + x$settings$patience <= nrow(h))
                                    sprintf("stopped at epoch %d", stopped)
                                  else sprintf("trained all %d epochs", nrow(h))), ...)
    monitored <- tr
    if (any(is.finite(va))) {
      graphics::lines(h$epoch[rows], va, lty = 2, col = held_col)
      monitored <- va
      has_valid <- TRUE
    }
    if (best >= 1L) {
      graphics::abline(v = best, col = best_col, lty = 3)
      graphics::points(best, monitored[best], pch = 19, col = best_col)
    }
  }
  ps <- x$fitted$ps
  arm <- x$treatment_observed == 1
  breaks <- seq(0, 1, by = 0.025)
  h1 <- graphics::hist(ps[arm], breaks = breaks, plot = FALSE)
  h0 <- graphics::hist(ps[!arm], breaks = breaks, plot = FALSE)
  fills <- grDevices::adjustcolor(c("steelblue", "firebrick"), 0.5)
  graphics::plot(h0, freq = FALSE, col = fills[1L], border = NA, xlim = c(0, 1),
                 ylim = c(0, max(h0$density, h1$density)), main = "Propensity overlap",
                 xlab = "fitted propensity")
  graphics::plot(h1, freq = FALSE, col = fills[2L], border = NA, add = TRUE)
  # one legend for the page, in the outer margin under the panels
  graphics::par(fig = c(0, 1, 0, 1), oma = c(0, 0, 0, 0), mar = c(0, 0, 0, 0), new = TRUE)
  graphics::plot.new()
  labels <- c("training loss", if (has_valid) "held-out loss", "best epoch (weights kept)",
              "control", "treated")
  is_line <- c(TRUE, if (has_valid) TRUE, TRUE, FALSE, FALSE)
  graphics::legend("bottom", legend = labels, horiz = TRUE, bty = "n", cex = 0.8, xpd = NA,
                   lty = ifelse(is_line, c(1, if (has_valid) 2, 3, 0, 0), 0),
                   pch = c(NA, if (has_valid) NA, 19, NA, NA),
                   col = c("black", if (has_valid) held_col, best_col, NA, NA),
                   fill = c(NA, if (has_valid) NA, NA, fills),
                   border = c(NA, if (has_valid) NA, NA, NA, NA))
  invisible(x)
}
