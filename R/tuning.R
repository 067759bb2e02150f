# Tuning an estimator: the same synthetic cohorts for every setting of a grid (common random
# numbers), settings ranked by RMSE and by how close their coverage is to the nominal level.

#' Tune an estimator's settings on synthetic cohorts
#'
#' Builds one estimator per row of `settings` with `estimator_factory`, runs them all in one
#' [run_study()] (so every setting sees exactly the same cohorts) and ranks the settings by
#' RMSE and by the distance of their interval coverage from the nominal level (averaged over
#' the scenarios of `design`). For CATE estimators (e.g. a causal forest's `min.node.size`)
#' PEHE and CATE coverage are reported too.
#'
#' @param fit A generator with a `simulate()` method (see [run_study()]).
#' @param estimator_factory A function whose arguments are the columns of `settings` and which
#'   returns an estimator `function(data)` (see [run_study()]), e.g.
#'   `function(truncate) estimator_ipw(truncate = truncate)`.
#' @param settings A data.frame (e.g. from [expand.grid()]) with one row per setting, or a
#'   named list of vectors to cross.
#' @param design,n,reps,seed,level,threads As in [run_study()].
#' @param alpha Significance level of the tests whose rejection rate is the power. It is not
#'   the confidence level: `level` sets the intervals whose coverage is ranked, `alpha` the
#'   power reported beside it (see [causalsandbox-options]).
#' @param missing How the estimators handle missing covariate values, as in [run_study()]:
#'   `NULL` (the default) keeps the setting each estimator was built with (e.g.
#'   `estimator_factory = function(truncate) estimator_ipw(truncate = truncate, missing =
#'   "complete_case")`); `"indicator"`, `"complete_case"` or `"fail"` overrides it for every
#'   estimator that takes a `missing` argument.
#' @return An object of class `sandbox_tuning`: `ranking` (one row per setting and reported
#'   method: the settings, RMSE, bias, empirical SE, coverage, width, PEHE and CATE coverage
#'   averaged over scenarios, with `rank_rmse` and `rank_coverage`, ordered by RMSE),
#'   `performance` (the per-scenario [summary][summary.sandbox_study] with the settings) and
#'   `study`. Methods `print()` and `plot()`.
#' @examples
#' simulate.toy_generator <- function(object, nsim, seed = NULL, overlap = 1, ...) {
#'   if (!is.null(seed)) set.seed(seed)
#'   x <- rnorm(nsim)
#'   ps <- plogis(overlap * x)
#'   t <- rbinom(nsim, 1, ps)
#'   d <- data.frame(x = x, t = t, .ps = ps, .mu0 = x, .mu1 = x + 1, .tau = 1)
#'   d$.y0 <- d$.mu0 + rnorm(nsim)
#'   d$.y1 <- d$.mu1 + rnorm(nsim)
#'   d$y <- ifelse(t == 1, d$.y1, d$.y0)
#'   new_sandbox_data(d, list(treatment = "t", outcome = "y", covariates = "x"), list(ate = 1))
#' }
#' gen <- structure(list(), class = "toy_generator")
#' tuned <- tune_estimator(gen, function(truncate) estimator_ipw(truncate = truncate),
#'                         settings = data.frame(truncate = c(0, 0.05, 0.2)),
#'                         design = scenario_grid(overlap = 2), n = 300, reps = 10, seed = 1)
#' tuned
#' @export
tune_estimator <- function(fit, estimator_factory, settings, design = scenario_grid(), n,
                           reps, seed = NULL, level = 0.95, alpha = 0.05, threads = 1,
                           missing = NULL) {
  simulate_fun <- resolve_simulate(fit, parent.frame())
  if (!is.null(missing)) missing <- check_missing_choice(missing)
  if (!is.function(estimator_factory))
    stopf("`estimator_factory` must be a function returning an estimator, not %s.",
                 describe(estimator_factory), argument = "estimator_factory")
  if (is.list(settings) && !is.data.frame(settings))
    settings <- expand.grid(settings, KEEP.OUT.ATTRS = FALSE, stringsAsFactors = FALSE)
  if (!is.data.frame(settings) || nrow(settings) < 1L || ncol(settings) < 1L)
    stopf("`settings` must be a data.frame (or named list) with at least one row and one column.",
          argument = "settings")
  unknown <- setdiff(names(settings), names(formals(estimator_factory)))
  if (length(unknown) && !"..." %in% names(formals(estimator_factory)))
    stopf("`settings` column(s) %s are not arguments of `estimator_factory`.",
                 paste(unknown, collapse = ", "), argument = "settings")
  ids <- sprintf("setting%d", seq_len(nrow(settings)))
  estimators <- lapply(seq_len(nrow(settings)), function(i) {
    est <- do.call(estimator_factory, as.list(settings[i, , drop = FALSE]))
    if (!is.function(est))
      stopf("`estimator_factory` must return a function(data) for setting %d, not %s.",
                   i, describe(est), argument = "estimator_factory")
    est
  })
  names(estimators) <- ids
  study <- study_runner(fit, simulate_fun, design, n = n, reps = reps, estimators = estimators,
                        seed = seed, level = level, threads = threads, missing = missing)
  perf <- summary(study, alpha = alpha)
  perf$setting <- sub(":.*$", "", perf$estimator)
  # the method within a setting (estimators reporting several rows); named `submethod` when
  # a setting is itself called `method` (estimator_survival(method = ))
  sub_name <- if ("method" %in% names(settings)) "submethod" else "method"
  perf$.method <- ifelse(grepl(":", perf$estimator), sub("^[^:]*:", "", perf$estimator), "")
  settings_tab <- cbind(setting = ids, settings, stringsAsFactors = FALSE)
  perf <- merge(settings_tab, as.data.frame(unclass(perf), stringsAsFactors = FALSE),
                by = "setting", sort = FALSE)
  measures <- c("rmse", "bias", "emp_se", "coverage", "width", "power", "pehe", "cate_coverage",
                "n_failed")
  groups <- unique(perf[c("setting", ".method")])
  ranking <- do.call(rbind, lapply(seq_len(nrow(groups)), function(i) {
    sub <- perf[perf$setting == groups$setting[i] & perf$.method == groups$.method[i], ]
    # scenarios where every run failed have no measures: average over the others
    vals <- vapply(measures, function(m) {
      v <- sub[[m]][!is.na(sub[[m]])]
      if (m == "n_failed") sum(v) else if (length(v)) mean(v) else NA_real_
    }, numeric(1))
    cbind(settings_tab[settings_tab$setting == groups$setting[i], , drop = FALSE],
          .method = groups$.method[i], t(vals), stringsAsFactors = FALSE)
  }))
  ranking$coverage_gap <- abs(ranking$coverage - level)
  ranking$rank_rmse <- rank(ranking$rmse, ties.method = "min", na.last = "keep")
  ranking$rank_coverage <- rank(ranking$coverage_gap, ties.method = "min", na.last = "keep")
  ranking <- ranking[order(ranking$rank_rmse, ranking$rank_coverage), ]
  names(ranking)[names(ranking) == ".method"] <- sub_name
  names(perf)[names(perf) == ".method"] <- sub_name
  if (all(ranking[[sub_name]] == "")) ranking[[sub_name]] <- NULL
  rownames(ranking) <- NULL
  structure(list(ranking = ranking, performance = perf, study = study,
                 setting_names = names(settings), level = level),
            class = "sandbox_tuning")
}

#' @export
print.sandbox_tuning <- function(x, digits = 3, ...) {
  st <- x$study
  cat(sprintf("Tuning over %d setting(s): %d scenario(s) x %d replicate(s), n = %s\n",
              length(unique(x$ranking$setting)), nrow(st$design), st$reps,
              paste(st$n, collapse = ", ")))
  cat(sprintf("Ranked by RMSE; rank_coverage orders |coverage - %g| (averaged over scenarios)\n",
              x$level))
  tab <- x$ranking
  tab <- tab[, vapply(tab, function(col) !all(is.na(col)), logical(1)), drop = FALSE]
  num <- vapply(tab, is.double, logical(1))
  tab[num] <- lapply(tab[num], signif, digits = digits)
  print(tab, row.names = FALSE)
  failures <- st$failures
  if (!is.null(failures) && nrow(failures)) {
    cat("Failed runs:\n")
    cat(describe_failures(failures), sep = "\n")
  }
  invisible(x)
}

#' @export
plot.sandbox_tuning <- function(x, ...) {
  tab <- x$ranking
  label <- apply(tab[x$setting_names], 1, function(r) paste(trimws(format(r)), collapse = "/"))
  extra <- if ("method" %in% x$setting_names) tab$submethod else tab$method
  if (!is.null(extra)) label <- paste(label, extra)
  if (all(is.na(tab$rmse))) {
    graphics::plot.new()
    graphics::text(0.5, 0.5, paste(strwrap(sprintf("every run failed: %s",
                                                   x$study$failures$message[1L]), 50),
                                   collapse = "\n"), cex = 0.8)
    return(invisible(x))
  }
  old <- graphics::par(mfrow = c(1, 2), mar = c(4, 8, 3, 1))
  on.exit(graphics::par(old))
  graphics::dotchart(tab$rmse, labels = label, main = "RMSE", xlab = "RMSE", ...)
  graphics::dotchart(tab$coverage, labels = label, xlab = "coverage",
                     main = sprintf("Coverage (dashed: nominal %g%%)", 100 * x$level),
                     xlim = range(c(tab$coverage, x$level), na.rm = TRUE), ...)
  graphics::abline(v = x$level, lty = 2)
  invisible(x)
}
