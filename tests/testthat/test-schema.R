# Schema: type detection, exact encode/decode round trip, and errors on bad input.

encode_table <- causalsandbox:::encode_table
decode_table <- causalsandbox:::decode_table
type_code <- causalsandbox:::type_code
check_data_matches_schema <- causalsandbox:::check_data_matches_schema

# A mixed table with NA in continuous, factor, logical, integer and character columns.
mixed_table <- function(n = 60) {
  set.seed(11)
  d <- data.frame(
    id_cont = round(rnorm(n, 3, 2), 4),
    treat = rep(c(0L, 1L), length.out = n),
    grp = factor(sample(c("a", "b", "c"), n, TRUE), levels = c("c", "a", "b", "unused")),
    sev = factor(sample(c("low", "mid", "high"), n, TRUE), levels = c("low", "mid", "high"),
                 ordered = TRUE),
    city = sample(c("Lyon", "Paris", "Nice", "Lille"), n, TRUE),
    smoker = sample(c(TRUE, FALSE), n, TRUE),
    visits = rpois(n, 3),
    temp = round(rnorm(n, -1, 1), 1) * 10,
    y = rnorm(n),
    stringsAsFactors = FALSE
  )
  d$id_cont[c(2, 9)] <- NA
  d$grp[c(3, 30)] <- NA
  d$smoker[5] <- NA
  d$visits[c(1, 7, 8)] <- NA
  d$city[10] <- NA
  d$sev[11] <- NA
  d
}

test_that("lalonde round-trips exactly and its types are detected as expected", {
  skip_if_not_installed("MatchIt")
  data("lalonde", package = "MatchIt", envir = environment())
  s <- sandbox_schema(lalonde, treatment = "treat", outcome = "re78")
  expect_s3_class(s, "sandbox_schema")
  expect_identical(s$names, names(lalonde))
  expect_identical(s$covariates, setdiff(names(lalonde), c("treat", "re78")))
  expect_identical(s$n, nrow(lalonde))

  types <- vapply(s$columns, `[[`, "", "type")
  expect_identical(unname(types[c("treat", "age", "educ", "race", "married", "nodegree",
                                  "re74", "re75", "re78")]),
                   c("binary", "count", "count", "categorical", "binary", "binary",
                     "semicontinuous", "semicontinuous", "semicontinuous"))
  expect_identical(s$columns$race$levels, c("black", "hispan", "white"))
  expect_identical(s$columns$treat$level_values, c(0, 1))
  expect_identical(s$columns$age$storage, "integer")
  expect_true(s$columns$age$whole)
  expect_false(s$columns$re74$whole)
  expect_identical(s$columns$re74$point_mass, 0)
  expect_equal(s$columns$re74$mass_share, mean(lalonde$re74 == 0))
  expect_identical(s$columns$age$lower, as.double(min(lalonde$age)))
  expect_identical(s$columns$re78$upper, max(lalonde$re78))
  expect_equal(s$columns$educ$scale, sd(lalonde$educ))
  expect_identical(s$columns$race$counts,
                   c(black = sum(lalonde$race == "black"), hispan = sum(lalonde$race == "hispan"),
                     white = sum(lalonde$race == "white")))

  e <- encode_table(s, lalonde)
  expect_identical(dim(e$x), c(nrow(lalonde), 7L))
  expect_identical(colnames(e$x), s$covariates)
  expect_identical(ncol(e$missing), 0L)
  expect_identical(e$t, as.double(lalonde$treat))
  expect_identical(e$y, lalonde$re78)
  expect_identical(sort(unique(e$x[, "race"])), c(0, 1, 2))
  expect_identical(e$x[, "race"], as.double(as.integer(lalonde$race) - 1L))

  d <- decode_table(s, e)
  expect_identical(d, lalonde[s$names])
  expect_identical(d, lalonde)
})

test_that("the bundled mcrpc cohort round-trips with a binary outcome", {
  s <- sandbox_schema(mcrpc, treatment = "exp", outcome = "hosp_ed_any")
  expect_identical(s$columns$hosp_ed_any$type, "binary")
  expect_identical(s$columns$trt_prev$levels, levels(mcrpc$trt_prev))
  expect_identical(s$columns$Charlson$type, "count")
  expect_identical(unname(s$columns$exp$counts), c(sum(mcrpc$exp == 0), sum(mcrpc$exp == 1)))
  e <- encode_table(s, mcrpc)
  expect_identical(e$y, as.double(mcrpc$hosp_ed_any))
  expect_identical(decode_table(s, e), mcrpc[s$names])
})

test_that("a covariate subset keeps data order and decodes without t and y", {
  skip_if_not_installed("MatchIt")
  data("lalonde", package = "MatchIt", envir = environment())
  s <- sandbox_schema(lalonde, "treat", "re78", covariates = c("re74", "age", "race"))
  expect_identical(s$covariates, c("age", "race", "re74"))
  expect_identical(s$names, c("treat", "age", "race", "re74", "re78"))
  e <- encode_table(s, lalonde)
  expect_identical(decode_table(s, e), lalonde[s$names])
  only_x <- decode_table(s, list(x = e$x))
  expect_identical(names(only_x), c("age", "race", "re74"))
  expect_identical(.row_names_info(only_x), -nrow(lalonde))
  expect_identical(only_x$race, lalonde$race)
})

test_that("NA, levels, ordered factors, characters, logicals and integers round-trip", {
  d <- mixed_table()
  s <- sandbox_schema(d, treatment = "treat", outcome = "y")
  types <- vapply(s$columns, `[[`, "", "type")
  storage <- vapply(s$columns, `[[`, "", "storage")
  expect_identical(unname(types[c("id_cont", "grp", "sev", "city", "smoker", "visits", "temp")]),
                   c("continuous", "categorical", "categorical", "categorical", "binary",
                     "count", "continuous"))
  expect_identical(unname(storage[c("id_cont", "grp", "sev", "city", "smoker", "visits",
                                    "temp")]),
                   c("double", "factor", "ordered", "character", "logical", "integer", "double"))
  expect_identical(s$columns$grp$levels, c("c", "a", "b", "unused"))
  expect_identical(s$columns$city$levels, sort(unique(na.omit(d$city))))
  expect_true(s$columns$temp$whole)   # whole but negative values: continuous, integer-valued
  expect_identical(s$columns$grp$counts[["unused"]], 0L)

  n_missing <- vapply(s$columns, `[[`, 0L, "n_missing")
  expect_identical(unname(n_missing[c("id_cont", "grp", "smoker", "visits", "city", "sev")]),
                   c(2L, 2L, 1L, 3L, 1L, 1L))

  e <- encode_table(s, d)
  expect_false(anyNA(e$x))
  expect_identical(colnames(e$missing), c("id_cont", "grp", "sev", "city", "smoker", "visits"))
  expect_identical(which(e$missing[, "visits"] == 1), c(1L, 7L, 8L))
  expect_identical(which(e$missing[, "grp"] == 1), c(3L, 30L))
  # fills: mean for continuous, rounded median for counts, most frequent code for levels
  expect_identical(e$x[[2, "id_cont"]], mean(d$id_cont, na.rm = TRUE))
  expect_identical(e$x[[1, "visits"]], round(median(d$visits, na.rm = TRUE)))
  expect_identical(e$x[[3, "grp"]], as.double(which.max(table(d$grp)) - 1L))
  expect_identical(s$columns$smoker$fill, as.double(which.max(table(d$smoker)) - 1L))

  back <- decode_table(s, e)
  expect_identical(back, d[s$names])
  expect_identical(levels(back$grp), c("c", "a", "b", "unused"))
  expect_true(is.ordered(back$sev))
  expect_true(is.na(back$visits[7]) && is.integer(back$visits))
})

test_that("decoding maps codes to levels, rounds whole columns and restores NA", {
  d <- mixed_table()
  s <- sandbox_schema(d, "treat", "y", covariates = c("visits", "grp", "smoker", "id_cont"))
  x <- cbind(id_cont = c(1.25, 2), grp = c(3, 0), smoker = c(1, 0), visits = c(2.4, 7.6))
  miss <- cbind(id_cont = c(0, 1), grp = c(0, 0), smoker = c(1, 0), visits = c(0, 0))
  out <- decode_table(s, list(x = x, missing = miss, t = c(1, 0), y = c(0.5, -2)))
  expect_identical(names(out), c("id_cont", "treat", "grp", "smoker", "visits", "y"))
  expect_identical(out$id_cont, c(1.25, NA))
  expect_identical(out$visits, c(2L, 8L))
  expect_identical(as.character(out$grp), c("unused", "c"))
  expect_identical(out$smoker, c(NA, FALSE))
  expect_identical(out$treat, c(1L, 0L))
  # extra elements such as `tau` are not mistaken for `t` (no partial matching)
  no_t <- decode_table(s, list(x = x, tau = c(1, 1), yhat = c(0, 0)))
  expect_identical(names(no_t), c("id_cont", "grp", "smoker", "visits"))
  expect_error(decode_table(s, list(x = cbind(id_cont = 1, grp = 4, smoker = 0, visits = 1))),
               "`grp` has codes outside 0..3")
})

test_that("numeric binary columns keep their two values; treatment levels order", {
  d <- mixed_table()
  d$dose <- rep(c(0.5, 2), length.out = nrow(d))
  d$arm <- factor(rep(c("control", "drug"), length.out = nrow(d)), levels = c("control", "drug"))
  s <- sandbox_schema(d, "arm", "y", covariates = c("dose", "treat"))
  expect_identical(s$columns$dose$type, "binary")
  expect_identical(s$columns$dose$levels, c("0.5", "2"))
  expect_identical(s$columns$dose$level_values, c(0.5, 2))
  e <- encode_table(s, d)
  expect_identical(e$t, as.double(d$arm == "drug"))
  expect_identical(unique(e$x[, "dose"]), c(0, 1))
  expect_identical(decode_table(s, e), d[s$names])
})

test_that("types overrides are applied and validated", {
  d <- mixed_table()
  s <- sandbox_schema(d, "treat", "y", types = c(visits = "continuous", city = "categorical"))
  expect_identical(s$columns$visits$type, "continuous")
  expect_identical(decode_table(s, encode_table(s, d)), d[s$names])
  s2 <- sandbox_schema(d, "treat", "y", types = c(visits = "categorical"))
  expect_identical(s2$columns$visits$level_values,
                   sort(unique(as.double(na.omit(d$visits)))))
  expect_identical(decode_table(s2, encode_table(s2, d)), d[s2$names])

  expect_error(sandbox_schema(d, "treat", "y", types = c(visits = "ordinal")),
               "`types`.*\"ordinal\".*`visits`.*expected one of")
  expect_error(sandbox_schema(d, "treat", "y", types = c(nope = "count")),
               "`types` names `nope`, not a column")
  expect_error(sandbox_schema(d, "treat", "y", types = c("count")),
               "`types` must be NULL or a named character vector")
  expect_error(sandbox_schema(d, "treat", "y", types = c(grp = "continuous")),
               "column `grp` to \"continuous\".*expected \"binary\" or \"categorical\"")
  expect_error(sandbox_schema(d, "treat", "y", types = c(visits = "binary")),
               "column `visits` to \"binary\".*needs exactly 2")
  expect_error(sandbox_schema(d, "treat", "y", types = c(id_cont = "count")),
               "column `id_cont` to \"count\".*not whole and non-negative")
  expect_error(sandbox_schema(d, "treat", "y", types = c(treat = "continuous")),
               "Treatment `treat` must be binary")
  expect_error(sandbox_schema(d, "treat", "y", types = c(visits = "count", visits = "count")),
               "`types` names `visits` more than once")
})

test_that("semicontinuous detection finds point masses anywhere, and needs other values", {
  set.seed(3)
  n <- 100
  base <- data.frame(t = rep(0:1, n / 2), y = rnorm(n))
  earn <- c(rep(0, 30), round(rexp(70, 1 / 1000), 2))
  top <- c(rep(100, 20), round(runif(80, 0, 99), 3))
  middle <- c(rep(5.5, 30), round(runif(70, 0, 10), 3))
  rare <- c(rep(0, 5), round(rexp(95), 3))
  single <- c(0, round(rexp(99), 3))
  d <- cbind(base, earn = earn, top = top, middle = middle, rare = rare, single = single)
  s <- sandbox_schema(d, "t", "y")
  expect_identical(s$columns$earn$type, "semicontinuous")
  expect_identical(s$columns$top$type, "semicontinuous")
  expect_identical(s$columns$top$point_mass, 100)
  expect_identical(s$columns$middle$type, "semicontinuous")  # a mass inside the range
  expect_identical(s$columns$middle$point_masses$value, 5.5)
  expect_identical(s$columns$rare$type, "semicontinuous")    # 5% >= 2%
  expect_identical(s$columns$single$type, "continuous")      # one row is no mass
  expect_identical(decode_table(s, encode_table(s, d)), d[s$names])
  # the outcome finds its masses by the same rule (its marginal transform keeps them all);
  # `point_mass`, which the point-mass head uses without transforms, is the mass at an edge
  s_out <- sandbox_schema(d, "t", "middle")
  expect_identical(s_out$columns$middle$type, "semicontinuous")
  expect_identical(s_out$columns$middle$point_masses$value, 5.5)
  s_out <- sandbox_schema(d, "t", "top")
  expect_identical(s_out$columns$top$point_masses$value, 100)
  # earnings with zeros at the minimum and a larger top code inside the range (CPS's re78):
  # both are the outcome's masses, and the edge mass is the zeros
  set.seed(9)
  earnings <- c(rep(0, 14), rep(25564.67, 26), round(runif(60, 1, 60000), 2))
  e <- data.frame(t = rep(0:1, 50), y = earnings, x = rnorm(100))
  s_earn <- sandbox_schema(e, "t", "y")
  expect_identical(s_earn$columns$y$type, "semicontinuous")
  expect_identical(s_earn$columns$y$point_mass, 0)
  expect_equal(s_earn$columns$y$mass_share, 0.14)
  expect_setequal(s_earn$columns$y$point_masses$value, c(0, 25564.67))
})

test_that("a column with zeros and heaps at multiples of 5 is semicontinuous with its heaps", {
  d <- heaped_hours_table(3000, seed = 11)
  s <- sandbox_schema(d, "t", "y")
  spec <- s$columns$hours
  expect_identical(spec$type, "semicontinuous")
  masses <- spec$point_masses
  expect_identical(masses$value[1L], 0)
  expect_equal(masses$share[1L], mean(d$hours == 0))
  expect_true(all(c(20, 25, 30, 40) %in% masses$value))
  expect_true(all(masses$value %% 5 == 0))   # every mass is a zero or a heap
  shares <- vapply(masses$value, function(v) mean(d$hours == v), double(1))
  expect_equal(masses$share, shares)
  expect_true(all(masses$share >= 0.02))
  expect_identical(spec$grid, 1)
  expect_identical(spec$heaping$step[1L], 5)
  expect_gt(spec$heaping$share[1L], 0.4)
  expect_identical(s$columns$wt$grid, 0.5)
  expect_null(s$columns$wt$heaping)
  expect_true(is.na(s$columns$y$grid))
  # reported by print()
  out <- paste(capture.output(print(s)), collapse = "\n")
  expect_match(out, "masses at 0 \\(29%\\)")
  expect_match(out, "heaped on multiples of 5")
  expect_match(out, "grid 0.5")
})

test_that("smooth whole-number columns get no point masses", {
  set.seed(4)
  d <- data.frame(t = rep(0:1, 1000), y = rnorm(2000), age = sample(18:90, 2000, TRUE),
                  score = round(rnorm(2000, 50, 10), 1))
  s <- sandbox_schema(d, "t", "y")
  expect_identical(s$columns$age$type, "count")
  expect_identical(s$columns$score$type, "continuous")
  expect_null(s$columns$age$heaping)
  expect_identical(nrow(find_point_masses(d$age)), 0L)
})

test_that("type_code gives the engine codes", {
  expect_identical(type_code(c("continuous", "count", "semicontinuous", "binary",
                               "categorical")), 0:4)
  expect_error(type_code("ordinal"), "`type` must be one of")
})

test_that("print and summary describe roles and types", {
  d <- mixed_table()
  s <- sandbox_schema(d, "treat", "y")
  out <- capture.output(print(s))
  expect_match(out[1], "60 rows, 9 columns: treatment `treat`, outcome `y`, 7 covariates")
  expect_true(any(grepl("^  grp +covariate +categorical +factor +c, a, b, unused +2 \\(3.3%\\)",
                        out)))
  expect_true(any(grepl("treated: 1", out)))
  sm <- summary(s)
  expect_s3_class(sm, "summary.sandbox_schema")
  expect_identical(sm$treated, 30L)
  expect_identical(sm$columns$n_missing[sm$columns$column == "visits"], 3L)
  expect_identical(sm$columns_with_missing, 6L)
  expect_output(print(sm), "30 treated \\(50.0%\\), outcome modelled as continuous")
  top <- names(which.max(table(d$city)))
  expect_identical(sm$columns$mode[sm$columns$column == "city"], top)
  expect_equal(sm$columns$mode_share[sm$columns$column == "city"],
               max(table(d$city)) / sum(!is.na(d$city)))
  expect_output(print(sm), sprintf("city +covariate +categorical +4 +%s", top))
})

test_that("bad data and bad role arguments give errors naming what is wrong", {
  d <- mixed_table()
  expect_error(sandbox_schema(as.list(d), "treat", "y"), "`data` must be a data.frame")
  expect_error(sandbox_schema(as.matrix(d), "treat", "y"), "`data` must be a data.frame")
  expect_error(sandbox_schema(d[1:19, ], "treat", "y"), "`data` must have at least 20 rows")
  expect_error(sandbox_schema(d, "treatment", "y"),
               "`treatment` names column `treatment`, which is not in `data`")
  expect_error(sandbox_schema(d, "treat", "yy"), "`outcome` names column `yy`")
  expect_error(sandbox_schema(d, c("treat", "y"), "y"), "`treatment` must be a single")
  expect_error(sandbox_schema(d, "treat"), "`outcome` is missing")
  expect_error(sandbox_schema(d, "treat", "treat"), "`treat` cannot be both")
  expect_error(sandbox_schema(d, "treat", "y", covariates = c("grp", "zzz")),
               "`covariates` names column `zzz`, which is not in `data`")
  expect_error(sandbox_schema(d, "treat", "y", covariates = c("grp", "grp")),
               "`covariates` lists `grp` more than once")
  expect_error(sandbox_schema(d, "treat", "y", covariates = c("grp", "treat")),
               "`treat` is the treatment and cannot also be in `covariates`")
  expect_error(sandbox_schema(d, "treat", "y", covariates = c("y", "grp")),
               "`y` is the outcome and cannot also be in `covariates`")
  expect_error(sandbox_schema(d, "treat", "y", covariates = character(0)),
               "At least one covariate is needed")
  dup <- d
  names(dup)[3] <- "city"
  expect_error(sandbox_schema(dup, "treat", "y"), "unique; duplicated: `city`")
  unnamed <- d
  names(unnamed)[3] <- ""
  expect_error(sandbox_schema(unnamed, "treat", "y"), "non-empty name")
})

test_that("bad treatment and outcome columns are refused", {
  d <- mixed_table()
  d$t3 <- rep(0:2, 20)
  d$t12 <- rep(1:2, 30)
  d$tone <- 1L
  d$tna <- d$treat
  d$tna[4] <- NA
  d$tfac <- factor(rep(c("x", "y"), 30))
  expect_error(sandbox_schema(d, "t3", "y", covariates = "visits"),
               "Treatment `t3` must have exactly two values.* 3 distinct values")
  # any two values make a treatment; the larger number is the treated value
  s12 <- sandbox_schema(d, "t12", "y", covariates = "visits")
  expect_identical(s12$columns$t12$levels[2L], "2")
  expect_identical(encode_table(s12, d)$t, as.double(d$t12 == 2))
  expect_error(sandbox_schema(d, "tone", "y", covariates = "visits"),
               "Column `tone` is constant")
  err <- expect_error(sandbox_schema(d, "tna", "y", covariates = "visits"),
                      "Treatment `tna` has 1 missing value; expected none",
                      class = "causalsandbox_input_error")
  expect_identical(c(err$argument, err$column), c("treatment", "tna"))
  expect_error(sandbox_schema(d, "grp", "y", covariates = "visits"),
               "Treatment `grp` has 2 missing values")
  s <- sandbox_schema(d, "tfac", "y", covariates = "visits")
  expect_identical(encode_table(s, d)$t, as.double(d$tfac == "y"))
  expect_error(sandbox_schema(d, "treat", "city", covariates = "visits"),
               "Outcome `city` has 1 missing value")
  d$city_full <- factor(rep(c("a", "b", "c", "d"), 15))
  expect_error(sandbox_schema(d, "treat", "city_full", covariates = "visits"),
               "Outcome `city_full` must be numeric or have exactly two values.* 4 levels")
  expect_error(sandbox_schema(d, "treat", "id_cont", covariates = "visits"),
               "Outcome `id_cont` has 2 missing values; expected none")
  d$event <- rep(c(TRUE, FALSE, FALSE), 20)
  s_bin <- sandbox_schema(d, "treat", "event", covariates = "visits")
  expect_identical(s_bin$columns$event$type, "binary")
  expect_identical(encode_table(s_bin, d)$y, as.double(d$event))
})

test_that("unsupported, constant, infinite and high-cardinality columns are refused", {
  d <- mixed_table()
  n <- nrow(d)
  bad <- function(col, value) {
    d[[col]] <- value
    sandbox_schema(d, "treat", "y")
  }
  lst <- d
  lst$l <- I(as.list(seq_len(n)))
  expect_error(sandbox_schema(lst, "treat", "y"), "Column `l` is a list")
  expect_error(bad("when", Sys.Date() + seq_len(n)), "Column `when` is a Date")
  expect_error(bad("at", as.POSIXct("2020-01-01", tz = "UTC") + seq_len(n)),
               "Column `at` is a date-time")
  expect_error(bad("z", complex(real = seq_len(n), imaginary = 1)), "Column `z` is complex")
  expect_error(bad("k", rep(4, n)), "Column `k` is constant .* expected at least two values")
  expect_error(bad("k", c(rep("a", n - 1), NA)), "Column `k` is constant")
  expect_error(bad("k", rep(NA_real_, n)), "Column `k` has no non-missing values")
  expect_error(bad("inf", c(Inf, seq_len(n - 1))), "Column `inf` contains infinite values")
  expect_error(bad("nan", c(NaN, seq_len(n - 1) / 3)), "Column `nan` contains NaN")
  expect_error(bad("code", sprintf("c%02d", seq_len(n) %% 31)),
               "Column `code` has 31 levels for 60 rows.*at most half")
  expect_error(bad("fac", factor(seq_len(n) %% 3, levels = 0:30)),
               "Column `fac` has 31 levels")
  expect_silent(bad("code", sprintf("c%02d", seq_len(n) %% 30)))
})

test_that("check_data_matches_schema names missing and mismatched columns", {
  d <- mixed_table()
  s <- sandbox_schema(d, "treat", "y")
  expect_true(check_data_matches_schema(s, d))
  expect_error(check_data_matches_schema(s, d[setdiff(names(d), c("grp", "y"))]),
               "`data` lacks columns `grp`, `y`")
  expect_true(check_data_matches_schema(s, d[setdiff(names(d), "y")], need_outcome = FALSE))
  expect_error(check_data_matches_schema(s, "d"), "`data` must be a data.frame")

  other <- d
  other$grp <- factor(as.character(other$grp))
  other$city[1] <- "Tours"
  other$smoker <- as.integer(other$smoker)
  other$visits <- as.character(other$visits)
  expect_error(check_data_matches_schema(s, other),
               paste0("`grp` has levels a, b, c but the schema expects c, a, b, unused.*",
                      "`city` has values not in the schema's levels \\(\"Tours\"\\).*",
                      "`smoker` is numeric but the schema expects logical.*",
                      "`visits` is character but the schema expects numeric"))
  other <- d
  other$temp[3] <- NA
  expect_error(check_data_matches_schema(s, other), "`temp` has 1 missing values but had none")
  other <- d
  other$y[3] <- NA
  expect_error(check_data_matches_schema(s, other), "`y` \\(the outcome\\) has 1 missing")
  other <- d
  other$sev <- factor(other$sev, ordered = FALSE)
  expect_error(check_data_matches_schema(s, other), "`sev` must be an ordered factor")
  other <- d
  other$when <- Sys.Date()
  expect_true(check_data_matches_schema(s, other))   # extra columns are ignored
  other$id_cont <- Sys.Date()
  expect_error(check_data_matches_schema(s, other), "`id_cont` is a Date")

  # new data encodes with the schema's codes and missing indicators
  new <- d[c(3, 1), ]
  e <- encode_table(s, new)
  expect_identical(e$missing[, "visits"], c(0, 1))
  expect_identical(decode_table(s, e), new[s$names])
  expect_error(encode_table(list(), d), "`schema` must be a sandbox_schema")
})

test_that("schema refusals name the argument or the column", {
  d <- data.frame(x = rnorm(30), t = rep(0:1, 15), y = rnorm(30))
  err <- tryCatch(sandbox_schema(d, "t", "y", types = c(x = "ordinal")), error = identity)
  expect_s3_class(err, "causalsandbox_input_error")
  expect_identical(err$argument, "types")
  d$x[3] <- NaN
  err <- tryCatch(sandbox_schema(d, "t", "y"), error = identity)
  expect_identical(err$column, "x")
  d$x <- 1
  err <- tryCatch(sandbox_schema(d, "t", "y"), error = identity)
  expect_match(conditionMessage(err), "Column `x` is constant")
  expect_identical(err$column, "x")
  expect_identical(err$argument, "covariates")
  d$x <- rnorm(nrow(d))
  d$y <- 2
  err <- tryCatch(sandbox_schema(d, "t", "y"), error = identity)
  expect_identical(err$argument, "outcome")
  expect_identical(err$column, "y")
})
