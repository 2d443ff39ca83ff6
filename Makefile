# Crossfade: `make demo` sets everything up and serves the demo catalogue; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: install demo serve dev test check clean-demo

$(VENV)/.installed: requirements.txt requirements-nodeps.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --requirement requirements.txt
	$(PY) -m pip install --quiet --no-deps --requirement requirements-nodeps.txt
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) manage.py migrate --noinput --verbosity 0
	$(PY) manage.py collectstatic --noinput --verbosity 0
	PORT=$(PORT) $(PY) manage.py demo
	$(MAKE) --no-print-directory serve

# The site as in production: gunicorn (DEBUG off, one worker per core) and the db_worker that runs background tasks.
serve: install
	$(PY) manage.py migrate --noinput --verbosity 0
	$(PY) manage.py collectstatic --noinput --verbosity 0
	PORT=$(PORT) $(PY) manage.py serve

# Development: Django's runserver (DEBUG on, reloads on edits, 127.0.0.1 only) and the db_worker.
dev: install
	$(PY) manage.py migrate --noinput --verbosity 0
	$(PY) manage.py db_worker --queue-name default,reindex --verbosity 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install
	$(PY) -m pytest

# The architecture's contracts: import layers, one migration chain, lint (the tests check these too); and the types (mypy).
check: install
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run --verbosity 1
	$(VENV)/bin/ruff check ml playlists config bench tests manage.py

clean-demo:
	rm -rf data/demo data/index data/crossfade.sqlite3
