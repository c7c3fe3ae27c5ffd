# Relance — the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck bench clean system-deps

$(BIN)/relance: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.dev: $(BIN)/relance
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: $(BIN)/relance
	$(BIN)/relance demo

system-deps:
	bash scripts/system-deps.sh

test: $(VENV)/.dev system-deps
	$(BIN)/pytest -q -p no:cacheprovider

lint: $(VENV)/.dev
	$(BIN)/ruff check assistant tests bench examples
	$(BIN)/ruff format --check assistant tests bench examples

typecheck: $(VENV)/.dev
	$(BIN)/mypy assistant

bench: $(VENV)/.dev
	$(BIN)/python bench/cycle.py

clean:
	rm -rf $(VENV) relance-demo.db*
