#!/usr/bin/env bash
# .ci/test.sh COMMAND...: how `make test` runs the suite (COMMAND is its pytest).
#
# Under CI=true, on a fresh machine, it first installs and starts what the suite needs, once,
# before any pytest worker starts: chromium, the buildx plugin, the Kubernetes binaries (built
# once per machine), the Docker engine with its registry-free base images, Compose v2. Then it
# runs COMMAND, whose workers share all of it, and stops the engine it started when COMMAND ends,
# whatever its result: a worker's teardown must not stop an engine that other workers still use.
# The cluster itself is started by the tests that use it (one xdist group, one worker).
# Elsewhere it only runs COMMAND: a test that needs what is missing skips and says why.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${CI:-}" != true ]]; then
    exec "$@"
fi
bash .ci/browser.sh
bash .ci/buildx.sh
bash .ci/k8s-cluster.sh build
if ! docker info >/dev/null 2>&1; then
    trap 'bash .ci/docker-engine-stop.sh' EXIT   # only the engine started just below
fi
bash .ci/docker-engine.sh
bash .ci/compose.sh
"$@"
