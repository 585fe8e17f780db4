# Two commands for a fresh Debian machine, run as root: `make demo`, `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
FLASK  := $(VENV)/bin/flask --app wsgi
PORT   ?= 5000

.PHONY: demo test bench lint venv devvenv syslibs testsys benchsys serve migrate clean

# --- system packages (installed only when missing) --------------------------
# python3-venv: Debian's python3 cannot make a virtualenv without it.
syslibs:
	@bash scripts/ensure-debs.sh python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

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
# Local development on 127.0.0.1 (cookies without the Secure flag); links point at $(PORT).
DEMO_ENV := PORTAL_DEV=1 PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://127.0.0.1:$(PORT)}

demo: syslibs venv
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) demo
	$(DEMO_ENV) bash scripts/serve.sh $(VENV) $(PORT)

test: testsys devvenv
	$(VENV)/bin/pytest -q -p no:cacheprovider

bench: benchsys devvenv
	$(PY) bench/run.py $(BENCH_ARGS)

lint: devvenv
	$(VENV)/bin/ruff check .

migrate: venv
	$(FLASK) db upgrade

clean:
	rm -rf $(VENV) .pytest_cache
