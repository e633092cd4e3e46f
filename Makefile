# penguins-to-production: every target is a thin call into `python -m penguins ...`,
# so each stage also runs where make is missing (see README: the python -m form of each).
# `make help` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
KERNEL := penguins-to-production

# Opt-in for Linux students: take PyTorch's CPU-only wheels instead of the multi-GB CUDA build.
TORCH_CPU ?= 0
ifeq ($(TORCH_CPU),1)
TORCH_INDEX := --extra-index-url https://download.pytorch.org/whl/cpu
endif

##@ Set-up
$(STAMP): pyproject.toml requirements/dev.txt requirements/serve.txt requirements/constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt $(TORCH_INDEX)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --user --name $(KERNEL) --display-name "Python (penguins-to-production)" >/dev/null
	@touch $(STAMP)
	@echo "environment ready: $(VENV)"

.PHONY: setup
setup: $(STAMP) ## create .venv with the pinned environment and the Jupyter kernel

##@ Stages 01-03: train, save, export
.PHONY: train export demo
train: $(STAMP) ## train both models; save pickle, skops and torch files under artifacts/
	$(PY) -m penguins train

export: $(STAMP) ## export both models to ONNX, with parity figures (trains first if needed)
	$(PY) -m penguins export

demo: $(STAMP) ## the main job: set up, train, export, predict raw messy records with every backend
	$(PY) -m penguins demo

##@ Checks
.PHONY: test doctor diagram
test: $(STAMP) ## the whole test suite (what CI runs)
	$(PY) -m pytest tests

doctor: $(STAMP) ## check this laptop before class: python, disk, environment, ports, docker
	$(PY) -m workshop doctor

diagram: $(STAMP) ## re-render the bird's-eye picture into notebooks/img
	$(PY) -m workshop diagram

##@ Housekeeping
.PHONY: reset clean help
reset: ## remove artifacts for a clean demo
	rm -rf artifacts

clean: reset ## also remove the virtual environment
	rm -rf $(VENV)

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
