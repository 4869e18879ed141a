# Kho mô hình hay — every target creates the virtualenv it needs on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

LOCK   := requirements.lock

.PHONY: run serve dev test check eval bench soak lint format reindex validate lock clean

# Every package from the lock, each checked against its hashes; then this project, editable (a
# `git pull` needs no reinstall), built by the locked setuptools: nothing unpinned is downloaded.
$(BIN)/.installed: $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

## run: install, bring the index up to date, serve on http://$(HOST):$(PORT)
run: $(BIN)/.installed
	$(BIN)/kb reindex
	@$(MAKE) --no-print-directory serve

## serve: the production server (gunicorn, gunicorn.conf.py: one worker per core plus one)
serve: $(BIN)/.installed
	@echo "Kho mô hình hay: http://$(HOST):$(PORT)/"
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py app:app

## dev: Flask's development server with reload
dev: $(BIN)/.installed
	$(BIN)/kb reindex
	$(BIN)/flask --app app run --debug --host $(HOST) --port $(PORT)

# Tests start many Python processes (workers, the CLI, servers): let them cache compiled modules
# even where the environment says not to (PYTHONDONTWRITEBYTECODE), or each compiles everything.
BYTECODE := PYTHONDONTWRITEBYTECODE=

## test: lint, then every test
test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BYTECODE) $(BIN)/python -m pytest

## check: the quick loop while working: lint, then every test but the browser and slow ones, on every core
check: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BYTECODE) $(BIN)/python -m pytest -q -m "not browser and not slow" -n auto

## eval: relevance of this search vs SQLite FTS5 on the judged queries; updates the tables in docs/search.md
eval: $(BIN)/.installed
	$(BIN)/python tests/eval/evaluate.py --write-readme

## bench: indexing and search speed at 1 000, 10 000 and 50 000 entries, beside plain Whoosh and SQLite FTS5
bench: $(BIN)/.installed
	$(BIN)/python bench/run.py --write-readme $(if $(SIZES),--sizes $(SIZES),)

## soak: 10 minutes of mixed searches, page views and saves at about 50 requests/s (bench/SOAK.md)
soak: $(BIN)/.installed
	$(BIN)/python bench/soak.py $(if $(MINUTES),--minutes $(MINUTES),)

lint: $(BIN)/.installed
	$(BIN)/ruff check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

reindex: $(BIN)/.installed
	$(BIN)/kb reindex $(if $(FULL),--full,)

## validate: check every entry and vocabulary file in content/ (kb check)
validate: $(BIN)/.installed
	$(BIN)/kb check

## lock: after editing requirements.txt or requirements-dev.txt, pin everything they need, with hashes
lock: $(BIN)/.installed
	$(BIN)/uv pip compile requirements-dev.txt --quiet --generate-hashes --universal --python-version 3.11 \
		--custom-compile-command "make lock" --output-file $(LOCK)

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
