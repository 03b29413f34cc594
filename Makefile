# Setup is two commands: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench docs docs-reference check-python clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "sefton-carbon needs Python 3.11 or newer: run make PYTHON=python3.11 ...")'

# Installs go through uv, which takes seconds where pip takes half a minute or more: the uv on
# PATH, else one that pip fetches into the environment (2 s). uv reads PyPI, or the index its own
# settings name (UV_DEFAULT_INDEX), not pip's configuration: wherever uv is missing or fails, pip
# installs instead. Neither compiles every module ahead (Python compiles each on its first
# import), which saves 10 s or more.
UV := $(or $(shell command -v uv 2>/dev/null),$(BIN)/uv)
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile

# $(INSTALL) REQUIREMENT...: install into the environment with uv, or with pip when uv cannot.
INSTALL = sh -c 'if [ -x "$(UV)" ] && "$(UV)" pip install --quiet --python $(BIN)/python "$$@"; then :; \
	else echo "make: installing with pip instead of uv (a minute or two)"; $(PIP_INSTALL) "$$@"; fi' install

# The environment keeps pip (tests/test_wheel.py builds the wheel with it).
$(BIN)/python: | check-python
	@echo "make: creating the Python environment in $(VENV)/"
	@if command -v uv >/dev/null 2>&1; then uv venv --quiet --seed --python $(PYTHON) $(VENV); \
	else $(PYTHON) -m venv $(VENV) && { $(PIP_INSTALL) --quiet uv || echo "make: uv could not be installed; pip will install instead"; }; fi

# Stamp files record what has been installed, so repeated runs skip the install.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "make: installing sefton-carbon and what it needs into $(VENV)/"
	@$(INSTALL) -e '.[serve]'
	@touch $@

# The docs extra comes with the tests: tests/test_docs.py builds the site (under 10 s).
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "make: installing sefton-carbon with its test and docs tools into $(VENV)/"
	@$(INSTALL) -e '.[test,docs]'
	@touch $@ $(VENV)/.installed $(VENV)/.installed-docs

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	@echo "make: installing sefton-carbon with its docs tools into $(VENV)/"
	@$(INSTALL) -e '.[docs,serve]'
	@touch $@ $(VENV)/.installed

# The documentation site, built in strict mode into site/: a broken link fails the build.
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# The command-line reference is generated from the commands; tests/test_docs.py fails when it is stale.
docs-reference: $(VENV)/.installed
	$(BIN)/typer sefton_carbon.cli.app utils docs --name sefton-carbon --output docs/reference/cli.md

demo: $(VENV)/.installed
	@echo "make: running the bundled example council, every year, into out/"
	@$(BIN)/sefton-carbon demo --output out
	@echo "make: done. The committee report is out/report.html; check the figures with: $(BIN)/sefton-carbon verify out"

# The tests run on TEST_WORKERS processes (pytest-xdist; the machines and CI have two cores), each
# test sent to whichever process is free; TEST_WORKERS=0 runs them in this one process. Every test
# writes only under its own tmp_path and serves on a free port, so no two tests share a file.
TEST_WORKERS ?= 2
test: $(VENV)/.installed-test
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

# The speed targets beside their references (bench/speed_targets.py). The full run takes 4 to 10
# minutes here (2 cores shared with other work), the first one a minute or two more to write the
# inputs into bench/data/ (0.9 GB); make bench BENCH_SCALE=0.1 is a quick run (a few minutes).
bench: $(VENV)/.installed-test
	cd bench && ../$(BIN)/python speed_targets.py --scale $(or $(BENCH_SCALE),1)

clean:
	rm -rf $(VENV) out build dist
