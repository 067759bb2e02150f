# Developer entry points (not part of the built package: listed in .Rbuildignore).
.PHONY: deps install demo test check valgrind

deps:
	bash tools/install_deps.sh

install: deps
	R CMD INSTALL --no-multiarch .

demo: install
	Rscript -e 'demo("mcrpc_study", package = "causalsandbox", ask = FALSE)'

test: install
	Rscript tools/run_tests.R

check: deps
	R CMD build .
	_R_CHECK_FORCE_SUGGESTS_=false _R_CHECK_ORPHANED_=false _R_CHECK_CRAN_INCOMING_REMOTE_=false R CMD check --as-cran --no-manual causalsandbox_*.tar.gz

# Memory check of every .Call entry point on tiny inputs (see tools/valgrind.R; takes minutes).
# Builds an unoptimised copy with debug information in a scratch library; writes valgrind.log
# and fails if valgrind reports an error.
VALGRIND_LIB ?= /tmp/causalsandbox_valgrind_lib
valgrind:
	mkdir -p $(VALGRIND_LIB)
	MAKEFLAGS='CFLAGS=-O0\ -g' R CMD INSTALL --no-multiarch --preclean --clean -l $(VALGRIND_LIB) .
	R_LIBS=$(VALGRIND_LIB) R -d "valgrind --error-exitcode=1 --leak-check=full --track-origins=yes \
	  --suppressions=tools/valgrind.supp" --vanilla -f tools/valgrind.R > valgrind.log 2>&1 || { tail -40 valgrind.log; exit 1; }
	grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost" valgrind.log | tail -4
