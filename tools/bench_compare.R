# Paired speed comparison of two builds of the package (e.g. before and after a change to the
# C code): the training and draw benchmarks of inst/bench/causalmix_fit.R and simulate.R in a
# smaller form, run in child processes that alternate between the builds (ABBA order, so a
# drift in the machine's load hits both alike). Reports CPU seconds (less sensitive to other
# processes than elapsed time) per round and the median ratio new / base.
#
#   Rscript tools/bench_compare.R BASE_LIBRARY NEW_LIBRARY [rounds] [rows]
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: Rscript tools/bench_compare.R BASE_LIB NEW_LIB [rounds] [rows]")
libs <- c(base = args[1], new = args[2])
rounds <- if (length(args) >= 3) as.integer(args[3]) else 4L
rows <- if (length(args) >= 4) as.integer(args[4]) else 20000L
table_script <- normalizePath(file.path("inst", "bench", "mixed_table.R"))

child <- c(
  "suppressPackageStartupMessages(library(causalsandbox))",
  sprintf("source(%s)", deparse(table_script)),
  sprintf("d <- mixed_table(%d)", rows),
  "cpu <- function(t) t[['user.self']] + t[['sys.self']]",
  "fit_t <- system.time(fit <- causalmix(d, 'treat', 'y', epochs = 5, seed = 1, threads = 1))",
  "invisible(simulate(fit, nsim = 1000, seed = 1, threads = 1))",
  "draw_t <- min(vapply(1:5, function(i) cpu(system.time(",
  "  simulate(fit, nsim = 1e6, seed = i, overlap = 1.5, ate = 1, confounding = 0.2,",
  "           threads = 1))), 0))",
  "cat(sprintf('RESULT %.3f %.3f\\n', cpu(fit_t), draw_t))")
script <- tempfile(fileext = ".R")
writeLines(child, script)

run <- function(lib) {
  out <- system2(file.path(R.home("bin"), "Rscript"), c("--vanilla", script), stdout = TRUE,
                 env = sprintf("R_LIBS=%s", lib))
  line <- grep("^RESULT", out, value = TRUE)
  as.numeric(strsplit(line, " ")[[1]][2:3])
}
res <- list()
for (r in seq_len(rounds)) {
  order <- if (r %% 2 == 1) c("base", "new") else c("new", "base")
  for (b in order) res[[length(res) + 1]] <- c(round = r, build = b, run(libs[[b]]))
  cat(".")
}
cat("\n")
tab <- do.call(rbind, lapply(res, function(x)
  data.frame(round = as.integer(x[1]), build = x[2], fit_cpu = as.numeric(x[3]),
             draw_cpu = as.numeric(x[4]))))
print(tab, row.names = FALSE)
wide <- merge(tab[tab$build == "base", ], tab[tab$build == "new", ], by = "round",
              suffixes = c("_base", "_new"))
cat(sprintf(paste0("median CPU seconds, base -> new: fit (%d rows, 5 epochs, 1 thread) ",
                   "%.2f -> %.2f (ratio %.3f); draw (1e6 rows, 1 thread) %.3f -> %.3f ",
                   "(ratio %.3f)\n"),
            rows, median(wide$fit_cpu_base), median(wide$fit_cpu_new),
            median(wide$fit_cpu_new / wide$fit_cpu_base), median(wide$draw_cpu_base),
            median(wide$draw_cpu_new), median(wide$draw_cpu_new / wide$draw_cpu_base)))
cat("load average:", tryCatch(readLines("/proc/loadavg"), error = function(e) "?"), "\n")
