#!/usr/bin/env bash
# .ci/test.sh COMMAND...: how `make test` runs the suite (COMMAND is its pytest).
#
# First the environments (make setup serve-env node-env) and lint. Under CI=true, on a fresh
# machine, it also installs and starts what the suite needs, once, before any pytest worker
# starts: chromium, the buildx plugin, the Kubernetes binaries (built once per machine), the
# Docker engine with its registry-free images, Compose v2. What does not wait for another runs
# beside it (the system's installs, the engine and node-env beside .venv; then serve-env and
# Compose side by side; lint beside pytest), so the set-up costs its longest chain, not its sum. Then it runs
# COMMAND, whose workers share all of it, and stops the engine it started when COMMAND ends,
# whatever its result: a worker's teardown must not stop an engine other workers still use.
# The cluster itself is started by the tests that use it (one xdist group, one worker).
# Elsewhere nothing is installed: a test that needs what is missing skips and says why.
# At the end it prints each phase's wall time (pytest's own output ends with conftest.py's
# "where the time went": each xdist group's sum).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Python keeps its bytecode caches, as on a laptop (some machines set PYTHONDONTWRITEBYTECODE):
# otherwise every pytest process of the suite (4 workers, each release's tests step, ...)
# assertion-rewrites the ~440 modules of the tests and of pytest's plugins again (~3 s of CPU
# each; pytest tests/test_golden.py 3.1 -> 1.5 s of CPU), and every `python -m workshop ...` and
# server recompiles the project's modules. The caches are git- and docker-ignored.
unset PYTHONDONTWRITEBYTECODE
MAKE_=("${MAKE:-make}" --no-print-directory)
TIMES="$(mktemp)"
START=$SECONDS
pids=()
started_engine=""

# phase NAME COMMAND...: run COMMAND, and note its wall time (and failure) under NAME.
phase() {
    local name=$1 t0=$SECONDS status=0
    shift
    "$@" || status=$?
    local note=""
    [[ $status == 0 ]] || note=" (failed: exit $status)"
    printf '%5d s  %s%s\n' $((SECONDS - t0)) "$name" "$note" >>"$TIMES"
    return "$status"
}
# beside NAME COMMAND...: the same, in the background; `joined` waits for all of them.
beside() { phase "$1 [beside]" "${@:2}" & pids+=($!); }
joined() {
    local pid failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    pids=()
    return "$failed"
}
finish() {
    local status=$?
    wait  # a phase still running when another failed
    [[ -z "$started_engine" ]] || bash .ci/docker-engine-stop.sh
    echo "== .ci/test.sh: wall time per phase ([beside]: ran side by side with the next ones) =="
    cat "$TIMES"
    printf '%5d s  total\n' $((SECONDS - START))
    rm -f "$TIMES"
    exit "$status"
}
trap finish EXIT

if [[ "${CI:-}" != true ]]; then
    phase "environment (make setup serve-env node-env)" "${MAKE_[@]}" setup serve-env node-env
    phase lint "${MAKE_[@]}" lint
    bash .ci/buildx.sh || [[ $? == 3 ]]  # a note when missing: docker build would use the legacy builder
    phase pytest "$@"
    exit
fi

docker info >/dev/null 2>&1 || started_engine=1  # stopped at the end: only the engine started here
engine() { bash .ci/docker-engine.sh && bash .ci/room-images.sh; }
beside "chromium (.ci/browser.sh)" bash .ci/browser.sh
beside "buildx (.ci/buildx.sh)" bash .ci/buildx.sh
beside "kubernetes binaries (.ci/k8s-cluster.sh build)" bash .ci/k8s-cluster.sh build
beside "engine and the room's images (.ci/docker-engine.sh, room-images.sh)" engine
beside "node-env" "${MAKE_[@]}" node-env
phase "environment (make setup)" "${MAKE_[@]}" setup
beside "serve-env" "${MAKE_[@]}" serve-env
beside "compose (.ci/compose.sh)" bash .ci/compose.sh
joined
phase "registry image (.ci/registry-image.sh)" bash .ci/registry-image.sh
# No test reads what lint writes: it runs beside pytest, at the priority of the groups that are
# not the engine's chain (conftest.py: yield_to_the_chain), which it must not stretch either.
beside lint nice -n 10 "${MAKE_[@]}" lint
# A run that hangs (every worker waiting on a group never sent) fails after 45 minutes, three
# times its usual length, not at CI's 90: timeout's exit 124 is noted as the phase's failure.
phase pytest timeout --kill-after=1m 45m "$@"
joined
