# Benchmark of the schema: detection, encoding and decoding of a 1e6-row mixed table, next to
# base R's data.matrix() on the same table measured in the same run (the ratio is what counts).
# Run: Rscript inst/bench/schema.R
library(causalsandbox)
encode_table <- causalsandbox:::encode_table
decode_table <- causalsandbox:::decode_table

set.seed(1)
n <- 1e6
d <- data.frame(
  t = rbinom(n, 1, 0.3), y = rnorm(n), a = rnorm(n), b = rpois(n, 4),
  c = factor(sample(letters[1:6], n, TRUE)),
  e = ifelse(runif(n) < 0.3, 0, round(rexp(n), 3)),
  f = sample(c("u", "v"), n, TRUE), g = runif(n) < 0.5)
d$a[sample(n, 1000)] <- NA
d$c[sample(n, 1000)] <- NA

# CPU seconds (user + system) rather than wall time: steadier on a shared, loaded machine.
elapsed <- function(expr) {
  tm <- system.time(expr)
  unname(tm["user.self"] + tm["sys.self"])
}
base <- elapsed(m <- data.matrix(d))
t_schema <- elapsed(s <- sandbox_schema(d, "t", "y"))
t_encode <- elapsed(e <- encode_table(s, d))
t_decode <- elapsed(r <- decode_table(s, e))
stopifnot(identical(r, d))

cat(sprintf("rows %d, columns %d\n", n, ncol(d)))
cat(sprintf("data.matrix (baseline) %.2f s CPU\n", base))
cat(sprintf("sandbox_schema         %.2f s CPU  (%.1f x baseline)\n", t_schema, t_schema / base))
cat(sprintf("encode_table           %.2f s CPU  (%.1f x baseline)\n", t_encode, t_encode / base))
cat(sprintf("decode_table           %.2f s CPU  (%.1f x baseline), identical round trip: TRUE\n",
            t_decode, t_decode / base))
