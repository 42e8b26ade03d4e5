# certkit: two commands on a fresh machine (Python 3.11 + access to the package registry):
#   make report   set everything up and run the full report on data/sample/
#   make test     set everything up and run the test suite
# uv is bootstrapped into .tools/ if it is not on PATH; it never downloads a Python of its own.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv/bin

.PHONY: setup report test test-fast lint format bench sample clean

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

setup: $(UV)
	$(UV) sync --locked

report: setup
	$(VENV)/certkit report --data data/sample --out reports

# --dist loadfile: each test file runs on one worker, so a module's expensive fixtures (a
# Spark JVM, a rendered report batch, an organisation built with git) are built once, not
# once per worker. (loadgroup's xdist_group marks are ignored with pytest 9: xdist 3.8 sets
# a node id attribute pytest 9 no longer reads; both workers started a Spark JVM.)
# --no-loadscope-reorder: files are handed out in collection order, which tests/conftest.py
# sorts slowest first (xdist's default hands out the files with the most tests first, so the
# few long Spark and simulation tests started last and ran alone at the end).
test: setup
	bash scripts/system-deps.sh
	$(VENV)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=15

test-fast: setup
	$(VENV)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder -m "not slow"

lint: setup
	$(VENV)/ruff check . && $(VENV)/ruff format --check .

format: setup
	$(VENV)/ruff format . && $(VENV)/ruff check --fix .

bench: setup
	$(VENV)/python benchmarks/run.py

sample: setup
	$(VENV)/certkit sample --out data/sample

clean:
	rm -rf .venv .tools reports .pytest_cache
