# Khoso — two commands: `make run` serves the portal, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
KHOSO := $(BIN)/khoso
HOST ?= 127.0.0.1:5000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run setup install system-packages test lint bench translations messages clean

help: ## Show this help
	@echo "Khoso — kho tài liệu số / digital repository"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-16s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: PYTHON=$(PYTHON) HOST=$(HOST) PYTEST_ARGS='...'; configuration: KHOSO_* (see README.md)"

run: setup ## Install what is needed, set up the database and demo, serve on http://127.0.0.1:5000
	$(KHOSO) serve --bind $(HOST)

setup: install translations ## Install, migrate the database, create the admin account, load the demo
	$(KHOSO) setup

install: system-packages $(VENV)/.installed node_modules/.installed ## Install Python and npm dependencies

system-packages:
	@PYTHON=$(PYTHON) scripts/system-packages.sh $(if $(filter test,$(MAKECMDGOALS)),test,run)

$(VENV)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# iiif-prezi3 (the manifest models the tests load) pins Pillow <= 12 for an image helper
	@# that Khoso does not use; install it without its dependencies (pydantic is in [test]).
	$(BIN)/python -m pip install --quiet --no-deps 'iiif-prezi3>=3.1.1'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --omit=optional --no-audit --no-fund --loglevel=error
	touch $@

translations: $(VENV)/.installed ## Compile the message catalogues
	@$(BIN)/pybabel -q compile -d viewer/translations

messages: $(VENV)/.installed ## Extract translatable strings and update the catalogues
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k N_ --no-location --sort-output \
		-o viewer/translations/messages.pot repository ingest viewer templates
	$(BIN)/pybabel -q update --no-fuzzy-matching -i viewer/translations/messages.pot -d viewer/translations

test: install translations ## Run the test suite (PostgreSQL and S3 suites run under CI=true)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed ## Check the code with ruff
	$(BIN)/ruff check repository ingest viewer storage tests bench

bench: install ## Run the benchmarks (figures in bench/results/)
	$(BIN)/python bench/run.py

clean: ## Remove the virtual environment, node_modules and caches (keeps instance/)
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
