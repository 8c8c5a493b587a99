# Product Ops Portal — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: run test lint format bench screenshots install clean-data shell help

help:
	@echo "make run    - start the portal with demo data on http://127.0.0.1:$${PORT:-8000}"
	@echo "make test   - lint + the whole test suite against real PostgreSQL and Redis"
	@echo "make bench  - benchmarks (figures beside their targets)"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m portal.launcher run

test: $(STAMP)
	$(PY) -m portal.launcher test $(PYTEST_ARGS) $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) -m bench.run $(ARGS)

shell: $(STAMP)
	$(PY) manage.py shell

clean-data:
	$(PY) -m portal.embedded wipe
