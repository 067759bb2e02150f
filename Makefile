# Developer entry points (not part of the built package: listed in .Rbuildignore).
.PHONY: deps install demo test check

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
