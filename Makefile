# The two commands: `make run` (set up and serve the demo) and `make test` (set up and run every test).
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3
PORT   ?= 8000
HOST   ?= 127.0.0.1
export PORT

.PHONY: run test install test-deps chromium lint bench messages clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/convene migrate
	$(BIN)/convene demo
	$(BIN)/uvicorn app.main:create_app --factory --host $(HOST) --port $(PORT) --no-access-log --timeout-graceful-shutdown 30

# Debian's Chromium drives the browser tests (Playwright's own browser download is not used);
# poppler-utils renders the report-back PDF to images in the tests.
chromium:
	@{ command -v chromium && command -v pdftoppm; } >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-dejavu-core poppler-utils; }

test-deps: $(VENV)/.test-installed chromium

lint: test-deps
	$(BIN)/ruff check .
	$(BIN)/mypy app

# The suite runs on SQLite (with the browser tests), then again on PostgreSQL.
test: test-deps lint
	$(BIN)/pytest
	CONVENE_TEST_DB=postgres $(BIN)/pytest -m "not browser"

bench: test-deps
	$(BIN)/python -m bench

# Refresh the translation template and the French and Spanish catalogs from the code and
# templates (translate the new entries in app/locale/*/LC_MESSAGES/messages.po afterwards).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o app/locale/messages.pot .
	$(BIN)/pybabel update -i app/locale/messages.pot -d app/locale --no-fuzzy-matching

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
