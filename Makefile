# Two commands matter: `make demo` and `make test`. Both install the Debian packages they need (as root; otherwise
# they print the one `sudo apt-get install` line to run), create .venv and install when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SQLITE_URL := sqlite:///$(CURDIR)/db.sqlite3
PG_URL ?= postgres://postgres@127.0.0.1:5432/extranet
# Applies to pip's isolated build environments too (XStatic-Bootstrap needs setuptools<81 to build).
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt

# The development settings, asked for explicitly: without DEBUG=true, extranet/settings.py wants production keys.
DEV := DEBUG=true

# Debian packages, listed here only. python3-venv: a bare Debian Python cannot create .venv without it. Pango and
# HarfBuzz's subsetter: WeasyPrint's PDFs (without libharfbuzz-subset0 it falls back to fontTools, 40 times slower);
# DejaVu Sans: their one font family, a system font since WeasyPrint fetches none (templates/requests/pdf/).
# Chromium: the browser tests (chromium-l10n: its controls in French, as in the guide's screenshots).
DEMO_PACKAGES := python3-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
BROWSER_PACKAGES := chromium chromium-l10n
# HAProxy: the fault tests and `make bench-scaleout` put it in front of two application servers
# (tests/extranet/test_two_servers.py, bench/scaleout.py).
FAULT_PACKAGES := haproxy
TEST_PACKAGES := $(DEMO_PACKAGES) $(FAULT_PACKAGES) $(if $(SKIP_BROWSER),,$(BROWSER_PACKAGES))

.PHONY: install demo test test-sqlite test-postgres postgres lint lock guide-images bench bench-scaleout demo-packages \
	test-packages scaleout-packages

demo-packages:
	@sh .ci/debian-packages $(DEMO_PACKAGES)

test-packages:
	@sh .ci/debian-packages $(TEST_PACKAGES)

scaleout-packages:
	@sh .ci/debian-packages $(DEMO_PACKAGES) $(FAULT_PACKAGES)

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: demo-packages install
	$(DEV) $(PY) manage.py migrate --noinput
	$(DEV) $(PY) manage.py seed_demo
	$(DEV) $(PY) manage.py runserver 127.0.0.1:8000

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/bandit --quiet --recursive extranet structures requests --exclude '*/migrations/*' --severity-level high
	DATABASE_URL=$(SQLITE_URL) $(PY) manage.py makemigrations --check --dry-run

# The suite's settings (tests/settings.py) set DEBUG themselves: a plain `pytest` works too.
test-sqlite: install
	DATABASE_URL=$(SQLITE_URL) $(VENV)/bin/pytest $(SQLITE_ARGS) $(PYTEST_ARGS)

test-postgres: install postgres
	DATABASE_URL=$(if $(findstring postgres,$(DATABASE_URL)),$(DATABASE_URL),$(PG_URL)) $(VENV)/bin/pytest $(POSTGRES_ARGS) $(PYTEST_ARGS)

# The local PostgreSQL cluster, started if it is installed and stopped (CI machines, as root).
postgres:
	@if command -v pg_isready >/dev/null && ! pg_isready -h 127.0.0.1 -p 5432 -q && [ "$$(id -u)" -eq 0 ] \
		&& [ -d /etc/postgresql ]; then pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql | head -n 1)" main start; fi

# The suite runs on SQLite, and on PostgreSQL too when DATABASE_URL points to it, in CI, or when a local server
# answers (as on these machines): then both run at once (separate databases and files), each one's output printed
# whole when it ends, and the tests that need one database only are shared (tests/conftest.py): the browser journeys
# in the SQLite run, the processes started apart (`one_database`) in the PostgreSQL run; each summary says how many
# it left to the other. On SQLite alone, everything but the PostgreSQL-only tests runs, and the summary says how
# many of those it skipped.
# Each run spreads its tests over TEST_WORKERS processes (pytest-xdist; an idle one takes tests from a busy one, so
# a long module does not hold the run back): the suite waits on databases, subprocesses and the browser as much as it
# computes, and four processes keep two cores busy. Each worker has its own test database (test_<name>_gw0, …).
TEST_WORKERS ?= 2
PARALLEL := -n $(TEST_WORKERS) --dist worksteal
LOCAL_POSTGRES := $(shell pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && echo yes)
test: test-packages lint
ifneq ($(or $(findstring postgres,$(DATABASE_URL)),$(filter true,$(CI)),$(LOCAL_POSTGRES)),)
	$(MAKE) --jobs=2 --output-sync=target test-sqlite test-postgres SQLITE_ARGS="--alongside $(PARALLEL)" \
		POSTGRES_ARGS="--alongside $(PARALLEL)"
else
	$(MAKE) test-sqlite SQLITE_ARGS="$(PARALLEL)"
endif

lock: install
	{ head -3 constraints.txt; $(VENV)/bin/pip freeze --exclude-editable | grep -v '^espace-partenaires'; } > constraints.new
	mv constraints.new constraints.txt

# The user guide's illustrations (templates/help/) are screenshots taken by the browser journeys: after
# `make test` (or `pytest tests/browser`), this copies the ones the guide shows into static/guide/.
guide-images:
	grep -oh 'image="[^"]*"' templates/help/*.html | cut -d'"' -f2 | sort -u | \
		while read -r name; do cp "test-results/screenshots/$$name.png" "static/guide/$$name.png" || exit 1; done
	# 256 colours are plenty for screenshots of pages, and divide the size by about three.
	$(PY) -c "import sys; from PIL import Image; [Image.open(p).convert('RGB').quantize(256).save(p, optimize=True) for p in sys.argv[1:]]" static/guide/*.png

# Benchmark (bench/): 1M requests (BENCH_REQUESTS=10000000 for 10M), then the pages under load as ratios to a floor
# view, then the PDF and CSV in process. On PostgreSQL when DATABASE_URL points to it, else on SQLite files under
# bench/data/. Past 1M the pages' figures go to their own part of bench/results.md (bench/run.py results_part).
BENCH_REQUESTS ?= 1000000
BENCH_DB := $(if $(findstring postgres,$(DATABASE_URL)),$(DATABASE_URL),sqlite:///$(CURDIR)/bench/data/bench.sqlite3)
BENCH_SMALL_DB := $(if $(findstring postgres,$(DATABASE_URL)),$(DATABASE_URL)_10k,sqlite:///$(CURDIR)/bench/data/bench_10k.sqlite3)

$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet ".[dev,bench]"
	touch $@

bench: demo-packages $(VENV)/.bench-installed
	mkdir -p bench/data
	DATABASE_URL=$(BENCH_DB) $(PY) bench/generate.py --reset --requests $(BENCH_REQUESTS)
	DATABASE_URL=$(BENCH_SMALL_DB) $(PY) bench/generate.py --reset --requests 10000 --big 5000
	$(PY) bench/run.py --database-url $(BENCH_DB) --small-database-url $(BENCH_SMALL_DB)
	DATABASE_URL=$(BENCH_DB) $(PY) bench/inprocess.py

# Several application servers (issue 20): two gunicorn servers sharing one PostgreSQL database, its cache and one media
# folder, behind HAProxy started apart on 127.0.0.1 (bench/scaleout.py). Always PostgreSQL, in a database of its own
# (<database>_scaleout), 20k requests: what it shows does not depend on the size.
SCALEOUT_DB := $(if $(findstring postgres,$(DATABASE_URL)),$(DATABASE_URL),$(PG_URL))_scaleout

bench-scaleout: scaleout-packages postgres $(VENV)/.bench-installed
	DATABASE_URL=$(SCALEOUT_DB) $(PY) bench/generate.py --reset --requests 20000 --big 5000
	$(PY) bench/scaleout.py --database-url $(SCALEOUT_DB)
