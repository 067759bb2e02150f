# Developer entry points (not part of the built package: listed in .Rbuildignore).
.PHONY: deps install demo test check build-check valgrind sanitize sanitize-install sanitize-quick slurm

deps:
	bash tools/install_deps.sh

install: deps
	R CMD INSTALL --no-multiarch .

demo: install
	Rscript -e 'demo("mcrpc_study", package = "causalsandbox", ask = FALSE)'

test: install
	Rscript tools/run_tests.R

# Runs a small study and power analysis on a real one-node Slurm cluster (installs and starts
# munge and Slurm, stops them at the end; needs root). See tools/slurm_test.sh.
slurm: install
	bash tools/slurm_test.sh

check: deps
	R CMD build .
	_R_CHECK_FORCE_SUGGESTS_=false _R_CHECK_ORPHANED_=false _R_CHECK_CRAN_INCOMING_REMOTE_=false R CMD check --as-cran --no-manual causalsandbox_*.tar.gz

# src/ compiled by gcc and clang, with and without OpenMP, -Wall -Wextra -Werror; no non-API
# entry point of R used; only the init routine exported (needs clang and libomp-dev).
build-check:
	bash tools/build_check.sh

# Memory check of every .Call entry point on tiny inputs (see tools/valgrind.R; takes minutes).
# Builds an unoptimised copy with debug information in a scratch library; writes valgrind.log
# and fails if valgrind reports an error.
# (not VALGRIND_LIB: that is valgrind's own variable, naming its tool directory)
VALGRIND_RLIB ?= /tmp/causalsandbox_valgrind_lib
valgrind:
	mkdir -p $(VALGRIND_RLIB)
	MAKEFLAGS='CFLAGS=-O0\ -g' R CMD INSTALL --no-multiarch --preclean --clean -l $(VALGRIND_RLIB) .
	R_LIBS=$(VALGRIND_RLIB) R -d "valgrind --error-exitcode=1 --leak-check=full --track-origins=yes \
	  --suppressions=tools/valgrind.supp" --vanilla -f tools/valgrind.R > valgrind.log 2>&1 || { tail -40 valgrind.log; exit 1; }
	grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost" valgrind.log | tail -4

# AddressSanitizer + UndefinedBehaviorSanitizer (gcc): catches what valgrind cannot see (stack and
# small-object overflows, signed overflow, bad shifts). R itself is not instrumented, so the
# runtimes are preloaded; leak detection is off (R keeps its heap at exit). Runs the valgrind
# script and then the whole test suite (a few minutes); any sanitizer report fails the run.
SANITIZE_LIB ?= /tmp/causalsandbox_sanitize_lib
SANITIZE_PRELOAD = $(shell gcc -print-file-name=libasan.so) $(shell gcc -print-file-name=libubsan.so)
SANITIZE_ENV = LD_PRELOAD="$(SANITIZE_PRELOAD)" ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1 R_LIBS=$(SANITIZE_LIB)
sanitize-install:
	mkdir -p $(SANITIZE_LIB)
	MAKEFLAGS='CFLAGS=-O1\ -g\ -fsanitize=address,undefined\ -fno-omit-frame-pointer\ -fno-sanitize-recover=undefined' \
	  R CMD INSTALL --no-multiarch --no-test-load --preclean --clean -l $(SANITIZE_LIB) .

sanitize: sanitize-install
	$(SANITIZE_ENV) Rscript tools/valgrind.R > sanitize.log 2>&1 && \
	$(SANITIZE_ENV) Rscript tools/run_tests.R >> sanitize.log 2>&1 \
	  || { tail -40 sanitize.log; exit 1; }
	! grep -E "ERROR: AddressSanitizer|runtime error:" sanitize.log
	tail -1 sanitize.log

# What CI runs within its time budget: every .Call entry point (tools/valgrind.R) under the
# sanitizers, without the whole test suite (about 4 minutes against 12 for `make sanitize`).
sanitize-quick: sanitize-install
	$(SANITIZE_ENV) Rscript tools/valgrind.R > sanitize.log 2>&1 || { tail -40 sanitize.log; exit 1; }
	! grep -E "ERROR: AddressSanitizer|runtime error:" sanitize.log
	tail -1 sanitize.log
