# leadsite: `make run` serves the demo site, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
HTMX_VERSION := 4.0.1
SWAGGER_UI_VERSION := 5.35.0
SORTABLE_VERSION := 1.15.7
FLASK := $(BIN)/flask --app app

export BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test test-sqlite test-postgres lint format vendor bench clean translations cluster \
	cluster-down

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever the dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The demo's password and API key are kept between runs; RESET=1 sets new ones.
run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) leadsite demo $(if $(RESET),--reset)
	LEADSITE_INLINE_WORKER=$${LEADSITE_INLINE_WORKER:-1} $(FLASK) run --host $(HOST) --port $(PORT)

# The project's bytecode first: with PYTHONDONTWRITEBYTECODE set (as it was for the timed runs
# of 2026-12-07) every process the suite starts (servers, workers, benches, `flask db upgrade`)
# compiled the app from source again, tenths of a second of CPU each, hundreds of times a run.
test: $(VENV)/.installed
	$(BIN)/python -m compileall -q leadsite migrations bench tests app.py >/dev/null
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-fetch vendored front-end files from the npm registry (needs npm).
vendor:
	cd $$(mktemp -d) && npm pack --silent htmx.org@$(HTMX_VERSION) \
	  && tar xzf htmx.org-$(HTMX_VERSION).tgz \
	  && cp package/dist/htmx.min.js $(CURDIR)/static/vendor/htmx-$(HTMX_VERSION).min.js \
	  && cp package/LICENSE $(CURDIR)/static/vendor/htmx-$(HTMX_VERSION)-LICENSE.txt
	cd $$(mktemp -d) && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) \
	  && tar xzf swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz \
	  && cp package/swagger-ui-bundle.js \
	     $(CURDIR)/static/vendor/swagger-ui-$(SWAGGER_UI_VERSION)-bundle.js \
	  && cp package/swagger-ui.css $(CURDIR)/static/vendor/swagger-ui-$(SWAGGER_UI_VERSION).css \
	  && cp package/LICENSE $(CURDIR)/static/vendor/swagger-ui-$(SWAGGER_UI_VERSION)-LICENSE.txt
	cd $$(mktemp -d) && npm pack --silent sortablejs@$(SORTABLE_VERSION) \
	  && tar xzf sortablejs-$(SORTABLE_VERSION).tgz \
	  && cp package/Sortable.min.js $(CURDIR)/static/vendor/sortable-$(SORTABLE_VERSION).min.js \
	  && cp package/LICENSE $(CURDIR)/static/vendor/sortable-$(SORTABLE_VERSION)-LICENSE.txt

# Extract the lead-facing strings (babel.cfg), merge them into each language's catalog, and
# compile the catalogs. Commit the .po and the .mo files: a fresh clone speaks every language.
#   make translations LANG_INIT=it    starts a new language's catalog first
TRANSLATIONS ?= translations
translations: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l --no-location --sort-output \
	  --project leadsite -o $(TRANSLATIONS)/messages.pot .
	$(if $(LANG_INIT),$(BIN)/pybabel -q init -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) \
	  -l $(LANG_INIT) --width 100)
	$(BIN)/pybabel -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --ignore-obsolete \
	  --width 100
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

# Every bench/*.py except helpers (_*.py, *_app.py) is a benchmark. BENCH picks some, and
# BENCH_ARGS goes to each picked: options differ between scripts, so pick one to pass any.
#   make bench BENCH=bench/register.py BENCH_ARGS="--duration 30"
BENCH ?= $(filter-out bench/_% bench/%_app.py,$(wildcard bench/*.py))
bench: $(VENV)/.installed
	@for script in $(BENCH); do \
	  echo "== $$script"; $(BIN)/python $$script $(BENCH_ARGS) || exit 1; \
	done

# A load balancer, two app hosts, two workers, PostgreSQL and Redis, each in its own network
# namespace on a private bridge (root only; deploy/cluster/up.sh says what it builds).
cluster: $(VENV)/.installed
	deploy/cluster/up.sh

cluster-down:
	deploy/cluster/down.sh
