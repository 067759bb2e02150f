# The public cohorts of the realism benchmarks (issue 24), as plain data.frames with their
# roles: NHEFS (causaldata::nhefs_complete, treatment qsmk, outcome wt82_71), CPS
# (causaldata::cps_mixtape plus the treated rows of nsw_mixtape, outcome re78), lalonde
# (MatchIt) and the bundled mCRPC cohort. Cohorts whose package is absent are left out.
public_cohorts <- function() {
  cohorts <- list()
  if (requireNamespace("causaldata", quietly = TRUE)) {
    nhefs <- as.data.frame(causaldata::nhefs_complete)[c(
      "qsmk", "wt82_71", "sex", "race", "age", "education", "smokeintensity", "smokeyrs",
      "exercise", "active", "wt71")]
    nhefs[] <- lapply(nhefs, function(v) {
      attributes(v) <- attributes(v)[c("levels", "class")]
      v
    })
    cohorts$nhefs <- list(data = nhefs, treatment = "qsmk", outcome = "wt82_71")
    cps <- rbind(as.data.frame(causaldata::cps_mixtape),
                 as.data.frame(causaldata::nsw_mixtape)[causaldata::nsw_mixtape$treat == 1, ])
    cps$data_id <- NULL
    cps[] <- lapply(cps, as.vector)
    cohorts$cps <- list(data = cps, treatment = "treat", outcome = "re78")
  } else {
    cat("causaldata is not installed: NHEFS and CPS are left out.\n")
  }
  if (requireNamespace("MatchIt", quietly = TRUE)) {
    lalonde <- NULL
    utils::data("lalonde", package = "MatchIt", envir = environment())
    cohorts$lalonde <- list(data = lalonde, treatment = "treat", outcome = "re78")
  }
  mcrpc <- NULL
  utils::data("mcrpc", package = "causalsandbox", envir = environment())
  cohorts$mcrpc <- list(data = mcrpc, treatment = "exp", outcome = "hosp_ed_any")
  cohorts
}
