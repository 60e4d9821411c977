# Quick start:  make serve   (installs, then runs the server on 127.0.0.1:8000)
#               make test    (installs with the test extra, then lint, types and the whole test suite)
#               make bench   (every benchmark at a quick size, figures beside same-run baselines, JSON in
#                             reports/bench/; make bench BENCH=full for the full sizes, see bench/README.md)
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: serve test lint typecheck pytest conformance bench clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test,silero,clients,transcriber,calls]"
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
	$(BIN)/pytest -n 2  # two workers: the CI machines have 2 cores

conformance: $(BIN)/.installed
	$(BIN)/pytest conformance --target=mock

test: lint typecheck pytest conformance

BENCH ?= quick
BENCH_OUT ?= reports/bench
ifeq ($(BENCH),full)
TEXT_ARGS := --served
INGEST_ARGS :=
LOAD_ARGS := --workers 1,2 --floor
PLUGIN_ARGS :=
APPEND_ARGS :=
CORE_ARGS :=
REPLY_ARGS :=
else
TEXT_ARGS := --served --turns 300 --connections 50 --seconds 2 --growing 1000
INGEST_ARGS := --seconds 10 --detectors webrtc,energy --repeats 2
LOAD_ARGS := --workers 1,2 --ramp 50,100,200 --seconds 6 --floor
PLUGIN_ARGS := --turns 50 --starts 3
APPEND_ARGS := --connections 10 --appends 200 --rounds 2
CORE_ARGS := --sessions 50 --seconds 4 --rounds 1
REPLY_ARGS := --words 16,200 --rounds 1
endif

bench: $(BIN)/.installed
	mkdir -p $(BENCH_OUT)
	$(BIN)/python bench/text_latency.py $(TEXT_ARGS) --json $(BENCH_OUT)/text_latency.json
	$(BIN)/python bench/load.py $(LOAD_ARGS) --json $(BENCH_OUT)/load.json
	$(BIN)/python bench/ingest.py $(INGEST_ARGS) --json $(BENCH_OUT)/ingest.json
	$(BIN)/python bench/append_cpu.py $(APPEND_ARGS) --json $(BENCH_OUT)/append_cpu.json
	$(BIN)/python bench/py_calls.py --json $(BENCH_OUT)/py_calls.json
	$(BIN)/python bench/append_core.py $(CORE_ARGS) --json $(BENCH_OUT)/append_core.json
	$(BIN)/python bench/reply_cost.py $(REPLY_ARGS) --json $(BENCH_OUT)/reply_cost.json
	$(BIN)/python bench/vad_accuracy.py --json $(BENCH_OUT)/vad_accuracy.json
	$(BIN)/python bench/plugin.py $(PLUGIN_ARGS) --json $(BENCH_OUT)/plugin.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
