# sandbox_threads(): argument, option and environment rules; the C-side cap.

# Runs code with environment variables set (NA = unset) and restores them afterwards.
with_env <- function(vars, code) {
  old <- Sys.getenv(names(vars), unset = NA, names = TRUE)
  on.exit({
    for (v in names(old)) {
      if (is.na(old[[v]])) Sys.unsetenv(v) else do.call(Sys.setenv, as.list(old[v]))
    }
  })
  for (v in names(vars)) {
    if (is.na(vars[[v]])) Sys.unsetenv(v) else do.call(Sys.setenv, as.list(vars[v]))
  }
  force(code)
}

with_option <- function(value, code) {
  old <- options(causalsandbox.threads = value)
  on.exit(options(old))
  force(code)
}

cores <- causalsandbox:::parallel_cores()
clean <- c(OMP_THREAD_LIMIT = NA, `_R_CHECK_LIMIT_CORES_` = NA)

test_that("the argument wins, capped by the processors", {
  with_env(clean, with_option(NULL, {
    expect_identical(sandbox_threads(1), 1L)
    expect_identical(sandbox_threads(2), min(2L, cores))
    expect_identical(sandbox_threads(10000), cores)
  }))
})

test_that("the option is used when no argument is given; default is half the processors", {
  with_env(clean, {
    with_option(1, expect_identical(sandbox_threads(), 1L))
    with_option(2, expect_identical(sandbox_threads(), min(2L, cores)))
    with_option(1, expect_identical(sandbox_threads(2), min(2L, cores)))
    with_option(NULL, expect_identical(sandbox_threads(), max(1L, cores %/% 2L)))
  })
})

test_that("OMP_THREAD_LIMIT and _R_CHECK_LIMIT_CORES_ cap the count", {
  before <- Sys.getenv(names(clean), unset = NA)
  with_option(NULL, {
    with_env(c(OMP_THREAD_LIMIT = "1", `_R_CHECK_LIMIT_CORES_` = NA),
             expect_identical(sandbox_threads(10000), 1L))
    with_env(c(OMP_THREAD_LIMIT = "not a number", `_R_CHECK_LIMIT_CORES_` = NA),
             expect_identical(sandbox_threads(10000), cores))
    with_env(c(OMP_THREAD_LIMIT = NA, `_R_CHECK_LIMIT_CORES_` = "TRUE"),
             expect_identical(sandbox_threads(10000), min(2L, cores)))
  })
  expect_identical(Sys.getenv(names(clean), unset = NA), before) # restored
})

test_that("bad thread counts are refused naming the argument", {
  expect_error(sandbox_threads(0), "`threads` must be a whole number >= 1")
  expect_error(sandbox_threads(1.5), "`threads`")
  expect_error(sandbox_threads("2"), "`threads`")
  expect_error(sandbox_threads(NA), "`threads`")
  expect_error(sandbox_threads(c(1, 2)), "`threads`")
  with_option("four", expect_error(sandbox_threads(), "`threads`"))
})

test_that("the C side never exceeds OMP_THREAD_LIMIT and is at least one", {
  cap <- causalsandbox:::engine_threads_cap
  expect_identical(cap(1), 1L)
  expect_identical(cap(0), 1L)
  expect_gte(cap(2), 1L)
  expect_lte(cap(2), 2L)
})

test_that("OMP_THREAD_LIMIT caps the C side", {
  skip_on_os("windows")  # system2(env = ) is not supported there
  # OpenMP reads the limit when the library starts, so ask a fresh R process
  code <- "cat(causalsandbox:::engine_threads_cap(10000))"
  libs <- paste0("R_LIBS=", paste(.libPaths(), collapse = .Platform$path.sep))
  limited <- system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(code)), stdout = TRUE,
                     env = c("OMP_THREAD_LIMIT=3", libs))
  expect_true(as.integer(limited) %in% c(1L, 3L))  # 1 in a build without OpenMP
})
