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
	$(PY) -m workshop demo

##@ Checks
.PHONY: test doctor diagram browser
test: $(STAMP) browser serve-env ## the whole test suite (what CI runs): tests/, and the notebooks and solutions under nbval
	$(PY) -m pytest tests notebooks solutions --nbval-lax --durations=15

doctor: $(STAMP) ## check this laptop before class: python, disk, environment, ports, docker
	$(PY) -m workshop doctor

diagram: $(STAMP) ## re-render the bird's-eye picture into notebooks/img
	$(PY) -m workshop diagram

# Debian's chromium for the /docs browser test. Installed when asked (`make browser`) or under
# CI=true, as root with apt-get; elsewhere that test skips and says why.
BROWSER := /usr/bin/chromium
browser: ## install Debian's chromium for the headless-browser test (root, apt-get)
	@if [ -x $(BROWSER) ]; then exit 0; fi; \
	if [ "$(CI)" != true ] && [ "$(filter browser,$(MAKECMDGOALS))" != browser ]; then \
	  echo "note: no $(BROWSER): the browser test will skip (make browser installs it)"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
	  echo "cannot install chromium: needs root and apt-get (Debian/Ubuntu)"; exit 1; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null

##@ Stages 02-05: serve
# Each server runs in the foreground on its stage's port (PORT=... overrides it) and records its
# pid in .run/, so `make stop` stops exactly the servers this checkout started.
.PHONY: serve-02 serve-03 serve-04 stop
serve-02: $(STAMP) ## stage 02 on :8002: the pickled scikit-learn pipeline behind FastAPI
	$(PY) -m penguins serve --stage 02 --run-dir .run

serve-03: $(STAMP) ## stage 03 on :8003: the bare ONNX model, clean typed features only
	$(PY) -m penguins serve --stage 03 --run-dir .run

serve-04: $(STAMP) ## stages 04-05 on :8004: the wrapper over ONNX, raw messy records in
	$(PY) -m penguins serve --stage 04 --run-dir .run

stop: docker-stop ## stop every stage server this checkout started, and the container
	@if [ -x $(PY) ]; then $(PY) -m penguins stop --run-dir .run; fi

##@ Stage 06: the container
# Plain docker commands, so you can read (and type) what each step does; see docker/README.md.
# BASE_IMAGE: the Dockerfile's own (python:3.11-slim), unless tools/docker-engine.sh built its
# registry-free base here (CI) or you name one.
IMAGE       ?= penguins-to-production
CONTAINER   ?= penguins-06
DOCKER_PORT ?= 8006
BASE_IMAGE  ?= $(shell docker image inspect penguins-base:bookworm >/dev/null 2>&1 && echo penguins-base:bookworm)
.PHONY: docker-engine docker-engine-stop docker-build docker-run docker-smoke docker-stop
docker-engine: ## check a Docker engine runs (under CI=true or DOCKER_ENGINE=start: start one, as root)
	@bash tools/docker-engine.sh

docker-engine-stop: ## stop the engine that make docker-engine started (only that one)
	@bash tools/docker-engine-stop.sh

docker-build: $(STAMP) docker-engine ## build the serving image, tagged latest and <model_version>, labelled with version and sha256
	$(PY) -m penguins build
	docker build -f docker/Dockerfile $(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) \
	    $$($(PY) -m workshop room labels) -t $(IMAGE) -t $(IMAGE):$$($(PY) -m workshop room version) .

docker-run: ## run the image in the background on 127.0.0.1:8006 and wait until it is healthy
	@docker rm --force $(CONTAINER) >/dev/null 2>&1 || true
	docker run --detach --rm --name $(CONTAINER) --publish 127.0.0.1:$(DOCKER_PORT):8000 $(IMAGE)
	@bash tools/docker-wait-healthy.sh $(CONTAINER)

docker-smoke: $(STAMP) ## the golden set through the running container over HTTP, compared with in-process answers
	$(PY) -m penguins smoke --url http://127.0.0.1:$(DOCKER_PORT) tests/golden.json

docker-stop: ## stop the container (docker stop: SIGTERM, then it exits by itself)
	@if docker inspect $(CONTAINER) >/dev/null 2>&1; then docker stop $(CONTAINER); \
	else echo "no container $(CONTAINER) runs"; fi

##@ Stage 07: the server room
# docker/compose.room.yaml: the model x3 behind nginx (HTTPS at www.mojadomena.zmodelami.pl on
# 127.0.0.1:8443, an API key) and the station; see docker/README.md. Secrets go to .room/ (git-ignored).
.PHONY: room-certs room-up room-down room-ps
room-certs: $(STAMP) ## a local certificate authority, the proxy's certificate and an API key, into .room/ (openssl)
	$(PY) -m workshop room certs

room-up: $(STAMP) docker-build ## start the room: docker compose -f docker/compose.room.yaml up --wait
	@if [ "$(CI)" = true ]; then bash .ci/compose.sh && bash .ci/room-images.sh; fi
	$(PY) -m workshop room up

room-ps: $(STAMP) ## who runs in the room: docker compose -f docker/compose.room.yaml ps
	$(PY) -m workshop room ps

room-down: $(STAMP) ## stop the room and remove its containers and network: docker compose ... down
	$(PY) -m workshop room down

# Blue/green: a new model beside the old one, then the old one stopped (see src/workshop/rollout.py).
.PHONY: room-v2 room-rollout room-rollback
room-v2: $(STAMP) docker-engine ## a second model version: retrain with seed 7 into artifacts-v2/, build its image tag
	$(PY) -m penguins train --seed 7 --artifacts artifacts-v2
	$(PY) -m penguins export --artifacts artifacts-v2
	$(PY) -m workshop room build artifacts-v2

room-rollout: $(STAMP) ## make room-rollout VERSION=<model_version>: start that image beside the live one, then stop the old
	$(PY) -m workshop room rollout $(IMAGE):$(VERSION)

room-rollback: $(STAMP) ## back to the version the last rollout stopped
	$(PY) -m workshop room rollback

##@ Notebooks
.PHONY: lab notebooks serve-env
lab: $(STAMP) ## JupyterLab on notebooks/ with the project's kernel, on 127.0.0.1:8888 (PORT=... to change)
	$(PY) -m workshop lab $(if $(PORT),--port $(PORT))

notebooks: $(STAMP) ## execute the lecture notebooks in place and save their outputs (what GitHub shows)
	$(PY) -m workshop notebooks

serve-env: $(STAMP) ## build .venv-serve: serving requirements only, no torch (notebook 03's other runtime)
	$(PY) -m workshop serve-env

##@ Exercises
.PHONY: exercises my-exercises
exercises: $(STAMP) ## regenerate exercises/ from solutions/ (after editing a solution; a test fails when stale)
	$(PY) -m workshop exercises

my-exercises: $(STAMP) ## copy the exercises into my-exercises/ (git-ignored) to work on; never overwrites your work
	$(PY) -m workshop my-exercises

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

clean: reset ## also remove the virtual environments (and the benchmark peers' environments)
	rm -rf $(VENV) .venv-serve bench/.peers

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
