# The package options and the argument conventions, documented in one help page.

#' Package options and argument conventions
#'
#' Every option the package reads, with its default and what it changes, and the names the
#' exported functions share. Set options with [options()], e.g.
#' `options(causalsandbox.threads = 2)`; none is needed for ordinary use.
#'
#' @section Options:
#' \describe{
#'   \item{`causalsandbox.threads`}{Default thread count of every parallel region when a
#'     function's `threads` argument is `NULL` (see [sandbox_threads()]). Default: unset,
#'     meaning half the processors, capped by `OMP_THREAD_LIMIT` and by 2 under
#'     `R CMD check`. Results never depend on it.}
#'   \item{`causalsandbox.parallel_training_rows`}{Fewest training rows for which
#'     [causalmix()] trains on two threads (smaller tables train on one: their batches are too
#'     small for the split to pay). Default: 20000. The fit does not depend on it.}
#'   \item{`causalsandbox.knob_cache`}{`FALSE` recomputes the population constants of a knob
#'     setting (centring, the log-odds shift, the confounding room, the truth) on every
#'     [simulate()][simulate.causalmix] call instead of caching them per fit and setting for
#'     the session. Default: `TRUE`. Draws are identical either way; it exists as the
#'     baseline of `inst/bench/knobs.R`.}
#'   \item{`causalsandbox.portable_kernels`}{`TRUE` runs the scalar (portable) build of the
#'     draw and prediction kernels instead of the AVX2 / AVX-512 one the processor allows.
#'     Default: `FALSE`. Results are bit-identical either way (the tests compare them).}
#'   \item{`causalsandbox.distance_blas`}{`TRUE` computes the distances to the closest record
#'     ([dcr()], [fidelity()]) with BLAS matrix products instead of the engine's own kernel.
#'     Default: `FALSE`. The same distances up to rounding; used by the tests and the
#'     benchmark to compare the two.}
#'   \item{`causalsandbox.bgm_moment_weight`}{Deprecated: use
#'     `causalbgm_control(moment_weight = )`. Weight of the moment match of the encoder's
#'     codes to \eqn{N(0, I)} in [causalbgm()]'s initialisation. Unlike every other option it
#'     changes the fitted model, which is why it moved into the control object; when set, and
#'     `moment_weight` is left `NULL`, it is still used, with a warning of class
#'     `causalsandbox_deprecated_argument`. Default: unset (weight 10).}
#' }
#'
#' @section Argument conventions:
#' \describe{
#'   \item{`level`}{The confidence (or credible) level of every interval: [estimate_ate()],
#'     [estimate_survival()], [run_study()], [tune_estimator()], [predict.causalbgm()] and
#'     `tidy()` of a power analysis. Default 0.95.}
#'   \item{`alpha`}{The significance level of the tests whose rejection rate is a power:
#'     [power_analysis()], [summary()][summary.sandbox_study] and `tidy()` of a study,
#'     [tune_estimator()]. A different quantity from `level`, so [tune_estimator()] takes both
#'     (the coverage of `level` intervals and the power at `alpha`). Default 0.05.}
#'   \item{`fit`}{The fitted generator a function draws from or works on: [run_study()],
#'     [power_analysis()], [tune_estimator()], [knob_limits()], [hybrid_synth()],
#'     [augment_overlap()], [survival_generator()] ([simulate()][simulate.causalmix] keeps
#'     the generic's `object`).}
#'   \item{`control`}{The settings of a model fit, from [causalmix_control()] or
#'     [causalbgm_control()].}
#' }
#'
#' @section Deprecated names (accepted until the next release):
#' Each gives a warning of class `causalsandbox_deprecated_argument` (also
#' `deprecatedWarning`) whose fields `old`, `new` and `fn` name the change; giving the old
#' and the new name together is an error.
#' \itemize{
#'   \item `augment_overlap(generator = )`: now `fit`.
#'   \item `causal_mixture(z = , x = )`: now `treatment_proxies` and `outcome_proxies`.
#'   \item `causalbgm(z_dims = , epochs = , ...)` (its settings given one by one): now
#'     `control = causalbgm_control(...)`.
#'   \item `tidy(<sandbox_power>, conf.level = )`: now `level`.
#'   \item `options(causalsandbox.bgm_moment_weight = )`: now
#'     `causalbgm_control(moment_weight = )`.
#' }
#' @name causalsandbox-options
#' @aliases causalsandbox_options
NULL
