# The README's commands. Each target creates .venv on first use and installs the package into it,
# so `make reproduce` and `make test` work on a fresh clone with only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# Quiet installs; the local package indexes of some machines print harmless warnings.
PIPQ   := $(PIP) install --quiet --disable-pip-version-check
JOBS   ?= 2
PROFILE ?= quick
OUT    ?= figures
ONLY   ?= all

.PHONY: help install reproduce reproduce-paper test test-slow lint bench gpu-check clean paper

help:
	@echo "make reproduce   all paper figures, quick profile, CPU  -> $(OUT)/"
	@echo "make test        install + unit tests and experiment smoke tests"
	@echo "make test-slow   the slow tests too"
	@echo "make lint        ruff (lint + format check) and mypy"
	@echo "make test-slow-only / test-parity / test-py312   the CI steps after make test (.ci/run)"
	@echo "make bench       side-by-side benchmarks (experiments/benchmarks)"
	@echo "make paper       paper/tables from figures/MANIFEST.json, then paper/main.pdf (needs TeX)"
	@echo "make gpu-check   on a GPU machine: CUDA extra, benchmarks, judge paper profile (docs/scaling.md)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(PIPQ) -e .
	@touch $@

$(VENV)/.test: $(VENV)/.core
	$(PIPQ) -e ".[test]"
	@touch $@

$(VENV)/.lint: $(VENV)/.core
	$(PIPQ) -e ".[lint]"
	@touch $@

$(VENV)/.bench: $(VENV)/.core
	$(PIPQ) -e ".[bench]"
	@touch $@

$(VENV)/.baselines: $(VENV)/.core
	$(PIPQ) -e ".[baselines]"
	@touch $@

install: $(VENV)/.test

reproduce: $(VENV)/.baselines
	$(BIN)/scaling-theory reproduce $(ONLY) --profile $(PROFILE) --out $(OUT) --jobs $(JOBS)

reproduce-paper:
	$(MAKE) reproduce PROFILE=paper

test: $(VENV)/.test
	$(BIN)/python -m pytest -n $(JOBS) -q

test-slow: $(VENV)/.test
	$(BIN)/python -m pytest -n $(JOBS) -q -m "slow or not slow"

# ruff (lint + format check) over the whole tree, mypy over the package; configured in pyproject.toml.
lint: $(VENV)/.lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(VENV)/.bench $(VENV)/.test
	$(BIN)/python experiments/benchmarks/run_all.py

# On a machine with an NVIDIA GPU (CUDA 12 driver): prints the devices, then every benchmark's times
# (bench_testbed prints MFU) and the judge experiments at the paper profile with their times.
gpu-check: $(VENV)/.core
	@nvidia-smi -L >/dev/null 2>&1 || { echo "make gpu-check: no NVIDIA GPU found (nvidia-smi -L failed); run it on a GPU machine (docs/scaling.md)" >&2; exit 1; }
	$(PIPQ) -e ".[cuda,bench,test]"
	$(BIN)/python -c "import jax; print('devices:', jax.devices()); assert jax.default_backend() == 'gpu', 'no GPU visible to JAX'"
	$(BIN)/python experiments/benchmarks/run_all.py
	$(BIN)/scaling-theory reproduce 'judge_*' --profile paper --out $(OUT)/gpu-check

clean:
	rm -rf $(VENV) .pytest_cache

# The report: tables from figures/MANIFEST.json, then paper/main.pdf with latexmk (TeX needed:
# apt-get install latexmk texlive-latex-recommended texlive-science).
paper: $(VENV)/.core
	$(BIN)/scaling-theory paper --figures $(OUT) --paper paper

# ---- CI (.ci/run): the slow tests, the reference-parity tests, and the suite under Python 3.12 ----
.PHONY: test-slow-only test-parity test-py312
PY312   ?= env PYENV_VERSION=3.12.1 python3.12
VENV312 := .venv312

# Only the tests marked slow (NUTS, the 4,500-start recovery, the multi-device runs, the λ-quadrature check);
# `make test` ran the rest. These run long programs, so at XLA's default optimisation (tests/conftest.py).
test-slow-only: $(VENV)/.test
	SCALING_THEORY_TEST_FULL_OPT=1 $(BIN)/python -m pytest -n $(JOBS) -q -p no:cacheprovider -m slow --durations=15

# Parity with the reference implementations (saber-risk, ...): installs the bench extra; a missing
# reference is a failure here, not a skip (SCALING_THEORY_REQUIRE_REFERENCES, tests/conftest.py).
test-parity: $(VENV)/.bench $(VENV)/.test
	SCALING_THEORY_REQUIRE_REFERENCES=1 SCALING_THEORY_TEST_FULL_OPT=1 $(BIN)/python -m pytest -q -p no:cacheprovider -m "parity"

# The default suite under Python 3.12 in its own venv (no bench extra: torch has no 3.12 wheel here). It compiles
# as `make test` does (its XLA options, tests/conftest.py), so it loads the programs `make test` put in .jax_cache/
# (docs/CONTRIBUTING.md). The slow and parity steps run the optimised code users run. Where no Python 3.12
# exists, one line says so and the target succeeds.
test-py312:
	@if ! $(PY312) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; then \
		echo "test-py312: no Python 3.12 found ($(PY312)); the 3.12 run is skipped"; \
	else \
		set -e; \
		[ -x $(VENV312)/bin/python ] || $(PY312) -m venv $(VENV312); \
		[ -f $(VENV312)/.test ] || { $(VENV312)/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" && touch $(VENV312)/.test; }; \
		$(VENV312)/bin/python --version; \
		$(VENV312)/bin/python -m pytest -n $(JOBS) -q -p no:cacheprovider; \
	fi
