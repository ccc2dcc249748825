# Two commands on a fresh machine:  `make bundle`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
MANIFEST ?= manifests/v0.2.toml
OUT    ?= output
BUILD_ARGS ?=

.PHONY: bundle test lint release clean bench bench-scale

# The venv is made anew whenever the package metadata (pyproject.toml) changes, so an install left
# over from an older layout (another package name, other entry points) can never linger in it.
$(VENV)/.installed: pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

## make bundle: create .venv, install, build $(MANIFEST) into $(OUT)/
bundle: $(VENV)/.installed
	$(BIN)/paperbundle build $(MANIFEST) -o $(OUT) $(BUILD_ARGS)

## make test: lint, format check, types, then the test suite
test: $(VENV)/.installed-test
	sh scripts/test-tools.sh
	$(BIN)/ruff check builder tests bench
	$(BIN)/ruff format --check builder tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

# MANIFEST reaches release.sh only when given (command line or environment); else manifests/$(VERSION).toml
RELEASE_MANIFEST = $(if $(filter-out file default undefined,$(origin MANIFEST)),$(MANIFEST),)
## make release VERSION=v0.2 [MANIFEST=...] [DRY_RUN=1] [ALLOW_PARTIAL=1]: build, then publish with the GitHub CLI
release: $(VENV)/.installed
	VERSION="$(VERSION)" DRY_RUN="$(DRY_RUN)" OUT="$(OUT)" BIN="$(BIN)" \
		MANIFEST="$(RELEASE_MANIFEST)" ALLOW_PARTIAL="$(ALLOW_PARTIAL)" \
		BUILD_ARGS="$(BUILD_ARGS)" sh scripts/release.sh

bench: $(VENV)/.installed-test
	sh scripts/test-tools.sh --bench
	$(BIN)/python bench/bench_build.py
	$(BIN)/python bench/bench_fetch.py
	$(BIN)/python bench/bench_lock.py

## make bench-scale [SIZES="16 64 256"]: build time and memory at N papers (minutes)
SIZES ?= 16 64
bench-scale: $(VENV)/.installed-test
	sh scripts/test-tools.sh --bench
	$(BIN)/python bench/bench_scale.py $(SIZES)

clean:
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache
