# Helpers of the tests.

# A known-truth cohort for tests of studies and reports: x ~ N(0, 1), a randomised treatment t
# (probability 0.5), y = x + ate t + N(0, 1), with the truth columns.
toy_cohort <- function(nsim, ate) {
  x <- stats::rnorm(nsim)
  t <- stats::rbinom(nsim, 1, 0.5)
  d <- data.frame(x = x, t = t, .ps = 0.5, .mu0 = x, .mu1 = x + ate, .tau = ate)
  d$.y0 <- d$.mu0 + stats::rnorm(nsim)
  d$.y1 <- d$.mu1 + stats::rnorm(nsim)
  d$y <- ifelse(t == 1, d$.y1, d$.y0)
  new_sandbox_data(d, list(treatment = "t", outcome = "y", covariates = "x"), list(ate = ate))
}

# Evaluates `expr` (a plot) with a null graphics device open, closed afterwards.
on_null_device <- function(expr) {
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expr
}

# On a one-processor machine sandbox_threads() would turn every `threads = 2` into 1, and the
# tests comparing one against two threads would compare a run with itself: pretend a second
# processor, so those runs really use two (time-shared) threads.
if (causalsandbox:::parallel_cores() < 2L) assign("cores", 2L, envir = causalsandbox:::core_count)

# Evaluates `expr` without causalmix()'s fit-time warnings (class causalsandbox_fit_warning: a
# network that learned nothing from the few hundred rows and epochs of a test); tests of
# those warnings leave them alone.
without_fit_warnings <- function(expr) {
  withCallingHandlers(expr, causalsandbox_fit_warning = function(w)
    invokeRestart("muffleWarning"))
}
quiet_causalmix <- function(...) without_fit_warnings(causalmix(...))
