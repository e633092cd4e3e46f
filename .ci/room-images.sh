#!/usr/bin/env bash
# room-images.sh (CI only): the images stage 07's server room pulls on a laptop, made here
# without a registry, each built from the local base with a Debian package and tagged under the
# official name docker/compose.room.yaml pins: the proxy's nginx (nginx-light) and Prometheus
# (prometheus, with promtool). Idempotent: an image that already exists under its tag is left alone.
#
#   bash .ci/room-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BASE="${LOCAL_BASE:-penguins-base:bookworm}"
say() { echo "room images: $*"; }

# The tag compose.room.yaml gives an image whose name starts with $1 (e.g. nginx:, prom/prometheus:).
pinned() { sed -n "s|^ *image: *\($1[^ #]*\).*|\1|p" docker/compose.room.yaml | head -n 1; }

# Build .ci/images/$2.Dockerfile from the local base as the official image $1, unless it exists.
stand_in() {
    local image="$1" dockerfile=".ci/images/$2.Dockerfile"
    [[ -n "$image" ]] || { say "no $2 image named in docker/compose.room.yaml" >&2; exit 1; }
    if docker image inspect "$image" >/dev/null 2>&1; then say "$image exists"; return 0; fi
    docker image inspect "$BASE" >/dev/null 2>&1 || { say "no base image $BASE (CI=true bash .ci/docker-engine.sh builds it)" >&2; exit 1; }
    local t0; t0=$(date +%s)
    docker build --quiet --build-arg BASE="$BASE" -f "$dockerfile" -t "$image" .ci/images >/dev/null
    say "built $image from $BASE ($dockerfile) in $(( $(date +%s) - t0 )) s"
}

stand_in "$(pinned nginx:)" nginx
stand_in "$(pinned prom/prometheus:)" prometheus
