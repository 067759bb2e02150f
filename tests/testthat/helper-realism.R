# A cohort whose covariates have the recorded shapes of real tables: hours worked per week
# with 30% zeros and answers heaped on multiples of 5, a weight recorded in steps of 0.5 kg,
# an age in whole years and a binary sex, with a treatment and an outcome depending on them.
heaped_hours_table <- function(n, seed) {
  set.seed(seed)
  age <- sample(20:70, n, replace = TRUE)
  sex <- stats::rbinom(n, 1, 0.5)
  working <- stats::runif(n) > 0.3
  hours <- pmin(80, round(stats::rgamma(n, 8, 0.25) + 0.1 * (age - 45)))
  hours <- pmax(1, hours)
  heaped <- stats::runif(n) < 0.5
  hours[heaped] <- pmax(5, 5 * round(hours[heaped] / 5))
  hours[!working] <- 0
  wt <- round(2 * (60 + 12 * sex + 0.1 * age + stats::rnorm(n, 0, 8))) / 2
  t <- stats::rbinom(n, 1, stats::plogis(-1 + 0.02 * hours + 0.5 * sex))
  y <- 0.05 * hours + 0.02 * wt + t + stats::rnorm(n)
  data.frame(t = t, y = y, age = age, sex = sex, hours = hours, wt = wt)
}
