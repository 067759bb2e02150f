# Causal mixtures from proxies: synthetic potential outcomes (seed 003, Mazaheri, Squires and
# Uhler). The moments come from one C pass (src/moments.c); the small linear algebra that
# turns them into potential-outcome means, class effects and class weights runs in R.

#' Causal mixtures from proxies (synthetic potential outcomes)
#'
#' Estimates the mean potential outcomes \eqn{E[Y(0)]}, \eqn{E[Y(1)]} and the average
#' treatment effect when treatment and outcome are confounded by an unobserved discrete class
#' \eqn{U} with `k` values, using two groups of proxies of \eqn{U}; and, under stronger
#' conditions, the class weights \eqn{P(U = u)} and each class's effect
#' \eqn{E[Y(1) - Y(0) | U = u]}.
#'
#' @section Assumptions and the identification hierarchy:
#' The latent class \eqn{U} takes at most `k` values and is the only confounder, so
#' \eqn{Y(t)} is independent of \eqn{T} given \eqn{U}. The proxies \eqn{Z} in
#' `treatment_proxies` may cause the treatment but are independent of \eqn{(X, Y)} given
#' \eqn{(U, T)}; the proxies \eqn{X} in `outcome_proxies` are independent of \eqn{T} given \eqn{U} (they do not cause, and are not caused by, the
#' treatment).
#'
#' *Level 1 (first moments): \eqn{E[Y(0)]}, \eqn{E[Y(1)]} and the ATE.* These need, in
#' addition, the rank condition: \eqn{E[Z X^T | T = t]} has rank `k` in both arms. For each
#' arm the least-squares solution \eqn{\alpha_t} of
#' \eqn{E[Z X^T | T = t] \alpha_t = E[Z Y | T = t]} satisfies
#' \eqn{E[X | U = u]^T \alpha_t = E[Y(t) | U = u]} for every class, hence
#' \eqn{E[Y(t)] = \alpha_t^T E[X]}: a "synthetic potential outcome" built from \eqn{X}.
#'
#' *Level 2 (higher moments): class weights and class effects.* With
#' \eqn{\gamma^{(1)} = \alpha_1 - \alpha_0} and \eqn{A_t} solving
#' \eqn{E[Z X^T | T = t] A_t = E[Z X^T Y | T = t]}, the recursion
#' \eqn{\gamma^{(l)} = (A_1 - A_0) \gamma^{(l - 1)}} gives the moments
#' \eqn{m_l = \gamma^{(l)T} E[X] = \sum_u P(u) E[Y(1) - Y(0) | u]^l}, \eqn{l = 1, ..., 2k}.
#' This step also needs \eqn{X} independent of \eqn{Y} given \eqn{(U, T)}, because
#' \eqn{E[Z X^T Y | T = t]} must factor through \eqn{E[X | U] E[Y | U, T]}. If a proxy in
#' `outcome_proxies` causes the outcome, \eqn{E[X Y | U, T = t]} gains the term \eqn{Cov(X, Y | U, T = t)},
#' the recursion no longer multiplies by the class effects, and the class effects and weights
#' are biased. (The recursion only uses \eqn{A_1 - A_0}, so an effect of \eqn{X} on \eqn{Y}
#' that is exactly the same in both arms cancels; one that differs between the arms, i.e.
#' \eqn{X} modifies the treatment effect, does not.) Level 1 is untouched either way: it
#' uses only \eqn{E[Z X^T | T = t]}, \eqn{E[Z Y | T = t]} and \eqn{E[X]}, in which no product
#' of \eqn{X} and \eqn{Y} appears. The class effects are then the `k` roots of the moment sequence,
#' found by the matrix pencil (generalised eigenvalues of the Hankel matrices
#' \eqn{[m_{i+j}]} and \eqn{[m_{i+j+1}]}, \eqn{i, j < k}) or by Prony's method (roots of the
#' polynomial whose coefficients span the null space of the \eqn{(k+1) \times (k+1)} Hankel
#' matrix \eqn{[m_{i+j}]}, which also uses \eqn{m_{2k}}); a Vandermonde solve of
#' \eqn{\sum_u P(u) \tau_u^l = m_l}, \eqn{l < k}, gives the weights. The effects must be
#' distinct for the weights to be identified. Classes are reported sorted by effect.
#'
#' @section Encoding of the proxies:
#' Numeric proxy columns enter as they are. Logical, factor and character columns are one-hot
#' encoded: one indicator per observed level except the first. Each side also gets a constant
#' column. A full one-hot block always sums to one, so it spans exactly the same space as the
#' constant plus all but one indicator; the rank condition and the estimands are the same
#' either way (finite-sample estimates differ only in how the rank-`k` truncation below
#' trims sampling noise), and dropping a level only removes an exact collinearity, which
#' carries no information on the class. The constant matters:
#' with it, a single binary proxy per side can identify `k = 2` classes. Each side must encode
#' to at least `k` columns (counting the constant), otherwise the rank condition cannot hold.
#'
#' @section Rank check:
#' In a sample \eqn{E[Z X^T | T = t]} is never exactly rank deficient, so its `k`-th singular
#' value is compared with the sampling noise it would have if the true rank were `k - 1`: the
#' expected Frobenius size of the estimation error left after projecting out the top `k - 1`
#' singular directions (from the sampling variances of the entries, which the moment pass
#' also computes). This bounds the noise in the `k`-th singular value; on the example process
#' the ratio of the `k`-th singular value to it stayed below 1 whenever the rank was
#' deficient. Below `rank_tol` times that level the function stops and shows the singular
#' values. The matrices are then used through their rank-`k` truncated pseudo-inverse. A
#' `(k+1)`-th singular value above the same kind of threshold triggers a warning: the latent
#' variable may have more than `k` classes or a proxy breaks the independence assumptions.
#'
#' @param data A data frame with one row per unit; the treatment and the outcome must have no
#'   missing values, the proxies may (see `missing`).
#' @param treatment Name of the treatment column: any column with two values (0/1 or other
#'   numbers, logical, two strings, a two-level factor), read as everywhere in the package:
#'   the treated arm is the second level of a factor, `TRUE`, the larger number or the later
#'   string in sort order.
#' @param outcome Name of the outcome column: numeric, or any column with two values (a binary
#'   outcome, scored 1 for its event, the second value in the same order as the treatment),
#'   so the potential outcomes are probabilities of the event.
#' @param treatment_proxies Names of the proxy columns \eqn{Z} that may cause the treatment.
#' @param outcome_proxies Names of the proxy columns \eqn{X} that are independent of the
#'   treatment given the latent class (the synthetic potential outcomes are built from them).
#'   Must not share columns with `treatment_proxies`.
#' @param k Number of latent classes (a whole number >= 1).
#' @param method How the class effects are found from the moments: `"matrix_pencil"` or
#'   `"prony"`.
#' @param bootstrap Number of nonparametric bootstrap replicates for standard errors (0 for
#'   none). Replicates run through `future.apply` (honouring `future::plan()`) when it is
#'   installed, and give the same numbers whatever the plan.
#' @param seed `NULL` or a whole number fixing the bootstrap resamples; with `NULL` they come
#'   from R's random number generator, so `set.seed()` fixes them too.
#' @param threads Threads for the moment pass; see [sandbox_threads()]. Results do not depend
#'   on it.
#' @param z,x Deprecated names of `treatment_proxies` and `outcome_proxies` (accepted with a
#'   warning of class `causalsandbox_deprecated_argument` until the next release).
#' @param rank_tol How many times its sampling noise level the `k`-th singular value of
#'   \eqn{E[Z X^T | T = t]} must exceed (see the rank check section).
#' @param missing Missing proxy values: `"indicator"` (the default, as in [estimate_ate()]):
#'   a numeric proxy with missing values is filled with its observed mean and gets a 0/1
#'   missingness indicator as an extra proxy on the same side; a logical, factor or
#'   character proxy gets the level `"(missing)"`. Every row is kept, and the assumptions
#'   still hold when whether a proxy is observed depends only on the latent class (and, for
#'   `z`, on the treatment), since a filled proxy and its indicator are then proxies of the
#'   class themselves. `"complete_case"`: rows with a missing proxy are dropped, so the
#'   estimands refer to the units with every proxy observed. `"fail"`: missing proxies are
#'   an error naming the columns.
#' @return An object of class `causal_mixture`: a list with `potential_outcomes` (named
#'   `E[Y(0)]`, `E[Y(1)]`), `ate`, `mixture` (a data frame of `class`, `weight`, `effect`, or
#'   `NULL` when the higher-moment step failed), `effect_moments` (\eqn{m_0, ..., m_{2k}}),
#'   `singular_values`, `rank_noise` and `rank_threshold` (per arm), `se` (bootstrap
#'   standard errors or `NULL`), `bootstrap` (a matrix of replicate estimates, classes sorted
#'   by effect in each), `identification` (the level each result relies on),
#'   `naive_difference`, `n` (rows used), `n_arm`, `k`, `method`, `missing` (the strategy, the
#'   proxies with missing values and the rows dropped), and the encoded column names
#'   `z_columns`, `x_columns`.
#' @seealso [spo_example_data()] for the test process of the method's authors.
#' @examples
#' d <- spo_example_data(20000, seed = 1)
#' fit <- causal_mixture(d, "t", "y", treatment_proxies = c("z1", "z2"),
#'                       outcome_proxies = c("x1", "x2"), k = 2, threads = 1)
#' fit
#' summary(fit)
#' @export
causal_mixture <- function(data, treatment, outcome, treatment_proxies, outcome_proxies, k,
                           method = c("matrix_pencil", "prony"), bootstrap = 0, seed = NULL,
                           threads = NULL, rank_tol = 1.5,
                           missing = c("indicator", "complete_case", "fail"), z, x) {
  if (!missing(z))
    treatment_proxies <- renamed_arg(z, missing(treatment_proxies), "z", "treatment_proxies",
                                     "causal_mixture")
  if (!missing(x))
    outcome_proxies <- renamed_arg(x, missing(outcome_proxies), "x", "outcome_proxies",
                                   "causal_mixture")
  if (missing(treatment_proxies))
    stopf("`treatment_proxies` is required: the names of proxy columns.",
          argument = "treatment_proxies")
  if (missing(outcome_proxies))
    stopf("`outcome_proxies` is required: the names of proxy columns.",
          argument = "outcome_proxies")
  data <- spo_check_data(data, treatment, outcome, treatment_proxies, outcome_proxies)
  missing <- check_missing_choice(missing)
  check_count(k, "k", min = 1)
  k <- as.integer(k)
  method <- spo_check_method(method)
  check_count(bootstrap, "bootstrap", min = 0)
  if (!is.null(seed)) check_seed(seed)
  check_number(rank_tol, "rank_tol", lower = 0)
  threads <- sandbox_threads(threads)

  coded <- role_vectors(data, list(treatment = treatment, outcome = outcome))
  # missing proxy values by the `missing` strategy (the input layer's prepare_covariates())
  proxies <- spo_prepare_proxies(data, treatment_proxies, outcome_proxies, missing)
  arm <- coded$a[proxies$keep]
  y <- coded$y[proxies$keep]
  if (length(unique(arm)) < 2L)
    stopf("Treatment `%s` must contain both arms%s; every row has %s.", treatment,
          if (missing == "complete_case") " among the complete cases" else "",
          format_value(data[[treatment]][proxies$keep][1L]), argument = "treatment",
          column = treatment)
  zm <- spo_encode(proxies$data, proxies$z, "treatment_proxies")
  xm <- spo_encode(proxies$data, proxies$x, "outcome_proxies")
  for (side in list(list(m = zm, arg = "treatment_proxies"),
                    list(m = xm, arg = "outcome_proxies"))) {
    if (ncol(side$m) < k)
      stopf(paste0("Too few proxies in `%s` for k = %d: they encode to %d column%s ",
                          "(a constant plus %d from the proxies) and at least k = %d are ",
                          "needed for E[Z X^T | T = t] to have rank k."),
                   side$arg, k, ncol(side$m), if (ncol(side$m) == 1L) "" else "s",
                   ncol(side$m) - 1L, k)
  }

  moments <- spo_moments(zm, xm, arm, y, NULL, threads)
  est <- spo_solve(moments, k, method, rank_tol, quiet = FALSE)

  boot <- NULL
  se <- NULL
  if (bootstrap > 0) {
    boot <- spo_bootstrap(zm, xm, arm, y, k, method, rank_tol, as.integer(bootstrap), seed,
                          threads)
    se <- spo_bootstrap_se(boot, k)
  }

  structure(list(
    potential_outcomes = c(`E[Y(0)]` = est$ey[1], `E[Y(1)]` = est$ey[2]),
    ate = est$ate,
    mixture = est$mixture,
    effect_moments = est$effect_moments,
    singular_values = est$singular_values,
    rank_threshold = est$rank_threshold,
    rank_noise = est$rank_noise,
    se = se,
    bootstrap = boot,
    identification = est$identification,
    naive_difference = moments$y[2] - moments$y[1],
    n = length(y),
    n_arm = c(control = sum(arm == 0L), treated = sum(arm == 1L)),
    k = k,
    method = method,
    missing = list(strategy = missing, columns = proxies$with_missing,
                   rows_dropped = sum(!proxies$keep)),
    treatment = treatment,
    outcome = outcome,
    z_columns = colnames(zm),
    x_columns = colnames(xm),
    call = match.call()
  ), class = "causal_mixture")
}

#' Example data for causal mixtures (the seed-003 test process)
#'
#' Draws the binary test process used by the authors of the synthetic potential outcomes
#' method: a latent class \eqn{U \sim Bernoulli(0.5)}, a treatment with
#' \eqn{P(T = 1 | U) = 3/4 - U/2}, a binary outcome with
#' \eqn{P(Y = 1 | U, T, X) = 1/4 + a 1(U = T) + b T + c U + e_T X_1}, and four binary
#' proxies with \eqn{P = bias_i + 0.3 U} for \eqn{i = 0, 2} and \eqn{bias_i + 0.3 (1 - U)}
#' for \eqn{i = 1, 3}, biases evenly spaced in \[0.2, 0.6\]; proxies 0 and 1 are `z1`, `z2`
#' and proxies 2 and 3 are `x1`, `x2`. With the defaults (\eqn{e_0 = e_1 = 0})
#' \eqn{E[Y(0)] = 0.375}, \eqn{E[Y(1)] = 0.625}, and the two classes (weights 0.5 and 0.5)
#' have effects 0 and 0.5.
#'
#' A non-zero `x_effect` makes `x1` a cause of the outcome. The ATE stays identified. The
#' class effects are identified only while the effect of `x1` is the same in both arms (it then
#' cancels between the arms, see [causal_mixture()]); an effect in one arm only, such as
#' `x_effect = c(0, 0.2)`, biases them.
#'
#' @param n Number of rows.
#' @param a,b,c Outcome coefficients of the agreement \eqn{1(U = T)}, the treatment and the
#'   class.
#' @param x_effect Effect \eqn{e_T} of the proxy `x1` on the outcome probability: one number
#'   for both arms or two numbers (control, treated). 0 in the original process.
#' @param seed `NULL` (use R's current random number generator) or a whole number; a seed
#'   leaves the global random state untouched.
#' @return A data frame with columns `u` (the latent class, for checking only), `t`, `y`,
#'   `z1`, `z2`, `x1`, `x2` (all 0/1 integers) and an attribute `truth`: a list with `ey0`,
#'   `ey1`, `ate`, `weights` and `effects` (per class \eqn{u = 0, 1}).
#' @examples
#' d <- spo_example_data(1000, seed = 1)
#' head(d)
#' attr(d, "truth")$ate
#' @export
spo_example_data <- function(n, a = 0.25, b = 0.25, c = 0, x_effect = 0, seed = NULL) {
  check_count(n, "n")
  check_number(a, "a")
  check_number(b, "b")
  check_number(c, "c")
  if (!is.numeric(x_effect) || !length(x_effect) %in% 1:2 || anyNA(x_effect) ||
      any(!is.finite(x_effect)))
    stopf("`x_effect` must be one or two finite numbers, not %s.", describe(x_effect),
          argument = "x_effect")
  x_effect <- rep_len(x_effect, 2L)
  if (!is.null(seed)) check_seed(seed)
  p_y <- function(u, t, x1) 0.25 + a * (u == t) + b * t + c * u + x_effect[t + 1] * x1
  grid <- expand.grid(u = 0:1, t = 0:1, x1 = 0:1)
  p <- p_y(grid$u, grid$t, grid$x1)
  if (any(p < 0 | p > 1))
    stopf(paste0("`a`, `b`, `c` and `x_effect` give outcome probabilities outside ",
                        "[0, 1] (range %.3g to %.3g)."), min(p), max(p), argument = "a")
  bias <- seq(0.2, 0.6, length.out = 4)
  draw <- function() {
    n <- as.integer(n)
    u <- stats::rbinom(n, 1L, 0.5)
    t <- stats::rbinom(n, 1L, 0.75 - u / 2)
    proxy <- function(i) {
      shift <- if (i %% 2 == 0) 0.3 * u else 0.3 * (1 - u)
      stats::rbinom(n, 1L, bias[i + 1] + shift)
    }
    z1 <- proxy(0)
    z2 <- proxy(1)
    x1 <- proxy(2)
    x2 <- proxy(3)
    y <- stats::rbinom(n, 1L, p_y(u, t, x1))
    data.frame(u = u, t = t, y = y, z1 = z1, z2 = z2, x1 = x1, x2 = x2)
  }
  d <- if (is.null(seed)) draw() else with_seed(seed, draw())
  # E[X1 | U = u] = bias_2 + 0.3 u, and X1 is independent of T given U.
  ey <- function(t, u) p_y(u, t, 0) + x_effect[t + 1] * (bias[3] + 0.3 * u)
  effects <- c(ey(1, 0) - ey(0, 0), ey(1, 1) - ey(0, 1))
  ey0 <- mean(c(ey(0, 0), ey(0, 1)))
  ey1 <- mean(c(ey(1, 0), ey(1, 1)))
  attr(d, "truth") <- list(ey0 = ey0, ey1 = ey1, ate = ey1 - ey0, weights = c(0.5, 0.5),
                           effects = effects)
  d
}

# ---- internal helpers -------------------------------------------------------------------

spo_check_method <- function(method) {
  choices <- c("matrix_pencil", "prony")
  if (identical(method, choices)) return(choices[1])
  if (!is.character(method) || length(method) != 1L || is.na(method) || !method %in% choices)
    stopf("`method` must be \"matrix_pencil\" or \"prony\", not %s.", describe(method),
          argument = "method")
  method
}

# Roles through the input layer: z and x are two sets of covariates that may not overlap.
spo_check_data <- function(data, treatment, outcome, z, x) {
  data <- check_table(data, "data")
  input_roles(data, treatment, outcome, z, covariates_argument = "treatment_proxies")
  input_roles(data, treatment, outcome, x, covariates_argument = "outcome_proxies")
  shared <- intersect(z, x)
  if (length(shared))
    stopf(paste0("`treatment_proxies` and `outcome_proxies` must not share columns (a proxy ",
                 "cannot be on both sides); both contain %s."), quote_names(shared),
          argument = "outcome_proxies", column = shared)
  data
}

# The proxies with missing values handled by `missing` (see prepare_covariates()): the
# prepared table, the rows kept, and each side's columns (a numeric proxy with NA is followed
# by its indicator `<name>.missing` under "indicator").
spo_prepare_proxies <- function(data, z, x, missing) {
  prepared <- prepare_covariates(as.data.frame(data)[c(z, x)], missing, what = "Proxy")
  side <- function(cols) {
    unlist(lapply(cols, function(col)
      c(col, intersect(paste0(col, ".missing"), names(prepared$x)))), use.names = FALSE)
  }
  list(data = prepared$x, keep = prepared$keep, with_missing = prepared$with_missing,
       z = side(z), x = side(x))
}

# Encodes proxy columns as a double matrix: a constant column, numeric columns as they are and
# one indicator per observed level except the first for logical, factor and character columns.
# The matrix is allocated once and filled column by column (this runs on every fit).
spo_encode <- function(data, cols, arg) {
  constant_error <- function(col)
    stopf("`%s` column \"%s\" is constant, so it carries no information on the class.",
          arg, col, argument = arg, column = col)
  plan <- lapply(cols, function(col) {
    v <- data[[col]]
    if (is.numeric(v)) {
      # missing values were handled before (spo_prepare_proxies())
      if (!all(is.finite(v)))
        stopf("`%s` column \"%s\" has infinite values.", arg, col, argument = arg, column = col)
      if (all(v == v[1])) constant_error(col)
      return(list(col = col, levels = NULL, names = col))
    }
    if (!(is.logical(v) || is.factor(v) || is.character(v)))
      stopf("`%s` column \"%s\" must be numeric, logical, factor or character, not %s.",
                   arg, col, class(v)[1])
    lv <- if (is.factor(v)) levels(droplevels(v)) else sort(unique(as.character(v)))
    if (length(lv) < 2L) constant_error(col)
    list(col = col, levels = lv[-1], names = paste0(col, "=", lv[-1]))
  })
  names_out <- c("(constant)", unlist(lapply(plan, `[[`, "names")))
  out <- matrix(1, nrow(data), length(names_out), dimnames = list(NULL, names_out))
  j <- 1L
  for (p in plan) {
    v <- data[[p$col]]
    if (is.null(p$levels)) {
      j <- j + 1L
      out[, j] <- v
    } else {
      codes <- match(as.character(v), p$levels)
      for (l in seq_along(p$levels)) {
        j <- j + 1L
        out[, j] <- as.double(!is.na(codes) & codes == l)
      }
    }
  }
  out
}

# One C pass: conditional means by arm and E[X] (see src/moments.h).
spo_moments <- function(zm, xm, arm, y, weights, threads) {
  .Call(C_moments_by_arm, zm, xm, arm, y, weights, as.integer(threads))
}

# Sampling noise of the r-th singular value of a moment matrix when its true rank is r - 1:
# the sample r-th singular value is then the size of the noise left after projecting out the
# top r - 1 singular directions. Its Frobenius norm has expected square
# sum_ab P_U[a] P_V[b] Var(Z_a X_b) / n, where P_U and P_V are the diagonals of the projectors
# on the complements (correlations between entries are ignored).
singular_noise <- function(s, var_zx, n, r) {
  keep <- seq_len(r - 1L)
  p_u <- pmax(0, 1 - rowSums(s$u[, keep, drop = FALSE]^2))
  p_v <- pmax(0, 1 - rowSums(s$v[, keep, drop = FALSE]^2))
  sqrt(sum(outer(p_u, p_v) * var_zx) / n)
}

# Rank-k truncated pseudo-inverse from an SVD.
truncated_pinv <- function(s, k) {
  s$v[, seq_len(k), drop = FALSE] %*% (t(s$u[, seq_len(k), drop = FALSE]) / s$d[seq_len(k)])
}

# From the moments to E[Y(t)], the ATE, the effect moments and the mixture.
spo_solve <- function(mom, k, method, rank_tol, quiet) {
  pinv <- vector("list", 2L)
  singular <- vector("list", 2L)
  threshold <- noise <- numeric(2L)
  excess <- character(0)
  for (a in 1:2) {
    mzx <- mom$zx[, , a, drop = TRUE]
    mzx <- matrix(mzx, nrow = dim(mom$zx)[1])
    s <- svd(mzx)
    var_zx <- matrix(mom$zx_var[, , a], nrow = nrow(mzx))
    noise[a] <- singular_noise(s, var_zx, mom$n[a], k)
    threshold[a] <- max(rank_tol * noise[a], s$d[1] * 1e-10)
    singular[[a]] <- s$d
    if (length(s$d) < k || s$d[k] <= threshold[a])
      stopf(paste0("E[Z X^T | T = %d] has rank below k = %d: its singular values are ",
                          "%s, and values below %s (rank_tol = %s times the sampling noise) ",
                          "cannot be told apart from zero. Use a smaller k, more data, or ",
                          "proxies more strongly related to the latent class."),
                   a - 1L, k, paste(signif(s$d, 3), collapse = ", "),
                   signif(threshold[a], 3), format(rank_tol))
    if (length(s$d) > k) {
      next_threshold <- max(rank_tol * singular_noise(s, var_zx, mom$n[a], k + 1L),
                            s$d[1] * 1e-10)
      if (s$d[k + 1] > next_threshold)
        excess <- c(excess, sprintf("T = %d: singular values %s, threshold for value %d: %s",
                                    a - 1L, paste(signif(s$d, 3), collapse = ", "), k + 1L,
                                    signif(next_threshold, 3)))
    }
    pinv[[a]] <- truncated_pinv(s, k)
  }
  if (!quiet && length(excess))
    warning(sprintf(paste0("E[Z X^T | T = t] looks like it has rank above k = %d (%s): the ",
                           "latent variable may have more than k classes, or a proxy breaks ",
                           "the conditional independence assumptions."),
                    k, paste(excess, collapse = "; ")), call. = FALSE)
  names(singular) <- c("T=0", "T=1")
  ex <- mom$x
  alpha <- lapply(1:2, function(a) drop(pinv[[a]] %*% mom$zy[, a]))
  ey <- vapply(alpha, function(al) sum(al * ex), numeric(1))

  # Higher moments of the class effects: m_l = gamma_l . E[X], gamma_l = (A_1 - A_0) gamma_{l-1}.
  a_diff <- pinv[[2]] %*% matrix(mom$zxy[, , 2], nrow = dim(mom$zxy)[1]) -
    pinv[[1]] %*% matrix(mom$zxy[, , 1], nrow = dim(mom$zxy)[1])
  gamma <- alpha[[2]] - alpha[[1]]
  m <- numeric(2 * k + 1)
  m[1] <- 1
  m[2] <- sum(gamma * ex)
  for (l in seq_len(2 * k - 1) + 1L) {
    gamma <- drop(a_diff %*% gamma)
    m[l + 1] <- sum(gamma * ex)
  }
  names(m) <- paste0("m", 0:(2 * k))

  mixture <- spo_mixture(m, k, method, quiet)
  identification <- list(
    ate = paste("level 1 (first moments): E[Z X^T | T = t] of rank k, Z independent of",
                "(X, Y) given (U, T), X independent of T given U"),
    mixture = if (is.null(mixture$table))
      paste("not identified:", mixture$problem)
    else
      paste("level 2 (higher moments): level 1 plus X independent of Y given (U, T) and",
            "distinct class effects")
  )
  list(ey = ey, ate = ey[2] - ey[1], effect_moments = m, mixture = mixture$table,
       mixture_problem = mixture$problem, singular_values = singular,
       rank_threshold = stats::setNames(threshold, c("T=0", "T=1")),
       rank_noise = stats::setNames(noise, c("T=0", "T=1")),
       identification = identification)
}

# Class effects (roots of the moment sequence) and weights (Vandermonde solve).
spo_mixture <- function(m, k, method, quiet) {
  fail <- function(problem) {
    if (!quiet) warning(sprintf("The class effects are not identified: %s. ", problem),
                        "E[Y(0)], E[Y(1)] and the ATE are still reported.", call. = FALSE)
    list(table = NULL, problem = problem)
  }
  if (k == 1L) {
    return(list(table = data.frame(class = 1L, weight = 1, effect = m[2], row.names = NULL),
                problem = NULL))
  }
  hankel <- function(size_r, size_c, shift)
    matrix(m[outer(seq_len(size_r), seq_len(size_c), "+") - 1L + shift], size_r, size_c)
  roots <- if (method == "matrix_pencil") {
    h0 <- hankel(k, k, 0L)
    h1 <- hankel(k, k, 1L)
    pencil <- tryCatch(solve(h0, h1), error = function(e) NULL)
    if (is.null(pencil))
      return(fail(paste("the Hankel matrix of the effect moments is singular",
                        "(classes with equal effects?)")))
    eigen(pencil, only.values = TRUE)$values
  } else {
    s <- svd(hankel(k + 1L, k + 1L, 0L))
    coef <- s$v[, k + 1L]
    if (abs(coef[k + 1L]) < 1e-10 * max(abs(coef)))
      return(fail("the Prony polynomial has degree below k (classes with equal effects?)"))
    polyroot(coef)
  }
  im <- max(abs(Im(roots)))
  if (im > 1e-8 * max(1, abs(Re(roots)))) {
    return(fail(sprintf(paste0("the effect moments are not those of %d distinct real class ",
                               "effects (complex roots, imaginary part up to %.3g); the ",
                               "higher-moment assumptions may fail or k may be too large"),
                        k, im)))
  }
  effects <- sort(Re(roots))
  vander <- t(outer(effects, 0:(k - 1L), "^"))  # vander[j + 1, u] = effect_u^j
  weights <- tryCatch(solve(vander, m[seq_len(k)]), error = function(e) NULL)
  if (is.null(weights))
    return(fail("two class effects coincide, so the weights cannot be separated"))
  if (!quiet && any(weights < 0))
    warning(sprintf(paste0("Estimated class weights %s include negative values: the mixture ",
                           "is poorly identified (too little data or violated assumptions)."),
                    paste(signif(weights, 3), collapse = ", ")), call. = FALSE)
  list(table = data.frame(class = seq_len(k), weight = weights, effect = effects,
                          row.names = NULL), problem = NULL)
}

# Bootstrap replicates: each resample is a vector of counts drawn under its own seed, so the
# estimates are identical sequentially, with future workers and with any thread count.
spo_bootstrap <- function(zm, xm, arm, y, k, method, rank_tol, replicates, seed, threads) {
  base <- engine_seed(seed)
  rep_seeds <- vapply(seq_len(replicates), function(b) derive_r_seed(base, b), integer(1))
  n <- length(y)
  use_future <- requireNamespace("future.apply", quietly = TRUE) &&
    requireNamespace("future", quietly = TRUE)
  rep_threads <- if (use_future && future::nbrOfWorkers() > 1) 1L else threads
  one <- function(b) {
    counts <- with_seed(rep_seeds[b], tabulate(sample.int(n, n, replace = TRUE), n))
    mom <- spo_moments(zm, xm, arm, y, as.double(counts), rep_threads)
    est <- tryCatch(suppressWarnings(spo_solve(mom, k, method, rank_tol, quiet = TRUE)),
                    error = function(e) NULL)
    out <- rep(NA_real_, 3 + 2 * k)
    if (is.null(est)) return(out)
    out[1:3] <- c(est$ey, est$ate)
    if (!is.null(est$mixture)) out[3 + seq_len(2 * k)] <- c(est$mixture$weight, est$mixture$effect)
    out
  }
  reps <- if (use_future) {
    future.apply::future_lapply(seq_len(replicates), one, future.seed = FALSE)
  } else {
    lapply(seq_len(replicates), one)
  }
  out <- do.call(rbind, reps)
  colnames(out) <- c("E[Y(0)]", "E[Y(1)]", "ATE", paste0("weight", seq_len(k)),
                     paste0("effect", seq_len(k)))
  out
}

spo_bootstrap_se <- function(boot, k) {
  sd_ok <- function(v) if (sum(!is.na(v)) > 1L) stats::sd(v, na.rm = TRUE) else NA_real_
  se <- apply(boot, 2L, sd_ok)
  list(potential_outcomes = c(`E[Y(0)]` = se[[1]], `E[Y(1)]` = se[[2]]), ate = se[[3]],
       weight = unname(se[3 + seq_len(k)]), effect = unname(se[3 + k + seq_len(k)]),
       replicates = nrow(boot), failed_ate = sum(is.na(boot[, 3])),
       failed_mixture = sum(is.na(boot[, 4])))
}

#' Print and summarise a causal mixture fit
#'
#' `print()` shows the potential-outcome means, the ATE and the mixture with bootstrap
#' standard errors when available, each marked with the identification level it relies on.
#' `summary()` adds normal intervals at confidence `level` (from the bootstrap standard
#' errors), the assumptions of each level, the rank check (singular values and threshold per
#' arm) and the effect moments.
#'
#' @param x,object A `causal_mixture` fit (or its summary, for the summary's print method).
#' @param level Confidence level of the intervals.
#' @param digits Significant digits to print.
#' @param ... Unused.
#' @return `print()` returns its argument invisibly; `summary()` returns an object of class
#'   `summary.causal_mixture` with tables `first` (level 1) and `mixture` (level 2).
#' @examples
#' fit <- causal_mixture(spo_example_data(20000, seed = 2), "t", "y", c("z1", "z2"),
#'                       c("x1", "x2"), k = 2, bootstrap = 10, seed = 1, threads = 1)
#' print(fit)
#' summary(fit)
#' @name causal_mixture-methods
#' @export
print.causal_mixture <- function(x, digits = 3, ...) {
  cat(sprintf("Causal mixture from proxies (synthetic potential outcomes), k = %d, %s\n", x$k,
              x$method))
  cat(sprintf("n = %d (control %d, treated %d); z: %d encoded columns, x: %d\n", x$n,
              x$n_arm[1], x$n_arm[2], length(x$z_columns), length(x$x_columns)))
  se <- x$se
  fmt <- function(v, s) {
    if (is.null(s) || is.na(s)) format(v, digits = digits)
    else sprintf("%s (SE %s)", format(v, digits = digits), format(s, digits = digits))
  }
  cat(sprintf("  E[Y(0)] = %s\n", fmt(x$potential_outcomes[[1]], se$potential_outcomes[[1]])))
  cat(sprintf("  E[Y(1)] = %s\n", fmt(x$potential_outcomes[[2]], se$potential_outcomes[[2]])))
  cat(sprintf("  ATE     = %s   [relies on level 1: first moments]\n", fmt(x$ate, se$ate)))
  if (is.null(x$mixture)) {
    cat(sprintf("  Mixture: %s\n", x$identification$mixture))
  } else {
    cat("  Mixture [relies on level 2: higher moments, X independent of Y given (U, T)]:\n")
    for (u in seq_len(nrow(x$mixture)))
      cat(sprintf("    class %d: weight %s, effect %s\n", u,
                  fmt(x$mixture$weight[u], se$weight[u]),
                  fmt(x$mixture$effect[u], se$effect[u])))
  }
  invisible(x)
}

#' @rdname causal_mixture-methods
#' @export
summary.causal_mixture <- function(object, level = 0.95, ...) {
  check_number(level, "level", lower = 0, upper = 1, lower_open = TRUE, upper_open = TRUE)
  se <- object$se
  z_crit <- stats::qnorm(1 - (1 - level) / 2)
  table_with_se <- function(est, s) {
    s <- if (is.null(s)) rep(NA_real_, length(est)) else s
    data.frame(estimate = est, se = s, lower = est - z_crit * s, upper = est + z_crit * s,
               check.names = FALSE)
  }
  first <- table_with_se(c(object$potential_outcomes, object$ate),
                         c(se$potential_outcomes, se$ate))
  rownames(first) <- c("E[Y(0)]", "E[Y(1)]", "ATE")
  mix <- NULL
  if (!is.null(object$mixture)) {
    mix <- cbind(class = object$mixture$class,
                 table_with_se(object$mixture$weight, se$weight)[, 1:2],
                 table_with_se(object$mixture$effect, se$effect)[, 1:2])
    names(mix) <- c("class", "weight", "weight_se", "effect", "effect_se")
  }
  structure(list(first = first, mixture = mix, object = object, level = level),
            class = "summary.causal_mixture")
}

#' @rdname causal_mixture-methods
#' @export
print.summary.causal_mixture <- function(x, digits = 3, ...) {
  o <- x$object
  cat("Causal mixture from proxies (synthetic potential outcomes)\n")
  cat(sprintf("Treatment \"%s\", outcome \"%s\"; k = %d latent classes; method %s\n",
              o$treatment, o$outcome, o$k, o$method))
  cat(sprintf("n = %d (control %d, treated %d)\n", o$n, o$n_arm[1], o$n_arm[2]))
  cat(sprintf("Z columns: %s\nX columns: %s\n", paste(o$z_columns, collapse = ", "),
              paste(o$x_columns, collapse = ", ")))
  cat(sprintf("\nLevel 1 (first moments): potential-outcome means and ATE (%g%% intervals)\n",
              100 * (x$level %||% 0.95)))
  print(x$first, digits = digits)
  cat(sprintf("  naive difference in means: %s\n", format(o$naive_difference, digits = digits)))
  cat("  Relies on: U (at most k classes) is the only confounder; Z independent of (X, Y)\n",
      "  given (U, T); X independent of T given U; E[Z X^T | T = t] of rank k.\n", sep = "")
  cat("\nLevel 2 (higher moments): class weights and effects\n")
  if (is.null(x$mixture)) {
    cat(sprintf("  %s\n", o$identification$mixture))
  } else {
    print(x$mixture, digits = digits, row.names = FALSE)
    cat("  Relies on level 1 plus X independent of Y given (U, T) (no proxy in x causes the\n",
        "  outcome) and distinct class effects; if X causes Y these are biased, the ATE is not.\n",
        sep = "")
  }
  cat("\nRank check (singular values of E[Z X^T | T = t], threshold):\n")
  for (a in 1:2)
    cat(sprintf("  T = %d: %s  (threshold %s)\n", a - 1L,
                paste(format(o$singular_values[[a]], digits = digits), collapse = ", "),
                format(o$rank_threshold[[a]], digits = digits)))
  cat(sprintf("Effect moments m_0..m_%d: %s\n", 2 * o$k,
              paste(format(o$effect_moments, digits = digits), collapse = ", ")))
  if (!is.null(o$se))
    cat(sprintf("Bootstrap: %d replicates (%d failed for the ATE, %d for the mixture)\n",
                o$se$replicates, o$se$failed_ate, o$se$failed_mixture))
  invisible(x)
}
