# Two commands: `make run` (the whole service desk on this machine) and `make test`.
# See README.md. With DATABASE_URL / REDIS_URL set, the same targets use PostgreSQL / Redis.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PORT ?= 8000
VENV ?= .venv
PYTEST_ARGS ?=
# make bench: incidents in the desk's data set (seed_bench) and its database; SLA clocks in the sweep benchmark's
# data set (of which BENCH_DUE are due) and its own database.
BENCH_INCIDENTS ?= 1000000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/itsm_bench
BENCH_CLOCKS ?= 1000000
BENCH_DUE ?= 10000
BENCH_SWEEP_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/itsm_bench_sweep
# The ServiceNow event-log import (bench/imports.py): a fresh database each run.
BENCH_IMPORT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/itsm_bench_import
BENCH_INGEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/itsm_bench_ingest
# Load driver: users per scenario, seconds per scenario, and the mixed run's users and seconds.
BENCH_LOAD_ARGS ?= --users 4 --seconds 15 --mixed-users 50 --mixed-seconds 60

BIN := $(VENV)/bin
VENV_PY := $(BIN)/python
STAMP := $(VENV)/.itsm-installed
BENCH_STAMP := $(VENV)/.itsm-bench-installed
MANAGE := $(VENV_PY) manage.py

# The first interpreter on PATH that is Python 3.11 or newer (evaluated only when the venv must be created).
PYTHON = $(shell for p in python3 python3.13 python3.12 python3.11; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v "$$p"; break; }; \
	done)

.PHONY: help venv install run test lint bench bench-ingest clean

help:
	@echo "make run    install, migrate, load the demo data, then serve web + Celery worker + beat on PORT (default 8000)"
	@echo "make test   install, then run the test suite (extra pytest arguments in PYTEST_ARGS)"
	@echo "make lint   ruff check, ruff format --check, makemigrations --check, bandit (medium severity and up)"
	@echo "make bench  seed a million incidents, load-test API and pages, SLA engine figures, query plans; see README"
	@echo "make clean  remove var/ (database, static files, queue); keeps .venv"

$(VENV_PY):
	@python="$(PYTHON)"; \
	if [ -z "$$python" ]; then \
		echo "error: Python 3.11 or newer is required and none was found on PATH (python3 is: $$(python3 --version 2>&1 || echo missing))" >&2; \
		exit 1; \
	fi; \
	echo "Creating $(VENV) with $$python ($$("$$python" --version 2>&1))"; \
	"$$python" -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(VENV_PY)
	@$(VENV_PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
		echo "error: $(VENV) uses $$($(VENV_PY) --version 2>&1); Python 3.11+ is required: remove $(VENV) and retry" >&2; exit 1; }
	$(VENV_PY) -m pip install -e '.[dev]'
	@touch $(STAMP)

venv install: $(STAMP)

run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput
	$(MANAGE) seed_demo
	@echo
	@echo "  Service desk: http://localhost:$(PORT)/"
	@echo "    portal (end users)    http://localhost:$(PORT)/portal/"
	@echo "    workspace (agents)    http://localhost:$(PORT)/workspace/"
	@echo "    admin                 http://localhost:$(PORT)/admin/"
	@echo "    API docs              http://localhost:$(PORT)/api/docs/"
	@echo "  Demo logins, password '$${ITSM_DEMO_PASSWORD:-demo}':"
	@echo "    admin           superuser"
	@echo "    agent1, agent2  agents in different teams"
	@echo "    user1, user2    end users"
	@echo "  Starting web, Celery worker and Celery beat; Ctrl-C stops all three."
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT=$(PORT) exec $(BIN)/honcho start -f Procfile --port $(PORT) --env /dev/null

# pytest's exit code 5 (no test collected) is a failure here too.
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# Runs all three checks, then fails if any failed.
lint: install
	@status=0; \
	echo "+ ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "+ ruff format --check ."; $(BIN)/ruff format --check . || status=1; \
	echo "+ manage.py makemigrations --check --dry-run"; $(MANAGE) makemigrations --check --dry-run || status=1; \
	echo "+ bandit -c pyproject.toml -r . -ll"; $(BIN)/bandit -q -c pyproject.toml -r . -ll || status=1; \
	exit $$status

# Benchmarks (figures, not tests): results in bench/results/; each data set is kept in its database and reused.
$(BENCH_STAMP): $(STAMP)
	$(VENV_PY) -m pip install -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(VENV_PY) -m bench.deadline
	BENCH_DATABASE_URL='$(BENCH_SWEEP_DATABASE_URL)' $(VENV_PY) -m bench.sla_sweep --clocks $(BENCH_CLOCKS) --due $(BENCH_DUE)
	DATABASE_URL='$(BENCH_DATABASE_URL)' DEBUG=false $(MANAGE) seed_bench --incidents $(BENCH_INCIDENTS)
	BENCH_DATABASE_URL='$(BENCH_DATABASE_URL)' $(VENV_PY) -m bench.engine
	BENCH_DATABASE_URL='$(BENCH_DATABASE_URL)' $(VENV_PY) -m bench.load $(BENCH_LOAD_ARGS)
	BENCH_DATABASE_URL='$(BENCH_DATABASE_URL)' $(VENV_PY) -m bench.plans
	BENCH_IMPORT_DATABASE_URL='$(BENCH_IMPORT_DATABASE_URL)' $(VENV_PY) -m bench.imports
	$(VENV_PY) -m bench.report

# Only the email ingestion and import rates (a small database, no 1M data set), then the table.
bench-ingest: $(BENCH_STAMP)
	BENCH_INGEST_DATABASE_URL='$(BENCH_INGEST_DATABASE_URL)' $(VENV_PY) -m bench.engine --ingestion-only
	BENCH_IMPORT_DATABASE_URL='$(BENCH_IMPORT_DATABASE_URL)' $(VENV_PY) -m bench.imports
	$(VENV_PY) -m bench.report

clean:
	rm -rf var
