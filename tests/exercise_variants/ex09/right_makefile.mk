# command: make --no-print-directory -f {file} release MODEL={model}
# The release as a Makefile: one target per step, each depending on the one before.
REGISTRY := 127.0.0.1:5001
VERSION = $(shell python -c 'import json; print(json.load(open("$(MODEL)/mlp.onnx.json"))["model_version"])')
IMAGE = $(REGISTRY)/penguins-to-production:$(VERSION)
ROOM = --cacert ../.room/tls/ca.crt --api-key-file ../.room/api-key --resolve www.mojadomena.zmodelami.pl:127.0.0.1

.PHONY: tests build push switch release
tests:
	python -m pytest ../tests/test_golden.py -q -p no:cacheprovider
build: tests
	cp $(MODEL)/mlp.onnx $(MODEL)/mlp.onnx.json 09_context/artifacts/
	docker build --quiet -f 09_context/docker/Dockerfile --label penguins.model_version=$(VERSION) -t $(IMAGE) 09_context
push: build
	docker push --quiet $(IMAGE)
switch: push
	python -m workshop room rollout $(IMAGE)
release: switch
	python -m penguins smoke --url https://www.mojadomena.zmodelami.pl:8443 $(ROOM) --artifacts $(MODEL) ../tests/golden.json \
	  || { python -m workshop room rollback; exit 1; }
