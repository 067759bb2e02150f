# Dense networks: forward pass against a plain R implementation, gradients against central
# finite differences, initialisation, and AdamW against its update formula.

mlp_init <- function(...) causalsandbox:::engine_mlp_init(...)
mlp_forward <- function(...) causalsandbox:::engine_mlp_forward(...)
mlp_loss <- function(...) causalsandbox:::engine_mlp_loss(...)
mlp_train <- function(...) causalsandbox:::engine_mlp_train(...)

# Plain R forward pass with the layout of src/nn.h (x: one example per column).
r_activate <- function(z, act, slope) {
  switch(act,
         identity = z,
         relu = pmax(z, 0),
         leaky_relu = ifelse(z > 0, z, slope * z),
         tanh = tanh(z),
         sigmoid = 1 / (1 + exp(-z)),
         softplus = log1p(exp(z)))
}

r_forward <- function(params, sizes, activations, x, slope = 0.01) {
  pos <- 0
  h <- x
  for (l in seq_along(activations)) {
    n_in <- sizes[l]
    n_out <- sizes[l + 1]
    w <- matrix(params[pos + seq_len(n_in * n_out)], n_in, n_out)
    pos <- pos + n_in * n_out
    b <- params[pos + seq_len(n_out)]
    pos <- pos + n_out
    h <- r_activate(crossprod(w, h) + b, activations[l], slope)
  }
  h
}

central_difference <- function(f, p, h = 1e-5) {
  vapply(seq_along(p), function(i) {
    e <- numeric(length(p))
    e[i] <- h
    (f(p + e) - f(p - e)) / (2 * h)
  }, numeric(1))
}

# Relative error in the sense of the largest component: max |a - b| / max |b|.
relative_error <- function(a, b) max(abs(a - b)) / max(abs(b))

sizes <- c(4L, 7L, 5L, 3L)
set.seed(101)
x <- matrix(rnorm(4 * 9), 4, 9)
y_real <- matrix(rnorm(3 * 9), 3, 9)
y_prob <- matrix(runif(3 * 9), 3, 9)
all_activations <- list(c("relu", "tanh", "identity"),
                        c("leaky_relu", "sigmoid", "softplus"),
                        c("softplus", "identity", "sigmoid"),
                        c("tanh", "leaky_relu", "tanh"))

test_that("the forward pass matches a plain R implementation for every activation", {
  for (acts in all_activations) {
    p <- mlp_init(sizes, acts, seed = c(1L, 2L))
    p <- p + rnorm(length(p), sd = 0.3) # non-zero biases
    expect_equal(mlp_forward(p, sizes, acts, x, leaky_slope = 0.1),
                 r_forward(p, sizes, acts, x, slope = 0.1), tolerance = 1e-12)
  }
})

test_that("the single-example path equals the batch path, with 1 and 2 threads", {
  acts <- c("leaky_relu", "sigmoid", "softplus")
  p <- mlp_init(sizes, acts, seed = c(3L, 4L))
  big_x <- matrix(rnorm(4 * 301), 4)
  batch <- mlp_forward(p, sizes, acts, big_x)
  one <- mlp_forward(p, sizes, acts, big_x, per_example = TRUE, threads = 1)
  two <- mlp_forward(p, sizes, acts, big_x, per_example = TRUE, threads = 2)
  expect_identical(one, two)
  expect_equal(one, batch, tolerance = 1e-12)
})

test_that("gradients of a 3-layer network match central differences to 1e-6", {
  for (acts in all_activations) {
    for (loss in c("mse", "logistic")) {
      y <- if (loss == "mse") y_real else y_prob
      p <- mlp_init(sizes, acts, seed = c(5L, 6L))
      p <- p + rnorm(length(p), sd = 0.2)
      res <- mlp_loss(p, sizes, acts, x, y, loss = loss, leaky_slope = 0.1)
      expect_equal(res$loss, if (loss == "mse") mean((r_forward(p, sizes, acts, x, 0.1) - y)^2)
                   else {
                     z <- r_forward(p, sizes, acts, x, 0.1)
                     mean(log1p(exp(z)) - y * z)
                   }, tolerance = 1e-12)
      f_params <- function(q) mlp_loss(q, sizes, acts, x, y, loss = loss, leaky_slope = 0.1)$loss
      num <- central_difference(f_params, p)
      expect_lt(relative_error(res$grad, num), 1e-6)
      f_input <- function(v) {
        mlp_loss(p, sizes, acts, matrix(v, nrow(x)), y, loss = loss, leaky_slope = 0.1)$loss
      }
      num_x <- central_difference(f_input, as.vector(x))
      expect_lt(relative_error(as.vector(res$grad_x), num_x), 1e-6)
    }
  }
})

test_that("the single-example backward matches the batch backward, with 1 and 2 threads", {
  mlp_loss_each <- function(...) causalsandbox:::engine_mlp_loss_each(...)
  set.seed(303)
  big_x <- matrix(rnorm(4 * 101), 4)
  big_y <- matrix(runif(3 * 101), 3)
  for (acts in all_activations) {
    for (loss in c("mse", "logistic")) {
      p0 <- mlp_init(sizes, acts, seed = c(5L, 6L))
      p <- p0 + rnorm(length(p0), sd = 0.2)
      batch <- mlp_loss(p, sizes, acts, big_x, big_y, loss = loss, leaky_slope = -0.2)
      one <- mlp_loss_each(p, sizes, acts, big_x, big_y, loss = loss, leaky_slope = -0.2,
                           threads = 1)
      two <- mlp_loss_each(p, sizes, acts, big_x, big_y, loss = loss, leaky_slope = -0.2,
                           threads = 2)
      expect_identical(one$grad_x, two$grad_x)
      expect_equal(one$loss, batch$loss, tolerance = 1e-12)
      expect_equal(two$grad, batch$grad, tolerance = 1e-12)
      expect_equal(one$grad_x, batch$grad_x, tolerance = 1e-12)
    }
  }
})

test_that("initialisation uses He or Glorot limits, zero biases, and follows the seed", {
  sz <- c(50L, 40L, 30L)
  p <- mlp_init(sz, c("relu", "tanh"), seed = c(7L, 8L))
  w1 <- p[1:2000]
  b1 <- p[2001:2040]
  w2 <- p[2041:3240]
  b2 <- p[3241:3270]
  expect_length(p, 3270)
  expect_identical(c(b1, b2), numeric(70))
  he <- sqrt(6 / 50)
  glorot <- sqrt(6 / 70)
  expect_true(all(abs(w1) <= he) && max(abs(w1)) > 0.95 * he)
  expect_true(all(abs(w2) <= glorot) && max(abs(w2)) > 0.95 * glorot)
  expect_gt(ks.test(w1, "punif", -he, he)$p.value, 1e-3)
  expect_identical(mlp_init(sz, c("relu", "tanh"), seed = c(7L, 8L)), p)
  expect_false(identical(mlp_init(sz, c("relu", "tanh"), seed = c(7L, 9L)), p))
})

# One AdamW update in R, for comparison with the C optimiser.
r_adamw <- function(p, grads, lr, beta1, beta2, eps, wd) {
  m <- v <- numeric(length(p))
  for (t in seq_along(grads)) {
    g <- grads[[t]](p)
    m <- beta1 * m + (1 - beta1) * g
    v <- beta2 * v + (1 - beta2) * g^2
    m_hat <- m / (1 - beta1^t)
    v_hat <- v / (1 - beta2^t)
    p <- p - lr * (m_hat / (sqrt(v_hat) + eps)) - lr * wd * p
  }
  p
}

test_that("AdamW steps follow the update formula (full batch)", {
  acts <- c("tanh", "identity")
  sz <- c(4L, 6L, 3L)
  p0 <- mlp_init(sz, acts, seed = c(9L, 10L))
  grad <- function(q) mlp_loss(q, sz, acts, x, y_real)$grad
  expected <- r_adamw(p0, rep(list(grad), 5), lr = 0.01, beta1 = 0.8, beta2 = 0.95,
                      eps = 1e-6, wd = 0.1)
  fit <- mlp_train(p0, sz, acts, x, y_real, steps = 5, batch_size = ncol(x), lr = 0.01,
                   beta1 = 0.8, beta2 = 0.95, eps = 1e-6, weight_decay = 0.1,
                   seed = c(1L, 1L))
  expect_equal(fit$params, expected, tolerance = 1e-10)
  expect_equal(fit$loss[1], mlp_loss(p0, sz, acts, x, y_real)$loss, tolerance = 1e-12)
})

test_that("Adam on mini-batches solves a least-squares problem", {
  set.seed(202)
  n <- 400
  xs <- matrix(rnorm(3 * n), 3)
  beta <- c(1.5, -2, 0.5)
  ys <- matrix(drop(beta %*% xs) + 0.7 + rnorm(n, sd = 0.1), 1)
  sz <- c(3L, 1L)
  p0 <- numeric(4)
  fit <- mlp_train(p0, sz, "identity", xs, ys, steps = 3000, batch_size = 50, lr = 0.01,
                   seed = c(2L, 3L))
  ols <- coef(lm(ys[1, ] ~ t(xs)))
  expect_equal(fit$params, unname(c(ols[-1], ols[1])), tolerance = 1e-2)
  first <- mean(head(fit$loss, 20))
  last <- mean(tail(fit$loss, 20))
  expect_lt(last, first / 50)
  again <- mlp_train(p0, sz, "identity", xs, ys, steps = 3000, batch_size = 50, lr = 0.01,
                     seed = c(2L, 3L))
  expect_identical(again, fit)
})

test_that("weight decay shrinks the parameters", {
  sz <- c(4L, 8L, 3L)
  acts <- c("relu", "identity")
  p0 <- mlp_init(sz, acts, seed = c(4L, 4L))
  plain <- mlp_train(p0, sz, acts, x, y_real, steps = 300, batch_size = 9, lr = 0.01,
                     seed = c(1L, 1L))
  decayed <- mlp_train(p0, sz, acts, x, y_real, steps = 300, batch_size = 9, lr = 0.01,
                       weight_decay = 1, seed = c(1L, 1L))
  expect_lt(sum(decayed$params^2), 0.8 * sum(plain$params^2))
})

test_that("bad network descriptions are refused naming the argument", {
  p <- mlp_init(sizes, c("relu", "relu", "identity"), seed = c(1L, 1L))
  expect_error(mlp_init(sizes, c("relu", "swish", "identity")), "activations")
  expect_error(mlp_forward(p[-1], sizes, c("relu", "relu", "identity"), x), "params")
  expect_error(mlp_forward(p, sizes, c("relu", "relu", "identity"), x[-1, ]), "`x`")
  expect_error(mlp_forward(p, sizes, c("relu", "identity"), x), "activations")
  expect_error(mlp_loss(p, sizes, c("relu", "relu", "identity"), x, y_real[, -1]), "`y`")
  expect_error(mlp_train(p, sizes, c("relu", "relu", "identity"), x, y_real, steps = 1,
                         lr = -1, seed = c(1L, 1L)), "`lr`")
  expect_error(mlp_train(p, sizes, c("relu", "relu", "identity"), x, y_real, steps = 1.5,
                         seed = c(1L, 1L)), "steps")
})

