#!/usr/bin/env bash
# docker-wait-healthy.sh: wait until a container's HEALTHCHECK says "healthy".
#
#   bash tools/docker-wait-healthy.sh CONTAINER [SECONDS]     (default: 60 s)
#
# `docker run --detach` returns as soon as the process starts, long before the model is
# loaded and the port answers. Docker itself knows when the service is ready: it runs the
# image's HEALTHCHECK. This script waits for that verdict, so `make docker-run && make
# docker-smoke` never talks to a service that is still starting.
# Exit codes: 0 = healthy; 1 = unhealthy, exited or still starting after SECONDS (the last
# log lines of the container are shown).
set -euo pipefail

container="${1:?usage: docker-wait-healthy.sh CONTAINER [SECONDS]}"
limit="${2:-60}"
start=$(date +%s)

give_up() {
    echo "container $container: $1; its last log lines:" >&2
    docker logs --tail 20 "$container" >&2 || true
    exit 1
}

while true; do
    # An exited container (and one removed by --rm) has no health to report any more.
    state="$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' \
        "$container" 2>/dev/null || echo "gone gone")"
    waited=$(( $(date +%s) - start ))
    case "$state" in
        "running healthy")   echo "container $container is healthy after ${waited} s"; exit 0 ;;
        "running unhealthy") give_up "unhealthy" ;;
        "running none")      give_up "the image has no HEALTHCHECK" ;;
        running*)            ;;  # starting: the first check runs one interval after the start
        *)                   give_up "not running (${state%% *})" ;;
    esac
    (( waited < limit )) || give_up "not healthy after $limit s"
    sleep 0.5
done
