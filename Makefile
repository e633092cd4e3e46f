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

TORCH      := torch==2.13.0
# PyTorch's CPU-only wheels: the default index gives Linux the CUDA build, gigabytes that a
# laptop without an NVIDIA GPU never uses. macOS and Windows wheels on PyPI are CPU-only already.
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu

##@ Set-up
# torch first, alone: from files already on this machine when pip finds them there (CI, a
# prepared classroom image), else on Linux from PyTorch's CPU index. The rest comes from PyPI,
# without that extra index (an index that does not answer makes pip wait on every package).
$(STAMP): pyproject.toml requirements/dev.txt requirements/serve.txt requirements/constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if $(PY) -m pip install --quiet --no-index --no-deps $(TORCH) 2>/dev/null; then :; \
	elif [ "$$(uname -s)" = Linux ] && [ "$(CI)" != true ]; then \
	  echo "installing the CPU build of $(TORCH) from $(TORCH_CPU_INDEX) (about 200 MB, not the CUDA build)"; \
	  $(PY) -m pip install --quiet --no-deps $(TORCH) --index-url $(TORCH_CPU_INDEX) || \
	  echo "warning: $(TORCH_CPU_INDEX) did not answer: pip takes torch from PyPI instead (on Linux the CUDA build, gigabytes)"; fi
	$(PY) -m pip install --quiet -r requirements/dev.txt -c requirements/constraints.txt
	$(PY) -m pip install --quiet --no-build-isolation -e . -c requirements/constraints.txt
	$(PY) -m ipykernel install --user --name $(KERNEL) --display-name "Python (penguins-to-production)" >/dev/null
	@touch $(STAMP)
	@echo "environment ready: $(VENV)"

.PHONY: setup
setup: $(STAMP) ## create .venv with the pinned environment and the Jupyter kernel

# Before class, on good Wi-Fi: everything the notebooks fetch, fetched once, each step announced.
# `python -m workshop prep` is the same without make (after the README's set-up commands).
.PHONY: prep
prep: ## before class, on good Wi-Fi: every environment and image the notebooks use, then make doctor
	@echo "== prep 1/6: .venv, the training environment (make setup) =="
	@$(MAKE) --no-print-directory setup
	@echo "== prep 2/6: .venv-serve (make serve-env) =="
	@$(MAKE) --no-print-directory serve-env
	@echo "== prep 3/6: the Node environment (make node-env) =="
	@$(MAKE) --no-print-directory node-env
	@echo "== prep 4/6: the images of stages 06-07: docker build, docker pull =="
	$(PY) -m workshop prep images
	@echo "== prep 5/6: kind's node image (notebook 07c), when kind is installed =="
	$(PY) -m workshop prep kind
	@echo "== prep 6/6: make doctor =="
	@$(MAKE) --no-print-directory doctor

##@ Stages 01-03: train, save, export
.PHONY: train export demo
train: $(STAMP) ## train both models; save pickle, skops and torch files under artifacts/
	$(PY) -m penguins train

export: $(STAMP) ## export both models to ONNX, with parity figures (trains first if needed)
	$(PY) -m penguins export

demo: $(STAMP) ## the main job: set up, train, export, predict raw messy records with every backend
	$(PY) -m workshop demo

##@ Checks
.PHONY: test lint doctor diagram browser
test: $(STAMP) browser serve-env node-env k8s-binaries lint ## the whole test suite (what CI runs): lint, then tests/, the notebooks and solutions under nbval
	$(PY) -m pytest tests notebooks solutions --nbval-lax --durations=15

lint: $(STAMP) ## the import boundaries (import-linter), ruff (lint and format) and mypy --strict on src/
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

doctor: $(STAMP) ## check this laptop before class: python, disk, environment, ports, docker
	$(PY) -m workshop doctor

diagram: $(STAMP) ## re-render the bird's-eye picture into notebooks/img
	$(PY) -m workshop diagram

# Debian's chromium for the browser tests (/docs, JupyterLab, the slides). Installed when asked
# (`make browser`) or under CI=true, as root with apt-get; elsewhere those tests skip and say why.
BROWSER := /usr/bin/chromium
browser: ## install Debian's chromium for the headless-browser tests (root, apt-get)
	@if [ -x $(BROWSER) ]; then exit 0; fi; \
	if [ "$(CI)" != true ] && [ "$(filter browser,$(MAKECMDGOALS))" != browser ]; then \
	  echo "note: no $(BROWSER): the browser tests will skip (make browser installs it)"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "cannot install chromium: needs root and apt-get (Debian/Ubuntu)"; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null

##@ Stages 02-05: serve
# `make serve-02`, `serve-03`, `serve-04`: one rule for every stage server. Each runs in the
# foreground on its stage's port from the stage table (src/workshop/stages.py, which `make help`
# reads to list them; PORT=... or HOST=... overrides it) and records its pid in .run/, so
# `make stop` stops exactly the servers this checkout started.
.PHONY: stop
serve-%: $(STAMP)
	$(PY) -m workshop serve $* --run-dir .run $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST))

stop: docker-stop ## stop every stage server this checkout started, and the container
	@if [ -x $(PY) ]; then $(PY) -m penguins stop --run-dir .run; fi

##@ Stage 06: the container
# Plain docker commands, so you can read (and type) what each step does; see docker/README.md.
IMAGE       ?= penguins-to-production
CONTAINER   ?= penguins-06
DOCKER_PORT ?= 8006
.PHONY: docker-build docker-run docker-smoke docker-stop
docker-build: $(STAMP) ## build the serving image, tagged latest and <model_version>, labelled with version and sha256 (FROM python:3.11-slim)
	$(PY) -m penguins build
	docker build -f docker/Dockerfile $$($(PY) -m workshop room labels) \
	    -t $(IMAGE) -t $(IMAGE):$$($(PY) -m workshop room version) .

docker-run: $(STAMP) ## run the image in the background on 127.0.0.1:8006 and wait until it is healthy
	@docker rm --force $(CONTAINER) >/dev/null 2>&1 || true
	docker run --detach --rm --name $(CONTAINER) --publish 127.0.0.1:$(DOCKER_PORT):8000 $(IMAGE)
	$(PY) -m workshop.docker wait-healthy $(CONTAINER)

docker-smoke: $(STAMP) ## the golden set through the running container over HTTP, compared with in-process answers
	$(PY) -m penguins smoke --url http://127.0.0.1:$(DOCKER_PORT) tests/golden.json

docker-stop: ## stop the container (docker stop: SIGTERM, then it exits by itself)
	@if docker inspect $(CONTAINER) >/dev/null 2>&1; then docker stop $(CONTAINER); \
	else echo "no container $(CONTAINER) runs"; fi

##@ Stage 07: the server room
# docker/compose.room.yaml: the model x3 behind nginx (HTTPS at www.mojadomena.zmodelami.pl on
# stage 07's port, an API key) and the station; see docker/README.md. Secrets go to .room/ (git-ignored).
.PHONY: room-certs room-up room-down room-ps
room-certs: $(STAMP) ## a local certificate authority, the proxy's certificate and an API key, into .room/ (openssl)
	$(PY) -m workshop room certs

room-up: $(STAMP) docker-build ## start the room: docker compose -f docker/compose.room.yaml up --wait
	$(PY) -m workshop room up

room-ps: $(STAMP) ## who runs in the room: docker compose -f docker/compose.room.yaml ps
	$(PY) -m workshop room ps

room-down: $(STAMP) ## stop the room and remove its containers and network: docker compose ... down
	$(PY) -m workshop room down

# Blue/green: a new model beside the old one, then the old one stopped (see src/workshop/rollout.py).
.PHONY: room-v2 room-rollout room-rollback
room-v2: $(STAMP) ## a second model version: retrain with seed 7 into artifacts-v2/, build its image tag
	$(PY) -m penguins train --seed 7 --artifacts artifacts-v2
	$(PY) -m penguins export --artifacts artifacts-v2
	$(PY) -m workshop room build artifacts-v2

room-rollout: $(STAMP) ## make room-rollout VERSION=<model_version>: start that image beside the live one, then stop the old
	$(PY) -m workshop room rollout $(IMAGE):$(VERSION)

room-rollback: $(STAMP) ## back to the version the last rollout stopped
	$(PY) -m workshop room rollback

# Kubernetes (notebook 07c): kind on a laptop, see k8s/README.md. Under CI=true the cluster of
# .ci/k8s-cluster.sh instead, built from Debian's source once per machine (k8s-binaries: about
# 15 min cold, cached after; `make test` builds it before the tests start).
.PHONY: k8s-up k8s-down k8s-binaries
k8s-up: $(STAMP) ## a Kubernetes cluster for notebook 07c: kind create cluster, the model's image loaded into it
	$(PY) -m workshop k8s up

k8s-down: $(STAMP) ## delete that cluster: kind delete cluster
	$(PY) -m workshop k8s down

k8s-binaries:
	@if [ "$(CI)" = true ]; then bash .ci/k8s-cluster.sh build; fi

##@ Notebooks
.PHONY: lab slides notebooks serve-env node-env
lab: $(STAMP) ## JupyterLab on the project, opened on notebooks/, with the project's kernel, on 127.0.0.1:8888 (PORT=... to change)
	$(PY) -m workshop lab $(if $(PORT),--port $(PORT))

slides: $(STAMP) ## present one notebook as slides in the browser (RISE): make slides NB=04_wrapper_class
	@if [ -z "$(NB)" ]; then echo "name the notebook: make slides NB=04_wrapper_class"; exit 2; fi
	$(PY) -m workshop slides $(NB) $(if $(PORT),--port $(PORT))

notebooks: $(STAMP) ## execute the lecture notebooks in place and save their outputs (what GitHub shows)
	$(PY) -m workshop notebooks

serve-env: $(STAMP) ## build .venv-serve: serving requirements only, no torch (notebook 03's other runtime)
	$(PY) -m workshop serve-env

# Notebook 03's other language: onnxruntime-node from the committed lock file, into a git-ignored
# node_modules. Install scripts stay off (also in its .npmrc): onnxruntime-node's postinstall fetches
# GPU binaries from NuGet; the CPU binaries it runs on come inside the npm package. No Node.js: a note.
NODE_DIR   := notebooks/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
node-env: ## install onnxruntime-node for notebook 03 (npm ci, no install scripts); a no-op without Node.js
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "note: no Node.js/npm here: notebook 03 says what its Node.js cell would show"; \
	elif [ ! -f $(NODE_STAMP) ] || [ $(NODE_DIR)/package-lock.json -nt $(NODE_STAMP) ]; then \
	  cd $(NODE_DIR) && npm ci --ignore-scripts --no-audit --no-fund && touch node_modules/.installed; \
	fi

##@ Exercises
.PHONY: exercises my-exercises check-exercises
exercises: $(STAMP) ## regenerate exercises/ from solutions/ (after editing a solution; a test fails when stale)
	$(PY) -m workshop exercises

my-exercises: $(STAMP) ## copy the exercises into my-exercises/ (git-ignored) to work on; never overwrites your work
	$(PY) -m workshop my-exercises

check-exercises: $(STAMP) ## instructors: run the notebooks in my-exercises/ (DIR=... for another folder): ✓ / not done / failing per task
	$(PY) -m workshop check-exercises $(DIR)

##@ Benchmarks
# Not part of `make test` (a smoke test runs the same code on a tiny budget). Loopback only; each
# load test lasts seconds. Results: bench/results/ (see bench/README.md).
.PHONY: bench bench-peers
bench: $(STAMP) ## model, HTTP, cold start and size side by side: bench/results/bench.{md,png} (a few minutes)
	$(PY) -m bench

bench-peers: $(STAMP) ## the service against MLServer and BentoML (installs their venvs in bench/.peers once)
	$(PY) -m bench.peers

##@ Housekeeping
.PHONY: reset clean help
reset: stop ## stop the stage servers and remove artifacts for a clean demo
	rm -rf artifacts

clean: reset ## also remove the virtual environments, node_modules and the benchmark peers' environments
	rm -rf $(VENV) .venv-serve $(NODE_DIR)/node_modules bench/.peers

help: ## list the targets (the stage servers from src/workshop/stages.py, once `make setup` has run)
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2} /^serve-%:/ {system("$(STAGE_SERVERS)")}' $(MAKEFILE_LIST)
STAGE_SERVERS := test -x $(PY) && $(PY) -m workshop stage-map --make-help
