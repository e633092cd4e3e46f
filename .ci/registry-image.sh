#!/usr/bin/env bash
# registry-image.sh (CI only): the image stage 06's registry runs on a laptop, the official
# registry:2, made here without a registry: Debian's docker-registry package (2.8.2, the CNCF
# distribution registry registry:2 runs) on the local registry-free base, tagged under the
# official name workshop.registry.IMAGE names (.ci/images/registry.Dockerfile). Engine 20.10
# trusts a registry on 127.0.0.0/8 without TLS, so nothing else is needed.
# Idempotent: an image that already exists under that name is left alone.
#
#   bash .ci/registry-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BASE="${LOCAL_BASE:-penguins-base:bookworm}"
PY="${PY:-.venv/bin/python}"
say() { echo "registry image: $*"; }

image="$("$PY" -c 'from workshop import registry; print(registry.IMAGE)')"
if docker image inspect "$image" >/dev/null 2>&1; then say "$image exists"; exit 0; fi
docker image inspect "$BASE" >/dev/null 2>&1 || { say "no base image $BASE (CI=true bash .ci/docker-engine.sh builds it)" >&2; exit 1; }
t0=$(date +%s)
docker build --quiet --build-arg BASE="$BASE" -f .ci/images/registry.Dockerfile -t "$image" .ci/images >/dev/null
say "built $image from $BASE (.ci/images/registry.Dockerfile, Debian's docker-registry) in $(( $(date +%s) - t0 )) s"
