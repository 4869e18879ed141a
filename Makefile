# Kho mô hình hay — every target creates the virtualenv it needs on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= 2

.PHONY: run dev test eval lint format reindex check clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

## run: install, bring the index up to date, serve on http://$(HOST):$(PORT)
run: $(BIN)/.installed
	$(BIN)/flask --app app kb reindex
	@echo "Kho mô hình hay: http://$(HOST):$(PORT)/"
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - app:app

## dev: Flask's development server with reload
dev: $(BIN)/.installed
	$(BIN)/flask --app app kb reindex
	$(BIN)/flask --app app run --debug --host $(HOST) --port $(PORT)

## test: lint, then every test
test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

## eval: relevance of this search vs SQLite FTS5 on the judged queries; updates the README table
eval: $(BIN)/.installed
	$(BIN)/python tests/eval/evaluate.py --write-readme

lint: $(BIN)/.installed
	$(BIN)/ruff check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

reindex: $(BIN)/.installed
	$(BIN)/flask --app app kb reindex $(if $(FULL),--full,)

check: $(BIN)/.installed
	$(BIN)/flask --app app kb check

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
