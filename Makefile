# The two commands of the README. Each creates a virtual environment in the checkout and installs
# into it, so a fresh machine with Python 3.11, pip, Node/npm and apt needs nothing else.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# checkov pins many packages and ships its own `hcl2` module, so it lives in a venv of its own.
INFRA_VENV := .venv-infra

.PHONY: demo test lint bench clean chromium

# The demo exits 3 ("breached": the injected drift was found), which is its success here.
demo: $(VENV)/.runtime
	$(PY) -m monitoring demo || [ $$? -eq 3 ]

test: $(VENV)/.dev $(INFRA_VENV)/.installed node_modules/.bin/azurite chromium
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -n auto --durations=15

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: $(VENV)/.dev
	$(PY) bench/bench_run.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

$(INFRA_VENV)/.installed: requirements-infra.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(INFRA_VENV)/bin/python -m pip install --quiet -r requirements-infra.txt
	touch $@

node_modules/.bin/azurite: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# The report test opens the HTML report in headless Chromium (Debian's package; needs root and apt).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	} || echo "warning: could not install chromium; the report's browser test is skipped outside CI"

clean:
	rm -rf $(VENV) .venv-infra node_modules demo-output monitoring-results notebook-results build dist *.egg-info
