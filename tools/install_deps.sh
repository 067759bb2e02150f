#!/usr/bin/env bash
# Installs what building, checking and testing causalsandbox needs on a fresh Debian machine:
# R packages from Debian where they are packaged (prebuilt, fast), the rest from CRAN.
# Safe to run again: it skips what is already there.
set -euo pipefail

debian_packages="r-cran-testthat r-cran-knitr r-cran-rmarkdown pandoc r-cran-roxygen2
  r-cran-matchit r-cran-future r-cran-future.apply r-cran-future.batchtools r-cran-progressr
  r-cran-ranger r-cran-generics r-cran-tibble r-cran-dplyr r-cran-purrr r-cran-data.table
  r-cran-bit64 r-cran-survival r-cran-riskregression qpdf clang libomp-dev valgrind"
# causaldata: benches and tests (NHEFS); arf and synthpop (the generator comparison of
# inst/bench/fidelity.R) are installed by that script when absent
cran_packages='c("tmle", "SuperLearner", "causaldata", "modeltests")'

missing=""
for p in $debian_packages; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends $missing
fi

Rscript -e "
  need <- $cran_packages
  need <- need[!vapply(need, requireNamespace, logical(1), quietly = TRUE)]
  if (length(need)) install.packages(need, repos = 'https://cloud.r-project.org', Ncpus = 2)
"
