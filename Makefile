# Quick start:  make serve   (installs, then runs the server on 127.0.0.1:8000)
#               make test    (installs with the test extra, then lint, types and the whole test suite)
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint typecheck pytest conformance bench clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test,silero,clients]"
	touch $@

serve: $(BIN)/.installed
	$(BIN)/mockrt serve --host 127.0.0.1 --port 8000

lint: $(BIN)/.installed
	$(BIN)/ruff check mockrt tests bench conformance

typecheck: $(BIN)/.installed
	$(BIN)/mypy

# The JavaScript client tests' packages (tests/test_clients_js.py); without npm those tests skip with a message.
tests/js/node_modules/.package-lock.json: tests/js/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/js --no-audit --no-fund; \
	else echo "npm not found: the JavaScript client tests will be skipped (see .ci/run)"; fi

pytest: $(BIN)/.installed tests/js/node_modules/.package-lock.json
	$(BIN)/pytest

conformance: $(BIN)/.installed
	$(BIN)/pytest conformance --target=mock

test: lint typecheck pytest conformance

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
