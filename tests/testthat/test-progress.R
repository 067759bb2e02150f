# progressr progress: the handlers see one step per epoch (causalmix), per recorded
# initialisation step and epoch (causalbgm), per finished unit (causalbgm's sampler), per
# stage (fidelity) and per replicate (power_analysis); nothing is shown without a handler.

skip_if_not_installed("progressr")

# Total steps announced and steps reported by the progression conditions of `expr`.
progress_steps <- function(expr) {
  total <- NA_real_
  done <- 0
  updates <- 0L
  old <- options(progressr.enable = TRUE)
  on.exit(options(old))
  value <- withCallingHandlers(expr, progression = function(cond) {
    if (cond$type == "initiate") total <<- cond$steps
    if (cond$type == "update") {
      done <<- done + cond$amount
      updates <<- updates + 1L
    }
  })
  list(value = value, total = total, done = done, updates = updates)
}

progress_data <- function(n = 300) {
  set.seed(1)
  d <- data.frame(x = rnorm(n), g = factor(sample(c("a", "b"), n, TRUE)))
  d$t <- rbinom(n, 1, plogis(d$x))
  d$y <- d$x + d$t + rnorm(n)
  d
}

test_that("causalmix reports one step per epoch from the C training loop", {
  d <- progress_data()
  run <- progress_steps(causalmix(d, "t", "y", epochs = 30, hidden = 8, seed = 1,
                                  threads = 1))
  expect_equal(run$total, 30)
  expect_equal(run$done, 30)
  expect_equal(run$updates, run$value$epochs_run + (run$value$epochs_run < 30))
  # early stopping: the epochs not run are reported in one last step
  stopped <- progress_steps(causalmix(d, "t", "y", epochs = 200, hidden = 8, patience = 1,
                                      learning_rate = 0.05, seed = 1, threads = 1))
  expect_lt(stopped$value$epochs_run, 200)
  expect_equal(stopped$done, 200)
  expect_equal(stopped$updates, stopped$value$epochs_run + 1L)
})

test_that("an error in a progress handler reaches the caller after training cleans up", {
  d <- progress_data()
  quiet <- quiet_causalmix(d, "t", "y", epochs = 5, hidden = 8, seed = 2, threads = 1)
  calls <- 0L
  old <- options(progressr.enable = TRUE)
  on.exit(options(old))
  expect_error(withCallingHandlers(
    causalmix(d, "t", "y", epochs = 5, hidden = 8, seed = 2, threads = 1),
    progression = function(cond) if (cond$type == "update") {
      calls <<- calls + 1L
      stop("handler broke")
    }), "handler broke")
  expect_equal(calls, 1L)  # training stopped at the first report
  # the engine is left in a clean state: the same fit again gives the same result
  again <- quiet_causalmix(d, "t", "y", epochs = 5, hidden = 8, seed = 2, threads = 1)
  expect_identical(again$model$encoder$params, quiet$model$encoder$params)
  expect_identical(again$history, quiet$history)
})

test_that("causalbgm reports its phases and its sampler's units", {
  d <- progress_data(200)
  fit <- progress_steps(causalbgm(d[c("x", "t", "y")], "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), epochs = 3, init_iterations = 120, seed = 1, threads = 1,
      n_fits = 1)))
  # 120 initialisation iterations are recorded every 2 (60 records), then 3 epochs (one
  # fit; the ensembles' reports are tested below)
  expect_equal(fit$total, 63)
  expect_equal(fit$done, 63)
  expect_equal(nrow(fit$value$init_history), 60)
  pred <- progress_steps(predict(fit$value, n_mcmc = 20, burn_in = 20, threads = 1))
  expect_equal(pred$total, 200)
  expect_equal(pred$done, 200)
})

test_that("an ensemble fitted on 2 threads reports every member's steps from the calling thread", {
  d <- progress_data(200)
  ctl <- causalbgm_control(z_dims = c(1, 1, 1, 1), hidden = list(g = 8, e = 8), epochs = 3,
                           init_iterations = 40, n_fits = 3, seed = 1, threads = 2)
  fit <- progress_steps(causalbgm(d[c("x", "t", "y")], "t", "y", control = ctl))
  # 40 initialisation iterations recorded one by one, then 3 epochs, for each of 3 members
  expect_equal(fit$total, 3 * 43)
  expect_equal(fit$done, 3 * 43)
  expect_equal(fit$updates, 3L * 43L)
  pred <- progress_steps(predict(fit$value, n_mcmc = 10, burn_in = 10, threads = 2))
  expect_equal(c(pred$total, pred$done), c(600, 600))
  # an error in a handler stops every member; the caller gets it once they have cleaned up
  old <- options(progressr.enable = TRUE)
  on.exit(options(old))
  calls <- 0L
  expect_error(withCallingHandlers(
    causalbgm(d[c("x", "t", "y")], "t", "y", control = ctl),
    progression = function(cond) if (cond$type == "update") {
      calls <<- calls + 1L
      stop("handler broke")
    }), "handler broke")
  expect_equal(calls, 1L)
  again <- causalbgm(d[c("x", "t", "y")], "t", "y", control = ctl)
  expect_identical(again$members[[3]]$params, fit$value$members[[3]]$params)
  expect_identical(again$members[[2]]$Z, fit$value$members[[2]]$Z)
})

test_that("fidelity and power_analysis report their stages and replicates", {
  d <- progress_data(200)
  fid <- progress_steps(fidelity(d, d[sample(200), ], network = FALSE, threads = 1))
  expect_equal(c(fid$total, fid$done, fid$updates), c(5, 5, 5))
  gen <- structure(list(), class = "progress_toy")
  simulate.progress_toy <- function(object, nsim, seed = NULL, ...) {
    set.seed(seed)
    toy_cohort(nsim, ate = 0.5)
  }
  pw <- progress_steps(power_analysis(gen, n = c(40, 80, 160), reps = 4, seed = 1))
  expect_equal(c(pw$total, pw$done), c(12, 12))
  expect_equal(nrow(pw$value$power), 3L)
})

test_that("without a handler nothing is shown", {
  d <- progress_data(150)
  expect_silent(causalmix(d, "t", "y", epochs = 3, hidden = 8, seed = 1, threads = 1))
})
