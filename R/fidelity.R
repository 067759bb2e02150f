# Fidelity of a synthetic table to the real one: marginal, pairwise, joint, privacy and causal
# diagnostics, with print, summary and plot methods.

#' Fidelity and privacy diagnostics for a synthetic table
#'
#' Compares a synthetic table with the real one it imitates, with the metrics of the
#' published CausalMix evaluation (SDMetrics conventions), a privacy check and, when a
#' treatment and an outcome are named, the causal structure.
#'
#' Column types follow the schema's detection rules: numeric columns with more than two
#' distinct values in `real` are *continuous* (counts and semicontinuous columns included);
#' logical, factor and character columns and numeric columns with two values are
#' *categorical*. Missing values are left out of the marginal and pairwise metrics and
#' compared through the missing-value rates.
#'
#' * **Columns.** Continuous: KS complement `1 - max |F_real - F_syn|` and the Wasserstein-1
#'   distance between the two empirical distributions divided by the range (max - min) of the
#'   real column (lower is better). Categorical: TV complement
#'   `1 - 0.5 sum |p_real - p_syn|`. Every column: the share of missing values in each table
#'   and the missing-rate similarity `1 - |rate_real - rate_syn|`.
#' * **Pairs.** Continuous pairs: correlation similarity `1 - |r_real - r_syn| / 2` (Pearson,
#'   pairwise complete rows; a constant column counts as uncorrelated). Categorical pairs:
#'   contingency similarity `1 - 0.5 sum |P_real - P_syn|` over the two-way table.
#'   Mixed pairs: the continuous column is cut into `bins` bins at the real data's quantiles
#'   and the contingency similarity of the binned pair is reported.
#' * **Joint.** C2ST: real and synthetic rows (at most `c2st_rows` of each, encoded as for the
#'   distances, see [dcr()]) are labelled and split into `c2st_folds` folds stratified by
#'   table, identical rows kept in one fold; a
#'   logistic regression (`stats::glm.fit`) and a neural network (one hidden layer of 32 ReLU
#'   units, AdamW, early stopping on a 10% validation share, in C) predict the label of each
#'   held-out fold; the score is `1 - 2 |AUC - 0.5|` of the out-of-fold predictions (1 =
#'   indistinguishable). The table also gives each score in SDMetrics' form, the one of the
#'   published CausalMix table: `1 - mean(2 max(AUC_k, 0.5) - 1)` over the folds' own AUCs,
#'   so a classifier that ranks the two tables the wrong way round (an AUC below 0.5, common
#'   on small tables it cannot separate) counts as chance rather than as detection.
#'   The headline detector is a random forest (`ranger`, 200 trees, when installed; else
#'   the network above) on the same rows and folds, reported as its out-of-fold AUC and as
#'   `1 - 2 |AUC - 0.5|`; unlike the logistic regression it sees point masses, heaps,
#'   values off the recording grid and values outside the real range. Its per-column
#'   contribution (`joint$forest_importance`) is the drop of the held-out AUC when that
#'   column's values are permuted among the held-out rows, averaged over the folds: the
#'   columns at the top are what gives the synthetic rows away.
#'   Normalised energy distance: with `A`, `B`, `C` the mean Euclidean distances between
#'   real-synthetic, real-real and synthetic-synthetic pairs of rows (V-statistics on at most
#'   `energy_rows` random rows of each table), `(2A - B - C) / (2A)`, between 0 (same
#'   distribution) and 1.
#' * **Privacy.** Distance to closest record, its ratio to the held-out (or leave-one-out)
#'   baseline, the share of synthetic rows closer than the baseline's 5th percentile
#'   (tie-aware), the exact-copy rate next to the baseline rows' chance rate and, with a
#'   `holdout`, the memorisation ratio; see [dcr()] (at most `dcr_rows` query rows of each
#'   kind).
#' * **Causal structure** (when `treatment` is given): in each table, a logistic propensity
#'   model of the treatment on the other columns and its in-sample AUC; with `outcome` too,
#'   the augmented inverse-probability-weighted (AIPW) estimate of the average treatment
#'   effect and its standard error from [estimate_ate()] with GLM nuisance models and its
#'   default propensity bounds. Covariates enter both as in the distances (standardised,
#'   one-hot without the first category, missing values as 0 plus a missingness indicator),
#'   so rows with missing covariates are kept (see `missing`). The treatment must have two
#'   values; the treated value and a binary outcome's event are read from `real` as
#'   everywhere in the package (the second level of a factor, `TRUE`, the larger number, the
#'   later string in sort order) and applied to both tables.
#'
#' Random subsamples and folds use R's generator and the network's seed is drawn from it, so
#' `set.seed()` fixes the result whatever the number of threads.
#'
#' @param real A data.frame: the real table (the rows the generator was fitted on).
#' @param synthetic A data.frame with (at least) the columns of `real`, of the same types.
#'   Extra columns (such as the truth columns `.ps`, `.tau`, ... of simulated cohorts) are
#'   ignored.
#' @param treatment,outcome `NULL` or the name of the treatment (outcome) column, for the
#'   causal-structure checks. A time-to-event outcome is given as `c(time = , event = )` or
#'   as the name of a `survival::Surv` column: then Kaplan-Meier curves by arm are compared
#'   (see [fidelity_survival()]). A `Surv` column (outcome or not) is compared as its two
#'   columns `<name>.time` and `<name>.event`.
#' @param holdout `NULL` or a data.frame of real rows not used to fit the generator, the
#'   baseline of the privacy check (see [dcr()]).
#' @param columns `NULL` (every column of `real`) or the names of the columns to compare.
#' @param c2st_folds Number of cross-validation folds of the C2ST classifiers (at least 2).
#' @param c2st_rows Largest number of rows of each table used by the C2ST.
#' @param energy_rows Largest number of rows of each table used by the energy distance.
#' @param dcr_rows Largest number of synthetic (and baseline) rows whose closest-record
#'   distances are computed.
#' @param bins Number of quantile bins of a continuous column in a mixed pair.
#' @param network `TRUE` to run the neural-network C2ST as well as the logistic one.
#' @param forest `TRUE` to run the random-forest C2ST and its permutation importance.
#' @param threads `NULL` or the number of threads (see [sandbox_threads()]).
#' @param missing Missing covariate values in the causal-structure checks (the other metrics
#'   always keep every row and compare the missing-value rates): `"indicator"` (the default,
#'   as in [estimate_ate()]: every row is kept, a missing value enters as 0 plus a
#'   missingness indicator), `"complete_case"` (each table's rows with a missing covariate
#'   are left out of the propensity model and the AIPW estimate; the row `rows used` of
#'   `causal` says how many rows remain) or `"fail"` (an error naming the columns).
#' @section Progress: each of the five stages (columns, pairs, C2ST and
#'   energy distance, distance to closest record, causal structure) is reported through progressr, quiet unless
#'   you ask for it: wrap the call in `progressr::with_progress()` or set
#'   `progressr::handlers(global = TRUE)`.
#' @return An object of class `sandbox_fidelity`: a list with `table` (the overview: metric,
#'   value, which direction is better), `columns` (per-column metrics), `pairs` (per-pair
#'   metrics), `joint` (C2ST AUCs and scores, energy distance), `dcr` (a `sandbox_dcr`
#'   object), `causal` (`NULL` or a data.frame of propensity AUC and ATE in each table),
#'   `association` (correlation matrices of the continuous and binary columns, for the plot),
#'   `missing` (the strategy of the causal checks),
#'   `specs`, `n` (row counts) and `data` (the compared columns of both tables, for the plot).
#' @examples
#' set.seed(1)
#' n <- 300
#' make <- function(n) {
#'   age <- rnorm(n, 60, 8)
#'   treat <- rbinom(n, 1, plogis((age - 60) / 8))
#'   data.frame(age = age, sex = factor(sample(c("F", "M"), n, TRUE)), treat = treat,
#'              y = 1 + 0.5 * treat + 0.05 * age + rnorm(n))
#' }
#' fit <- fidelity(make(n), make(n), treatment = "treat", outcome = "y", threads = 1)
#' fit
#' summary(fit)
#' plot(fit, which = "dcr")
#' @export
fidelity <- function(real, synthetic, treatment = NULL, outcome = NULL, holdout = NULL,
                     columns = NULL, c2st_folds = 5, c2st_rows = 5000, energy_rows = 3000,
                     dcr_rows = 10000, bins = 10, network = TRUE, forest = TRUE,
                     threads = NULL, missing = c("indicator", "complete_case", "fail")) {
  missing <- check_missing_choice(missing)
  # survival::Surv columns are compared as their time and event columns
  if (is.data.frame(real) && any(vapply(real, inherits, logical(1), "Surv"))) {
    surv <- names(real)[vapply(real, inherits, logical(1), "Surv")]
    if (is.character(outcome) && length(outcome) == 1L && outcome %in% surv)
      outcome <- c(time = paste0(outcome, ".time"), event = paste0(outcome, ".event"))
    if (!is.null(columns) && is.character(columns))
      columns <- unlist(lapply(columns, function(col)
        if (col %in% surv) paste0(col, c(".time", ".event")) else col))
    return(fidelity(split_surv_columns(real, surv, "real"),
                    split_surv_columns(synthetic, surv, "synthetic"), treatment = treatment,
                    outcome = outcome,
                    holdout = if (!is.null(holdout)) split_surv_columns(holdout, surv, "holdout"),
                    columns = columns, c2st_folds = c2st_folds, c2st_rows = c2st_rows,
                    energy_rows = energy_rows, dcr_rows = dcr_rows, bins = bins,
                    network = network, forest = forest, threads = threads, missing = missing))
  }
  # a time-to-event outcome c(time = , event = ): R/survival_fidelity.R adds its checks
  if (is.character(outcome) && length(outcome) == 2L)
    return(fidelity_survival(real, synthetic, treatment, outcome, holdout = holdout,
                             columns = columns, c2st_folds = c2st_folds, c2st_rows = c2st_rows,
                             energy_rows = energy_rows, dcr_rows = dcr_rows, bins = bins,
                             network = network, forest = forest, threads = threads,
                             missing = missing))
  check_count(c2st_folds, "c2st_folds", min = 2)
  check_count(c2st_rows, "c2st_rows", min = 10)
  check_count(energy_rows, "energy_rows", min = 2)
  check_count(dcr_rows, "dcr_rows", min = 2)
  check_count(bins, "bins", min = 2)
  check_flag(network, "network")
  check_flag(forest, "forest")
  threads <- sandbox_threads(threads)
  if (!is.null(treatment)) check_string(treatment, "treatment")
  if (!is.null(outcome)) {
    check_string(outcome, "outcome")
    if (is.null(treatment))
      stopf("`outcome` needs `treatment` too: the causal checks estimate a treatment effect.",
            argument = "outcome")
  }
  real <- check_table(real, "real", min_rows = 2L)
  synthetic <- check_table(synthetic, "synthetic")
  if (!is.null(holdout)) holdout <- check_table(holdout, "holdout")
  specs <- fidelity_columns(real, synthetic, holdout, columns)
  for (role in c("treatment", "outcome")) {
    col <- get(role)
    if (!is.null(col) && is.null(specs[[col]]))
      stopf("`%s` = \"%s\" is not among the compared columns.", role, col)
  }
  names_used <- names(specs)
  real <- real[names_used]
  synthetic <- synthetic[names_used]

  # progress: one step per stage (columns, pairs, joint, privacy, causal structure)
  progress <- progress_reporter(5L, "fidelity")
  column_table <- column_metrics(real, synthetic, specs)
  report_progress(progress, 1L, "columns")
  pair_table <- pair_metrics(real, synthetic, specs, bins)
  report_progress(progress, 1L, "pairs")
  joint <- joint_metrics(real, synthetic, specs, c2st_folds, c2st_rows, energy_rows, network,
                         threads, forest)
  report_progress(progress, 1L, "C2ST and energy distance")
  privacy <- dcr_compute(real, synthetic, holdout, specs, dcr_rows, threads)
  report_progress(progress, 1L, "distance to closest record")
  causal <- if (is.null(treatment)) NULL else
    causal_metrics(real, synthetic, specs, treatment, outcome, missing)
  report_progress(progress, 1L, "causal structure")

  out <- list(columns = column_table, pairs = pair_table, joint = joint, dcr = privacy,
              causal = causal, association = association_matrices(real, synthetic, specs),
              specs = specs, n = c(real = nrow(real), synthetic = nrow(synthetic)),
              treatment = treatment, outcome = outcome, missing = missing,
              data = list(real = real, synthetic = synthetic))
  out$table <- overview_table(out)
  class(out) <- "sandbox_fidelity"
  out
}

# ---- columns --------------------------------------------------------------------------------

column_metrics <- function(real, synthetic, specs) {
  rows <- lapply(specs, function(spec) {
    a <- real[[spec$name]]
    b <- synthetic[[spec$name]]
    miss_a <- mean(is.na(a))
    miss_b <- mean(is.na(b))
    a <- a[!is.na(a)]
    b <- b[!is.na(b)]
    if (spec$kind == "continuous") {
      a <- as.double(a)
      b <- as.double(b)
      score <- if (length(b) == 0L) 0 else 1 - ks_statistic(a, b)
      wass <- if (length(b) == 0L) NA_real_ else
        wasserstein_distance(a, b) / (spec$upper - spec$lower)
      metric <- "KS complement"
    } else {
      score <- if (length(b) == 0L) 0 else
        1 - tv_distance(category_codes(a, spec), category_codes(b, spec), length(spec$levels))
      wass <- NA_real_
      metric <- "TV complement"
    }
    data.frame(column = spec$name, type = spec$kind, metric = metric, score = score,
               wasserstein = wass, missing_real = miss_a, missing_synthetic = miss_b,
               missing_similarity = 1 - abs(miss_a - miss_b), stringsAsFactors = FALSE)
  })
  out <- do.call(rbind, rows)
  rownames(out) <- NULL
  out
}

# Two-sample Kolmogorov-Smirnov statistic: largest gap between the empirical CDFs.
ks_statistic <- function(a, b) {
  grid <- sort(unique(c(a, b)))
  fa <- findInterval(grid, sort(a)) / length(a)
  fb <- findInterval(grid, sort(b)) / length(b)
  max(abs(fa - fb))
}

# Wasserstein-1 distance between two empirical distributions: the area between their CDFs.
wasserstein_distance <- function(a, b) {
  grid <- sort(unique(c(a, b)))
  if (length(grid) < 2L) return(0)
  fa <- findInterval(grid, sort(a)) / length(a)
  fb <- findInterval(grid, sort(b)) / length(b)
  sum(abs(fa - fb)[-length(grid)] * diff(grid))
}

# Total variation distance between the category frequencies of codes a and b (1..k).
tv_distance <- function(a, b, k) {
  0.5 * sum(abs(tabulate(a, k) / length(a) - tabulate(b, k) / length(b)))
}

# ---- pairs ----------------------------------------------------------------------------------

pair_metrics <- function(real, synthetic, specs, bins) {
  if (length(specs) < 2L)
    return(data.frame(column1 = character(), column2 = character(), type = character(),
                      metric = character(), score = numeric(), real = numeric(),
                      synthetic = numeric(), stringsAsFactors = FALSE))
  # per column: numeric values (continuous) and category or bin codes with their count
  prepared <- lapply(specs, function(spec) {
    a <- real[[spec$name]]
    b <- synthetic[[spec$name]]
    if (spec$kind == "continuous") {
      a <- as.double(a)
      b <- as.double(b)
      breaks <- unique(stats::quantile(a, probs = seq(0, 1, length.out = bins + 1L),
                                       na.rm = TRUE, names = FALSE, type = 7))
      breaks[1L] <- -Inf
      breaks[length(breaks)] <- Inf
      list(kind = "continuous", real = a, synthetic = b,
           code_real = findInterval(a, breaks, left.open = TRUE),
           code_synthetic = findInterval(b, breaks, left.open = TRUE),
           k = length(breaks) - 1L)
    } else {
      list(kind = "categorical", code_real = category_codes(a, spec),
           code_synthetic = category_codes(b, spec), k = length(spec$levels))
    }
  })
  continuous <- names(specs)[vapply(specs, function(s) s$kind == "continuous", TRUE)]
  corr_real <- correlation_matrix(real, continuous)
  corr_syn <- correlation_matrix(synthetic, continuous)
  combos <- utils::combn(names(specs), 2L)
  rows <- lapply(seq_len(ncol(combos)), function(j) {
    p <- prepared[[combos[1L, j]]]
    q <- prepared[[combos[2L, j]]]
    if (p$kind == "continuous" && q$kind == "continuous") {
      r_real <- corr_real[combos[1L, j], combos[2L, j]]
      r_syn <- corr_syn[combos[1L, j], combos[2L, j]]
      type <- "continuous"
      metric <- "correlation similarity"
      score <- 1 - abs(r_real - r_syn) / 2
    } else {
      r_real <- r_syn <- NA_real_
      type <- if (p$kind == q$kind) "categorical" else "mixed"
      metric <- if (type == "mixed") "binned contingency similarity" else
        "contingency similarity"
      score <- 1 - contingency_distance(p, q)
    }
    data.frame(column1 = combos[1L, j], column2 = combos[2L, j], type = type, metric = metric,
               score = score, real = r_real, synthetic = r_syn, stringsAsFactors = FALSE)
  })
  out <- do.call(rbind, rows)
  rownames(out) <- NULL
  out
}

# Pearson correlations on pairwise complete rows; 0 when a column is constant there (or
# fewer than two rows are complete).
correlation_matrix <- function(data, columns) {
  if (length(columns) < 2L) return(NULL)
  m <- vapply(columns, function(col) as.double(data[[col]]), numeric(nrow(data)))
  if (nrow(data) == 1L) m <- matrix(m, nrow = 1L, dimnames = list(NULL, columns))
  out <- suppressWarnings(stats::cor(m, use = "pairwise.complete.obs"))
  out[is.na(out)] <- 0
  diag(out) <- 1
  out
}

# Total variation distance between the two-way frequency tables of a pair of coded columns.
contingency_distance <- function(p, q) {
  joint <- function(x, y) {
    ok <- !is.na(x) & !is.na(y)
    cells <- tabulate(x[ok] + p$k * (y[ok] - 1L), p$k * q$k)
    if (sum(ok) == 0L) cells else cells / sum(ok)
  }
  0.5 * sum(abs(joint(p$code_real, q$code_real) - joint(p$code_synthetic, q$code_synthetic)))
}

# Correlations among continuous and binary (0/1-coded) columns, for the heat map.
association_matrices <- function(real, synthetic, specs) {
  keep <- Filter(function(s) s$kind == "continuous" || length(s$levels) == 2L, specs)
  if (length(keep) < 2L) return(NULL)
  numeric_view <- function(data) {
    as.data.frame(lapply(keep, function(s) {
      v <- data[[s$name]]
      if (s$kind == "continuous") as.double(v) else as.double(category_codes(v, s) == 2L)
    }), col.names = names(keep), optional = TRUE)
  }
  list(real = correlation_matrix(numeric_view(real), names(keep)),
       synthetic = correlation_matrix(numeric_view(synthetic), names(keep)))
}

# ---- joint ----------------------------------------------------------------------------------

joint_metrics <- function(real, synthetic, specs, folds, c2st_rows, energy_rows, network,
                          threads, forest = FALSE) {
  # C2ST on balanced subsamples, so an AUC of 0.5 means indistinguishable
  m <- min(nrow(real), nrow(synthetic), c2st_rows)
  xr <- distance_features(real[sample.int(nrow(real), m), , drop = FALSE], specs)
  xs <- distance_features(synthetic[sample.int(nrow(synthetic), m), , drop = FALSE], specs)
  x <- rbind(xr, xs)
  y <- rep(c(0, 1), each = m)
  fold <- grouped_folds(x, y, min(folds, m))
  n_folds <- max(fold)
  if (m < 2L) {
    # one row per table: nothing to cross-validate
    auc_logit <- auc_net <- sdm_logit <- sdm_net <- NA_real_
  } else if (n_folds < 2L) {
    # every row of both tables is the same record: indistinguishable by construction
    auc_logit <- 0.5
    sdm_logit <- 1
    auc_net <- if (network) 0.5 else NA_real_
    sdm_net <- if (network) 1 else NA_real_
  } else {
    p_logit <- cv_logistic(x, y, fold)
    auc_logit <- auc(p_logit, y)
    sdm_logit <- sdmetrics_detection(p_logit, y, fold)
    auc_net <- sdm_net <- NA_real_
  }
  # the network needs at least two training rows outside every fold
  if (network && m >= 2L && n_folds >= 2L && all(length(fold) - tabulate(fold) >= 2L)) {
    options <- list(hidden = 32L, max_epochs = 100L, patience = 5L, batch = 64L, lr = 1e-3,
                    weight_decay = 1e-4, valid_share = 0.1)
    p_net <- .Call(C_classifier_cv, x, y, as.integer(fold), options, engine_seed(), threads)
    auc_net <- auc(p_net, y)
    sdm_net <- sdmetrics_detection(p_net, y, fold)
  }
  detector <- NA_character_
  auc_forest <- NA_real_
  importance <- NULL
  if (forest && m >= 2L) {
    if (n_folds < 2L) {
      auc_forest <- 0.5
    } else {
      found <- forest_c2st(x, y, fold, feature_blocks(specs), threads)
      detector <- found$detector
      auc_forest <- found$auc
      importance <- found$importance
    }
  }
  # energy distance on random subsamples (all rows when the tables are small enough)
  er <- distance_features(real[subsample_rows(nrow(real), energy_rows), , drop = FALSE], specs)
  es <- distance_features(synthetic[subsample_rows(nrow(synthetic), energy_rows), ,
                                    drop = FALSE], specs)
  between <- .Call(C_distance_mean, er, es, threads)
  within_real <- .Call(C_distance_mean, er, er, threads)
  within_syn <- .Call(C_distance_mean, es, es, threads)
  energy <- max(0, 2 * between - within_real - within_syn)
  list(c2st_rows = m, detector = detector, auc_forest = auc_forest,
       c2st_forest = 1 - 2 * abs(auc_forest - 0.5), forest_importance = importance,
       auc_logistic = auc_logit, c2st_logistic = 1 - 2 * abs(auc_logit - 0.5),
       auc_network = auc_net, c2st_network = 1 - 2 * abs(auc_net - 0.5),
       c2st_logistic_sdmetrics = sdm_logit, c2st_network_sdmetrics = sdm_net,
       energy = energy, energy_normalised = if (between > 0) energy / (2 * between) else 0,
       energy_rows = c(real = nrow(er), synthetic = nrow(es)))
}

# SDMetrics' form of the detection score (the published CausalMix table uses it): the AUC of
# each held-out fold, one below 0.5 counted as 0.5, as 1 - mean(2 max(AUC, 0.5) - 1). Unlike
# 1 - 2 |AUC - 0.5| of the pooled predictions, a classifier that ranks the tables the wrong
# way round is not counted as detecting them.
sdmetrics_detection <- function(prob, y, fold) {
  fold_auc <- vapply(sort(unique(fold)), function(f) auc(prob[fold == f], y[fold == f]), 0)
  1 - mean(2 * pmax(fold_auc, 0.5) - 1)
}

# Random folds that keep identical rows together: a copy of a test row in the training folds,
# labelled with the other table, would push the held-out predictions the wrong way (and
# identical tables would not score 1). Stratified: groups of real rows only, of synthetic
# rows only and of rows from both tables are spread over the folds separately, so every
# fold holds the two tables in the same proportion.
grouped_folds <- function(x, y, k) {
  key <- do.call(paste, c(as.data.frame(x), sep = "\r"))
  group <- match(key, key)
  first <- unique(group)
  k <- min(k, length(first))
  has_real <- tabulate(group[y == 0], length(group)) > 0
  has_synthetic <- tabulate(group[y == 1], length(group)) > 0
  stratum <- has_real[first] + 2L * has_synthetic[first]
  fold_of <- integer(length(group))
  fold_of[first] <- fold_labels(stratum, k)
  fold_of[group]
}

# Out-of-fold probabilities of a logistic regression.
cv_logistic <- function(x, y, fold) {
  design <- cbind(1, x)
  prob <- numeric(length(y))
  for (f in sort(unique(fold))) {
    test <- fold == f
    beta <- logistic_coefficients(design[!test, , drop = FALSE], y[!test])
    prob[test] <- stats::plogis(drop(design[test, , drop = FALSE] %*% beta))
  }
  prob
}

# Logistic regression coefficients; aliased columns (e.g. a full one-hot block next to the
# intercept) get 0. Perfect separation is a legitimate C2ST outcome, so its warnings are muted.
logistic_coefficients <- function(design, y, weights = NULL) {
  fit <- suppressWarnings(stats::glm.fit(design, y, weights = weights,
                                         family = stats::binomial(),
                                         control = list(maxit = 50)))
  beta <- fit$coefficients
  beta[is.na(beta)] <- 0
  beta
}

# Area under the ROC curve (Mann-Whitney, ties counted one half).
auc <- function(score, label) {
  pos <- label == 1
  n1 <- sum(pos)
  n0 <- length(label) - n1
  if (n1 == 0L || n0 == 0L) return(NA_real_)
  (sum(rank(score)[pos]) - n1 * (n1 + 1) / 2) / (n1 * n0)
}

# ---- causal structure -----------------------------------------------------------------------

causal_metrics <- function(real, synthetic, specs, treatment, outcome,
                           missing = "indicator") {
  # the treatment's two values and the outcome's coding are read from `real` by the input
  # layer and applied to both tables
  roles <- list(treatment = treatment,
                treatment_levels = treatment_coding(real[[treatment]], treatment)$levels)
  if (!is.null(outcome)) {
    y_coding <- outcome_coding(real[[outcome]], outcome)
    roles$outcome <- outcome
    roles$outcome_levels <- y_coding$levels
    roles$outcome_type <- if (y_coding$type == "numeric") "numeric"
  }
  covariates <- Filter(function(s) !(s$name %in% c(treatment, outcome)), specs)
  if (length(covariates) == 0L)
    stopf("The causal checks need at least one covariate besides the treatment and outcome.",
          argument = "columns")
  cov_names <- names(covariates)
  one_table <- function(data, label) {
    coded <- tryCatch(role_vectors(data, roles), causalsandbox_input_error = function(e)
      stopf("In `%s`: %s", label, conditionMessage(e), argument = label, column = e$column))
    t <- coded$a
    # missing covariate values: "indicator" keeps every row (NA as 0 plus a missingness
    # indicator, see regression_features()); "complete_case" drops the rows with an NA;
    # "fail" refuses them (the input layer's error, naming `missing`)
    keep <- prepare_covariates(data[cov_names], missing)$keep
    x <- regression_features(data[keep, , drop = FALSE], covariates)
    t <- t[keep]
    if (length(unique(t)) < 2L)
      return(c(auc = NA_real_, ate = NA_real_, se = NA_real_))
    design <- cbind(1, x)
    e <- stats::plogis(drop(design %*% logistic_coefficients(design, t)))
    res <- c(auc = auc(e, t), ate = NA_real_, se = NA_real_)
    if (!is.null(outcome)) {
      frame <- data.frame(x, .t = t, .y = coded$y[keep], check.names = FALSE)
      fit <- tryCatch(estimate_ate(frame, ".t", ".y", colnames(x), method = "aipw"),
                      error = function(e) {
                        warning(sprintf("AIPW on `%s` failed: %s", label, conditionMessage(e)),
                                call. = FALSE)
                        NULL
                      })
      if (!is.null(fit)) res[c("ate", "se")] <- unlist(fit$estimates[1L, c("estimate", "se")])
    }
    c(res, rows = sum(keep))
  }
  r <- one_table(real, "real")
  s <- one_table(synthetic, "synthetic")
  out <- data.frame(quantity = c("propensity AUC", "ATE (AIPW)", "ATE standard error",
                                 "rows used"),
                    real = unname(r), synthetic = unname(s), stringsAsFactors = FALSE)
  if (is.null(outcome)) out <- out[c(1L, 4L), ]
  rownames(out) <- NULL
  out
}

# Covariate matrix for the causal regressions: the distance encoding without the first
# category of each categorical column (the intercept stands for it) and without columns that
# are constant in this table; named x1, x2, ... so any column names are safe.
regression_features <- function(data, specs) {
  blocks <- lapply(specs, function(spec) {
    block <- distance_features(data, list(spec))
    if (spec$kind == "categorical" && length(spec$levels) > 2L) block <- block[, -1L, drop = FALSE]
    block
  })
  x <- do.call(cbind, blocks)
  x <- x[, apply(x, 2L, function(v) any(v != v[1L])), drop = FALSE]
  colnames(x) <- if (ncol(x) > 0L) paste0("x", seq_len(ncol(x))) else character()
  x
}

# ---- overview, print, summary, plot --------------------------------------------------------

overview_table <- function(object) {
  cols <- object$columns
  pairs <- object$pairs
  cont <- cols$type == "continuous"
  mean_or_na <- function(v) if (length(v) == 0L) NA_real_ else mean(v)
  pair_mean <- function(type) mean_or_na(pairs$score[pairs$type == type])
  rows <- list(
    c("KS complement (continuous columns)", mean_or_na(cols$score[cont]), "higher"),
    c("normalised Wasserstein (continuous columns)", mean_or_na(cols$wasserstein[cont]),
      "lower"),
    c("TV complement (categorical columns)", mean_or_na(cols$score[!cont]), "higher"),
    c("missing-rate similarity", mean_or_na(cols$missing_similarity), "higher"),
    c("correlation similarity (continuous pairs)", pair_mean("continuous"), "higher"),
    c("contingency similarity (categorical pairs)", pair_mean("categorical"), "higher"),
    c("binned contingency similarity (mixed pairs)", pair_mean("mixed"), "higher"),
    c("normalised energy distance", object$joint$energy_normalised, "lower"),
    c("C2ST AUC, random forest", object$joint$auc_forest, "closer to 0.5"),
    c("C2ST score, random forest", object$joint$c2st_forest, "higher"),
    c("C2ST score, logistic regression", object$joint$c2st_logistic, "higher"),
    c("C2ST score, neural network", object$joint$c2st_network, "higher"),
    c("C2ST score, logistic regression (SDMetrics form)",
      object$joint$c2st_logistic_sdmetrics, "higher"),
    c("C2ST score, neural network (SDMetrics form)", object$joint$c2st_network_sdmetrics,
      "higher"),
    c(sprintf("DCR ratio (synthetic / %s)", object$dcr$baseline_type), object$dcr$ratio,
      "higher"),
    c("share closer than baseline DCR 5th percentile", object$dcr$share_closer, "lower"),
    c("exact-copy rate", object$dcr$exact_copy_rate, "lower"),
    c("exact-match rate of the baseline rows (chance level)",
      object$dcr$baseline_exact_rate %||% NA_real_, "reference"),
    c("memorisation ratio (to training subset / to hold-out)",
      object$dcr$memorisation$ratio %||% NA_real_, "about 1"))
  out <- data.frame(metric = vapply(rows, `[`, "", 1L),
                    value = as.double(vapply(rows, `[`, "", 2L)),
                    better = vapply(rows, `[`, "", 3L), stringsAsFactors = FALSE)
  out
}

#' @export
print.sandbox_fidelity <- function(x, digits = 3, ...) {
  n_cont <- sum(x$columns$type == "continuous")
  cat(sprintf(paste0("Fidelity of a synthetic table: %d real rows, %d synthetic rows, ",
                     "%d columns (%d continuous, %d categorical)\n"),
              x$n[["real"]], x$n[["synthetic"]], nrow(x$columns), n_cont,
              nrow(x$columns) - n_cont))
  tab <- x$table[!is.na(x$table$value), ]
  tab$value <- formatC(tab$value, digits = digits, format = "f")
  tab$better <- ifelse(tab$better %in% c("higher", "lower"),
                       paste(tab$better, "is better"), tab$better)
  names(tab) <- c("metric", "value", "")
  print(tab, row.names = FALSE, right = FALSE)
  if (!is.null(x$causal)) {
    cat(sprintf("\nCausal structure (treatment `%s`%s)\n", x$treatment,
                if (is.null(x$outcome)) "" else sprintf(", outcome `%s`", x$outcome)))
    causal <- x$causal
    count <- causal$quantity == "rows used"
    for (col in c("real", "synthetic"))
      causal[[col]] <- ifelse(count, formatC(causal[[col]], format = "d"),
                              formatC(causal[[col]], digits = digits, format = "f"))
    print(causal, row.names = FALSE, right = FALSE)
  }
  importance <- x$joint$forest_importance
  if (!is.null(importance) && nrow(importance) > 0L) {
    top <- utils::head(importance[importance$auc_drop > 0, , drop = FALSE], 5L)
    if (nrow(top))
      cat(sprintf("\nWhat gives the synthetic rows away (forest AUC drop when permuted): %s\n",
                  paste(sprintf("%s %.3f", top$column, top$auc_drop), collapse = ", ")))
  }
  invisible(x)
}

#' @export
summary.sandbox_fidelity <- function(object, ...) {
  pairs <- object$pairs[order(object$pairs$score), , drop = FALSE]
  rownames(pairs) <- NULL
  structure(list(table = object$table, columns = object$columns, pairs = pairs,
                 joint = object$joint, dcr = object$dcr, causal = object$causal,
                 n = object$n), class = "summary.sandbox_fidelity")
}

#' @export
print.summary.sandbox_fidelity <- function(x, digits = 3, max_pairs = 10, ...) {
  cat(sprintf("Fidelity summary: %d real rows, %d synthetic rows\n\n", x$n[["real"]],
              x$n[["synthetic"]]))
  cat("Columns (score = KS complement or TV complement; Wasserstein normalised by the",
      "real range):\n")
  cols <- x$columns[c("column", "type", "score", "wasserstein", "missing_real",
                      "missing_synthetic")]
  print(format(cols, digits = digits), row.names = FALSE, right = FALSE)
  if (nrow(x$pairs) > 0L) {
    cat(sprintf("\nLeast similar pairs (%d of %d):\n", min(max_pairs, nrow(x$pairs)),
                nrow(x$pairs)))
    print(format(utils::head(x$pairs, max_pairs), digits = digits), row.names = FALSE,
          right = FALSE)
  }
  cat(sprintf(paste0("\nC2ST: AUC %s (random forest), %.3f (logistic), %s (network) on %d ",
                     "rows of each table; energy distance %.4f (normalised %.4f)\n"),
              if (is.na(x$joint$auc_forest)) "not run" else sprintf("%.3f", x$joint$auc_forest),
              x$joint$auc_logistic,
              if (is.na(x$joint$auc_network)) "not run" else sprintf("%.3f",
                                                                      x$joint$auc_network),
              x$joint$c2st_rows, x$joint$energy, x$joint$energy_normalised))
  if (!is.null(x$joint$forest_importance)) {
    cat(sprintf("\nPer-column contribution to the %s detector (held-out AUC drop when the column is permuted):\n",
                x$joint$detector))
    print(format(x$joint$forest_importance, digits = digits), row.names = FALSE, right = FALSE)
  }
  cat("\n")
  print(x$dcr, digits = digits)
  if (!is.null(x$causal)) {
    cat("\nCausal structure:\n")
    print(format(x$causal, digits = digits), row.names = FALSE, right = FALSE)
  }
  invisible(x)
}

#' Plot fidelity diagnostics
#'
#' Base-graphics views of a [fidelity()] result, all on one page: marginal distributions of
#' the real and the synthetic table overlaid, a heat map of the differences between their
#' correlation matrices (continuous and binary columns), and histograms of the distances to
#' closest record of synthetic and baseline rows.
#'
#' @param x A `sandbox_fidelity` object.
#' @param which Which views to draw: any of `"marginals"`, `"correlation"`, `"dcr"`.
#' @param columns `NULL` (the first 12 columns) or the names of the columns whose marginals
#'   are drawn.
#' @param ... Unused.
#' @return `x`, invisibly.
#' @examples
#' set.seed(1)
#' real <- data.frame(a = rnorm(200), b = rexp(200), g = sample(letters[1:3], 200, TRUE))
#' syn <- data.frame(a = rnorm(200), b = rexp(200), g = sample(letters[1:3], 200, TRUE))
#' fit <- fidelity(real, syn, network = FALSE, threads = 1)
#' plot(fit, which = "marginals")
#' @export
plot.sandbox_fidelity <- function(x, which = c("marginals", "correlation", "dcr"),
                                  columns = NULL, ...) {
  which <- match.arg(which, several.ok = TRUE)
  if (is.null(columns)) columns <- utils::head(names(x$specs), 12L)
  unknown <- setdiff(columns, names(x$specs))
  if (length(unknown) > 0L)
    stopf("`columns` names columns that were not compared: %s.",
                 paste0("`", unknown, "`", collapse = ", "), argument = "columns")
  real_col <- grDevices::adjustcolor("grey40", 0.5)
  syn_col <- grDevices::adjustcolor("firebrick", 0.5)
  # one page: a grid with a panel per marginal, then the correlation map and the DCR
  # histograms
  n_panels <- ("marginals" %in% which) * length(columns) +
    ("correlation" %in% which && !is.null(x$association)) + ("dcr" %in% which)
  nc <- max(1L, ceiling(sqrt(n_panels)))
  old_page <- graphics::par(mfrow = c(max(1L, ceiling(n_panels / nc)), nc),
                            mgp = c(2, 0.6, 0))
  on.exit(graphics::par(old_page))
  if ("marginals" %in% which) {
    old_mar <- graphics::par(mar = c(3, 3, 2, 1))
    for (col in columns) plot_marginal(x, x$specs[[col]], real_col, syn_col)
    # one legend for the marginals, on the last of them
    graphics::legend("topright", bty = "n", cex = 0.8, fill = c(real_col, syn_col),
                     legend = c("real", "synthetic"))
    graphics::par(old_mar)
  }
  if ("correlation" %in% which) {
    if (is.null(x$association)) {
      message("No correlation heat map: fewer than two continuous or binary columns.")
    } else {
      diff <- x$association$synthetic - x$association$real
      k <- ncol(diff)
      old <- graphics::par(mar = c(7, 7, 3, 5))
      palette <- grDevices::hcl.colors(21, "Blue-Red 3")
      # symmetric around 0 and spanning the differences observed, so small ones show
      limit <- max(abs(diff), 1e-3)
      graphics::image(seq_len(k), seq_len(k), diff[, rev(seq_len(k)), drop = FALSE],
                      zlim = c(-limit, limit), col = palette, axes = FALSE, xlab = "",
                      ylab = "", main = "Correlation difference (synthetic - real)")
      graphics::axis(1, seq_len(k), colnames(diff), las = 2, cex.axis = 0.7)
      graphics::axis(2, seq_len(k), rev(colnames(diff)), las = 1, cex.axis = 0.7)
      graphics::box()
      key <- limit * c(-1, -0.5, 0, 0.5, 1)
      graphics::legend(k + 0.6, k + 0.5, legend = format(signif(key, 2)), xpd = TRUE,
                       bty = "n", cex = 0.7, title = "difference",
                       fill = palette[round((key / limit + 1) / 2 * (length(palette) - 1)) + 1L])
      graphics::par(old)
    }
  }
  if ("dcr" %in% which) plot(x$dcr)
  invisible(x)
}

plot_marginal <- function(x, spec, real_col, syn_col) {
  a <- x$data$real[[spec$name]]
  b <- x$data$synthetic[[spec$name]]
  if (spec$kind == "continuous") {
    a <- as.double(a[!is.na(a)])
    b <- as.double(b[!is.na(b)])
    breaks <- pretty(range(c(a, b)), n = 30)
    ha <- graphics::hist(a, breaks = breaks, plot = FALSE)
    hb <- if (length(b) > 0L) graphics::hist(b, breaks = breaks, plot = FALSE) else NULL
    graphics::plot(ha, freq = FALSE, col = real_col, border = NA, main = spec$name, xlab = "",
                   ylim = c(0, max(ha$density, hb$density)))
    if (!is.null(hb)) graphics::plot(hb, freq = FALSE, col = syn_col, border = NA, add = TRUE)
  } else {
    k <- length(spec$levels)
    freq <- rbind(real = tabulate(category_codes(a[!is.na(a)], spec), k) / max(1, sum(!is.na(a))),
                  synthetic = tabulate(category_codes(b[!is.na(b)], spec), k) /
                    max(1, sum(!is.na(b))))
    colnames(freq) <- spec$levels
    graphics::barplot(freq, beside = TRUE, col = c(real_col, syn_col), border = NA,
                      main = spec$name, las = 2, cex.names = 0.7)
  }
}

# ---- the compared columns: matching, kinds, codes and the numeric features shared by
# fidelity(), dcr() and the classifier two-sample test ----

# Match the columns of the tables and decide how each column is compared. Returns a list of
# specs: name, kind ("continuous" or "categorical"), levels (categorical), center and scale
# (continuous, from the real data), missing (TRUE when any table has an NA in the column).
fidelity_columns <- function(real, synthetic, holdout = NULL, columns = NULL) {
  real <- check_table(real, "real", min_rows = 2L)
  synthetic <- check_table(synthetic, "synthetic", min_rows = 1L)
  if (!is.null(holdout)) holdout <- check_table(holdout, "holdout", min_rows = 1L)
  if (is.null(columns)) {
    columns <- names(real)
  } else if (!is.character(columns) || length(columns) == 0L || anyNA(columns)) {
    stopf("`columns` must be NULL or a character vector of column names, not %s.",
          describe(columns), argument = "columns")
  }
  if (length(columns) == 0L) stopf("`real` has no columns to compare.", argument = "real")
  tables <- list(real = real, synthetic = synthetic)
  if (!is.null(holdout)) tables$holdout <- holdout
  for (nm in names(tables)) {
    absent <- setdiff(columns, names(tables[[nm]]))
    if (length(absent) > 0L)
      stopf("`%s` lacks column%s %s; the tables must share the compared columns.",
            nm, if (length(absent) > 1L) "s" else "", quote_names(absent),
            argument = nm, column = absent)
  }
  specs <- lapply(columns, function(col) {
    groups <- vapply(tables, function(tab) storage_group(tab[[col]]), "")
    if (any(groups == "unsupported"))
      stopf("Column `%s` of `%s` must be numeric, logical, factor or character.",
                   col, names(groups)[groups == "unsupported"][1L], column = col)
    if (any(groups != groups[["real"]])) {
      bad <- names(groups)[groups != groups[["real"]]][1L]
      stopf("Column `%s` is %s in `real` but %s in `%s`; the types must match.",
                   col, groups[["real"]], groups[[bad]], bad, column = col)
    }
    values <- lapply(tables, `[[`, col)
    for (nm in names(values))
      if (groups[[nm]] == "numeric" && any(is.infinite(values[[nm]])))
        stopf("Column `%s` of `%s` has infinite values; expected finite numbers or NA.",
                     col, nm, column = col)
    missing <- any(vapply(values, anyNA, TRUE))
    real_values <- values$real[!is.na(values$real)]
    if (length(real_values) == 0L)
      stopf("Column `%s` of `real` has only missing values.", col, column = col)
    if (groups[["real"]] == "numeric" && length(unique(real_values)) > 2L) {
      sd_real <- stats::sd(real_values)
      list(name = col, kind = "continuous", levels = NULL, center = mean(real_values),
           scale = if (is.finite(sd_real) && sd_real > 0) sd_real else 1, missing = missing,
           lower = min(real_values), upper = max(real_values))
    } else {
      declared <- if (is.factor(values$real)) levels(values$real)
        else if (is.numeric(real_values)) as.character(sort(unique(real_values)))
        else sort(unique(as.character(real_values)))
      seen <- unique(unlist(lapply(values, function(v) as.character(v[!is.na(v)]))))
      list(name = col, kind = "categorical", levels = c(declared, setdiff(seen, declared)),
           center = NA_real_, scale = NA_real_, missing = missing)
    }
  })
  names(specs) <- columns
  specs
}

storage_group <- function(v) {
  if (is.factor(v) || is.character(v)) "categorical"
  else if (is.logical(v)) "logical"
  else if (is.numeric(v)) "numeric"
  else "unsupported"
}

# Category codes 1..K of a categorical column (NA stays NA).
category_codes <- function(v, spec) match(as.character(v), spec$levels)

# The numeric matrix the distance metrics work on (see dcr() for the encoding).
distance_features <- function(data, specs) {
  blocks <- lapply(specs, function(spec) {
    v <- data[[spec$name]]
    if (spec$kind == "continuous") {
      block <- matrix((as.double(v) - spec$center) / spec$scale, ncol = 1L)
      block[is.na(block)] <- 0
    } else if (length(spec$levels) == 2L) {
      block <- matrix(sqrt(2) * (category_codes(v, spec) - 1), ncol = 1L)
      block[is.na(block)] <- sqrt(2) / 2
    } else {
      codes <- category_codes(v, spec)
      block <- matrix(0, length(v), length(spec$levels))
      ok <- which(!is.na(codes))
      block[cbind(ok, codes[ok])] <- 1
    }
    if (spec$missing) block <- cbind(block, as.double(is.na(v)))
    block
  })
  x <- do.call(cbind, blocks)
  storage.mode(x) <- "double"
  x
}

# Row indices to use: all rows, or a random subsample of max_rows rows (kept in order).
subsample_rows <- function(n, max_rows) {
  if (n <= max_rows) seq_len(n) else sort(sample.int(n, max_rows))
}

# The table with each survival::Surv column in `surv` replaced, in place, by its time and
# event columns `<name>.time` (double) and `<name>.event` (0/1 integer), so that fidelity()
# compares them as it compares plain columns.
split_surv_columns <- function(d, surv, label) {
  if (!is.data.frame(d)) return(d)
  d <- plain_data_frame(d)
  for (col in intersect(surv, names(d))) {
    y <- d[[col]]
    if (!inherits(y, "Surv"))
      stopf("Column `%s` is a survival::Surv column in `real` but %s in `%s`.", col,
            describe(y), label, argument = label, column = col)
    parts <- stats::setNames(data.frame(as.double(y[, 1L]), as.integer(y[, 2L])),
                      paste0(col, c(".time", ".event")))
    clash <- intersect(names(parts), names(d))
    if (length(clash))
      stopf("`%s` already has a column `%s`, the name its Surv column `%s` is split into.",
            label, clash[1L], col, argument = label, column = clash[1L])
    at <- match(col, names(d))
    d <- cbind(d[seq_len(at - 1L)], parts, d[-seq_len(at)])
  }
  d
}
