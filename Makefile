# The one entry point: make demo, make test, make bench, make lint.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CYPHER_LINT := tools/cypher-lint/node_modules/.package-lock.json
CHROMIUM := /usr/bin/chromium

.PHONY: demo test lint bench screenshot clean neo4j neo4j-stop compiled

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Neo4j's own Cypher parser and semantic analysis (npm), for tests/test_cypher.py; skipped without npm.
$(CYPHER_LINT): tools/cypher-lint/package.json tools/cypher-lint/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tools/cypher-lint --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Cypher analysis test will be skipped"; fi

# Debian's Chromium, for the browser tests of the HTML files (tests/test_html.py); skipped without it.
$(CHROMIUM):
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null 2>&1 && \
		  apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; } || \
		echo "could not install chromium: the browser tests will be skipped"; \
	else echo "no chromium (and no root apt-get): the browser tests will be skipped"; fi

# Bytecode for cofi's own modules, written beside them: an editable install leaves it to the
# first import, which writes none where PYTHONDONTWRITEBYTECODE is set (as on these machines), so
# every command compiled cofi's modules again: 0.18-0.23 s for `cofi --version`, 0.11-0.12 s with
# the bytecode.  (A module changed since is compiled again here; up to date, this takes 0.1 s.)
compiled: $(STAMP)
	@$(BIN)/python -m compileall -q cofi

demo: compiled
	$(BIN)/cofi demo

lint: $(STAMP)
	$(BIN)/ruff check cofi tests benchmarks
	$(BIN)/ruff format --check cofi tests benchmarks
	$(BIN)/mypy

# The Neo4j half of the suite runs against a throwaway local Neo4j 5.26 (tools/neo4j_ctl.py)
# wherever Java is present, or against the server NEO4J_URI names.
test: lint compiled $(CYPHER_LINT) $(CHROMIUM)
	$(BIN)/python tools/neo4j_ctl.py test -- $(BIN)/pytest

# A local Neo4j 5.26 Community server from Maven Central, for trying cofi without Docker.
neo4j: $(STAMP)
	$(BIN)/python tools/neo4j_ctl.py start

neo4j-stop: $(STAMP)
	$(BIN)/python tools/neo4j_ctl.py stop

bench: compiled
	$(BIN)/python benchmarks/run.py

screenshot: $(STAMP) $(CHROMIUM)
	$(BIN)/python tools/screenshot.py docs/explore-demo.png

clean:
	rm -rf $(VENV) .cofi build dist *.egg-info tools/cypher-lint/node_modules tools/neo4j/target
	find cofi -name __pycache__ -type d -prune -exec rm -rf {} +
