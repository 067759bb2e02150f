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
#'   CausalMix code; e.g. `c(64, 64)` adds a second layer (and most of the work).
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
#'   a 20,000-row reference draw, whatever the networks learned. A numeric outcome is
#'   decoded the same way (its point masses and range kept, no grid; see [causalmix()]).
#'   `FALSE` decodes these columns and the outcome through the Gaussian,
#'   discretised-Gaussian and point-mass heads instead.
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
  refuse_unknown_settings(list(...), "causalmix")
  if (!is.null(latent_dim)) check_count(latent_dim, "latent_dim", min = 1)
  if (!is.null(n_components)) check_count(n_components, "n_components", min = 1)
  if (!is.numeric(hidden) || length(hidden) < 1L || length(hidden) > 8L || anyNA(hidden) ||
      any(!is.finite(hidden)) || any(hidden != round(hidden)) || any(hidden < 1))
    stopf("`hidden` must be 1 to 8 positive whole numbers (layer widths), not %s.",
                 describe(hidden), argument = "hidden")
  if (!is.null(epochs)) check_count(epochs, "epochs", min = 1)
  check_count(batch_size, "batch_size", min = 1)
  check_number(learning_rate, "learning_rate", lower = 0, upper = 1, lower_open = TRUE)
  check_number(validation_share, "validation_share", lower = 0, upper = 0.5)
  check_count(patience, "patience", min = 1)
  if (!is.character(prior) || length(prior) < 1L || anyNA(prior))
    stopf("`prior` must be \"mixture\" or \"gaussian\", not %s.", describe(prior),
          argument = "prior")
  prior <- prior[1L]
  if (!prior %in% c("mixture", "gaussian"))
    stopf("`prior` must be \"mixture\" or \"gaussian\", not %s.", describe(prior),
          argument = "prior")
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
  check_control_overrides(control, overrides, "causalmix")
  if (!length(overrides)) return(control)
  merged_control(control, overrides, causalmix_control)
}

# Refuses a `control` that is not a "<model>_control" object and settings given beside it
# (`overrides`, the fitting function's `...`) without names.
check_control_overrides <- function(control, overrides, model) {
  if (!inherits(control, paste0(model, "_control")))
    stopf("`control` must come from %s_control(), not %s.", model, describe(control),
          argument = "control")
  nm <- names(overrides)
  if (length(overrides) && (is.null(nm) || any(!nzchar(nm))))
    stopf("Settings passed to %s() through `...` must be named.", model, argument = "...")
}

# `control` with the named `overrides` put in, rebuilt by its control function (which
# validates them).
merged_control <- function(control, overrides, control_function) {
  args <- unclass(control)
  args[names(overrides)] <- overrides
  do.call(control_function, args)
}

#' Settings for fitting a CausalBGM model
#'
#' Gathers and checks every setting of [causalbgm()], as [causalmix_control()] does for
#' [causalmix()], so that mistakes are reported before any training starts. Benchmark
#' figures behind the defaults are kept in `inst/bench/results/causalbgm.txt` (rerun with
#' `inst/bench/causalbgm.R`), not here.
#'
#' @param z_dims `NULL` (default: `c(3, 3, 0, 0)` for a binary treatment, the published
#'   `c(3, 3, 6, 6)` for a continuous one) or four whole numbers: widths of \eqn{Z_0}
#'   (confounders, \eqn{\ge 1}),
#'   \eqn{Z_1} (outcome only), \eqn{Z_2} (treatment only) and \eqn{Z_3} (covariates only),
#'   adding up to at most 1024. \eqn{Z_1}, \eqn{Z_2} and \eqn{Z_3} may have width 0. The
#'   outcome network reads \eqn{Z_0} and \eqn{Z_1}; when the covariates act on the outcome
#'   through about one score, `z_dims[2] = 0` leaves the network that score alone in
#'   \eqn{Z_0}. With more outcome latents than the outcome needs, the network can also tell a
#'   confounder from a purely prognostic covariate, and for a continuous dose it must then
#'   extrapolate over the confounder to doses its units rarely receive (on the Hirano-Imbens
#'   benchmark `c(1, 0, 2, 7)` gave a smaller dose-response error than the published
#'   `c(1, 1, 1, 7)`). For a binary treatment the outcome network must read the effect
#'   modifiers from \eqn{Z_0, Z_1}; with \eqn{Z_2, Z_3} present the covariate likelihood
#'   parks much of the covariates' information there, where the outcome network cannot read
#'   it, hence the binary default without them (figures in
#'   `inst/bench/results/causalbgm_peers.txt`).
#' @param hidden A list with hidden layer widths of the networks `g` (covariates), `h`
#'   (treatment), `f` (outcome) and `e` (encoder); missing entries take the defaults.
#' @param epochs Number of passes of the iterative phase.
#' @param batch_size Mini-batch size.
#' @param learning_rate Adam learning rates: a named vector with `networks`, `latent` and
#'   `encoder` (a single number sets all three).
#' @param lr_schedule `"cosine"` (default): the learning rates of the networks and latents
#'   decay to zero along a half cosine over the iterative phase, so the fit ends on a settled
#'   iterate rather than on one noisy mini-batch step; `"constant"` keeps them fixed.
#' @param kl_weight Weight of the KL divergence of the weight posterior to the prior in each
#'   batch loss (the batch-mean negative log-likelihood). `NULL` (default) uses `1 / n` for
#'   `n` units, which makes the loss the evidence lower bound of the whole sample divided by
#'   `n`: the weight posterior then carries the uncertainty the data leave, which the
#'   intervals of [predict.causalbgm()] (with `weight_noise = TRUE`) include. The published
#'   code uses a fixed `1e-4`; `0` trains point-like weights.
#' @param init `"encoder"` (default) or `"random"` latent initialisation.
#' @param init_iterations Mini-batch iterations of the encoder initialisation.
#' @param init_xy_weight Weight of the treatment and outcome likelihoods during the encoder
#'   initialisation (`NULL`: `min(2 * p + 10, 50)` for `p` covariates). The covariate
#'   likelihood sums over `p` columns and would otherwise decide alone how the latents are
#'   rotated; a larger weight puts the confounding information into \eqn{Z_0}, which the
#'   outcome and treatment networks see. The iterative phase always uses weight 1.
#' @param init_z0 What shapes the confounder block \eqn{Z_0} during the encoder
#'   initialisation. `"outcome"` (default): the outcome and covariate likelihoods; the
#'   treatment likelihood moves only \eqn{Z_2}'s codes (the treatment network still reads
#'   \eqn{Z_0}). `"both"`: the treatment likelihood moves \eqn{Z_0} too, as in the published
#'   method. Its gradient cannot tell a confounder from a covariate that affects the
#'   treatment only (an instrument), so with `"both"` instruments often settle in \eqn{Z_0};
#'   the outcome network, which conditions on \eqn{Z_0}, then sees little overlap between
#'   doses and extrapolates the dose-response. On the Hirano-Imbens benchmark `"outcome"`
#'   gave smaller mean and worst dose-response errors; on the binary benchmark process (no
#'   instrument) the average-effect error was unchanged. The price: a confounder now reaches
#'   \eqn{Z_0} or \eqn{Z_1} through the outcome likelihood alone, and a short initialisation
#'   can leave part of it out (on a small linear process with one strong confounder and no
#'   instrument, `"both"` estimated the slope better).
#' @param moment_weight Weight of the moment match of the encoder's codes to \eqn{N(0, I)}
#'   during the encoder initialisation. It changes the fitted model. `NULL` (default) uses
#'   10, or the deprecated option `causalsandbox.bgm_moment_weight` when it is set (with a
#'   warning).
#' @param arm_heads Binary treatment only: `TRUE` gives the outcome network one mean output
#'   per arm, \eqn{(\mu_0, \mu_1)} on a shared trunk, each unit's likelihood using its own
#'   arm's output; `FALSE` feeds the treatment to the network as one input, as in the
#'   published method. `NULL` (default): `TRUE` for a binary treatment (together with
#'   `outcome_covariates` and `outcome_variance = "constant"`, see there).
#' @param outcome_covariates `TRUE`: the outcome network reads the (standardised) covariates
#'   beside \eqn{Z_0, Z_1} (and the treatment), so the outcome mean does not depend on how
#'   much of the covariates' prognostic information the few latent dimensions keep; the
#'   latents still enter, as the part of the confounding the covariates do not show
#'   directly. `FALSE`: the published outcome network \eqn{f(Z_0, Z_1, X)}. `NULL`
#'   (default): `TRUE` for a binary treatment, `FALSE` for a continuous one (not
#'   benchmarked there). On the peers benchmark (binary, n = 2,000, p = 10) the three
#'   binary defaults together (`outcome_covariates`, `arm_heads`, `outcome_variance =
#'   "constant"`) left the root PEHE of a single fit where it was (0.479 against 0.472 over
#'   8 replicates) but halved the error of the average effect (0.058 against 0.136; BART
#'   0.045), and removed the one failed fit of the earlier defaults (replicate 4, PEHE
#'   0.79 -> 0.48). Alone, `outcome_covariates` gave 0.522 against 0.513 (replicates 1-4).
#' @param outcome_variance `"latent"`: the outcome network outputs a variance that depends
#'   on its inputs (the published model); `"constant"`: one learned outcome variance (a
#'   heteroscedastic head can explain units whose mean it fits poorly by a larger variance
#'   instead). `NULL` (default): `"constant"` for a binary treatment, `"latent"` for a
#'   continuous one.
#' @param latent_treatment_weight Weight of the treatment likelihood in the latents'
#'   updates of the iterative phase (`NULL`: 1, the published method). With 0 a unit's
#'   latent cannot come to encode its own received treatment, which the outcome network
#'   could then read in place of the treatment input; on the peers benchmark it made no
#'   difference (root PEHE 0.511 against 0.513, replicates 1-4), so the default stays.
#' @param latent_outcome_weight Weight of the outcome likelihood in the latents' updates of
#'   the iterative phase (the encoder initialisation always uses it). `NULL` (default): 0 for
#'   a binary treatment, 1 (the published method) for a continuous one. With 0 a unit's
#'   latent follows its covariates and treatment, so it cannot absorb its own outcome noise
#'   into what the outcome network then learns from.
#' @param n_fits Number of fits from different seeds (`NULL`, default: 3). With more than
#'   one, the fit is an ensemble:
#'   [predict.causalbgm()] runs the sampler under each member and pools the draws (for a
#'   binary treatment each unit's effect draws), which averages out part of the
#'   fit-to-fit variation at `n_fits` times the cost, and its intervals include how far the
#'   members disagree. On the peers benchmark (binary, replicates 1-4) an ensemble of 3
#'   lowered the root PEHE from 0.473 to 0.432 (earlier defaults: 0.513 to 0.423) and no
#'   replicate failed (single fits fail now and then: PEHE 0.79 against 0.45 from other
#'   seeds). For a continuous treatment the prediction's `adrf_members` shows how far the
#'   members' dose-response estimates disagree (large between seeds on the Hirano-Imbens
#'   benchmark). The top-level weights, latents and history are the first member's; the
#'   others are in `members`. The members are fitted at once on up to `threads` threads
#'   (see `threads`).
#' @param seed `NULL` or a whole number; with `NULL` the seed comes from R's generator, so
#'   `set.seed()` makes the fit reproducible.
#' @param threads Number of threads (see [sandbox_threads()]); results do not depend on it.
#'   An ensemble (`n_fits > 1`) fits up to `threads` members at once, each member on one
#'   thread from its own seed, so the fit is identical to the one fitted member after member
#'   (`threads = 1`); a single fit runs on one thread. Progress reports and Ctrl-C work as
#'   with one thread. Parallel fitting adds no work (the same CPU time); what it saves in
#'   elapsed time depends on idle cores: at best a third with 3 members on 2 threads, nothing
#'   when other jobs already hold the cores (`inst/bench/results/causalbgm_parallel.txt`).
#' @param verbose Print progress (with an ensemble, each line names its member).
#' @param ... Not used; unknown settings are an error.
#' @return A list of class `causalbgm_control`.
#' @examples
#' ctl <- causalbgm_control(z_dims = c(1, 1, 1, 2), epochs = 20, seed = 1)
#' ctl$hidden$g
#' @export
causalbgm_control <- function(z_dims = NULL,
                              hidden = list(g = c(64, 64, 64), h = c(64, 32, 8),
                                            f = c(64, 32, 8), e = c(64, 64)),
                              epochs = 100, batch_size = 32,
                              learning_rate = c(networks = 1e-3, latent = 1e-2,
                                                encoder = 1e-3),
                              lr_schedule = c("cosine", "constant"), kl_weight = NULL,
                              init = c("encoder", "random"), init_iterations = 3000,
                              init_xy_weight = NULL, init_z0 = c("outcome", "both"),
                              moment_weight = NULL, n_fits = NULL, arm_heads = NULL,
                              latent_outcome_weight = NULL, latent_treatment_weight = NULL,
                              outcome_covariates = NULL, outcome_variance = NULL,
                              seed = NULL, threads = NULL,
                              verbose = FALSE, ...) {
  refuse_unknown_settings(list(...), "causalbgm")
  init <- match_arg(init)
  init_z0 <- match_arg(init_z0)
  lr_schedule <- match_arg(lr_schedule)
  check_count(epochs, "epochs", min = 0)
  check_count(batch_size, "batch_size")
  check_count(init_iterations, "init_iterations", min = 0)
  if (!is.null(n_fits)) {
    check_count(n_fits, "n_fits")
    n_fits <- as.integer(n_fits)
  }
  check_flag(verbose, "verbose")
  if (!is.null(kl_weight)) check_number(kl_weight, "kl_weight", lower = 0)
  if (!is.null(init_xy_weight)) check_number(init_xy_weight, "init_xy_weight", lower = 0)
  if (!is.null(moment_weight)) check_number(moment_weight, "moment_weight", lower = 0)
  if (!is.null(arm_heads)) check_flag(arm_heads, "arm_heads")
  if (!is.null(latent_outcome_weight))
    check_number(latent_outcome_weight, "latent_outcome_weight", lower = 0)
  if (!is.null(outcome_covariates)) check_flag(outcome_covariates, "outcome_covariates")
  if (!is.null(outcome_variance))
    outcome_variance <- check_choice(outcome_variance, c("latent", "constant"), "outcome_variance")
  if (!is.null(latent_treatment_weight))
    check_number(latent_treatment_weight, "latent_treatment_weight", lower = 0)
  if (!is.null(seed)) check_seed(seed)
  if (!is.null(threads)) check_count(threads, "threads", min = 1)
  if (!is.null(z_dims)) z_dims <- bgm_check_z_dims(z_dims)
  structure(list(z_dims = z_dims, hidden = bgm_check_hidden(hidden),
                 epochs = as.integer(epochs), batch_size = as.integer(batch_size),
                 learning_rate = bgm_check_learning_rate(learning_rate),
                 lr_schedule = lr_schedule, kl_weight = kl_weight, init = init,
                 init_iterations = as.integer(init_iterations),
                 init_xy_weight = init_xy_weight, init_z0 = init_z0,
                 moment_weight = moment_weight, n_fits = n_fits,
                 arm_heads = arm_heads, latent_outcome_weight = latent_outcome_weight,
                 latent_treatment_weight = latent_treatment_weight,
                 outcome_covariates = outcome_covariates, outcome_variance = outcome_variance,
                 seed = seed,
                 threads = threads, verbose = verbose),
            class = "causalbgm_control")
}

#' @export
print.causalbgm_control <- function(x, ...) {
  cat("CausalBGM settings\n")
  shown <- vapply(unclass(x), function(v) {
    if (is.null(v)) return("default")
    if (is.list(v)) return(paste(sprintf("%s = (%s)", names(v),
                                         vapply(v, paste, "", collapse = ", ")),
                                 collapse = "; "))
    if (!is.null(names(v))) return(paste(sprintf("%s = %s", names(v), format(v)),
                                         collapse = ", "))
    paste(format(v), collapse = ", ")
  }, character(1))
  print(noquote(shown))
  invisible(x)
}

# causalbgm()'s control with the deprecated flat settings of `...` merged in (one warning
# naming them all). Unknown names are an error, as in causalbgm_control().
bgm_flat_settings <- function(control, flat) {
  check_control_overrides(control, flat, "causalbgm")
  if (!length(flat)) return(control)
  nm <- names(flat)
  known <- setdiff(names(formals(causalbgm_control)), "...")
  refuse_unknown_settings(flat[!nm %in% known], "causalbgm", argument = "...")
  deprecation_warning(sprintf(paste0(
    "Giving causalbgm()'s settings one by one (%s) is deprecated; use ",
    "`control = causalbgm_control(%s)` instead (accepted until the next release)."),
    paste0("`", nm, "`", collapse = ", "), paste(nm, collapse = ", ")),
    old = nm, new = "control", fn = "causalbgm")
  merged_control(control, flat, causalbgm_control)
}

# The moment-match weight of the encoder initialisation: the control's, else the deprecated
# option causalsandbox.bgm_moment_weight (with a warning), else 10.
bgm_moment_weight <- function(weight) {
  if (!is.null(weight)) return(weight)
  opt <- getOption("causalsandbox.bgm_moment_weight")
  if (is.null(opt)) return(10)
  check_number(opt, "causalsandbox.bgm_moment_weight", lower = 0)
  warn_renamed("causalsandbox.bgm_moment_weight", "causalbgm_control(moment_weight = )",
               "options", what = "Option")
  opt
}

# Settings a control function does not know (its `...`): an error naming them, with
# `argument` (default: the first one's name) as the argument.
refuse_unknown_settings <- function(extra, model, argument = NULL) {
  if (!length(extra)) return(invisible())
  nm <- names(extra)
  nm <- if (is.null(nm)) rep("", length(extra)) else nm
  if (is.null(argument)) argument <- if (nzchar(nm[1L])) nm[1L] else "..."
  stopf("Unknown %s setting%s: %s.", model, if (length(extra) > 1L) "s" else "",
        paste(ifelse(nzchar(nm), paste0("`", nm, "`"), "(unnamed)"), collapse = ", "),
        argument = argument)
}
