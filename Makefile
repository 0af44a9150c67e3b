# socorg — every target installs what it needs first (uv, then the locked environment).
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
VENV := .venv
BIN := $(VENV)/bin
DATE ?= 2023-10-31
NIGHTS ?= 3
export SOCORG_DATA ?= $(CURDIR)/data
export SOCORG_EXPORTS ?= $(SOCORG_DATA)/exports
SIZES ?= city,province,national
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
AIRFLOW_ENV := PATH="$(CURDIR)/$(BIN):$$PATH" AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags AIRFLOW__CORE__LOAD_EXAMPLES=False

.PHONY: install system-deps demo docs test test-fast test-soak airflow lint format clean bench bench-ingest bench-validate bench-history bench-archive bench-gx-docs bench-scheduler dbt-graph
# Debian packages the tests use for real: a PostgreSQL server, a Redis server (the Celery broker),
# headless Chromium and a CJK font for it.
SYSTEM_PACKAGES := postgresql redis-server chromium fonts-wqy-zenhei

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --python 3.11 --compile-bytecode  # .pyc written once: nothing compiled per run
	@touch $@

install: $(VENV)/.installed

system-deps:  ## Debian's postgresql, redis-server, chromium and a CJK font, installed with apt-get when missing
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing="$$missing fonts-wqy-zenhei"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "installing Debian packages:$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing; \
	fi

demo: install  ## sample exports for $(NIGHTS) nights from $(DATE), a nightly Airflow run each, figures and changes
	$(BIN)/socorg sample --out "$(SOCORG_EXPORTS)" --date $(DATE) --nights $(NIGHTS)
	SOCORG_SETTLE_SECONDS=0 $(BIN)/socorg run --date $(DATE) --nights $(NIGHTS)  # the sample is whole: no settle wait

docs: install  ## the documentation site (MkDocs Material) into site/, its reference pages generated from the code; offline
	$(BIN)/python -m ingest.cli.docs docs/reference
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@echo "open site/index.html"

# Three workers, a test file each at a time (module fixtures are built once): the 2 cores are kept busy
# while a test waits on a lock, a scheduler or a kill.
PYTEST_WORKERS ?= -n 3 --dist loadfile

test: install system-deps  ## the whole suite: unit, DAG integrity, end to end (real PostgreSQL, Chromium)
	$(BIN)/pytest $(PYTEST_WORKERS)

test-fast: install  ## everything but the end-to-end runs
	$(BIN)/pytest $(PYTEST_WORKERS) -m "not e2e"

test-soak: install system-deps  ## the backfill over a month of nights on the real scheduler (make test runs four)
	SOCORG_BACKFILL_NIGHTS=30 $(BIN)/pytest tests/e2e/test_backfill.py

airflow: install  ## the Airflow UI on http://localhost:8080 with the socorg DAGs (user/password printed)
	$(AIRFLOW_ENV) $(BIN)/airflow db migrate >/dev/null
	$(AIRFLOW_ENV) $(BIN)/airflow pools set socorg_warehouse 1 "one writer of the socorg DuckDB warehouse" >/dev/null
	$(AIRFLOW_ENV) $(BIN)/airflow standalone

bench: install  ## our nightly run vs the floor (DuckDB) and the peer (pandas) at city, province, national size → bench/RESULTS.md
	$(BIN)/python bench/nightly.py --sizes $(SIZES) --out "$(SOCORG_DATA)/bench/nightly"

bench-ingest: install  ## parse of a 1,000,000-row registry export (commas, tabs, semicolons, pipes, UTF-16) vs DuckDB's read_csv, and as .xlsx vs openpyxl → bench/RESULTS.md
	$(BIN)/python bench/ingest.py --rows $(or $(ROWS),1000000) --out "$(SOCORG_DATA)/bench"
	$(BIN)/python bench/workbooks.py --rows $(or $(ROWS),1000000) --out "$(SOCORG_DATA)/bench"

bench-validate: install  ## the quality gate on 1,000,000 registry and 20,000,000 membership rows vs one DuckDB query
	$(BIN)/python bench/validate.py --registry $(or $(REGISTRY_ROWS),1000000) --membership $(or $(MEMBERSHIP_ROWS),20000000) --out "$(SOCORG_DATA)/bench/validate"

bench-history: install  ## many nights in a row: night N's stages and disk against night 1's (SIZE=city|province|national, NIGHTS) → bench/RESULTS.md
	$(BIN)/python bench/history.py --size $(or $(SIZE),province) --nights $(or $(NIGHTS),30) --out "$(SOCORG_DATA)/bench/history"

bench-archive: install  ## a year of monthly snapshots through socorg run --all, then an older snapshot delivered after them → bench/RESULTS.md
	$(BIN)/python bench/archive.py --year $(or $(YEAR),2022) --out "$(SOCORG_DATA)/bench/archive"

bench-gx-docs: install  ## a night's GX Data Docs once GX holds DOCS_NIGHTS (365) nights (from bench-history's city folder) → bench/RESULTS.md
	$(BIN)/python bench/gx_docs.py --data "$(SOCORG_DATA)/bench/history/city/data" --nights $(or $(DOCS_NIGHTS),365) --out "$(SOCORG_DATA)/bench/gx_docs"

bench-scheduler: install system-deps  ## a city night under the real scheduler with dbt as one task and a task per model; DAG parse time → bench/RESULTS.md
	$(BIN)/python bench/scheduler.py --out "$(SOCORG_DATA)/bench/scheduler"

dbt-graph: install  ## dbt_project/graph.json (the models the DAG draws as tasks) from the project; run after changing a model
	$(BIN)/python -m ingest.transform.graph

lint: install  ## ruff and sqlfluff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && SOCORG_DATA="$(SOCORG_DATA)" SOCORG_SNAPSHOT_DATE=$(DATE) ../$(BIN)/sqlfluff lint models tests/reconciliation

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf "$(SOCORG_DATA)" .airflow .pytest_cache dbt_project/target dbt_project/logs
