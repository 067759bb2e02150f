# The bundled simulated cohort `mcrpc`: layout, types, documented ranges and the dependence
# and confounding that R/data.R promises.

binary_columns <- c("Enzalutamide_prev", "Abiraterone_prev", "dementia", "infection", "renal",
                    "hypertension", "diabetes", "smoker_copd", "cvd", "antidiabetics",
                    "antiarrhythmics", "blood_thinners", "opioids", "exp", "hosp_ed_any")

test_that("mcrpc has the published layout: 4098 rows, 18 covariates, exp, hosp_ed_any", {
  expect_s3_class(mcrpc, "data.frame")
  expect_identical(dim(mcrpc), c(4098L, 20L))
  expect_identical(names(mcrpc), c(
    "race_cat", "age", "mets_site", "Enzalutamide_prev", "Abiraterone_prev", "trt_prev",
    "dementia", "infection", "renal", "hypertension", "diabetes", "smoker_copd", "cvd",
    "Charlson", "antidiabetics", "antiarrhythmics", "blood_thinners", "opioids",
    "exp", "hosp_ed_any"))
  expect_identical(make.names(names(mcrpc)), names(mcrpc))
  expect_false(anyNA(mcrpc))
})

test_that("column types and factor levels are as documented", {
  expect_identical(levels(mcrpc$race_cat), c("White", "Black", "Hispanic", "Other"))
  expect_identical(levels(mcrpc$mets_site),
                   c("bone_only", "nodal_or_soft_tissue", "visceral"))
  expect_identical(levels(mcrpc$trt_prev), c("ADT_only", "antiandrogen", "docetaxel", "ARPI"))
  for (column in c("race_cat", "mets_site", "trt_prev")) {
    expect_true(is.factor(mcrpc[[column]]), label = column)
    # every level is used
    expect_true(all(table(mcrpc[[column]]) > 0), label = column)
  }
  expect_type(mcrpc$age, "integer")
  expect_type(mcrpc$Charlson, "integer")
  for (column in binary_columns) {
    expect_type(mcrpc[[column]], "integer")
    expect_setequal(unique(mcrpc[[column]]), c(0L, 1L))
  }
})

test_that("treated share, age, Charlson and cvd match the calibration targets", {
  expect_equal(mean(mcrpc$exp), 0.570, tolerance = 0.01 / 0.570)
  expect_true(all(mcrpc$age >= 55 & mcrpc$age <= 99))
  expect_gte(mean(mcrpc$age), 75)
  expect_lte(mean(mcrpc$age), 78)
  expect_true(all(mcrpc$Charlson >= 0 & mcrpc$Charlson <= 16))
  expect_gte(mean(mcrpc$Charlson), 3.5)
  expect_lte(mean(mcrpc$Charlson), 4.7)
  expect_gte(mean(mcrpc$cvd), 0.60)
  expect_lte(mean(mcrpc$cvd), 0.70)
  # a plausible one-year rate of any hospitalisation or ED visit
  expect_gte(mean(mcrpc$hosp_ed_any), 0.30)
  expect_lte(mean(mcrpc$hosp_ed_any), 0.50)
})

test_that("prior-therapy columns are mutually consistent", {
  any_prior_arpi <- mcrpc$Enzalutamide_prev == 1L | mcrpc$Abiraterone_prev == 1L
  expect_identical(mcrpc$trt_prev == "ARPI", any_prior_arpi)
})

test_that("covariates depend on each other as documented", {
  share <- function(x, by) tapply(x, by, mean)
  # medications follow their indications
  expect_gt(diff(share(mcrpc$antidiabetics, mcrpc$diabetes)), 0.5)
  expect_gt(diff(share(mcrpc$blood_thinners, mcrpc$cvd)), 0.2)
  expect_gt(diff(share(mcrpc$antiarrhythmics, mcrpc$cvd)), 0.05)
  # older men have more dementia and cardiovascular disease and a higher Charlson index
  older <- mcrpc$age > 80
  expect_gt(diff(share(mcrpc$dementia, older)), 0.05)
  expect_gt(diff(share(mcrpc$cvd, older)), 0.05)
  expect_gt(cor(mcrpc$age, mcrpc$Charlson), 0.1)
  # the Charlson index is higher with each recorded comorbidity
  for (column in c("cvd", "diabetes", "renal", "dementia", "smoker_copd")) {
    expect_gt(diff(share(mcrpc$Charlson, mcrpc[[column]])), 0.5, label = column)
  }
})

test_that("treatment is confounded in the documented direction", {
  by_arm <- function(x) tapply(x, mcrpc$exp, mean)   # names "0" (ENZ), "1" (ABI)
  # enzalutamide users are older with a higher Charlson index (VA: 75.8 vs 74.5; 4.4 vs 4.0)
  age_gap <- by_arm(mcrpc$age)[["0"]] - by_arm(mcrpc$age)[["1"]]
  charlson_gap <- by_arm(mcrpc$Charlson)[["0"]] - by_arm(mcrpc$Charlson)[["1"]]
  expect_gt(age_gap, 0.5)
  expect_lt(age_gap, 2.5)
  expect_gt(charlson_gap, 0.2)
  expect_lt(charlson_gap, 1)
  # prior abiraterone steers away from abiraterone, prior enzalutamide towards it
  expect_lt(mean(mcrpc$exp[mcrpc$Abiraterone_prev == 1L]), 0.35)
  only_enz <- mcrpc$Enzalutamide_prev == 1L & mcrpc$Abiraterone_prev == 0L
  expect_gt(mean(mcrpc$exp[only_enz]), 0.75)
})

test_that("the outcome carries an abiraterone harm modified by cvd", {
  fit <- glm(hosp_ed_any ~ . + exp:cvd, family = binomial(), data = mcrpc)
  interaction <- coef(summary(fit))["cvd:exp", ]
  # true log-odds interaction 0.32; a positive, nominally significant estimate
  expect_gt(interaction[["Estimate"]], 0)
  expect_lt(interaction[["Pr(>|z|)"]], 0.05)
  # adjusted risk difference larger than the crude one: confounding towards the null
  risk <- function(treated) {
    mean(predict(fit, transform(mcrpc, exp = treated), type = "response"))
  }
  adjusted <- risk(1L) - risk(0L)
  crude <- diff(tapply(mcrpc$hosp_ed_any, mcrpc$exp, mean))[[1]]
  expect_gt(adjusted, 0.02)
  expect_lt(adjusted, 0.09)
  expect_gt(adjusted, crude)
})
