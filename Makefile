# Quick start:  make serve   (installs, then runs the server on 127.0.0.1:8000)
#               make test    (installs with the test extra, then lint, types and the whole test suite)
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint typecheck pytest conformance bench clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test,silero,clients,calls]"
	touch $@

serve: $(BIN)/.installed
	$(BIN)/mockrt serve --host 127.0.0.1 --port 8000

lint: $(BIN)/.installed
	$(BIN)/ruff check mockrt tests bench conformance

typecheck: $(BIN)/.installed
	$(BIN)/mypy

pytest: $(BIN)/.installed
	$(BIN)/pytest

conformance: $(BIN)/.installed
	$(BIN)/pytest conformance --target=mock

test: lint typecheck pytest conformance

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
