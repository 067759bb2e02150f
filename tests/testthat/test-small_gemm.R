# The small-product kernels that network training uses (src/small_gemm.c) against R's %*%, on
# shapes that exercise every tile: 8-row blocks, a 4-row block, 1-3 leftover rows (masked
# loads and stores), 4-column blocks and leftover columns; both kernel paths, with and without
# accumulation into C, with B as given and transposed.
gemm <- causalsandbox:::engine_small_gemm

test_that("small products equal R's matrix product on every tile shape", {
  set.seed(1)
  shapes <- expand.grid(m = c(1, 3, 4, 7, 8, 13, 20, 43, 64), n = c(1, 2, 4, 6, 9),
                        k = c(1, 2, 5, 28))
  cases <- lapply(seq_len(nrow(shapes)), function(s) {
    m <- shapes$m[s]; n <- shapes$n[s]; k <- shapes$k[s]
    list(a = matrix(rnorm(m * k), m, k), b = matrix(rnorm(k * n), k, n),
         c = matrix(rnorm(m * n), m, n))
  })
  for (portable in c(FALSE, TRUE)) for (trans_b in c(FALSE, TRUE)) for (acc in c(FALSE, TRUE)) {
    worst <- vapply(cases, function(x) {
      got <- gemm(x$a, if (trans_b) t(x$b) else x$b, if (acc) x$c, trans_b, portable)
      want <- x$a %*% x$b + if (acc) x$c else 0
      max(abs(got - want)) / max(1, abs(want))
    }, 0)
    expect_lt(max(worst), 1e-13,
              label = sprintf("worst relative error (portable %s, trans_b %s, accumulate %s)",
                              portable, trans_b, acc))
  }
})
