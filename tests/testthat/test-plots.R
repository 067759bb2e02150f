# Every plot method draws to a PNG without error or warning, on one page; print(study) is a
# short header and a table within 80 columns.

simulate.plot_toy <- function(object, nsim, seed = NULL, overlap = 1, confounding = 0,
                              ...) {
  if (!is.null(seed)) set.seed(seed)
  x <- stats::rnorm(nsim)
  ps <- stats::plogis(overlap * x)
  t <- stats::rbinom(nsim, 1, ps)
  y0 <- x + confounding * (t - ps) + stats::rnorm(nsim)
  d <- data.frame(x = x, t = t, y = y0 + t, .ps = ps, .mu0 = x, .mu1 = x + 1, .tau = 1,
                  .y0 = y0, .y1 = y0 + 1, .k = confounding)
  new_sandbox_data(d, list(treatment = "t", outcome = "y", covariates = "x"),
                   list(ate = 1, bias = confounding))
}
plot_toy <- structure(list(), class = "plot_toy")

# Draws `expr` into PNG files in a fresh folder; returns the number of pages.
png_pages <- function(expr) {
  dir <- tempfile("plots")
  dir.create(dir)
  grDevices::png(file.path(dir, "page%03d.png"), width = 900, height = 700)
  device <- grDevices::dev.cur()
  expect_no_warning(expr)
  grDevices::dev.off(device)
  files <- list.files(dir, full.names = TRUE)
  expect_true(all(file.size(files) > 1000))
  length(files)
}

test_that("study, power and tuning plots draw one page each, failed runs included", {
  failing <- function(data) if (mean(data$x) > 0) stop("no fit") else c(estimate = 1)
  study <- run_study(plot_toy, scenario_grid(overlap = c(1, 2), confounding = c(0, 0.3)),
                     n = 100, reps = 4, seed = 1,
                     estimators = list(aipw = "aipw", naive = "naive", failing = failing,
                                       never = function(data) stop("singular")))
  expect_equal(png_pages(plot(study)), 1L)
  pw <- power_analysis(plot_toy, n = c(40, 80, 160), reps = 4, seed = 1)
  expect_equal(png_pages(plot(pw)), 1L)
  factory <- function(trim) function(data) as.data.frame(estimate_ate(data, method = "ipw",
                                                                      truncate = trim))
  tuned <- tune_estimator(plot_toy, factory, list(trim = c(0, 0.05)), n = 100, reps = 3,
                          seed = 1)
  expect_equal(png_pages(plot(tuned)), 1L)
})

test_that("print(study) is a header and a labelled table within 80 columns", {
  study <- run_study(plot_toy, scenario_grid(overlap = c(0.5, 1, 2), confounding = c(0, 0.3)),
                     n = c(100, 200), reps = 2, seed = 2,
                     estimators = list(aipw = "aipw", naive = "naive",
                                       never = function(data) stop("singular")))
  old <- options(width = 120)
  on.exit(options(old))
  out <- capture.output(print(study))
  expect_true(all(nchar(out) <= 80))
  expect_lt(length(out), 6 + nrow(summary(study)) + 1)
  header <- grep("^ *scenario", out, value = TRUE)[1]
  expect_match(header, "estimator")
  expect_match(header, "overlap")
  expect_match(out[2], "24 of 72 run\\(s\\) failed")
  # one table row per scenario, n and estimator, each labelled
  rows <- out[grepl("(aipw|naive|never)\\s", out)]
  expect_equal(length(rows), 6 * 2 * 3)
})

test_that("fidelity, dcr and generative-model plots draw without warnings", {
  set.seed(3)
  make <- function(n) data.frame(a = rnorm(n), b = rexp(n), g = factor(sample(c("u", "v"), n, TRUE)),
                                 t = rbinom(n, 1, 0.5), y = rnorm(n))
  real <- make(200)
  fid <- fidelity(real, make(200), network = FALSE, threads = 1)
  expect_equal(png_pages(plot(fid)), 1L)
  expect_equal(png_pages(plot(fid$dcr)), 1L)
  fit <- quiet_causalmix(real, "t", "y", epochs = 30, hidden = 8, patience = 3, seed = 1,
                         threads = 1)
  expect_equal(png_pages(plot(fit)), 1L)
  bgm <- causalbgm(real[c("a", "b", "t", "y")], "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), epochs = 3, init_iterations = 50, seed = 1, threads = 1))
  expect_equal(png_pages(plot(bgm)), 1L)
  expect_equal(png_pages(plot(predict(bgm, n_mcmc = 20, burn_in = 20, threads = 1))), 1L)
})
