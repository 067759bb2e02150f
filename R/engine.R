# Internal wrappers around the C engine core (random streams, thread cap, small networks).
# They exist for tests, benchmarks and for other topics to check their C code against; none is
# exported. Networks are described by `sizes` (widths, input first), `activations` (names, one
# per layer) and a flat parameter vector laid out as in src/nn.h.

# Activation names in the order of the cs_activation codes in src/nn.h.
engine_activations <- c("identity", "relu", "leaky_relu", "tanh", "sigmoid", "softplus")

engine_activation_codes <- function(activations) {
  codes <- match(activations, engine_activations)
  if (anyNA(codes))
    stopf("`activations` must be among %s, not %s.",
                 paste(engine_activations, collapse = ", "),
                 describe(activations[is.na(codes)][1L]), argument = "activations")
  as.integer(codes - 1L)
}

# One draw from each stream first_index + i - 1 (i = 1..n), in parallel over streams.
# Categorical draws are 1-based indices into `parameters` (the weights).
engine_rng_draw <- function(n, distribution, parameters = numeric(0), seed = engine_seed(),
                            first_index = 0, threads = NULL) {
  check_count(n, "n", min = 0)
  .Call(C_rng_draw, seed, as.integer(n), distribution, as.double(parameters),
        as.double(first_index), sandbox_threads(threads))
}

# n consecutive draws from the single stream `index`.
engine_rng_stream <- function(n, distribution, parameters = numeric(0), seed = engine_seed(),
                              index = 0) {
  check_count(n, "n", min = 0)
  .Call(C_rng_stream, seed, as.double(index), as.integer(n), distribution,
        as.double(parameters))
}

# The raw Philox4x32-10 block for a counter (4 words) and key (2 words), as doubles;
# hexadecimal strings such as "6627e8d5" are accepted.
engine_philox <- function(counter, key) {
  words <- function(x) if (is.character(x)) as.numeric(paste0("0x", x)) else as.double(x)
  .Call(C_rng_philox, words(counter), words(key))
}

# cs_rng_derive_seed() of an engine seed, as its (low, high) 32-bit words.
engine_derive_seed <- function(seed, tag) {
  .Call(C_rng_derive_seed, seed, as.double(tag))
}

# An elementary function of src/lane_math.h ("exp", "log", "tanh", "cos2pi", "sin2pi": the
# last two of 2 pi x), or "erfcx" (exp(x^2) erfc(x) of src/truncnorm.h), evaluated at x, as
# the draws compute it; or an array function of src/vecmath.h as training computes it
# ("exp_array", "log_array", "sincos2pi_array": a 2-column matrix of sin and cos of 2 pi x).
engine_lane_math <- function(x, fun) .Call(C_lane_math, as.double(x), fun)

# A op(B) (+ C when c is a matrix) by the small-product kernels of src/small_gemm.h: the AVX2
# path where the processor has it, or the portable loops when portable is TRUE (for tests).
engine_small_gemm <- function(a, b, c = NULL, trans_b = FALSE, portable = FALSE) {
  .Call(C_small_gemm_product, a, b, c, trans_b, portable)
}

# The thread count the C side would use for `requested` (capped by OMP_THREAD_LIMIT as read at
# start-up and by the processors; 1 without OpenMP).
engine_threads_cap <- function(requested) {
  .Call(C_threads_cap, as.integer(requested))
}

engine_mlp_init <- function(sizes, activations, seed = engine_seed(), leaky_slope = 0.01) {
  .Call(C_nn_init, seed, as.integer(sizes), engine_activation_codes(activations),
        as.double(leaky_slope))
}

# x: one example per column (sizes[1] rows). per_example = TRUE uses the BLAS-free
# single-example path in parallel over columns.
engine_mlp_forward <- function(params, sizes, activations, x, leaky_slope = 0.01,
                               per_example = FALSE, threads = NULL) {
  storage.mode(x) <- "double"
  .Call(C_nn_forward, as.double(params), as.integer(sizes), engine_activation_codes(activations),
        as.double(leaky_slope), x, as.integer(per_example), sandbox_threads(threads))
}

# Mean loss over all outputs and examples, its gradient with respect to params and to x.
# loss = "mse": mean squared error; "logistic": outputs are logits, y in [0, 1].
engine_mlp_loss <- function(params, sizes, activations, x, y, loss = c("mse", "logistic"),
                            leaky_slope = 0.01) {
  loss <- match_arg(loss)
  storage.mode(x) <- "double"
  storage.mode(y) <- "double"
  .Call(C_nn_loss, as.double(params), as.integer(sizes), engine_activation_codes(activations),
        as.double(leaky_slope), x, y, if (loss == "mse") 0L else 1L)
}

# The same through the BLAS-free single-example path (cs_mlp_forward_keep_one and
# cs_mlp_backward_one), in parallel over examples.
engine_mlp_loss_each <- function(params, sizes, activations, x, y, loss = c("mse", "logistic"),
                                 leaky_slope = 0.01, threads = NULL) {
  loss <- match_arg(loss)
  storage.mode(x) <- "double"
  storage.mode(y) <- "double"
  .Call(C_nn_loss_each, as.double(params), as.integer(sizes),
        engine_activation_codes(activations), as.double(leaky_slope), x, y,
        if (loss == "mse") 0L else 1L, sandbox_threads(threads))
}

# `steps` AdamW steps on shuffled mini-batches of the squared-error loss.
# Returns list(params, loss) with the mini-batch loss of every step.
engine_mlp_train <- function(params, sizes, activations, x, y, steps, batch_size = 64L,
                             lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8,
                             weight_decay = 0, leaky_slope = 0.01, seed = engine_seed()) {
  check_count(steps, "steps", min = 0)
  check_count(batch_size, "batch_size")
  check_number(lr, "lr", 0, lower_open = TRUE)
  check_number(beta1, "beta1", 0, 1, upper_open = TRUE)
  check_number(beta2, "beta2", 0, 1, upper_open = TRUE)
  check_number(eps, "eps", 0, lower_open = TRUE)
  check_number(weight_decay, "weight_decay", 0)
  storage.mode(x) <- "double"
  storage.mode(y) <- "double"
  .Call(C_nn_train, as.double(params), as.integer(sizes), engine_activation_codes(activations),
        as.double(leaky_slope), x, y, as.integer(steps), as.integer(batch_size),
        as.double(c(lr, beta1, beta2, eps, weight_decay)), seed)
}
