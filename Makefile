# HarmonyBridge developer commands. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HB := $(BIN)/harmonybridge
PYTEST := $(BIN)/pytest
# the suite runs on every core (pytest-xdist); a test file stays on one worker, so a
# module's demo practice is loaded once
PARALLEL ?= -n auto --dist loadfile
# the core's docstring examples run as tests
DOCTESTS := --doctest-modules src/harmonybridge --ignore=src/harmonybridge/web --ignore=src/harmonybridge/__main__.py

.PHONY: install run test test-core test-web test-fast test-browser lint format typecheck bench migrations-check lock clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[web,pdf,research,dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv with every extra (idempotent)

run: install ## migrate, load the demo practice and serve it on http://127.0.0.1:8000
	HB_MODE=demo $(HB) manage migrate --noinput -v 0
	HB_MODE=demo $(HB) manage load_demo
	HB_MODE=demo $(HB) manage runserver 127.0.0.1:8000

test: install ## the whole suite (PostgreSQL too when DATABASE_URL is set; browser tests when Chromium is found)
	env -u DATABASE_URL $(PYTEST) -q $(PARALLEL) tests $(DOCTESTS)
	@if [ -n "$$DATABASE_URL" ]; then echo "== the web suite again on PostgreSQL =="; $(PYTEST) -q $(PARALLEL) -m "not browser" --database-tests-only tests/web; fi

test-core: install
	$(PYTEST) -q tests/core $(DOCTESTS)

test-web: install
	$(PYTEST) -q tests/web

test-fast: install
	$(PYTEST) -q -m "not slow and not browser" -x

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: install
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

typecheck: install ## mypy with django-stubs on the whole package; the core also --strict
	HB_MODE=test PYTHONPATH=. $(BIN)/mypy src/harmonybridge
	$(BIN)/mypy --strict src/harmonybridge --exclude 'src/harmonybridge/web/'

migrations-check: install
	env -u DATABASE_URL HB_MODE=test PYTHONPATH=. DJANGO_SETTINGS_MODULE=tests.settings $(HB) manage makemigrations --check --dry-run

bench: install ## run every benchmark; each prints its ratio against an in-run baseline
	@for b in benchmarks/*.py; do case $$b in *crash_test*|*_common*) continue;; esac; echo "== $$b"; $(BIN)/python $$b || exit 1; done

lock: ## refresh constraints.txt from a clean install (then commit it)
	rm -rf /tmp/hb-lock && $(PY) -m venv /tmp/hb-lock && /tmp/hb-lock/bin/pip install --quiet -e '.[web,pdf,research,dev]' && /tmp/hb-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) var build dist
