# Ctrl-C during C work: it stays an interrupt (error handlers and try() do not swallow it) and
# returns control within a second, in a long fit, a long MCMC and a long draw. Each case runs in
# a child R process that a SIGINT from this process interrupts.

# Runs `setup`, then `long` under tryCatch(error = ) inside tryCatch(interrupt = ) in a child
# Rscript; sends SIGINT `delay` seconds after the child reports that `long` starts. Returns the
# child's verdict ("interrupt", "caught" or "finished") and the seconds from the signal to the
# return of control (NA when the child never answered).
interrupt_child <- function(setup, long, delay = 1.5, timeout = 60) {
  dir <- tempfile("interrupt")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  files <- file.path(dir, c("child.R", "pid", "result"))
  script <- c(
    sprintf(".libPaths(%s)", paste(deparse(.libPaths()), collapse = "")),
    "suppressPackageStartupMessages(library(causalsandbox))",
    "options(causalsandbox.threads = 1)",
    setup,
    sprintf("writeLines(as.character(Sys.getpid()), %s)", deparse(files[2])),
    "verdict <- tryCatch(tryCatch({",
    long,
    "  'finished'",
    "}, error = function(e) paste('caught:', conditionMessage(e))),",
    "interrupt = function(i) 'interrupt')",
    "back <- Sys.time()",
    sprintf("writeLines(c(verdict, format(as.numeric(back), digits = 17)), %s)",
            deparse(files[3])))
  writeLines(script, files[1])
  rscript <- file.path(R.home("bin"), "Rscript")
  system2(rscript, c("--vanilla", shQuote(files[1])), wait = FALSE, stdout = FALSE,
          stderr = FALSE)
  waited <- 0
  while (!file.exists(files[2]) && waited < timeout) { Sys.sleep(0.05); waited <- waited + 0.05 }
  if (!file.exists(files[2])) return(list(verdict = "no start", seconds = NA_real_))
  Sys.sleep(0.1)
  pid <- as.integer(readLines(files[2]))
  on.exit(tools::pskill(pid, tools::SIGKILL), add = TRUE)
  Sys.sleep(delay)
  sent <- as.numeric(Sys.time())
  tools::pskill(pid, tools::SIGINT)
  waited <- 0
  while (!file.exists(files[3]) && waited < 20) { Sys.sleep(0.05); waited <- waited + 0.05 }
  Sys.sleep(0.1)
  if (!file.exists(files[3])) return(list(verdict = "no answer", seconds = NA_real_))
  out <- readLines(files[3])
  list(verdict = out[1], seconds = as.numeric(out[2]) - sent)
}

skip_interrupt_tests <- function() {
  skip_on_cran()
  skip_on_os("windows")  # no SIGINT to another process there
}

# Under AddressSanitizer (make sanitize) the C code runs several times slower, so a second
# becomes several; the verdict must hold all the same.
interrupt_deadline <- function() if (grepl("asan", Sys.getenv("LD_PRELOAD"))) 10 else 1

# Ctrl-C during `long` (after `setup`) in a child process is an interrupt, back within the
# deadline.
expect_prompt_interrupt <- function(setup, long) {
  skip_interrupt_tests()
  res <- interrupt_child(setup = setup, long = long)
  expect_identical(res$verdict, "interrupt")
  expect_lt(res$seconds, interrupt_deadline())
}

test_that("Ctrl-C in a long CausalMix fit is an interrupt, back within a second", {
  expect_prompt_interrupt(
    setup = c("d <- mcrpc",
              "ctl <- causalmix_control(epochs = 100000, patience = 100000)"),
    long = "  fit <- causalmix(d, 'exp', 'hosp_ed_any', control = ctl)")
})

test_that("Ctrl-C in a CausalBGM ensemble fitted on 2 threads is an interrupt, back within a second", {
  expect_prompt_interrupt(
    setup = c("set.seed(1); n <- 2000",
              "v <- matrix(rnorm(n * 3), n, 3, dimnames = list(NULL, paste0('v', 1:3)))",
              "d <- data.frame(v, t = rbinom(n, 1, 0.5)); d$y <- d$v1 + d$t + rnorm(n)",
              paste("ctl <- causalbgm_control(z_dims = c(1, 1, 1, 1), epochs = 1e6,",
                    "init_iterations = 20, n_fits = 3, threads = 2, seed = 1)")),
    long = "  fit <- causalbgm(d, 't', 'y', control = ctl)")
})

test_that("Ctrl-C in a long CausalBGM posterior (MCMC) is an interrupt, back within a second", {
  expect_prompt_interrupt(
    setup = c("set.seed(1); n <- 200",
              "v <- matrix(rnorm(n * 3), n, 3, dimnames = list(NULL, paste0('v', 1:3)))",
              "d <- data.frame(v, t = rbinom(n, 1, 0.5)); d$y <- d$v1 + d$t + rnorm(n)",
              paste("fit <- causalbgm(d, 't', 'y', control = causalbgm_control(",
                    "z_dims = c(1, 1, 1, 1), epochs = 2, init_iterations = 20,",
                    "batch_size = 32, threads = 1, seed = 1))")),
    long = "  pr <- predict(fit, n_mcmc = 100, burn_in = 1e7, threads = 1, seed = 2)")
})

test_that("Ctrl-C in a long draw is an interrupt, back within a second", {
  expect_prompt_interrupt(
    setup = c("ctl <- causalmix_control(epochs = 2)",
              paste("fit <- causalmix(mcrpc, 'exp', 'hosp_ed_any',",
                    "control = ctl)")),
    long = "  for (i in 1:200) sim <- simulate(fit, nsim = 1e6, seed = i)")
})
