# The random-forest classifier two-sample test of fidelity(): the detector that sees point
# masses, heaps, grids and range violations, which a logistic regression on standardised
# columns cannot, and the per-column permutation importance that tells what gives the
# synthetic rows away.

# Forest settings: enough trees for stable out-of-fold probabilities on a few thousand rows.
forest_trees <- 200L

# Out-of-fold forest C2ST on the encoded rows x (labels y: 0 real, 1 synthetic; folds from
# grouped_folds()). `blocks` maps each compared column to its columns of x. Returns
# list(detector, auc, importance) where importance is a data.frame of columns with the mean
# drop of the held-out AUC when that column's values are permuted among the held-out rows
# (a larger drop: the column gives the synthetic rows away more), largest first. Without
# ranger, the package's network classifier gives the AUC and no importance.
forest_c2st <- function(x, y, fold, blocks, threads) {
  if (!requireNamespace("ranger", quietly = TRUE)) {
    options <- list(hidden = 32L, max_epochs = 100L, patience = 5L, batch = 64L, lr = 1e-3,
                    weight_decay = 1e-4, valid_share = 0.1)
    prob <- .Call(C_classifier_cv, x, y, as.integer(fold), options, engine_seed(), threads)
    return(list(detector = "network (ranger not installed)", auc = auc(prob, y),
                importance = NULL))
  }
  colnames(x) <- paste0("f", seq_len(ncol(x)))
  prob <- numeric(length(y))
  drops <- matrix(0, length(blocks), max(fold), dimnames = list(names(blocks), NULL))
  for (f in sort(unique(fold))) {
    test <- fold == f
    train <- data.frame(x[!test, , drop = FALSE], .label = factor(y[!test], levels = c(0, 1)))
    forest <- ranger::ranger(dependent.variable.name = ".label", data = train,
                             num.trees = forest_trees, probability = TRUE,
                             num.threads = threads, seed = sample.int(.Machine$integer.max, 1L),
                             verbose = FALSE)
    held <- x[test, , drop = FALSE]
    predict_synthetic <- function(rows)
      stats::predict(forest, data = as.data.frame(rows), num.threads = threads)$predictions[, "1"]
    prob[test] <- predict_synthetic(held)
    base <- auc(prob[test], y[test])
    if (is.na(base)) next
    for (b in names(blocks)) {
      permuted <- held
      permuted[, blocks[[b]]] <- held[sample.int(nrow(held)), blocks[[b]], drop = FALSE]
      drops[b, f] <- base - auc(predict_synthetic(permuted), y[test])
    }
  }
  importance <- data.frame(column = names(blocks), auc_drop = rowMeans(drops),
                           stringsAsFactors = FALSE)
  importance <- importance[order(-importance$auc_drop), , drop = FALSE]
  rownames(importance) <- NULL
  list(detector = "random forest (ranger)", auc = auc(prob, y), importance = importance)
}

# Columns of distance_features(data, specs) that belong to each compared column.
feature_blocks <- function(specs) {
  widths <- vapply(specs, function(spec) {
    w <- if (spec$kind == "continuous" || length(spec$levels) == 2L) 1L else
      length(spec$levels)
    w + as.integer(isTRUE(spec$missing))
  }, integer(1))
  ends <- cumsum(widths)
  stats::setNames(lapply(seq_along(widths), function(i) seq.int(ends[i] - widths[i] + 1L,
                                                                ends[i])), names(specs))
}

# Memorisation check: for each synthetic row, the distance to its closest row among a random
# subset of the training rows as large as the hold-out, over the distance to its closest
# hold-out row; the ratio of the mean distances. About 1: the synthetic rows are no closer to
# the rows the generator saw than to real rows it never saw; well below 1: memorisation
# (a straight copy of the training rows scores 1 minus the subset's share of them or less).
memorisation_ratio <- function(real_x, hold_x, syn_x, threads) {
  subset <- sort(sample.int(nrow(real_x), min(nrow(real_x), nrow(hold_x))))
  to_train <- nearest_distance(syn_x, real_x[subset, , drop = FALSE], NULL, threads)
  to_hold <- nearest_distance(syn_x, hold_x, NULL, threads)
  list(ratio = if (mean(to_hold) > 0) mean(to_train) / mean(to_hold) else NA_real_,
       training_rows = length(subset), mean_to_training = mean(to_train),
       mean_to_holdout = mean(to_hold))
}
