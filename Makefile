# The two commands: `make run` (the main job, end to end) and `make test`.
# Each creates the virtual environment it needs from the committed uv.lock.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3.11
UV_VERSION  := 0.13.9
TOOLS       := .tools
UV          := $(TOOLS)/bin/uv
VENV        := .venv
BIN         := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
# uv --inexact never removes what another target installed into the same venv.
SYNC := $(UV) sync --locked --inexact --python $(PYTHON) --quiet

.PHONY: help run test bench lint typecheck clean venv venv-test venv-bench

help:
	@echo "make run    simulate -> validate -> load -> train -> register -> score -> risk list"
	@echo "make test   the whole test suite"
	@echo "make bench  benchmarks; figures in benchmarks/results/"
	@echo "make lint   ruff + mypy"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Stamps: re-sync only when the lock or the project metadata changes.
$(VENV)/.stamp-run: uv.lock pyproject.toml | $(UV)
	$(SYNC)
	$(UV) cache prune --ci --quiet
	@touch $@

# pyspark ships only as an sdist; .ci/spark_wheel.py builds it once per lock hash
# into a wheelhouse outside the repo, so fresh venvs never rebuild it.
$(VENV)/.stamp-test: uv.lock pyproject.toml .ci/spark_wheel.py | $(UV)
	$(SYNC) --extra dev --extra spark --extra postgres --no-install-package pyspark
	$(UV) pip install --quiet --no-deps --python $(BIN)/python "$$($(PYTHON) .ci/spark_wheel.py)"
	$(UV) cache prune --ci --quiet
	@touch $@

$(VENV)/.stamp-bench: $(VENV)/.stamp-test
	$(SYNC) --extra dev --extra spark --extra postgres --extra bench --no-install-package pyspark
	$(UV) cache prune --ci --quiet
	@touch $@

venv: $(VENV)/.stamp-run
venv-test: $(VENV)/.stamp-test
venv-bench: $(VENV)/.stamp-bench

run: $(VENV)/.stamp-run
	$(BIN)/journey run

test: $(VENV)/.stamp-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.stamp-bench
	$(BIN)/python -m benchmarks $(BENCH)

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
