# Two commands for a fresh machine: `make demo` and `make test`.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
PYTHON  ?= python3

.PHONY: demo test lint format bench bench-quick bench-national accused-model clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# pip must be upgraded before installing: the pip a fresh venv carries resolves
# lxml's html_clean extra wrongly and `import trafilatura` then fails.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pantau demo

lint: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest -q

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The accused-person model (config/rules/accused_model.yaml), fitted on the development corpus.
accused-model: $(STAMP)
	$(PY) -m extract.detect.train_accused tests/fixtures/accused/dev --out config/rules/accused_model.yaml

bench: $(STAMP)
	$(PY) -m benchmarks.run

bench-quick: $(STAMP)
	$(PY) -m benchmarks.run --quick
	$(PY) -m benchmarks.bench_national --outlets 30 --speed 120 --write benchmarks/results-quick.json

# 600 loopback outlets through the real service for one simulated hour (about 15 minutes:
# the hour, one more interval, then the floor). `--hours 3` shows memory over 3 hours.
bench-national: $(STAMP)
	$(PY) -m benchmarks.bench_national --write benchmarks/results.json

clean:
	rm -rf $(VENV) data/pantau.db* data/outbox .pytest_cache .mypy_cache .ruff_cache
