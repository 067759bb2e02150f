#!/usr/bin/env bash
# Compiles src/ with gcc and clang (with OpenMP), with both compilers without OpenMP and with
# gcc on the portable paths only (-DCS_NO_AVX2, as on other processors), all under
# -Wall -Wextra -Werror, so any warning fails; then links the gcc build and checks that
# (a) no non-API entry point of R is called (undefined symbols against R's list of non-API
# entry points, tools:::nonAPI, plus the ones current R declares non-API in
# tools/non_api_symbols.txt), and (b) only the init routine is exported ($(C_VISIBILITY)).
# Needs gcc, clang and clang's OpenMP headers (Debian: clang libomp-dev). Run from anywhere.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/src"
rhome="$(R RHOME)"
rinc="$(Rscript -e 'cat(R.home("include"))')"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
common="-std=gnu99 -O2 -fpic -fvisibility=hidden -DNDEBUG -I$rinc -Wall -Wextra -Werror"
fail=0

build() {  # name compiler openmp-flag
  local name=$1 cc=$2 omp=$3 dir="$out/$1" log="$out/$1.log" status=0
  mkdir -p "$dir"
  for f in "$src"/*.c; do
    $cc $common $omp -c "$f" -o "$dir/$(basename "${f%.c}").o" >>"$log" 2>&1 || status=1
  done
  if [ "$status" -ne 0 ]; then
    echo "FAIL  $name: warnings or errors"; cat "$log"; fail=1
  else
    echo "ok    $name ($(ls "$dir"/*.o | wc -l) files, no warnings)"
  fi
}

if ! command -v clang >/dev/null; then echo "clang not found (apt-get install clang libomp-dev)"; exit 1; fi
build gcc-openmp gcc -fopenmp
build clang-openmp clang -fopenmp
build gcc-no-openmp gcc ""
build clang-no-openmp clang ""
# the portable paths only (no AVX2 kernels), as on processors other than x86-64
build gcc-portable gcc "-fopenmp -DCS_NO_AVX2"
[ "$fail" -eq 0 ] || { echo "build check failed"; exit 1; }

# link the gcc build as R CMD INSTALL would
so="$out/causalsandbox.so"
gcc -shared -fopenmp -o "$so" "$out"/gcc-openmp/*.o -L"$rhome/lib" \
  $(R CMD config LAPACK_LIBS) $(R CMD config BLAS_LIBS) $(R CMD config FLIBS) -lR

Rscript -e 'cat(tools:::nonAPI, sep = "\n")' > "$out/non_api.txt"
grep -v '^#' "$root/tools/non_api_symbols.txt" | grep -v '^$' >> "$out/non_api.txt"
sort -u "$out/non_api.txt" -o "$out/non_api.txt"
nm -D -u "$so" | awk '{print $2}' | sed 's/@.*//' | sort -u > "$out/undefined.txt"
# Rf_ and R_ prefixed forms of the listed names count too
sed -e 's/^/Rf_/' "$out/non_api.txt" > "$out/non_api_rf.txt"  # not onto the file it reads
cat "$out/non_api_rf.txt" >> "$out/non_api.txt"
sort -u "$out/non_api.txt" -o "$out/non_api.txt"
used=$(comm -12 "$out/undefined.txt" "$out/non_api.txt" || true)
if [ -n "$used" ]; then
  echo "FAIL  non-API entry points used: $used"; fail=1
else
  echo "ok    no non-API entry point among $(wc -l < "$out/undefined.txt") undefined symbols"
fi
exported=$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}')
if [ "$exported" != "R_init_causalsandbox" ]; then
  echo "FAIL  exported functions other than R_init_causalsandbox: $(echo $exported | head -c 400)"
  fail=1
else
  echo "ok    only R_init_causalsandbox is exported"
fi
[ "$fail" -eq 0 ] && echo "build check passed" || { echo "build check failed"; exit 1; }
