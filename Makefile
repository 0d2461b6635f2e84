# Two commands do everything on a fresh machine:
#   make reproduce   set up the environment if needed, then run the embedded default workflow
#   make test        set up the environment if needed, then run the whole test suite
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= all
SNAKEMAKE_ARGS ?=
PYTEST_ARGS ?=
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: setup reproduce test test-fast lint report dry-run clean bench

setup: $(VENV)/.irpipe-ready

$(VENV)/.irpipe-ready: pyproject.toml scripts/setup_env.sh
	VENV=$(VENV) bash scripts/setup_env.sh

reproduce: setup
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)
	$(BIN)/snakemake --cores 1 --report results/report.html $(SNAKEMAKE_ARGS)

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not workflow and not slurm" $(PYTEST_ARGS)

# What a reviewer checks: the workflow (snakemake --lint) and the Python (ruff, pyproject.toml).
lint: setup
	$(BIN)/snakemake --lint
	$(BIN)/ruff check irpipe workflow_scripts tests bench scripts

dry-run: setup
	$(BIN)/snakemake --cores 1 --dry-run $(SNAKEMAKE_ARGS)

bench: setup
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf results .snakemake
