# naturhome-sync — every target bootstraps .venv from requirements.lock by itself.
# Python 3.11 and pip are all a fresh machine needs.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.lock-installed
PKGS   := naturhome_sync connectors jobs pdf sandbox

.PHONY: help install venv lint format test test-fast demo bench lock clean

help:
	@echo "make demo   - play the whole story against the local emulators"
	@echo "make test   - lint, type-check and run every test"
	@echo "make lint   - ruff (lint + format check) and mypy only"
	@echo "make bench  - run benchmarks, results in benchmarks/results/"
	@echo "make lock   - re-resolve requirements.lock from pyproject.toml (needs network)"

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	touch $(STAMP)

venv: $(STAMP)

# The project itself is installed as a wheel (not editable), so tests run against what ships:
# a missing package or data file fails here, not in production.
install: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --force-reinstall .

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

demo: install
	$(BIN)/naturhome-sync demo

bench: install
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lock:
	$(PYTHON) -m pip install --quiet uv && $(PYTHON) -m uv pip compile pyproject.toml --extra dev \
	  --python-version 3.11 --generate-hashes --no-header -o requirements.lock

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
