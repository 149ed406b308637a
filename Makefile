# The two commands: `make run` (the app on the embedded SQLite default) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_ORG := staffanstorps-kommun-demo
export LAGESBILD_ENV ?= development
# Browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
CHROMIUM := /usr/bin/chromium
# The deployment test runs deploy/nginx/lagesbild.conf with Debian's nginx (never started as
# a service: the test runs its own in a temp dir).
NGINX := /usr/sbin/nginx
# It makes a throwaway certificate with the openssl command.
OPENSSL := /usr/bin/openssl
# A system test runs the app through Debian's pgbouncer in transaction mode.
PGBOUNCER := /usr/sbin/pgbouncer
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: run test lint format install install-test bench bench-pwa clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Installs are pinned by requirements.lock (a constraints file covering every dependency).
$(VENV)/.stamp-run: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install -q -c requirements.lock -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml requirements.lock $(VENV)/.stamp-run
	$(BIN)/pip install -q -c requirements.lock -e '.[test]'
	touch $@

# JavaScript from npm, pinned by package-lock.json: Leaflet for the workspace map and the face
# detector of the field app's redaction editor (both served from node_modules) and axe-core
# for the accessibility tests; reinstalled when the lock changes.
node_modules/.stamp: package.json package-lock.json
	command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.stamp-run
install-test: $(VENV)/.stamp-test $(CHROMIUM) $(NGINX) $(OPENSSL) $(PGBOUNCER) node_modules/.stamp

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(NGINX):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx

$(OPENSSL):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl

# Only the binary is used: the package's own service is stopped and disabled at once.
$(PGBOUNCER):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer
	-$(SUDO) systemctl disable --now pgbouncer 2>/dev/null

run: install node_modules/.stamp
	$(BIN)/lagesbild db upgrade
	$(BIN)/lagesbild demo --if-new
	$(BIN)/lagesbild device enrol --org $(DEMO_ORG) --name "Demotelefon" --kind vaktare
	exec $(BIN)/gunicorn -c deploy/gunicorn.conf.py server.wsgi:app

# Lint, then the whole suite in two lanes: unit and API tests (SQLite and PostgreSQL) on
# both cores with pytest-xdist (each worker has its own databases and PostgreSQL server);
# then everything else one test at a time (gunicorn system tests, the deployment behind
# nginx, load and fault runs, browser tests in Chromium), which start their own processes
# and would only fight over the cores. Both lanes always run; either failing fails the target.
# pytest's exit code 5 means "no tests collected", which is not a failure of a lane.
test: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q -n 2 tests/unit tests/api; a=$$?; if [ $$a -eq 5 ]; then a=0; fi; \
	$(BIN)/pytest -q tests --ignore=tests/unit --ignore=tests/api; b=$$?; if [ $$b -eq 5 ]; then b=0; fi; \
	echo "lanes: unit+api rc=$$a, system+browser rc=$$b"; [ $$a -eq 0 ] && [ $$b -eq 0 ]

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install-test
	$(BIN)/python bench/ingest.py

bench-pwa: install-test
	$(BIN)/python bench/pwa.py

# Compiled catalogs (*.mo) are rebuilt from the .po at start-up (server/translations).
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis node_modules
	find server/translations -name '*.mo' -delete
