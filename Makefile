# The two commands of the README: `make run` and `make test` (lint, then the whole suite, as CI runs it);
# `make test-fast` is the lint and the unit tests only (no model, index, server or browser; under a minute).
# Each creates .venv/ and installs what is missing; a stamp per extra set makes
# the second run instant until pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test test-fast lint ingest eval bench clean-index

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# torch is pinned inside pyproject.toml, in the same install as sentence-transformers,
# so pip takes the local CPU build instead of a CUDA one.
$(VENV)/.stamp-run: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	bash scripts/install_tools.sh
	touch $@

$(VENV)/.stamp-test: pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test,llamacpp]'
	bash scripts/install_tools.sh
	bash scripts/install_browser.sh
	touch $@ $(VENV)/.stamp-run

run: $(VENV)/.stamp-run
	$(PY) app.py

lint: $(VENV)/.stamp-test
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest -q -p no:cacheprovider

test-fast: lint
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow and not integration"

ingest: $(VENV)/.stamp-run
	$(PY) -m assistant ingest

eval: $(VENV)/.stamp-run
	$(PY) -m assistant eval

bench: $(VENV)/.stamp-test
	$(PIP) install --quiet -e '.[bench]'
	$(PY) benchmarks/bench_retrieval.py

clean-index:
	rm -rf indexes/chroma indexes/bm25 indexes/keyword indexes/*.sqlite3*
