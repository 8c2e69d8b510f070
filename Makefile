# Everyday commands. `make run` and `make test` are the two set-up commands in the README.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export FLASK_APP := wsgi
STAMP := $(VENV)/.installed

.PHONY: run test install translations lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

translations: $(STAMP)
	$(VENV)/bin/pybabel -q compile -d translations

# Development server on http://127.0.0.1:5000 with an SQLite database and demo data,
# plus the background worker and the reference record service on 8089 (scripts/dev_run.sh).
# PORT=5100 RECORD_PORT=8189 make run moves both.
run: install translations
	VENV=$(VENV) bash scripts/dev_run.sh

# The whole suite: services, views, both databases, real Chromium, axe-core, catalogs, and
# OpenID Connect against npm's oidc-provider (pinned, installed into tests/support/.node/).
test: install translations
	bash tests/support/ensure_browser.sh
	bash tests/support/ensure_oidc_provider.sh
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check joblog_app devtools tests bench

bench: install translations
	bash tests/support/ensure_browser.sh
	$(PY) bench/page_weight.py
	$(PY) bench/taps.py
	$(PY) bench/throughput.py
	$(PY) bench/lighthouse.py
	$(PY) bench/record_sync.py

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache
