# Product Ops Portal — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: run test lint format bench screenshots install browser clean-data shell help

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

# Browser journeys need Debian's Chromium and axe-core (npm); installed once, never downloaded at run time.
E2E_DEPS := tests/e2e/node_modules/axe-core/axe.min.js
$(E2E_DEPS): tests/e2e/package.json
	cd tests/e2e && npm install --no-audit --no-fund --silent
	@touch $(E2E_DEPS)

browser: $(E2E_DEPS)
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
		{ echo "installing Debian's chromium for the browser tests"; \
		  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) || \
		  { echo "could not install chromium: browser journeys will fail with the reason"; }; }

run: $(STAMP)
	$(PY) -m portal.launcher run

test: $(STAMP) browser
	$(PY) -m portal.launcher test $(PYTEST_ARGS) $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) -m bench.run $(ARGS)

screenshots: $(STAMP) browser
	$(PY) -m scripts.screenshots

shell: $(STAMP)
	$(PY) manage.py shell

clean-data:
	$(PY) -m portal.embedded wipe
