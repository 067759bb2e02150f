# Known-truth data-generating processes from the literature, for tests, benchmarks and
# vignettes.

#' The positivity toy process of the hybrid-synthesis literature
#'
#' Draws the six-covariate process used to study generative synthetic data for causal
#' inference (Generative Synthetic Data for Causal Inference: Pitfalls, Remedies, and
#' Opportunities): \eqn{W_1, W_2 \sim Bern(0.5)}, \eqn{W_3 \sim Bern(0.3 + 0.35 (W_1 + W_2)/2)},
#' \eqn{W_4, W_5 \sim N(0, 1)}, \eqn{W_6 = 0.5 W_4 + 0.5 W_5 + N(0, 1)}; the treatment is
#' randomised with probability 1/2 (`design = "rct"`) or follows the logit
#' \eqn{-30 + 16 W_1 - 24 W_2 + 12 W_3 + 6 W_4 - 10 W_5 + 16 W_6} (`"observational"`, with
#' severe positivity problems: most propensities are below 0.001 or above 0.999); the binary
#' outcome has logit \eqn{-0.5 + \tau(W) A + 0.5 W_1 + W_2 - W_3 + 0.2 W_4 - 0.3 W_5 + 0.1 W_6}
#' with \eqn{\tau(W) = 2 + 0.5 \sin W_1 + 0.3 \log(|W_2| + 1) - 0.2 W_3^2 + 0.1 e^{W_4} -
#' 0.3 \tanh W_5 + 0.2 \cos W_6}. The true ATE on the risk-difference scale is about 0.418.
#'
#' @param n Number of rows.
#' @param design `"rct"` or `"observational"`.
#' @param seed `NULL` or a whole number for [set.seed()] (the global RNG state is restored).
#' @return A `sandbox_data` with covariates `W1`..`W6`, treatment `A`, outcome `Y` and the
#'   truth columns; the population ATE in its [truth()] is the Monte Carlo value 0.4186
#'   (standard error 0.0001, from two million draws).
#' @examples
#' d <- positivity_example_data(500, design = "observational", seed = 1)
#' truth(d)
#' @export
positivity_example_data <- function(n, design = c("rct", "observational"), seed = NULL) {
  check_count(n, "n", min = 20)
  design <- match_arg(design)
  with_seed(seed, {
    w1 <- stats::rbinom(n, 1, 0.5)
    w2 <- stats::rbinom(n, 1, 0.5)
    w3 <- stats::rbinom(n, 1, 0.3 + 0.35 * (w1 + w2) / 2)
    w4 <- stats::rnorm(n)
    w5 <- stats::rnorm(n)
    w6 <- 0.5 * w4 + 0.5 * w5 + stats::rnorm(n)
    ps <- if (design == "rct") rep(0.5, n) else
      stats::plogis(-30 + 16 * w1 - 24 * w2 + 12 * w3 + 6 * w4 - 10 * w5 + 16 * w6)
    a <- stats::rbinom(n, 1, ps)
    tau_logit <- 2 + 0.5 * sin(w1) + 0.3 * log(abs(w2) + 1) - 0.2 * w3^2 + 0.1 * exp(w4) -
      0.3 * tanh(w5) + 0.2 * cos(w6)
    base <- -0.5 + 0.5 * w1 + w2 - w3 + 0.2 * w4 - 0.3 * w5 + 0.1 * w6
    mu0 <- stats::plogis(base)
    mu1 <- stats::plogis(base + tau_logit)
    y0 <- stats::rbinom(n, 1, mu0)
    y1 <- stats::rbinom(n, 1, mu1)
    data <- data.frame(W1 = w1, W2 = w2, W3 = w3, W4 = w4, W5 = w5, W6 = w6, A = a,
                       Y = ifelse(a == 1, y1, y0), .ps = ps, .mu0 = mu0, .mu1 = mu1,
                       .tau = mu1 - mu0, .y0 = y0, .y1 = y1)
  })
  new_sandbox_data(data, list(treatment = "A", outcome = "Y", covariates = paste0("W", 1:6)),
                   list(ate = 0.4186, ate_mcse = 0.0001,
                        knobs = list(process = "positivity toy process", design = design)))
}
