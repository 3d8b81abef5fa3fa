# The two commands a new user types: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= out/demo

.PHONY: demo test lint typecheck clean setup bench lab

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m toolkit demo --out $(OUT)

test: $(STAMP)
	@scripts/ensure-chromium.sh
	@$(BIN)/python scripts/node_clients.py
	$(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check toolkit tests benchmarks scripts
	$(BIN)/mypy

# JupyterLab on the notebooks (each starts the embedded demo org by default); --allow-root only as root
lab: $(STAMP)
	PYTHONPATH=$(CURDIR) $(BIN)/jupyter lab --ServerApp.root_dir=notebooks \
		$$(test "$$(id -u)" = 0 && echo --allow-root)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_audit.py

clean:
	rm -rf $(VENV) out .pytest_cache
