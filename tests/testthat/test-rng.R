# Counter-based random streams: Philox known answers, stream layout, reproducibility across
# thread counts, and distributions against R's own distribution functions.
# Every test uses a fixed seed, so the goodness-of-fit p-values are deterministic; a thresholds
# of 1e-3 still fails for a wrong algorithm at these sample sizes.

draw <- function(...) causalsandbox:::engine_rng_draw(...)
stream <- function(...) causalsandbox:::engine_rng_stream(...)
hex <- function(x) as.numeric(paste0("0x", x))

test_that("Philox4x32-10 matches the Random123 known-answer vectors", {
  philox <- causalsandbox:::engine_philox
  expect_identical(philox(rep("00000000", 4), rep("00000000", 2)),
                   hex(c("6627e8d5", "e169c58d", "bc57ac4c", "9b00dbd8")))
  expect_identical(philox(rep("ffffffff", 4), rep("ffffffff", 2)),
                   hex(c("408f276d", "41c83b0e", "a20bc7c6", "6d5451fd")))
  expect_identical(philox(c("243f6a88", "85a308d3", "13198a2e", "03707344"),
                          c("a4093822", "299f31d0")),
                   hex(c("d16cfe09", "94fdcceb", "5001e420", "24126ea1")))
})

test_that("stream i is Philox keyed by the seed with counter (i, 0, block, 0)", {
  philox <- causalsandbox:::engine_philox
  seed <- c(123456L, 987654L)
  key <- c(seed[2], seed[1]) # low word first: the 64-bit seed is (seed[1] << 32) | seed[2]
  words <- stream(8, "u32", seed = seed, index = 5)
  expect_identical(words[1:4], philox(c(5, 0, 0, 0), key))
  expect_identical(words[5:8], philox(c(5, 0, 1, 0), key))
  firsts <- draw(3, "u32", seed = seed, first_index = 7)
  expect_identical(firsts, sapply(7:9, function(i) philox(c(i, 0, 0, 0), key)[1]))
  big <- draw(1, "u32", seed = seed, first_index = 2^32 + 3)
  expect_identical(big, philox(c(3, 1, 0, 0), key)[1])
})

test_that("derived seeds come from the otherwise unused last block of the tag's stream", {
  philox <- causalsandbox:::engine_philox
  derive <- causalsandbox:::engine_derive_seed
  seed <- c(5L, 77L)
  last <- 2^32 - 1
  expect_identical(derive(seed, 3), philox(c(3, 0, last, last), c(77, 5))[1:2])
  expect_false(identical(derive(seed, 3), derive(seed, 4)))
  expect_false(identical(derive(seed, 3), derive(c(5L, 78L), 3)))
})

test_that("draws do not depend on the thread count or on how the index range is split", {
  seed <- c(42L, 4242L)
  settings <- list(list("uniform"), list("normal"), list("exponential"), list("gamma", 0.4),
                   list("gamma", 3), list("poisson", 3), list("poisson", 80),
                   list("bernoulli", 0.3), list("categorical", c(1, 2, 3)))
  for (s in settings) {
    par <- if (length(s) > 1) s[[2]] else numeric(0)
    one <- draw(5000, s[[1]], par, seed = seed, threads = 1)
    two <- draw(5000, s[[1]], par, seed = seed, threads = 2)
    expect_identical(one, two, info = s[[1]])
    tail <- draw(1000, s[[1]], par, seed = seed, first_index = 4000, threads = 2)
    expect_identical(tail, one[4001:5000], info = s[[1]])
  }
})

test_that("set.seed() controls the engine seed", {
  set.seed(11)
  a <- draw(20, "normal")
  set.seed(11)
  b <- draw(20, "normal")
  set.seed(12)
  c <- draw(20, "normal")
  expect_identical(a, b)
  expect_false(isTRUE(all.equal(a, c)))
})

test_that("uniforms lie in the open unit interval with the right law", {
  u <- draw(1e5, "uniform", seed = c(1L, 2L))
  expect_true(all(u > 0 & u < 1))
  expect_lt(abs(mean(u) - 0.5), 4 * sqrt(1 / 12 / 1e5))
  expect_equal(var(u), 1 / 12, tolerance = 0.02)
  expect_gt(ks.test(u, "punif")$p.value, 1e-3)
  # consecutive draws of one stream are uncorrelated
  v <- stream(1e5, "uniform", seed = c(1L, 2L), index = 9)
  expect_lt(abs(cor(v[-1], v[-length(v)])), 4 / sqrt(1e5))
  expect_gt(ks.test(v, "punif")$p.value, 1e-3)
})

test_that("normal draws follow pnorm, across streams and within a stream", {
  across <- draw(1e5, "normal", seed = c(3L, 4L))
  within <- stream(1e5, "normal", seed = c(3L, 4L), index = 1)
  for (z in list(across, within)) {
    expect_gt(ks.test(z, "pnorm")$p.value, 1e-3)
    expect_lt(abs(mean(z) - 0), 4 / sqrt(1e5))
    expect_equal(var(z), 1, tolerance = 0.02)
  }
  # the two members of each Box-Muller pair are uncorrelated
  expect_lt(abs(cor(within[c(TRUE, FALSE)], within[c(FALSE, TRUE)])), 4 / sqrt(5e4))
})

test_that("exponential draws follow pexp", {
  e <- stream(1e5, "exponential", seed = c(5L, 6L))
  expect_true(all(e > 0))
  expect_gt(ks.test(e, "pexp")$p.value, 1e-3)
  expect_equal(mean(e), 1, tolerance = 0.02)
})

test_that("gamma draws follow pgamma for small and large shapes", {
  for (shape in c(0.25, 1, 4.5, 60)) {
    g <- stream(5e4, "gamma", shape, seed = c(7L, 8L), index = 3)
    expect_true(all(g >= 0), info = shape)
    expect_gt(ks.test(g, "pgamma", shape)$p.value, 1e-3)
    expect_lt(abs(mean(g) - shape), 5 * sqrt(shape / 5e4))
  }
  g <- draw(5e4, "gamma", 0.6, seed = c(7L, 8L))
  expect_gt(ks.test(g, "pgamma", 0.6)$p.value, 1e-3)
})

# Chi-square goodness of fit of Poisson draws: one cell per value between the 0.1% and
# 99.9% quantiles, both tails pooled into the end cells.
chisq_poisson <- function(x, lambda) {
  lo <- qpois(1e-3, lambda)
  hi <- qpois(1 - 1e-3, lambda)
  cells <- lo:hi
  prob <- dpois(cells, lambda)
  prob[1] <- ppois(lo, lambda)
  prob[length(prob)] <- ppois(hi - 1, lambda, lower.tail = FALSE)
  observed <- tabulate(pmin(pmax(x, lo), hi) - lo + 1, nbins = length(cells))
  chisq.test(observed, p = prob)$p.value
}

test_that("Poisson draws follow dpois by inversion and by PTRS", {
  for (lambda in c(0.3, 4, 9.9, 10, 25, 400)) {
    x <- stream(5e4, "poisson", lambda, seed = c(9L, 10L), index = 2)
    expect_true(all(x == round(x) & x >= 0), info = lambda)
    expect_gt(chisq_poisson(x, lambda), 1e-3)
    expect_lt(abs(mean(x) - lambda), 5 * sqrt(lambda / 5e4))
    expect_equal(var(x), lambda, tolerance = 0.05, info = lambda)
  }
  expect_identical(draw(10, "poisson", 0, seed = c(1L, 1L)), rep(0, 10))
})

test_that("Bernoulli draws have the requested probability", {
  for (p in c(0.02, 0.3, 0.9)) {
    b <- draw(1e5, "bernoulli", p, seed = c(11L, 12L))
    expect_true(all(b %in% c(0, 1)))
    expect_gt(binom.test(sum(b), length(b), p)$p.value, 1e-3)
  }
  expect_identical(draw(100, "bernoulli", 0, seed = c(1L, 1L)), rep(0, 100))
  expect_identical(draw(100, "bernoulli", 1, seed = c(1L, 1L)), rep(1, 100))
})

test_that("categorical frequencies match normalised weights; zero weights never occur", {
  w <- c(2, 0, 1, 5, 2)
  k <- draw(1e5, "categorical", w, seed = c(13L, 14L))
  counts <- tabulate(k, nbins = length(w))
  expect_identical(counts[2], 0L)
  expect_gt(chisq.test(counts[-2], p = w[-2] / sum(w))$p.value, 1e-3)
  single <- draw(50, "categorical", c(0, 0, 3), seed = c(1L, 1L))
  expect_identical(single, rep(3, 50))
})

test_that("bad distributions and parameters are refused with a named argument", {
  expect_error(draw(3, "cauchy", seed = c(1L, 1L)), "distribution")
  expect_error(draw(3, "bernoulli", 1.5, seed = c(1L, 1L)), "parameters")
  expect_error(draw(3, "gamma", 0, seed = c(1L, 1L)), "parameters")
  expect_error(draw(3, "poisson", -1, seed = c(1L, 1L)), "parameters")
  expect_error(draw(3, "categorical", c(0, 0), seed = c(1L, 1L)), "parameters")
  expect_error(draw(3, "categorical", c(1, NA), seed = c(1L, 1L)), "parameters")
  expect_error(draw(-1, "normal", seed = c(1L, 1L)), "`n`")
  expect_error(draw(3, "normal", seed = c(1L, 1L), first_index = -2), "first_index")
  expect_error(causalsandbox:::engine_philox(c(1, 2, 3), c(0, 0)), "counter")
})
