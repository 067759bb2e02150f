# Simulation studies: scenario grids of causal knobs, replicated draws with their own seeds,
# estimators applied to every draw (in parallel through future.apply), and performance
# measures with Monte Carlo standard errors (Morris, White and Crowther 2019).

#' A grid of simulation scenarios
#'
#' Crosses the values of the causal knobs of `simulate()` (on a `causalmix` fit) into one row per
#' scenario. Every argument takes a vector of values; `ate = NULL` (or `NA`, also as one of
#' several values, e.g. `ate = c(NA, 0.1)`) keeps the
#' learned average effect.
#'
#' @param overlap Overlap scale(s) `s >= 0` (1 = as learned, 0 = randomised, > 1 poorer).
#' @param confounding Size(s) of unmeasured confounding (finite numbers).
#' @param heterogeneity Effect heterogeneity scale(s) `h >= 0`.
#' @param ate Average treatment effect(s), or `NULL` for the learned one.
#' @param ... Further numeric knobs passed to the generator's `simulate()` method, each a
#'   named vector of finite values (e.g. `offset = c(0, 0.1)`).
#' @return A data.frame of class `sandbox_design`, one row per scenario, with a `scenario`
#'   column (1, 2, ...) and one column per knob.
#' @examples
#' scenario_grid(overlap = c(1, 2), confounding = c(0, 0.02))
#' @export
scenario_grid <- function(overlap = 1, confounding = 0, heterogeneity = 1, ate = NULL, ...) {
  check_knob(overlap, "overlap", lower = 0)
  check_knob(confounding, "confounding")
  check_knob(heterogeneity, "heterogeneity", lower = 0)
  if (is.null(ate)) ate <- NA_real_
  # NA (also a logical NA, as `ate = NA` gives) keeps the learned effect in its scenarios
  if (is.logical(ate) && length(ate) && all(is.na(ate))) ate <- as.double(ate)
  if (!is.numeric(ate) || length(ate) < 1L || any(is.infinite(ate)))
    stopf("`ate` must be NULL or a vector of finite numbers (NA: the learned effect), not %s.",
          describe(ate), argument = "ate")
  extra <- list(...)
  if (length(extra)) {
    if (is.null(names(extra)) || any(!nzchar(names(extra))))
      stopf("Every extra knob in `...` must be named (e.g. offset = 0.1).")
    for (name in names(extra)) check_knob(extra[[name]], name)
  }
  knobs <- c(list(overlap = overlap, confounding = confounding,
                  heterogeneity = heterogeneity, ate = ate), extra)
  grid <- expand.grid(knobs, KEEP.OUT.ATTRS = FALSE, stringsAsFactors = FALSE)
  grid <- cbind(scenario = seq_len(nrow(grid)), grid)
  structure(grid, class = c("sandbox_design", "data.frame"))
}

check_knob <- function(x, name, lower = -Inf) {
  if (is.function(x))
    stopf("`%s` in a scenario grid must be numeric; pass a function knob to simulate() directly.",
          name, argument = name)
  # the estimand of a time-to-event fit is a character setting: it has its own generator
  if (identical(name, "estimand"))
    stopf("`estimand` is not a numeric knob of a scenario grid; for studies and power analyses on the RMST-difference or hazard-ratio scale use survival_generator(fit, estimand = %s).",
          if (is.character(x) && length(x) == 1L) sprintf("\"%s\"", x) else "...",
          argument = name)
  if (!is.numeric(x) || length(x) < 1L || anyNA(x) || any(!is.finite(x)))
    stopf("Knob `%s` must be a vector of finite numbers, not %s.", name, describe(x),
          argument = name)
  if (any(x < lower))
    stopf("Knob `%s` must be >= %s; got %s.", name, format(lower),
          paste(format(x[x < lower]), collapse = ", "), argument = name)
  invisible(x)
}

#' @export
print.sandbox_design <- function(x, ...) {
  cat(sprintf("Scenario grid: %d scenario(s)\n", nrow(x)))
  print(as.data.frame(unclass(x), stringsAsFactors = FALSE), row.names = FALSE)
  invisible(x)
}

# The simulate() method of a generator, resolved once in the calling process so that future
# workers receive the function itself (a generator class defined in a script or a test need
# not be registered on the workers).
resolve_simulate <- function(fit, env) {
  for (cls in class(fit)) {
    method <- utils::getS3method("simulate", cls, optional = TRUE, envir = env)
    if (!is.null(method)) return(method)
  }
  stopf("`fit` must be a generator with a simulate() method returning a sandbox_data (a causalmix fit or your own class), not %s.",
               describe(fit), argument = "fit")
}

# Seed of one (scenario, replicate) task: depends only on the study seed, the scenario and
# the replicate number (not on how many replicates or scenarios there are).
task_seed <- function(base, scenario, rep) {
  derive_r_seed(derive_seed(c(0L, as.integer(base)), scenario), rep)
}

result_fields <- c("estimate", "se", "lower", "upper", "p_value")

# Turns what an estimator returned into rows (a list with one element per reported method) of
# method, estimate, se, lower, upper, p_value, estimand, pehe, cate_coverage. Errors (with a
# reason) when malformed.
normalize_result <- function(res, data, level) {
  n <- nrow(data)
  z <- stats::qnorm(1 - (1 - level) / 2)
  tau <- data$.tau
  if (inherits(res, "sandbox_ate")) res <- as.data.frame(res)
  if (is.data.frame(res)) {
    if (!"estimate" %in% names(res) || nrow(res) < 1L)
      stop("a data.frame result needs an `estimate` column and at least one row")
    labels <- if ("method" %in% names(res)) as.character(res$method) else
      if (nrow(res) == 1L) "" else as.character(seq_len(nrow(res)))
    cols <- as.list(res)
    rows <- lapply(seq_len(nrow(res)), function(i) {
      row <- normalize_result(lapply(cols, `[[`, i), data, level)[[1L]]
      row$method <- labels[i]
      row
    })
    return(rows)
  }
  if (is.numeric(res) && is.null(names(res)) && length(res) == n && n > 1L)
    res <- list(cate = res)
  if (is.numeric(res) && !is.null(names(res))) res <- as.list(res)
  if (!is.list(res))
    stop(sprintf("an estimator must return a named numeric vector, a list or a data.frame, not %s",
                 describe(res)))
  unknown <- setdiff(names(res), c(result_fields, "estimand", "method", "cate", "cate_se",
                                   "cate_lower", "cate_upper"))
  if (length(unknown) && is.null(res$method))
    stop(sprintf("unknown result element(s) %s", paste(unknown, collapse = ", ")))
  scalar <- function(name) {
    v <- res[[name]]
    if (is.null(v)) return(NA_real_)
    if (!is.numeric(v) && !(is.logical(v) && all(is.na(v))) || length(v) != 1L)
      stop(sprintf("`%s` must be a single number, not %s", name, describe(v)))
    as.double(v)
  }
  pehe <- cate_cov <- NA_real_
  if (!is.null(res$cate)) {
    cate <- res$cate
    if (!is.numeric(cate) || length(cate) != n)
      stop(sprintf("`cate` must hold one number per row (%d), not %s", n, describe(cate)))
    pehe <- sqrt(mean((cate - tau)^2))
    lo <- res$cate_lower
    hi <- res$cate_upper
    if (!is.null(res$cate_se)) {
      lo <- cate - z * res$cate_se
      hi <- cate + z * res$cate_se
    }
    if (!is.null(lo) && !is.null(hi)) {
      if (length(lo) != n || length(hi) != n)
        stop("CATE intervals must hold one value per row")
      cate_cov <- mean(lo <= tau & tau <= hi)
    }
    if (is.null(res$estimate)) res$estimate <- mean(cate)
  }
  if (is.null(res$estimate) && is.null(res$p_value))
    stop("the result has no `estimate` (nor a `p_value`)")
  est <- scalar("estimate")
  se <- scalar("se")
  if (!is.na(se) && se < 0) stop("`se` must be non-negative")
  lower <- scalar("lower")
  upper <- scalar("upper")
  if (is.na(lower) && is.na(upper) && !is.na(se)) {
    lower <- est - z * se
    upper <- est + z * se
  }
  if (!is.na(lower) && !is.na(upper) && lower > upper) stop("`lower` exceeds `upper`")
  p <- scalar("p_value")
  if (is.na(p) && !is.na(se) && se > 0) p <- 2 * stats::pnorm(-abs(est / se))
  if (!is.na(p) && (p < 0 || p > 1)) stop("`p_value` must lie in [0, 1]")
  estimand <- res$estimand %||% "ATE"
  if (!is.character(estimand) || length(estimand) != 1L || !estimand %in% c("ATE", "ATT", "ATC"))
    stop("`estimand` must be \"ATE\", \"ATT\" or \"ATC\"")
  list(list(method = "", estimate = est, se = se, lower = lower, upper = upper, p_value = p,
            estimand = estimand, pehe = pehe, cate_coverage = cate_cov))
}

# One (scenario, replicate): draw the cohort and apply every estimator. A failed draw (such
# as infeasible knobs) is recorded as one failed row per estimator, never an abort, so the
# other tasks of the study keep their results.
run_task <- function(task, simulate_fun, fit, estimators, level, pass_threads) {
  with_seed(task$seed, {
    args <- c(list(fit, nsim = task$n, seed = task$seed), task$knobs, pass_threads)
    data <- tryCatch({
      drawn <- do.call(simulate_fun, args)
      if (!inherits(drawn, "sandbox_data"))
        stop(sprintf("the generator's simulate() returned %s, not a sandbox_data",
                     describe(drawn)), call. = FALSE)
      drawn
    }, error = function(e) e)
    if (inherits(data, "error")) return(failed_draw(task, names(estimators), data))
    tr <- truth(data)
    rows <- lapply(names(estimators), function(name) {
      warns <- character()
      quiet <- function(expr) withCallingHandlers(expr, warning = function(w) {
        warns <<- c(warns, conditionMessage(w))
        invokeRestart("muffleWarning")
      })
      raw <- tryCatch(quiet(estimators[[name]](data)), error = function(e) e)
      warning_text <- if (length(warns)) paste(unique(warns), collapse = " | ") else NA_character_
      res <- if (inherits(raw, "error")) raw else
        tryCatch(normalize_result(raw, data, level), error = function(e)
          simpleError(paste("malformed result:", conditionMessage(e))))
      if (inherits(res, "error")) {
        return(list(list(estimator = name, estimate = NA_real_, se = NA_real_,
                         lower = NA_real_, upper = NA_real_, p_value = NA_real_,
                         estimand = "ATE", pehe = NA_real_, cate_coverage = NA_real_,
                         error = conditionMessage(res), warning = warning_text)))
      }
      lapply(res, function(row) {
        row$estimator <- if (nzchar(row$method) && length(res) > 1L)
          paste(name, row$method, sep = ":") else name
        row$method <- NULL
        row$error <- NA_character_
        row$warning <- warning_text
        row
      })
    })
    rows <- unlist(rows, recursive = FALSE)
    column <- function(field, type) vapply(rows, function(r) r[[field]], type)
    out <- data.frame(estimator = column("estimator", ""), estimate = column("estimate", 0),
                      se = column("se", 0), lower = column("lower", 0),
                      upper = column("upper", 0), p_value = column("p_value", 0),
                      estimand = column("estimand", ""), pehe = column("pehe", 0),
                      cate_coverage = column("cate_coverage", 0),
                      error = column("error", NA_character_),
                      warning = column("warning", NA_character_), stringsAsFactors = FALSE)
    out$failed_at <- ifelse(is.na(out$error), NA_character_, "estimator")
    pick <- function(estimand, what) {
      key <- paste0(what, tolower(estimand))
      vapply(key, function(k) as.double(tr[[k]] %||% NA_real_), numeric(1))
    }
    out$truth <- unname(pick(out$estimand, ""))
    out$sample_truth <- unname(pick(out$estimand, "sample_"))
    out$bias_confounding <- as.double(tr$bias %||% 0)
    cbind(scenario = task$scenario, n = task$n, rep = task$rep, out, stringsAsFactors = FALSE)
  })
}

# The rows of a task whose draw failed: one per estimator, with the draw's error message.
# `infeasible` marks knob settings the generator refused (the same for every replicate).
failed_draw <- function(task, estimator_names, error) {
  m <- length(estimator_names)
  na <- rep(NA_real_, m)
  stage <- if (inherits(error, "causalsandbox_knob_error")) "infeasible knobs" else "draw"
  data.frame(scenario = task$scenario, n = task$n, rep = task$rep, estimator = estimator_names,
             estimate = na, se = na, lower = na, upper = na, p_value = na, estimand = "ATE",
             pehe = na, cate_coverage = na, error = conditionMessage(error),
             warning = NA_character_, failed_at = stage, truth = na, sample_truth = na,
             bias_confounding = na, stringsAsFactors = FALSE)
}

# What failed in a study, one row per (scenario, n) with failures: the stage ("infeasible
# knobs", "draw", "estimator"), how many runs of how many failed, and the first message.
study_failures <- function(results) {
  failed <- results[!is.na(results$error), , drop = FALSE]
  empty <- data.frame(scenario = integer(), n = integer(), failed_at = character(),
                      failed = integer(), runs = integer(), message = character(),
                      stringsAsFactors = FALSE)
  if (!nrow(failed)) return(empty)
  keys <- unique(failed[c("scenario", "n", "failed_at")])
  rows <- lapply(seq_len(nrow(keys)), function(i) {
    cell <- results$scenario == keys$scenario[i] & results$n == keys$n[i]
    sub <- failed[failed$scenario == keys$scenario[i] & failed$n == keys$n[i] &
                    failed$failed_at == keys$failed_at[i], ]
    data.frame(scenario = keys$scenario[i], n = keys$n[i], failed_at = keys$failed_at[i],
               failed = nrow(sub), runs = sum(cell), message = sub$error[1L],
               stringsAsFactors = FALSE)
  })
  out <- do.call(rbind, rows)
  out <- out[order(out$scenario, out$n), , drop = FALSE]
  rownames(out) <- NULL
  out
}

# Lines saying what failed, for print methods.
describe_failures <- function(failures, max_lines = 5L) {
  if (!nrow(failures)) return(character())
  lines <- sprintf("  scenario %d, n = %d: %d of %d run(s) failed (%s): %s", failures$scenario,
                   failures$n, failures$failed, failures$runs, failures$failed_at,
                   failures$message)
  if (length(lines) > max_lines)
    lines <- c(lines[seq_len(max_lines)],
               sprintf("  ... and %d more (see `$failures`)", length(lines) - max_lines))
  lines
}

#' Run a simulation study on synthetic cohorts
#'
#' For every scenario of `design` (crossed with every sample size in `n`) and every replicate,
#' draws a cohort from `fit` with its own seed and applies every estimator. Replicates run in
#' parallel through the future framework when future.apply is installed (set the plan with
#' `future::plan()`, e.g. `plan(multisession, workers = 2)` or a SLURM cluster through
#' future.batchtools); results are identical whatever the plan, because each task's seed
#' depends only on `seed`, the scenario and the replicate. Progress is reported through
#' progressr when it is installed (wrap the call in `progressr::with_progress()`).
#'
#' @section Generators: `fit` is any object with a `simulate(fit, nsim, seed, ...)` method
#'   returning a [sandbox_data][new_sandbox_data]: a `causalmix()` fit, or your own S3 class
#'   whose method builds a known-truth cohort with [new_sandbox_data()]. The scenario knobs are
#'   passed to that method by name.
#'
#' @section Parallel and cluster runs: choose a future plan before the call; the results do
#'   not change with it.
#'   ```
#'   future::plan(future::multisession, workers = 4)                # a laptop
#'   future::plan(future.batchtools::batchtools_slurm,               # a Slurm cluster
#'                template = system.file("templates", "slurm-causalsandbox.tmpl",
#'                                       package = "causalsandbox"),
#'                resources = list(ncpus = 1, walltime = 3600))
#'   progressr::with_progress(study <- run_study(fit, design, n = 4098, reps = 1000,
#'                                               estimators = list(aipw = "aipw"), seed = 1))
#'   ```
#'   Workers receive `fit`, its `simulate()` method and the estimators; a generator of your
#'   own must therefore be self-contained (use its arguments, the fields of the object and
#'   package functions, not variables of your session).
#'
#' @section Estimators: a named list; each element is a built-in name (`"or"`, `"ipw"`,
#'   `"aipw"`, `"tmle"`, `"naive"`, `"dr_learner"`, see [estimators]) or a
#'   `function(data)` returning one of
#'   * a named numeric vector or list with `estimate` and optionally `se`, `lower`, `upper`,
#'     `p_value`, `estimand` (`"ATE"` default, `"ATT"`, `"ATC"`: which truth it is compared
#'     with);
#'   * per-row CATE predictions: an unnamed numeric vector with one value per row, or a list
#'     with `cate` and optionally `cate_se` or `cate_lower`/`cate_upper` (plus an ATE
#'     `estimate`, else the mean CATE is used);
#'   * a data.frame with one row per method (e.g. `as.data.frame(estimate_ate(...))`);
#'     rows are reported as `"name:method"`.
#'   The estimators are first applied to the first task in the calling process; a malformed
#'   result stops the study there. Later errors or malformed results are recorded in the
#'   `error` column of that replicate, not fatal.
#'
#' @section Failures: nothing that fails in one run stops the study or discards finished
#'   runs. A draw that fails (for example a scenario whose knobs the generator refuses as
#'   infeasible, see [knob_limits()]) gives one row per estimator with the message in `error`
#'   and `failed_at = "infeasible knobs"` (a `causalsandbox_knob_error`, the same for every
#'   replicate of the scenario) or `"draw"`; an estimator that fails gives one row with
#'   `failed_at = "estimator"`. The other scenarios and replicates run in full. `$failures`,
#'   `summary()` (columns `n_failed`, `failure`), `print()` and `plot()` say what failed and
#'   why.
#'
#' @param fit A generator (see the section Generators).
#' @param design A [scenario_grid()].
#' @param n Sample size(s) of each cohort (positive whole numbers).
#' @param reps Number of replicates per scenario.
#' @param estimators Named list of estimators (see the section Estimators).
#' @param seed Study seed (a whole number); `NULL` draws one from R's generator.
#' @param level Confidence level for intervals built from standard errors.
#' @param threads Threads each draw may use (passed to `simulate()` when it accepts them).
#' @param missing How the estimators handle missing covariate values in the drawn cohorts:
#'   `NULL` (the default) leaves each estimator its own setting (the `missing` it was built
#'   with, e.g. `estimator_or(missing = "complete_case")`; `"indicator"`, the package
#'   default, for the built-ins named by string); `"indicator"`, `"complete_case"` or
#'   `"fail"` (see [estimate_ate()]) sets every estimator that takes a `missing` argument:
#'   the built-in estimators and tests, and an estimator of your own written as
#'   `function(data, missing = NULL)`. An estimator of your own without that argument
#'   receives the cohort, missing values included, and handles them itself.
#' @return An object of class `sandbox_study`: a list with `results`, a tidy data.frame with
#'   one row per (scenario, n, replicate, estimator): the knobs, `estimate`, `se`, `lower`,
#'   `upper`, `p_value`, `estimand`, `pehe`, `cate_coverage`, `error`, `warning` (messages
#'   of warnings the estimator raised, which are not printed during the run), `failed_at`
#'   (`NA`, `"infeasible knobs"`, `"draw"` or `"estimator"`), the population
#'   `truth` and the `sample_truth` of the cohort, and `bias_confounding` (the bias any
#'   covariate-adjusted estimator converges to); plus `failures` (one row per scenario and n
#'   with failures: `failed_at`, `failed`, `runs`, the first `message`), `design`, `seed`,
#'   `level` and `elapsed` (seconds). Methods `summary()` (performance measures), `print()`, `plot()`,
#'   `as.data.frame()`.
#' @example inst/examples/toy_study.R
#' @examples
#' summary(study)
#' @export
run_study <- function(fit, design = scenario_grid(), n, reps, estimators, seed = NULL,
                      level = 0.95, threads = 1, missing = NULL) {
  if (!is.null(missing)) missing <- check_missing_choice(missing)
  simulate_fun <- resolve_simulate(fit, parent.frame())
  study_runner(fit, simulate_fun, design, n, reps, estimators, seed, level, threads, missing)
}

# The body of run_study(); tune_estimator() and power_analysis() call it with the simulate
# method resolved in their caller's environment.
study_runner <- function(fit, simulate_fun, design, n, reps, estimators, seed, level,
                         threads, missing = NULL) {
  if (!inherits(design, "sandbox_design"))
    stopf("`design` must come from scenario_grid().", argument = "design")
  check_sizes(n, "n")
  # bounded before the task list is built
  check_size(reps, "reps", max = 1e6)
  tasks_total <- as.double(reps) * nrow(design) * length(n)
  if (tasks_total > 1e7)
    stopf("The study would have %s cohorts (reps x scenarios x sizes); at most 1e7 are supported.",
          format(tasks_total, big.mark = ","), argument = "reps")
  if (!is.null(missing)) missing <- check_missing_choice(missing)
  if (identical(missing, "fail")) {
    # a fit that learned missing covariate values draws them in every cohort: "fail" would
    # fail every replicate, so it is refused here, at the call
    with_na <- generator_missing_columns(fit)
    if (length(with_na))
      stopf("The generator draws missing values in covariate%s %s (as in the table it was fitted on), so `missing = \"fail\"` would fail every replicate; use `missing = \"indicator\"` or `missing = \"complete_case\"`.",
            if (length(with_na) > 1L) "s" else "", quote_names(with_na),
            argument = "missing", column = with_na)
  }
  estimators <- resolve_estimators(estimators, missing)
  check_number(level, "level", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  if (is.null(seed)) seed <- sample.int(.Machine$integer.max, 1L)
  check_seed(seed)
  check_count(threads, "threads")
  fmls <- names(formals(simulate_fun))
  pass_threads <- if (any(c("threads", "...") %in% fmls)) list(threads = threads) else list()

  knob_names <- setdiff(names(design), "scenario")
  # a causalmix fit's simulate() methods refuse unknown arguments in `...`: a misspelt knob
  # is refused here, at the call, rather than failing every replicate
  if (!"..." %in% fmls || inherits(fit, "causalmix")) {
    # knobs the generator does not take: fine at their neutral values, an error otherwise
    neutral <- list(overlap = 1, confounding = 0, heterogeneity = 1, ate = NA_real_)
    for (k in setdiff(knob_names, fmls)) {
      if (!k %in% names(neutral) || !all(design[[k]] %in% neutral[[k]]))
        stopf("The generator's simulate() method has no argument `%s` (a knob of `design`); it takes %s.",
              k, quote_names(setdiff(fmls, c("object", "nsim", "seed", "offset", "threads",
                                               "..."))),
              argument = k)
    }
    knob_names <- intersect(knob_names, fmls)
  }
  tasks <- list()
  cells <- expand.grid(scenario = design$scenario, n = as.integer(n), KEEP.OUT.ATTRS = FALSE)
  for (ci in seq_len(nrow(cells))) {
    row <- design[design$scenario == cells$scenario[ci], , drop = FALSE]
    knobs <- as.list(unclass(row)[knob_names])
    knobs <- knobs[!vapply(knobs, function(v) is.na(v), logical(1))]
    cell_id <- ci
    for (r in seq_len(reps)) {
      tasks[[length(tasks) + 1L]] <- list(scenario = cells$scenario[ci], n = cells$n[ci],
                                          rep = r, knobs = knobs,
                                          seed = task_seed(seed, cell_id, r))
    }
  }
  started <- proc.time()[["elapsed"]]
  # The first task runs here: it validates the estimators' results before any parallel work.
  progress <- progress_reporter(length(tasks), "simulation study")
  first <- run_task(tasks[[1L]], simulate_fun, fit, estimators, level, pass_threads)
  report_progress(progress)
  malformed <- first$failed_at %in% "estimator" & startsWith(first$error, "malformed result")
  if (any(malformed))
    stopf("Estimator `%s` returned a %s.", first$estimator[malformed][1L],
                 first$error[malformed][1L])
  rest <- map_tasks(tasks[-1L], run_task, simulate_fun = simulate_fun, fit = fit,
                    estimators = estimators, level = level, pass_threads = pass_threads,
                    progress = progress)
  results <- do.call(rbind, c(list(first), rest))
  knob_table <- as.data.frame(unclass(design), stringsAsFactors = FALSE)
  results <- merge(knob_table, results, by = "scenario", sort = FALSE)
  # estimator labels in order of first appearance (a failed draw reports the estimator's
  # name, a successful one may report "name:method" rows)
  labels <- unique(c(first$estimator, results$estimator))
  results <- results[order(results$scenario, results$n, results$rep,
                           match(results$estimator, labels)), ]
  rownames(results) <- NULL
  structure(list(results = results, design = design, n = as.integer(n), reps = as.integer(reps),
                 estimators = labels, failures = study_failures(results), seed = seed,
                 level = level, elapsed = proc.time()[["elapsed"]] - started),
            class = "sandbox_study")
}

check_sizes <- function(n, name) {
  if (!is.numeric(n) || length(n) < 1L || anyNA(n) || any(!is.finite(n)) ||
      any(n != round(n)) || any(n < 1) || any(n > .Machine$integer.max))
    stopf("`%s` must be whole number(s) in [1, %d], not %s.", name, .Machine$integer.max,
          describe(n), argument = name)
  invisible(n)
}

# lapply through future.apply when installed (any future plan), advancing `progress` (see
# progress_reporter()) after each task.
map_tasks <- function(tasks, fun, ..., progress = NULL) {
  if (!length(tasks)) return(list())
  wrapped <- function(task, ...) {
    out <- fun(task, ...)
    report_progress(progress)
    out
  }
  if (requireNamespace("future.apply", quietly = TRUE)) {
    future.apply::future_lapply(tasks, wrapped, ..., future.seed = NULL,
                                future.packages = "causalsandbox")
  } else {
    lapply(tasks, wrapped, ...)
  }
}

# Performance measures of one set of replicates, with Monte Carlo SEs (Morris et al. 2019).
performance <- function(est, se, lower, upper, p_value, truth, pehe, cate_cov, alpha) {
  ok <- !is.na(est)
  k <- sum(ok)
  mc <- function(x) if (sum(!is.na(x)) > 1) stats::sd(x, na.rm = TRUE) / sqrt(sum(!is.na(x))) else NA_real_
  prop <- function(x) {
    x <- x[!is.na(x)]
    if (!length(x)) return(c(NA_real_, NA_real_))
    m <- mean(x)
    c(m, sqrt(m * (1 - m) / length(x)))
  }
  e <- est[ok]
  t <- truth[ok]
  err <- e - t
  emp_se <- if (k > 1) stats::sd(e) else NA_real_
  mse <- if (k) mean(err^2) else NA_real_
  mse_mcse <- if (k > 1) sqrt(sum((err^2 - mse)^2) / (k * (k - 1))) else NA_real_
  s2 <- se[ok]^2
  mod_se <- if (any(!is.na(s2))) sqrt(mean(s2, na.rm = TRUE)) else NA_real_
  mod_se_mcse <- if (sum(!is.na(s2)) > 1)
    sqrt(stats::var(s2, na.rm = TRUE) / (4 * sum(!is.na(s2)) * mean(s2, na.rm = TRUE))) else NA_real_
  covered <- ifelse(is.na(lower[ok]) | is.na(upper[ok]), NA, lower[ok] <= t & t <= upper[ok])
  width <- upper[ok] - lower[ok]
  # rejections count on every row with a p-value or an interval: a test without an estimate
  # (the log-rank test) has power but no bias
  reject <- ifelse(!is.na(p_value), p_value < alpha,
                   ifelse(is.na(lower) | is.na(upper), NA, lower > 0 | upper < 0))
  cover <- prop(covered)
  power <- prop(reject)
  cc <- cate_cov[ok]
  c(n_ok = k, mean = if (k) mean(e) else NA_real_, truth = if (k) mean(t) else NA_real_,
    bias = if (k) mean(err) else NA_real_, bias_mcse = if (k > 1) emp_se / sqrt(k) else NA_real_,
    emp_se = emp_se, emp_se_mcse = if (k > 1) emp_se / sqrt(2 * (k - 1)) else NA_real_,
    model_se = mod_se, model_se_mcse = mod_se_mcse,
    rmse = sqrt(mse), rmse_mcse = if (!is.na(mse) && mse > 0) mse_mcse / (2 * sqrt(mse)) else NA_real_,
    coverage = cover[1], coverage_mcse = cover[2],
    width = if (any(!is.na(width))) mean(width, na.rm = TRUE) else NA_real_,
    width_mcse = mc(width), power = power[1], power_mcse = power[2],
    pehe = if (any(!is.na(pehe[ok]))) mean(pehe[ok], na.rm = TRUE) else NA_real_,
    pehe_mcse = mc(pehe[ok]),
    cate_coverage = if (any(!is.na(cc))) mean(cc, na.rm = TRUE) else NA_real_,
    cate_coverage_mcse = mc(cc))
}

#' Summarise a simulation study
#'
#' Performance of every estimator in every scenario and sample size: bias, empirical SE,
#' model SE (root mean squared reported SE), RMSE, coverage, mean CI width, power (rejection
#' of "effect = 0" at `alpha`, from the p-value or the interval), and for CATE estimators the
#' PEHE (root mean squared error of the CATE over rows, averaged over replicates) and the
#' pointwise CATE coverage; each with its Monte Carlo standard error (`*_mcse`) following
#' Morris, White and Crowther (2019, Statistics in Medicine 38:2074-2102).
#'
#' @param object A `sandbox_study`.
#' @param target Truth to compare with: `"population"` (the model's ATE/ATT) or `"sample"`
#'   (the mean effect in each drawn cohort).
#' @param alpha Significance level of the tests whose rejection rate is the power (the
#'   intervals' confidence level is the study's `level`; see [causalsandbox-options]).
#' @param ... Unused.
#' @return A data.frame of class `summary.sandbox_study` with one row per scenario, n and
#'   estimator, the knob values, `n_failed`, `n_warned`, the measures above (`NA` when every
#'   run failed) and `failure` (the stage and message of the first failed run, or `NA`).
#' @example inst/examples/toy_study.R
#' @examples
#' summary(study, target = "sample")
#' @export
summary.sandbox_study <- function(object, target = c("population", "sample"), alpha = 0.05,
                                  ...) {
  target <- match_arg(target)
  check_number(alpha, "alpha", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  res <- object$results
  truth_col <- if (target == "population") "truth" else "sample_truth"
  keys <- unique(res[c("scenario", "n", "estimator")])
  rows <- lapply(seq_len(nrow(keys)), function(i) {
    sub <- res[res$scenario == keys$scenario[i] & res$n == keys$n[i] &
                 res$estimator == keys$estimator[i], ]
    m <- performance(sub$estimate, sub$se, sub$lower, sub$upper, sub$p_value, sub[[truth_col]],
                     sub$pehe, sub$cate_coverage, alpha)
    data.frame(scenario = keys$scenario[i], n = keys$n[i], estimator = keys$estimator[i],
               reps = nrow(sub), n_failed = sum(!is.na(sub$error)),
               n_warned = sum(!is.na(sub$warning)), t(m),
               failure = if (any(!is.na(sub$error)))
                 sprintf("%s: %s", sub$failed_at[!is.na(sub$error)][1L],
                         sub$error[!is.na(sub$error)][1L]) else NA_character_,
               stringsAsFactors = FALSE, check.names = FALSE)
  })
  out <- do.call(rbind, rows)
  knob_table <- as.data.frame(unclass(object$design), stringsAsFactors = FALSE)
  out <- merge(knob_table, out, by = "scenario", sort = FALSE)
  out <- out[order(out$scenario, out$n, match(out$estimator, object$estimators)), ]
  rownames(out) <- NULL
  structure(out, class = c("summary.sandbox_study", "data.frame"), target = target,
            alpha = alpha, level = object$level)
}

# The failures of a summary: one row per (scenario, n) with the first failure message.
summary_failures <- function(df) {
  failed <- df[!is.na(df$failure), c("scenario", "n", "estimator", "n_failed", "reps",
                                     "failure"), drop = FALSE]
  failed[!duplicated(failed[c("scenario", "n", "failure")]), , drop = FALSE]
}

#' @export
print.summary.sandbox_study <- function(x, digits = 3, ...) {
  cat(sprintf("Simulation study performance (truth: %s; coverage of %g%% intervals; power at alpha = %g)\n",
              attr(x, "target"), 100 * attr(x, "level"), attr(x, "alpha")))
  df <- as.data.frame(unclass(x), stringsAsFactors = FALSE)
  needed <- c("scenario", "n", "estimator", "n_failed", "bias", "bias_mcse", "emp_se",
              "emp_se_mcse", "model_se", "model_se_mcse", "rmse", "rmse_mcse", "coverage",
              "coverage_mcse", "width", "width_mcse", "power", "power_mcse")
  if (!all(needed %in% names(df))) {  # a subset of columns: print it as it is
    print(df, digits = digits)
    return(invisible(x))
  }
  fmt <- function(v, s) ifelse(is.na(v), "NA", sprintf("%s (%s)", formatC(v, digits = digits, format = "g"),
                                                       formatC(s, digits = 2, format = "g")))
  knobs <- setdiff(names(df), c("scenario", "n", "estimator", "reps", "n_failed", "n_warned", "n_ok",
                                "mean", "truth", "failure", grep("^(bias|emp_se|model_se|rmse|coverage|width|power|pehe|cate_coverage)",
                                                      names(df), value = TRUE)))
  show <- data.frame(df[c("scenario", knobs, "n", "estimator")],
                     failed = df$n_failed,
                     bias = fmt(df$bias, df$bias_mcse), emp_se = fmt(df$emp_se, df$emp_se_mcse),
                     model_se = fmt(df$model_se, df$model_se_mcse), rmse = fmt(df$rmse, df$rmse_mcse),
                     coverage = fmt(df$coverage, df$coverage_mcse), width = fmt(df$width, df$width_mcse),
                     power = fmt(df$power, df$power_mcse), check.names = FALSE)
  if (any(!is.na(df$pehe))) {
    show$pehe <- fmt(df$pehe, df$pehe_mcse)
    show$cate_coverage <- fmt(df$cate_coverage, df$cate_coverage_mcse)
  }
  show <- show[, vapply(show, function(col) !all(is.na(col)), logical(1)), drop = FALSE]
  print(show, row.names = FALSE, right = FALSE)
  cat("Monte Carlo standard errors in parentheses.\n")
  failed <- if ("failure" %in% names(df)) summary_failures(df) else df[0, ]
  if (nrow(failed)) {
    cat("Failed runs (column `failure`):\n")
    cat(sprintf("  scenario %d, n = %d, %s: %d of %d failed; %s\n", failed$scenario, failed$n,
                failed$estimator, failed$n_failed, failed$reps, failed$failure), sep = "")
  }
  invisible(x)
}

#' @export
print.sandbox_study <- function(x, digits = 3, width = 80, ...) {
  res <- x$results
  cat(sprintf("Simulation study: %d scenarios x %d sample sizes x %d replicates, %d estimators\n",
              nrow(x$design), length(x$n), x$reps, length(x$estimators)))
  failed <- sum(!is.na(res$error))
  cat(sprintf("seed %d; %.1f s; %d of %d run(s) failed\n", x$seed, x$elapsed, failed, nrow(res)))
  if (failed) {
    # the first failure only, within the width; summary() and `$failures` list them all
    first <- (x$failures %||% study_failures(res))[1L, ]
    cat(strtrim(sprintf("First failure (scenario %d, n = %d, %s): %s", first$scenario,
                        first$n, first$failed_at, first$message), width), "\n", sep = "")
  }
  warned <- sum(!is.na(res$warning))
  if (warned)
    cat(sprintf("%d run(s) raised warnings (column `warning` of as.data.frame())\n", warned))
  s <- summary(x)
  knobs <- setdiff(names(x$design), "scenario")
  varying <- knobs[vapply(knobs, function(k) length(unique(x$design[[k]])) > 1L, logical(1))]
  fixed <- setdiff(knobs, varying)
  fixed <- fixed[vapply(fixed, function(k) !all(is.na(x$design[[k]])), logical(1))]
  if (length(fixed))
    cat("Fixed knobs:", paste(fixed, vapply(fixed, function(k) format(x$design[[k]][1L]),
                                             character(1)), sep = " = ", collapse = ", "), "\n")
  make_table <- function(digits, emp_se = TRUE, knobs = varying) {
    num <- function(v) ifelse(is.na(v), "NA", formatC(signif(v, digits), digits = digits,
                                                      format = "fg"))
    tab <- data.frame(s[c("scenario", knobs, "n")], estimator = s$estimator,
                      bias = num(s$bias), emp_se = num(s$emp_se), rmse = num(s$rmse),
                      coverage = num(s$coverage), power = num(s$power), check.names = FALSE,
                      stringsAsFactors = FALSE)
    if (!emp_se) tab$emp_se <- NULL
    if (any(s$n_failed > 0)) tab$failed <- s$n_failed
    tab
  }
  table_width <- function(t) sum(vapply(names(t), function(nm)
    max(nchar(c(nm, format(t[[nm]])))), numeric(1)) + 1)
  # keep the table within `width` columns: drop the empirical SE, round to 2 digits, and last
  # drop the knob columns (the numbered scenarios remain)
  tab <- make_table(digits)
  if (table_width(tab) > width) tab <- make_table(digits, emp_se = FALSE)
  if (table_width(tab) > width) tab <- make_table(2, emp_se = FALSE)
  if (table_width(tab) > width && length(varying)) {
    tab <- make_table(2, emp_se = FALSE, knobs = character())
    cat("Knobs of each scenario: x$design\n")
  }
  print(tab, row.names = FALSE, right = TRUE)
  cat("Monte Carlo SEs, model SEs, widths: summary(); each run: as.data.frame()\n")
  invisible(x)
}

#' @export
as.data.frame.sandbox_study <- function(x, ...) x$results

#' Plot a simulation study
#'
#' Estimates against the truth: one panel per scenario (and sample size), a box per estimator
#' with the replicate estimates, a solid line at the population truth and a dashed line at
#' truth + the confounding bias (where every covariate-adjusted estimator is expected to land)
#' when it is not zero. A legend under the panels names the lines. Failed runs (no
#' estimate) are left out; a panel whose runs all failed says so.
#'
#' @param x A `sandbox_study`.
#' @param ... Passed to [graphics::boxplot()].
#' @return `x`, invisibly.
#' @example inst/examples/toy_study.R
#' @examples
#' plot(study)
#' @export
plot.sandbox_study <- function(x, ...) {
  res <- x$results
  cells <- unique(res[c("scenario", "n")])
  k <- nrow(cells)
  cols <- ceiling(sqrt(k))
  old <- graphics::par(mfrow = c(ceiling(k / cols), cols), mar = c(6, 4, 3, 1),
                       oma = c(2.5, 0, 0, 0))
  on.exit(graphics::par(old))
  knob_names <- setdiff(names(x$design), "scenario")
  truth_col <- "darkgreen"
  bias_col <- "darkred"
  drew_bias <- FALSE
  for (i in seq_len(k)) {
    sub <- res[res$scenario == cells$scenario[i] & res$n == cells$n[i], ]
    title <- sprintf("scenario %d (n = %d)", cells$scenario[i], cells$n[i])
    row <- x$design[x$design$scenario == cells$scenario[i], knob_names, drop = FALSE]
    label <- paste(names(row), unlist(row), sep = " = ", collapse = ", ")
    ok <- !is.na(sub$estimate)
    if (!any(ok)) {
      why <- sub$error[!is.na(sub$error)][1L]
      graphics::plot.new()
      graphics::title(main = title)
      graphics::mtext(label, side = 3, line = 0.2, cex = 0.7)
      graphics::text(0.5, 0.5, paste(strwrap(sprintf("all %d run(s) failed: %s", nrow(sub),
                                                     why), 40), collapse = "\n"), cex = 0.8)
      next
    }
    sub$estimator <- factor(sub$estimator, levels = intersect(x$estimators, sub$estimator))
    truth_value <- mean(sub$truth, na.rm = TRUE)
    b <- mean(sub$bias_confounding, na.rm = TRUE)
    show_bias <- is.finite(b) && b != 0
    ylim <- range(c(sub$estimate[ok], truth_value, if (show_bias) truth_value + b),
                  finite = TRUE)
    graphics::boxplot(estimate ~ estimator, data = sub[ok, ], las = 2, xlab = "",
                      ylab = "estimate", main = title, ylim = ylim, drop = FALSE, ...)
    graphics::mtext(label, side = 3, line = 0.2, cex = 0.7)
    graphics::abline(h = truth_value, lwd = 2, col = truth_col)
    if (show_bias) {
      graphics::abline(h = truth_value + b, lty = 2, lwd = 2, col = bias_col)
      drew_bias <- TRUE
    }
  }
  # one legend for the page, in the outer margin under the panels
  graphics::par(fig = c(0, 1, 0, 1), oma = c(0, 0, 0, 0), mar = c(0, 0, 0, 0), new = TRUE)
  graphics::plot.new()
  labels <- c("population truth", if (drew_bias) "truth + confounding bias (adjusted estimators' limit)")
  graphics::legend("bottom", legend = labels, col = c(truth_col, bias_col)[seq_along(labels)],
                   lty = c(1, 2)[seq_along(labels)], lwd = 2, horiz = TRUE, bty = "n",
                   cex = 0.85, xpd = NA)
  invisible(x)
}

# ---- the `missing` setting of studies ------------------------------------------------------

# `args` (settings of estimate_ate()) with `missing` replaced when it is not NULL.
with_missing_setting <- function(args, missing) {
  if (is.null(missing)) return(args)
  args$missing <- check_missing_choice(missing)
  args
}

# An estimator (or test) run with the `missing` setting of a study: the built-in estimators
# and tests are function(data, missing = NULL), NULL keeping the setting they were made
# with; a function without a `missing` argument (one you wrote) is left as it is.
set_missing <- function(estimator, missing) {
  if (is.null(missing) || !is.function(estimator) ||
      !"missing" %in% names(formals(estimator))) return(estimator)
  force(estimator)
  function(data) estimator(data, missing = missing)
}

# Covariates in which a causalmix fit draws missing values (those missing in its table).
generator_missing_columns <- function(fit) {
  schema <- fit$schema
  if (!inherits(schema, "sandbox_schema")) return(character())
  covariates <- schema$covariates
  covariates[vapply(schema$columns[covariates], function(s) isTRUE(s$n_missing > 0L),
                    logical(1))]
}
