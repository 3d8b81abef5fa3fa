# The two commands a new user types: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
OUT    ?= out/demo

.PHONY: demo test lint typecheck clean setup bench lab constraints

setup: $(STAMP)

# Installs the exact versions of constraints.txt (regenerate it on purpose: `make constraints`). pip's own
# output goes to .venv/install.log, so the first `make demo` shows the demo's lines, not install chatter.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "setting up .venv (a few minutes the first time, seconds after a change of pyproject.toml or constraints.txt; pip's output in $(VENV)/install.log)"
	@$(BIN)/python -m pip install --upgrade pip >$(VENV)/install.log 2>&1 \
		&& $(BIN)/python -m pip install -c constraints.txt -e '.[dev]' >>$(VENV)/install.log 2>&1 \
		|| { tail -n 30 $(VENV)/install.log; echo "setup failed: see $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)

constraints:
	scripts/update-constraints.sh

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
