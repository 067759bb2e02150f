# A generator class of your own: a known-truth cohort with an `overlap` knob.
simulate.toy_generator <- function(object, nsim, seed = NULL, overlap = 1, ...) {
  with_rng <- function() {
    x <- rnorm(nsim)
    ps <- plogis(overlap * x)
    t <- rbinom(nsim, 1, ps)
    d <- data.frame(x = x, t = t, .ps = ps, .mu0 = x, .mu1 = x + 1, .tau = 1)
    d$.y0 <- d$.mu0 + rnorm(nsim)
    d$.y1 <- d$.mu1 + rnorm(nsim)
    d$y <- ifelse(t == 1, d$.y1, d$.y0)
    new_sandbox_data(d, list(treatment = "t", outcome = "y", covariates = "x"),
                     list(ate = 1, att = 1, atc = 1))
  }
  if (!is.null(seed)) set.seed(seed)
  with_rng()
}
gen <- structure(list(), class = "toy_generator")
study <- run_study(gen, scenario_grid(overlap = c(0.5, 2)), n = 200, reps = 10,
                   estimators = list(aipw = "aipw", naive = "naive"), seed = 1)
