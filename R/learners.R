# Learners: the nuisance models of the estimators. A learner is a function(x, y, family) that
# fits a regression of y on the data.frame x and returns a prediction function(newx) -> numeric
# (the mean of y: a probability for family "binomial").

# IRLS in C (src/glm.c), mirroring stats::glm.fit (same starting values, convergence rule and
# collinearity rule). `x` is a numeric design matrix. Returns the engine's list.
glm_irls_fit <- function(x, y, family = c("gaussian", "binomial"), weights = NULL,
                         offset = NULL, maxit = 25L, epsilon = 1e-8, tol = 1e-11) {
  family <- match_arg(family)
  storage.mode(x) <- "double"
  control <- list(maxit = as.integer(maxit), epsilon = as.double(epsilon), tol = as.double(tol))
  .Call(C_glm_irls, x, as.double(y),
        if (is.null(weights)) NULL else as.double(weights),
        if (is.null(offset)) NULL else as.double(offset),
        family, control)
}

# Warnings for a fit that did not converge or separated; `model` names it for the user.
glm_fit_warnings <- function(fit, model) {
  if (!fit$converged)
    warning(sprintf("%s: the GLM (IRLS) did not converge in %d iterations.", model,
                    fit$iterations), call. = FALSE)
  if (isTRUE(fit$separated))
    warning(sprintf("%s: fitted probabilities numerically 0 or 1 occurred (separation).",
                    model), call. = FALSE)
  invisible(fit)
}

check_family <- function(family) {
  if (!is.character(family) || length(family) != 1L ||
      !family %in% c("gaussian", "binomial"))
    stopf("`family` must be \"gaussian\" or \"binomial\", not %s.", describe(family),
          argument = "family")
  family
}

check_learner_input <- function(x, y) {
  if (!is.data.frame(x))
    stopf("`x` must be a data.frame, not %s.", describe(x), argument = "x")
  if (!is.numeric(y) && !is.logical(y))
    stopf("`y` must be numeric, not %s.", describe(y), argument = "y")
  if (length(y) != nrow(x))
    stopf("`y` has length %d but `x` has %d rows.", length(y), nrow(x), argument = "y")
}

# A model.matrix-style design builder (factors expanded with treatment contrasts, characters
# treated as factors, intercept first) that rebuilds the same columns for new data.
design_builder <- function(x) {
  if (!ncol(x)) {  # intercept-only model
    intercept <- function(newx) matrix(1, nrow(newx), 1L, dimnames = list(NULL, "(Intercept)"))
    return(list(build = intercept, matrix = intercept(x)))
  }
  if (all(vapply(x, simple_column, logical(1)))) return(fast_design_builder(x))
  chars <- vapply(x, is.character, logical(1))
  x[chars] <- lapply(x[chars], factor)
  terms <- stats::terms(stats::reformulate(sprintf("`%s`", names(x))), data = x)
  frame <- stats::model.frame(terms, x, na.action = stats::na.fail)
  xlevels <- stats::.getXlevels(terms, frame)
  build <- function(newx) {
    miss <- setdiff(names(x), names(newx))
    if (length(miss))
      stopf("`newx` lacks the column(s) %s.", paste(miss, collapse = ", "), argument = "newx")
    newx <- newx[names(x)]
    chars <- vapply(newx, is.character, logical(1))
    newx[chars] <- lapply(newx[chars], factor)
    frame <- stats::model.frame(terms, newx, xlev = xlevels, na.action = stats::na.fail)
    stats::model.matrix(terms, frame)
  }
  list(build = build, matrix = stats::model.matrix(terms, frame))
}

# Columns the fast builder handles: numeric, logical, unordered factor, character. (Ordered
# factors take polynomial contrasts in model.matrix: they go through the general builder.)
simple_column <- function(v) {
  (is.numeric(v) || is.logical(v) || is.character(v) || is.factor(v)) && !is.ordered(v) &&
    is.null(dim(v))
}

# The same design matrix as model.matrix(~ ., x) (intercept, treatment contrasts, columns in
# data order, logical as <name>TRUE) built directly, without model.frame: it is the hot path
# of every estimate in a simulation study.
fast_design_builder <- function(x) {
  cols <- names(x)
  label <- ifelse(make.names(cols) == cols, cols, paste0("`", cols, "`"))
  levels_of <- lapply(x, function(v) {
    if (is.factor(v)) levels(v) else if (is.character(v)) levels(factor(v)) else NULL
  })
  names_out <- c("(Intercept)", unlist(lapply(seq_along(cols), function(j) {
    v <- x[[j]]
    if (!is.null(levels_of[[j]])) paste0(label[j], levels_of[[j]][-1L])
    else if (is.logical(v)) paste0(label[j], "TRUE") else label[j]
  })))
  build <- function(newx) {
    miss <- setdiff(cols, names(newx))
    if (length(miss))
      stopf("`newx` lacks the column(s) %s.", paste(miss, collapse = ", "), argument = "newx")
    n <- nrow(newx)
    blocks <- vector("list", length(cols))
    for (j in seq_along(cols)) {
      v <- newx[[cols[j]]]
      if (anyNA(v))
        stopf("Column `%s` has missing values.", cols[j], column = cols[j])
      lev <- levels_of[[j]]
      if (is.null(lev)) {
        blocks[[j]] <- as.double(v)
      } else {
        code <- match(as.character(v), lev)
        if (anyNA(code))
          stopf("Column `%s` has level(s) not seen when fitting: %s.", cols[j],
                       paste(unique(as.character(v)[is.na(code)]), collapse = ", "),
                column = cols[j])
        block <- matrix(0, n, length(lev) - 1L)
        hit <- code > 1L
        block[cbind(which(hit), code[hit] - 1L)] <- 1
        blocks[[j]] <- block
      }
    }
    out <- do.call(cbind, c(list(rep(1, n)), blocks))
    dimnames(out) <- list(NULL, names_out)
    out
  }
  list(build = build, matrix = build(x))
}

#' Generalised linear model learner (IRLS in C)
#'
#' A main-terms GLM: linear regression for `family = "gaussian"`, logistic regression for
#' `family = "binomial"`. The design matrix is built as [stats::model.matrix()] would from the
#' data.frame (intercept, factors and character columns expanded with treatment contrasts,
#' logical columns as 0/1) and rebuilt identically for new data. The fit runs in C and
#' reproduces [stats::glm.fit()] (same coefficients to about 1e-10, same collinearity rule:
#' aliased columns get coefficient 0 as R's `NA`). Non-convergence and separation produce
#' warnings.
#'
#' @param maxit Iteration cap of the iteratively reweighted least squares (as `glm.control`).
#' @param epsilon Convergence tolerance on the relative change in deviance.
#' @return A learner: a `function(x, y, family)` that fits the model and returns a prediction
#'   `function(newx)` giving fitted means (probabilities for `"binomial"`). The prediction
#'   function carries the fit in its attribute `"glm"` (coefficients, unscaled covariance).
#' @examples
#' fit <- learner_glm()(mtcars[c("wt", "hp")], mtcars$am, "binomial")
#' round(fit(mtcars[1:3, ]), 3)
#' @export
learner_glm <- function(maxit = 25, epsilon = 1e-8) {
  check_count(maxit, "maxit")
  check_number(epsilon, "epsilon", lower = 0, lower_open = TRUE)
  learner <- function(x, y, family) {
    check_learner_input(x, y)
    family <- check_family(family)
    design <- design_builder(x)
    fit <- glm_irls_fit(design$matrix, as.double(y), family, maxit = maxit, epsilon = epsilon)
    glm_fit_warnings(fit, "GLM")
    beta <- fit$coefficients
    predict <- function(newx) {
      eta <- unname(drop(design$build(newx) %*% beta))
      if (family == "binomial") stats::plogis(eta) else eta
    }
    attr(predict, "glm") <- list(coefficients = beta, aliased = fit$aliased,
                                 cov_unscaled = fit$cov_unscaled, family = family,
                                 design = design$build, x = design$matrix,
                                 fitted = fit$fitted,
                                 converged = fit$converged, separated = fit$separated)
    predict
  }
  structure(learner, class = c("cs_learner", "function"), label = "glm")
}

#' Random forest learner (ranger)
#'
#' Regression forest for `family = "gaussian"`, probability forest for `"binomial"`, fitted by
#' [ranger::ranger()] (package ranger, in Suggests). Forests are random: call
#' `set.seed()` first; the forest's own seed is drawn from R's generator so results repeat.
#'
#' @param num.trees,min.node.size,mtry Passed to [ranger::ranger()] (`mtry = NULL` uses the
#'   ranger default).
#' @param num.threads Threads used by ranger; resolved by [sandbox_threads()].
#' @param ... Further arguments for [ranger::ranger()].
#' @return A learner `function(x, y, family)` returning a prediction `function(newx)`.
#' @examples
#' if (requireNamespace("ranger", quietly = TRUE)) {
#'   set.seed(1)
#'   fit <- learner_ranger(num.trees = 50, num.threads = 1)(mtcars[c("wt", "hp")], mtcars$mpg,
#'                                                           "gaussian")
#'   round(fit(mtcars[1:3, ]), 1)
#' }
#' @export
learner_ranger <- function(num.trees = 500, min.node.size = NULL, mtry = NULL,
                           num.threads = NULL, ...) {
  check_count(num.trees, "num.trees")
  if (!is.null(min.node.size)) check_count(min.node.size, "min.node.size")
  if (!is.null(mtry)) check_count(mtry, "mtry")
  extra <- list(...)
  learner <- function(x, y, family) {
    need_package("ranger", "learner_ranger()")
    check_learner_input(x, y)
    family <- check_family(family)
    data <- x
    names(data) <- make.names(names(data), unique = TRUE)
    old_names <- names(x)
    binary <- family == "binomial"
    data$.y <- if (binary) factor(as.numeric(y), levels = c(0, 1)) else as.double(y)
    args <- c(list(dependent.variable.name = ".y", data = data, num.trees = num.trees,
                   probability = binary, num.threads = sandbox_threads(num.threads),
                   seed = sample.int(.Machine$integer.max, 1L), verbose = FALSE),
              if (!is.null(min.node.size)) list(min.node.size = min.node.size),
              if (!is.null(mtry)) list(mtry = mtry), extra)
    forest <- do.call(ranger::ranger, args)
    function(newx) {
      newx <- newx[old_names]
      names(newx) <- names(data)[seq_along(old_names)]
      pred <- stats::predict(forest, data = newx, num.threads = sandbox_threads(num.threads))
      if (binary) pred$predictions[, "1"] else pred$predictions
    }
  }
  structure(learner, class = c("cs_learner", "function"), label = "ranger")
}

#' SuperLearner adapter
#'
#' Turns a SuperLearner library (package SuperLearner, in Suggests) into a learner: the
#' ensemble is fitted by [SuperLearner::SuperLearner()] with `V`-fold cross-validation and
#' predicts with its ensemble weights.
#'
#' @param library Character vector of SuperLearner wrappers, e.g. `c("SL.glm", "SL.mean")`.
#' @param V Number of cross-validation folds of the ensemble.
#' @param ... Further arguments for [SuperLearner::SuperLearner()].
#' @return A learner `function(x, y, family)` returning a prediction `function(newx)`.
#' @examples
#' if (requireNamespace("SuperLearner", quietly = TRUE)) {
#'   set.seed(1)
#'   lrn <- learner_superlearner(c("SL.glm", "SL.mean"), V = 3)
#'   fit <- suppressWarnings(lrn(mtcars[c("wt", "hp")], mtcars$am, "binomial"))
#'   round(fit(mtcars[1:3, ]), 3)
#' }
#' @export
learner_superlearner <- function(library = c("SL.glm", "SL.mean"), V = 10, ...) {
  if (!is.character(library) || length(library) < 1L || anyNA(library))
    stopf("`library` must be a character vector of SuperLearner wrappers, not %s.",
                 describe(library), argument = "library")
  check_count(V, "V", min = 2)
  extra <- list(...)
  learner <- function(x, y, family) {
    need_package("SuperLearner", "learner_superlearner()")
    check_learner_input(x, y)
    family <- check_family(family)
    # SuperLearner wrappers look up the family object by name.
    fam <- if (family == "binomial") stats::binomial() else stats::gaussian()
    # Wrappers are looked up in `env`: the user's (global) definitions first, then the
    # package's own, so that the adapter works without attaching SuperLearner.
    env <- new.env(parent = globalenv())
    for (name in unique(c(unlist(library), "All"))) {
      if (!exists(name, envir = globalenv()) &&
          exists(name, envir = asNamespace("SuperLearner")))
        assign(name, get(name, envir = asNamespace("SuperLearner")), envir = env)
    }
    args <- c(list(Y = as.double(y), X = x, family = fam, SL.library = library,
                   cvControl = list(V = as.integer(V)), env = env), extra)
    fit <- do.call(SuperLearner::SuperLearner, args)
    function(newx) {
      as.numeric(stats::predict(fit, newdata = newx[names(x)], onlySL = TRUE)$pred)
    }
  }
  structure(learner, class = c("cs_learner", "function"), label = "superlearner")
}

# Fits a learner and checks what it returns; `model` names the nuisance model in messages.
fit_learner <- function(learner, x, y, family, model) {
  predict <- withCallingHandlers(
    learner(x, y, family),
    warning = function(w) {
      msg <- conditionMessage(w)
      if (!startsWith(msg, model)) {
        warning(sprintf("%s: %s", model, msg), call. = FALSE)
        invokeRestart("muffleWarning")
      }
    })
  if (!is.function(predict))
    stopf("The %s learner must return a prediction function(newx), not %s.", model,
                 describe(predict))
  predict
}

# Predictions from a fitted learner, checked for length and finiteness.
predict_learner <- function(predict, newx, model) {
  pred <- as.numeric(predict(newx))
  if (length(pred) != nrow(newx) || anyNA(pred) || any(!is.finite(pred)))
    stopf("The %s learner's predictions must be %d finite numbers.", model, nrow(newx))
  pred
}
