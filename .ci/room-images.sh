#!/usr/bin/env bash
# room-images.sh (CI only): the images stage 07's server room pulls on a laptop, made here
# without a registry. The proxy's nginx image (the tag docker/compose.room.yaml pins) is built
# from the local base with Debian's nginx-light and tagged under the official name.
# Idempotent: an image that already exists under that tag is left alone.
#
#   bash .ci/room-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BASE="${LOCAL_BASE:-penguins-base:bookworm}"
NGINX="$(sed -n 's/^ *image: *\(nginx:[^ #]*\).*/\1/p' docker/compose.room.yaml | head -n 1)"
say() { echo "room images: $*"; }

[[ -n "$NGINX" ]] || { say "no nginx image named in docker/compose.room.yaml" >&2; exit 1; }
if docker image inspect "$NGINX" >/dev/null 2>&1; then say "$NGINX exists"; exit 0; fi
docker image inspect "$BASE" >/dev/null 2>&1 || { say "no base image $BASE (CI=true bash .ci/docker-engine.sh builds it)" >&2; exit 1; }
t0=$(date +%s)
docker build --quiet --build-arg BASE="$BASE" -f .ci/images/nginx.Dockerfile -t "$NGINX" .ci/images >/dev/null
say "built $NGINX from $BASE with Debian's nginx-light in $(( $(date +%s) - t0 )) s"
