# Two commands for a fresh Debian machine, run as root: `make demo`, `make test`.
# (`make test-pg` runs the suite on PostgreSQL: scripts/test-pg.sh.)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
FLASK  := $(VENV)/bin/flask --app wsgi
PORT   ?= 5000

.PHONY: demo test test-pg bench lint venv devvenv syslibs testsys benchsys serve migrate clean

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

# The demo's pretend clearinghouse is an SFTP server (asyncssh): the portal runs without it,
# and so does the demo when it cannot be installed (claims are then downloaded as files).
$(VENV)/.installed-demo: $(VENV)/.installed
	$(PIP) install -q -e '.[demo]' || echo "asyncssh could not be installed: the demo runs without its pretend clearinghouse."
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed
devvenv: $(VENV)/.installed-dev

# --- the two commands ---------------------------------------------------------
# Local development on 127.0.0.1 (cookies without the Secure flag); links point at $(PORT).
DEMO_SFTP_PORT ?= $(shell expr $(PORT) + 17000)
DEMO_ENV := PORTAL_DEV=1 PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://127.0.0.1:$(PORT)} PORTAL_DEMO_SFTP_PORT=$(DEMO_SFTP_PORT)

demo: syslibs venv $(VENV)/.installed-demo
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) demo
	$(DEMO_ENV) bash scripts/serve.sh $(VENV) $(PORT)

test: testsys devvenv
	$(VENV)/bin/pytest -q -p no:cacheprovider

# The same suite on PostgreSQL, in a throwaway cluster (installs Debian's postgresql when
# missing). `make test-pg PYTEST_ARGS=tests/test_smoke.py` runs a selection.
test-pg: testsys devvenv
	bash scripts/test-pg.sh $(VENV) $(PYTEST_ARGS)

# BENCH_DB=postgresql (or both: SQLite, then PostgreSQL, side by side) runs it on a throwaway
# PostgreSQL database: on BENCH_PG_URL's server, else on a cluster of the bench's own
# (scripts/pg-cluster.sh; installs Debian's postgresql when missing). See bench/README.md.
bench: benchsys devvenv
	@case "$$BENCH_DB" in postgres*|both) [ -n "$$BENCH_PG_URL" ] || bash scripts/ensure-debs.sh postgresql ;; esac
	$(PY) bench/run.py $(BENCH_ARGS)

lint: devvenv
	$(VENV)/bin/ruff check .

migrate: venv
	$(FLASK) db upgrade

clean:
	rm -rf $(VENV) .pytest_cache
