#!/usr/bin/env bash
# room-images.sh (CI only): the images stage 07's server room pulls on a laptop, made here
# without a registry, each built with a Debian package and tagged under the official name
# docker/compose.room.yaml pins: the proxy's nginx and Prometheus (prometheus, with promtool).
# nginx comes from Debian sid, whose nginx has the official image's minor version (bookworm's is
# 1.22, too old for `resolve` inside an `upstream` block); Prometheus from the bookworm base.
# Idempotent: an image that already exists under its tag is left alone.
#
#   bash .ci/room-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BASE="${LOCAL_BASE:-penguins-base:bookworm}"
NGINX_BASE="penguins-base:sid-nginx"
say() { echo "room images: $*"; }

# The tag compose.room.yaml gives an image whose name starts with $1 (e.g. nginx:, prom/prometheus:).
pinned() { sed -n "s|^ *image: *\($1[^ #]*\).*|\1|p" docker/compose.room.yaml | head -n 1; }

# The host's Debian mirror (the same URI apt uses here: nothing is hard-coded).
mirror() {
    # shellcheck disable=SC2016  # $(REPO_URI) etc. are apt-get's own placeholders, not shell
    apt-get indextargets --no-release-info --format '$(REPO_URI) $(COMPONENT)' 'Identifier: Packages' 2>/dev/null |
        awk '$2 == "main" && $1 !~ /security/ {print $1; exit}'
}

# A minimal Debian sid root filesystem with nginx, imported as $NGINX_BASE (mmdebstrap | docker import).
nginx_base() {
    docker image inspect "$NGINX_BASE" >/dev/null 2>&1 && return 0
    local uri; uri="$(mirror)"
    [[ -n "$uri" ]] || { say "apt on this machine names no Debian mirror: cannot build $NGINX_BASE" >&2; exit 1; }
    command -v mmdebstrap >/dev/null || { say "no mmdebstrap (CI=true bash .ci/docker-engine.sh installs it)" >&2; exit 1; }
    local t0; t0=$(date +%s)
    # shellcheck disable=SC2016  # "$1" is the root mmdebstrap passes to its hooks, not ours
    mmdebstrap --quiet --variant=minbase --include=nginx \
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --aptopt='Acquire::Check-Valid-Until "false"' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
        sid - "deb $uri sid main" 2>/dev/null | docker import - "$NGINX_BASE" >/dev/null
    say "built $NGINX_BASE (Debian sid, $(docker run --rm "$NGINX_BASE" nginx -v 2>&1)) in $(( $(date +%s) - t0 )) s"
}

# Build .ci/images/$2.Dockerfile from the base $3 as the official image $1, unless it exists.
stand_in() {
    local image="$1" dockerfile=".ci/images/$2.Dockerfile" base="$3"
    [[ -n "$image" ]] || { say "no $2 image named in docker/compose.room.yaml" >&2; exit 1; }
    if docker image inspect "$image" >/dev/null 2>&1; then say "$image exists"; return 0; fi
    docker image inspect "$base" >/dev/null 2>&1 || { say "no base image $base (CI=true bash .ci/docker-engine.sh builds it)" >&2; exit 1; }
    local t0; t0=$(date +%s)
    docker build --quiet --build-arg BASE="$base" -f "$dockerfile" -t "$image" .ci/images >/dev/null
    say "built $image from $base ($dockerfile) in $(( $(date +%s) - t0 )) s"
}

nginx_image="$(pinned nginx:)"
docker image inspect "$nginx_image" >/dev/null 2>&1 || nginx_base
stand_in "$nginx_image" nginx "$NGINX_BASE"
stand_in "$(pinned prom/prometheus:)" prometheus "$BASE"
