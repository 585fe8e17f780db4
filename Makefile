# Two commands for a fresh Debian machine, run as root: `make demo`, `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
FLASK  := $(VENV)/bin/flask --app wsgi
PORT   ?= 5000

.PHONY: demo test bench lint venv devvenv syslibs testsys benchsys serve migrate clean

# --- system packages (installed only when missing) --------------------------
syslibs:
	@bash scripts/ensure-debs.sh libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

testsys: syslibs
	@bash scripts/ensure-debs.sh chromium poppler-utils

benchsys: syslibs
	@bash scripts/ensure-debs.sh wrk

# --- python environment -------------------------------------------------------
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed
devvenv: $(VENV)/.installed-dev

# --- the two commands ---------------------------------------------------------
demo: syslibs venv
	PORTAL_DEV=1 $(FLASK) db upgrade
	PORTAL_DEV=1 $(FLASK) demo
	PORTAL_DEV=1 $(VENV)/bin/gunicorn -c gunicorn.conf.py -b 127.0.0.1:$(PORT) wsgi:app

test: testsys devvenv
	$(VENV)/bin/pytest -q -p no:cacheprovider

bench: benchsys devvenv
	$(PY) bench/run.py

lint: devvenv
	$(VENV)/bin/ruff check .

migrate: venv
	$(FLASK) db upgrade

clean:
	rm -rf $(VENV) .pytest_cache
