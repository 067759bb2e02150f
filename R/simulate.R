# simulate() on a causalmix fit: synthetic cohorts with independent causal knobs and the truth.

# Covariates only, decoded to the user's column types: n rows keyed by offset + i.
draw_covariates <- function(fit, n, seed, offset = 0, threads = NULL) {
  d <- draw_encoded(fit, n, seed, offset, threads)
  decode_table(fit$schema, list(x = d$x, missing = d$miss))
}
