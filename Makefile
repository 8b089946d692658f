# JointCred — the two commands: `make run` (app with demo data) and `make test` (lint + whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test lint install install-dev system-deps migrate seed worker beat bench bench-full web check-deploy clean

# System libraries WeasyPrint needs (Pango, HarfBuzz, fonts); installed with apt when missing.
system-deps:
	@bash .ci/system-deps

$(VENV)/.installed: pyproject.toml | system-deps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || (bash .ci/system-deps venv && $(PYTHON) -m venv $(VENV))
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

# Tests also need Chromium (browser journeys) and axe-core from the npm registry (package-lock.json).
$(VENV)/.installed-dev: $(VENV)/.installed package.json package-lock.json
	@bash .ci/system-deps test
	$(PY) -m pip install --quiet -e ".[dev]"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	DJANGO_DEBUG=true $(PY) manage.py migrate --noinput

seed: migrate
	DJANGO_DEBUG=true $(PY) manage.py seed_demo

# Development server on SQLite with eager Celery and demo data; prints the demo logins.
run: seed
	@echo "JointCred is starting on http://$(HOST):$(PORT)/  (demo logins above)"
	DJANGO_DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

# Lint, then the whole suite. Uses DATABASE_URL / REDIS_URL when set (CI sets them).
test: install-dev
	@start=$$(date +%s); \
	$(PY) -m ruff check . && echo "lint: $$(( $$(date +%s) - start ))s"
	@start=$$(date +%s); \
	$(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	echo "tests: $$(( $$(date +%s) - start ))s"; exit $$status

lint: install-dev
	$(PY) -m ruff check .

# Production-shaped processes (the same commands docker-compose.yml runs).
web: install
	$(VENV)/bin/gunicorn consortium.wsgi:application --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-2} --access-logfile -

worker: install
	$(VENV)/bin/celery -A consortium worker --loglevel=INFO --concurrency=$${CELERY_CONCURRENCY:-2}

beat: install
	$(VENV)/bin/celery -A consortium beat --loglevel=INFO --schedule=var/celerybeat-schedule

# Benchmarks print figures (not timed unit tests), on PostgreSQL + Redis (started here when missing):
# `make bench` at quick sizes (under 10 minutes), `make bench-full` at the issue's sizes; BENCH=<names> runs some.
BENCH_ENV = DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/jointcred_bench} \
            REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0}
bench: install-dev
	@bash .ci/services
	$(BENCH_ENV) $(PY) -m tests.benchmarks $(BENCH)

bench-full: install-dev
	@bash .ci/services
	$(BENCH_ENV) BENCH_FULL=1 $(PY) -m tests.benchmarks $(BENCH)

check-deploy: install
	$(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
