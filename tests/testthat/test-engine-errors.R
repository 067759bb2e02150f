# Sizes the engine cannot hold are refused with a clear error before any buffer is sized, and
# an engine status (here: a non-finite loss) reaches the user as an R error that says what
# happened.

bgm_limit_data <- function(n = 60) {
  set.seed(3)
  v <- matrix(rnorm(n * 3), n, 3, dimnames = list(NULL, paste0("v", 1:3)))
  d <- data.frame(v, t = rbinom(n, 1, 0.5))
  d$y <- d$v1 + d$t + rnorm(n)
  d
}

test_that("huge z_dims give a clear error instead of a crash", {
  d <- bgm_limit_data()
  err <- tryCatch(causalbgm(d, "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 65533), epochs = 1, init_iterations = 5, threads = 1)), error = identity)
  expect_s3_class(err, "error")
  expect_match(conditionMessage(err), "`z_dims` must add up to at most 1024 latent dimensions, not 65536",
               fixed = TRUE)
  # the bound itself is a valid model
  fit <- causalbgm(d, "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1021), epochs = 1, init_iterations = 5, batch_size = 32,
      threads = 1, seed = 1))
  expect_identical(dim(fit$Z), c(1024L, 60L))
})

test_that("huge hidden layers give a clear error instead of a crash", {
  d <- bgm_limit_data()
  err <- tryCatch(causalbgm(d, "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), hidden = list(g = c(65536, 65536)), epochs = 1,
      init_iterations = 5, threads = 1)), error = identity)
  expect_match(conditionMessage(err), "`hidden$g` describes a network with more than 67108864",
               fixed = TRUE)
  err <- tryCatch(causalbgm(d, "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), hidden = list(f = 70000), epochs = 1, init_iterations = 5,
      threads = 1)), error = identity)
  expect_match(conditionMessage(err), "`hidden$f` widths must lie between 1 and 65536",
               fixed = TRUE)
})

test_that("huge CausalMix hidden layers give a clear error instead of a crash", {
  err <- tryCatch(causalmix(mcrpc, "exp", "hosp_ed_any", hidden = c(20000, 20000), epochs = 1,
                            threads = 1), error = identity)
  expect_match(conditionMessage(err), "`hidden` makes the encoder network too large", fixed = TRUE)
})

test_that("a network whose parameter count overflows an int is refused", {
  err <- tryCatch(causalsandbox:::engine_mlp_init(c(50000L, 50000L, 50000L), c("relu", "identity")),
                  error = identity)
  expect_match(conditionMessage(err), "too many parameters", fixed = TRUE)
})

test_that("an engine status reaches the user as a clear R error", {
  d <- bgm_limit_data()
  err <- tryCatch(causalbgm(d, "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), epochs = 2, init_iterations = 20, threads = 1, seed = 1,
      learning_rate = c(networks = 1e12, latent = 1e12, encoder = 1e12))),
                  error = identity)
  expect_match(conditionMessage(err),
               "causalbgm training: the computation produced NaN or infinite values", fixed = TRUE)
  # members failing on 2 threads: the same error once they have all stopped
  err <- tryCatch(causalbgm(d, "t", "y", control = causalbgm_control(
      z_dims = c(1, 1, 1, 1), epochs = 2, init_iterations = 20, threads = 2, seed = 1,
      n_fits = 3, learning_rate = c(networks = 1e12, latent = 1e12, encoder = 1e12))),
                  error = identity)
  expect_match(conditionMessage(err),
               "causalbgm training: the computation produced NaN or infinite values", fixed = TRUE)
  # the same status from the network trainer's engine loop
  x <- matrix(c(1, 2, 3, 4), 1)
  y <- matrix(c(1, 2, NaN, 4), 1)
  p <- causalsandbox:::engine_mlp_init(c(1L, 4L, 1L), c("relu", "identity"))
  err <- tryCatch(causalsandbox:::engine_mlp_train(p, c(1L, 4L, 1L), c("relu", "identity"), x, y,
                                                   steps = 5, batch_size = 4),
                  error = identity)
  expect_match(conditionMessage(err), "network training: the computation produced NaN",
               fixed = TRUE)
})
