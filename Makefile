# Two commands matter: `make demo` and `make test`. Both create .venv and install when needed.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SQLITE_URL := sqlite:///$(CURDIR)/db.sqlite3
PG_URL ?= postgres://postgres@127.0.0.1:5432/extranet
# Applies to pip's isolated build environments too (XStatic-Bootstrap needs setuptools<81 to build).
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt

.PHONY: install demo test test-sqlite test-postgres lint lock guide-images bench

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:8000

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit --quiet --recursive extranet structures requests --exclude '*/migrations/*' --severity-level high
	DATABASE_URL=$(SQLITE_URL) $(PY) manage.py makemigrations --check --dry-run

test-sqlite: install
	DATABASE_URL=$(SQLITE_URL) $(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgres: install
	DATABASE_URL=$(if $(findstring postgres,$(DATABASE_URL)),$(DATABASE_URL),$(PG_URL)) $(VENV)/bin/pytest $(PYTEST_ARGS)

# The suite runs on SQLite, and on PostgreSQL too when DATABASE_URL points to it or in CI: then both run at once
# (separate databases and files), each one's output printed whole when it ends.
test: lint
ifneq ($(or $(findstring postgres,$(DATABASE_URL)),$(filter true,$(CI))),)
	$(MAKE) --jobs=2 --output-sync=target test-sqlite test-postgres
else
	$(MAKE) test-sqlite
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

# Benchmark (bench/): 1M requests, then the pages under load as ratios to a floor view, then the PDF and CSV in
# process. On PostgreSQL when DATABASE_URL points to it, else on SQLite files under bench/data/.
BENCH_DB := $(if $(findstring postgres,$(DATABASE_URL)),$(DATABASE_URL),sqlite:///$(CURDIR)/bench/data/bench.sqlite3)
BENCH_SMALL_DB := $(if $(findstring postgres,$(DATABASE_URL)),$(DATABASE_URL)_10k,sqlite:///$(CURDIR)/bench/data/bench_10k.sqlite3)

$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet ".[dev,bench]"
	touch $@

bench: $(VENV)/.bench-installed
	mkdir -p bench/data
	DATABASE_URL=$(BENCH_DB) $(PY) bench/generate.py --reset
	DATABASE_URL=$(BENCH_SMALL_DB) $(PY) bench/generate.py --reset --requests 10000 --big 5000
	$(PY) bench/run.py --database-url $(BENCH_DB) --small-database-url $(BENCH_SMALL_DB)
	DATABASE_URL=$(BENCH_DB) $(PY) bench/inprocess.py
