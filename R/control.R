# Settings of causalmix(), gathered and validated before any C code runs.

#' Settings for fitting a CausalMix model
#'
#' Gathers and checks every setting of [causalmix()] (in the manner of [stats::glm.control()]),
#' so that mistakes are reported before any training starts. The defaults fit a cohort of a
#' few thousand rows and a few dozen columns in seconds.
#'
#' @param latent_dim Size of the latent space of the covariate VAE; `NULL` (default) uses
#'   the number of covariates, between 2 and 10.
#' @param n_components Number of Gaussian components of the mixture prior; `NULL`
#'   (default) uses 32, or one per 10 training rows when that is fewer (ignored, and set to
#'   1, with `prior = "gaussian"`).
#' @param hidden Widths of the hidden layers of every network (encoder, decoder, propensity
#'   and outcome networks): the default is one layer of 64 units, as in the published
#'   CausalMix code; e.g. `c(64, 64)` adds a second layer (about 2.5 times the work).
#' @param epochs Maximum number of passes over the training rows; `NULL` (default) chooses
#'   about 15,000 optimiser steps, between 20 and 300 epochs. Early stopping usually ends
#'   training sooner.
#' @param batch_size Rows per mini-batch (capped at the number of training rows).
#' @param learning_rate Step size of the Adam optimiser.
#' @param validation_share Share of rows held out for early stopping, in \[0, 0.5\]. With 0
#'   every row is used for training, the full `epochs` run and the weights of the epoch with
#'   the lowest training loss are kept.
#' @param patience Epochs without improvement of a model's held-out loss before that model
#'   stops training (the best weights are kept).
#' @param prior `"mixture"` (a mixture of `n_components` diagonal Gaussians whose weights,
#'   means and variances are learned with the VAE) or `"gaussian"` (the fixed N(0, I) prior,
#'   as an ablation).
#' @param refit_prior With `prior = "mixture"`: after training, refit the mixture by
#'   expectation-maximisation to the encoder's aggregate posterior (the average over the
#'   cohort's rows of their posterior Gaussians), so that draws from the prior land where
#'   the decoder learned to reconstruct real rows; the gradient-learned mixture is the
#'   starting point. `FALSE` keeps the gradient-learned mixture.
#' @param calibrate_marginals After training, shift the output biases of the decoder's
#'   probability heads (binary and categorical columns, point masses of semicontinuous
#'   columns, missingness indicators) on the log-odds scale until a fixed draw of 20,000 rows
#'   from the model has the data's shares of every level (within 0.005, or 10 rounds). A VAE
#'   fitted to a few thousand rows is otherwise a few points off for rare levels. `FALSE`
#'   keeps the trained decoder as it is.
#' @param marginal_transforms Decode every continuous and semicontinuous covariate, and
#'   every count not modelled by a softmax over its values, through its own marginal
#'   transform learned from the data: the networks see the column's normal scores, and a
#'   draw goes back through the column's smoothed empirical quantile function (its point
#'   masses - zeros, heaps, a top code - kept as masses with the data's shares), lands inside
#'   the observed range and on the column's recording grid (whole numbers stay whole, steps
#'   of 0.5 stay steps of 0.5). The quantile function is matched to the model's own draws
#'   after training, so each drawn column has the data's marginal up to the sampling error of
#'   a 20,000-row reference draw, whatever the networks learned. `FALSE` decodes these
#'   columns through the Gaussian, discretised-Gaussian and point-mass heads instead.
#' @param kl_weight Weight of the Kullback-Leibler term of the VAE loss (1 is the evidence
#'   lower bound), or `NULL` (the default) for 0.28 x covariates / latent dimensions: the
#'   reconstruction has one term per covariate and the KL term one per latent dimension, and
#'   this keeps their balance whatever the table's width (0.5 for the 18 covariates and 10
#'   latent dimensions of the bundled mCRPC cohort, 0.28 for the 7 and 7 of lalonde). Weights
#'   below 1 let the latent code carry more of each row, which the refitted mixture prior then
#'   follows; on both cohorts this default gave better fidelity than a fixed 0.5 or 1 (see
#'   `inst/bench/fidelity.R`). The published CausalMix code uses 0.1 with a mixture fitted
#'   after training.
#' @param seed `NULL` or a whole number: the seed of initialisation, data split and training
#'   noise. With `NULL` the seed is drawn from R's random number generator, so
#'   [set.seed()] makes the fit reproducible.
#' @param threads Threads (see [sandbox_threads()]): with two or more, each mini-batch is
#'   trained in two halves side by side (training uses at most two threads; a multithreaded
#'   BLAS is kept on one thread meanwhile), and predictions and draws run in parallel. Tables
#'   with fewer than 20,000 training rows train on one thread: their batches are too small
#'   for the split to pay, and it costs much more when another process holds a core (the
#'   option `causalsandbox.parallel_training_rows` changes the threshold). The fit does not
#'   depend on it.
#' @param verbose Print training progress (epoch, training and held-out losses).
#' @param ... Not used; unknown settings are an error.
#' @return A list of class `causalmix_control`.
#' @examples
#' ctl <- causalmix_control(hidden = c(32, 32), epochs = 50, seed = 1)
#' ctl$hidden
#' @export
causalmix_control <- function(latent_dim = NULL, n_components = NULL, hidden = 64,
                              epochs = NULL, batch_size = 128, learning_rate = 2e-3,
                              validation_share = 0.2, patience = 10,
                              prior = c("mixture", "gaussian"), refit_prior = TRUE,
                              calibrate_marginals = TRUE, marginal_transforms = TRUE,
                              kl_weight = NULL, seed = NULL,
                              threads = NULL, verbose = FALSE, ...) {
  extra <- list(...)
  if (length(extra)) {
    nm <- names(extra)
    nm <- if (is.null(nm)) rep("", length(extra)) else nm
    stopf("Unknown causalmix setting%s: %s.", if (length(extra) > 1L) "s" else "",
                 paste(ifelse(nzchar(nm), paste0("`", nm, "`"), "(unnamed)"), collapse = ", "))
  }
  if (!is.null(latent_dim)) check_count(latent_dim, "latent_dim", min = 1)
  if (!is.null(n_components)) check_count(n_components, "n_components", min = 1)
  if (!is.numeric(hidden) || length(hidden) < 1L || length(hidden) > 8L || anyNA(hidden) ||
      any(!is.finite(hidden)) || any(hidden != round(hidden)) || any(hidden < 1))
    stopf("`hidden` must be 1 to 8 positive whole numbers (layer widths), not %s.",
                 describe(hidden))
  if (!is.null(epochs)) check_count(epochs, "epochs", min = 1)
  check_count(batch_size, "batch_size", min = 1)
  check_number(learning_rate, "learning_rate", lower = 0, upper = 1, lower_open = TRUE)
  check_number(validation_share, "validation_share", lower = 0, upper = 0.5)
  check_count(patience, "patience", min = 1)
  if (!is.character(prior) || length(prior) < 1L || anyNA(prior))
    stopf("`prior` must be \"mixture\" or \"gaussian\", not %s.", describe(prior))
  prior <- prior[1L]
  if (!prior %in% c("mixture", "gaussian"))
    stopf("`prior` must be \"mixture\" or \"gaussian\", not %s.", describe(prior))
  check_flag(refit_prior, "refit_prior")
  check_flag(calibrate_marginals, "calibrate_marginals")
  check_flag(marginal_transforms, "marginal_transforms")
  if (!is.null(kl_weight)) check_number(kl_weight, "kl_weight", lower = 0)
  if (!is.null(seed)) check_seed(seed)
  if (!is.null(threads)) check_count(threads, "threads", min = 1)
  check_flag(verbose, "verbose")
  structure(list(latent_dim = if (is.null(latent_dim)) NULL else as.integer(latent_dim),
                 n_components = if (is.null(n_components)) NULL else as.integer(n_components),
                 hidden = as.integer(hidden),
                 epochs = if (is.null(epochs)) NULL else as.integer(epochs),
                 batch_size = as.integer(batch_size), learning_rate = learning_rate,
                 validation_share = validation_share, patience = as.integer(patience),
                 prior = prior, refit_prior = refit_prior,
                 calibrate_marginals = calibrate_marginals,
                 marginal_transforms = marginal_transforms, kl_weight = kl_weight, seed = seed,
                 threads = threads,
                 verbose = verbose),
            class = "causalmix_control")
}

#' @export
print.causalmix_control <- function(x, ...) {
  cat("CausalMix settings\n")
  shown <- vapply(unclass(x), function(v) if (is.null(v)) "default" else
    paste(format(v), collapse = ", "), character(1))
  print(noquote(shown))
  invisible(x)
}

# Merges settings given directly to causalmix() (its `...`) into a control object.
update_control <- function(control, overrides) {
  if (!inherits(control, "causalmix_control"))
    stopf("`control` must come from causalmix_control(), not %s.", describe(control))
  if (!length(overrides)) return(control)
  nm <- names(overrides)
  if (is.null(nm) || any(!nzchar(nm)))
    stopf("Settings passed to causalmix() through `...` must be named.")
  args <- unclass(control)
  args[nm] <- overrides
  do.call(causalmix_control, args)
}
