# One entry point for people and CI. Every target installs what it needs itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ACPX   := tests/acp/acpx/node_modules/.bin/acpx

.PHONY: setup acpx run test test-python test-reliability test-nvim test-vscode lint bench bench-compare vsix clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

setup: $(STAMP)

## acpx, the third-party ACP client the tests run against `agent-ls acp` (tests/acp/acpx).
$(ACPX): tests/acp/acpx/package.json tests/acp/acpx/package-lock.json
	@if command -v npm >/dev/null; then \
		cd tests/acp/acpx && npm install --no-audit --no-fund && touch node_modules/.bin/acpx; \
	else echo "npm not found: the acpx test is skipped without Node.js"; fi

acpx: $(ACPX)

## The main job: the terminal chat on this folder.
run: $(STAMP)
	$(BIN)/agent-ls chat --workspace .

## Every test: lint, Python unit + end-to-end, reliability, Neovim, VS Code.
test: lint test-python test-reliability test-nvim test-vscode

lint: $(STAMP)
	$(BIN)/ruff check agent_ls tests bench
	$(BIN)/ruff format --check agent_ls tests bench

test-python: $(STAMP) $(ACPX)
	$(BIN)/pytest -q -m "not reliability" tests

test-reliability: $(STAMP)
	$(BIN)/pytest -q -m reliability tests

test-nvim: $(STAMP)
	bash nvim/tests/run.sh

test-vscode: $(STAMP)
	bash vscode-extension/scripts/test.sh

vsix:
	bash vscode-extension/scripts/package.sh

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

bench-compare: $(STAMP)
	$(BIN)/python bench/bench_compare_pi.py

clean:
	rm -rf $(VENV) vscode-extension/node_modules vscode-extension/dist tests/acp/acpx/node_modules .pytest_cache
