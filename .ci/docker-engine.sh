#!/usr/bin/env bash
# .ci/docker-engine.sh (CI only): make sure a Docker engine answers, and that the official
# images our Dockerfiles start FROM exist on it, built here without any registry.
#
#   bash .ci/docker-engine.sh                       reuse a running engine, or explain how to get one
#   CI=true bash .ci/docker-engine.sh               CI: install + start dockerd, provide the base images
#   sudo DOCKER_ENGINE=start bash .ci/docker-engine.sh   the same, asked for by hand
#
# CI has no registry, so `FROM python:3.11-slim` could not be pulled. Instead this script
# bootstraps a local Debian + Python 3.11 image with mmdebstrap and tags it under the official
# name (stand_in below); the Dockerfiles, the notebooks and the exercise stay exactly as a
# student reads them. Another official image a later stage needs gets its own builder and one
# more stand_in line in provide_official_images.
#
# Exit codes: 0 = engine ready; 3 = no engine here and none may be started
# (tests treat that as "unavailable", not as "broken"); anything else = broken.
# Stop what this started with .ci/docker-engine-stop.sh.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="$HERE/.docker-state"          # dockerd's log and PID file (git-ignored)
PIDFILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"
LOCAL_BASE="penguins-base:bookworm"  # our registry-free Debian + Python 3.11 image
RECIPE=2                             # bump when build_base changes: older bases are rebuilt
PYTHON_IMAGE="python:3.11-slim"      # the official image docker/Dockerfile starts FROM
SUITE="bookworm"                     # Debian release of the base image (its python3 is 3.11)
START_WAIT=30                        # seconds to wait for dockerd to answer

say() { echo "docker engine: $*"; }
engine_ok() { docker info >/dev/null 2>&1; }
now() { date +%s; }

# Is the dockerd recorded in our PID file still running?
our_engine_runs() {
    [[ -f "$PIDFILE" ]] || return 1
    local pid; pid="$(cat "$PIDFILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "dockerd" ]] &&
        [[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]]   # Z: exited, not reaped
}

# The recipe label of an image of ours (empty when it has none).
recipe_of() { docker image inspect -f '{{index .Config.Labels "penguins.recipe"}}' "$1" 2>/dev/null; }
# Pulled from a registry (it has a repository digest), not made here?
pulled() { [[ "$(docker image inspect -f '{{len .RepoDigests}}' "$1" 2>/dev/null)" -gt 0 ]]; }

# Tag LOCAL under the OFFICIAL name, so that `FROM OFFICIAL` builds from it without a registry.
# An image already there under that name is left as it is when it was pulled, or made here from
# the current recipe; one made here from an older recipe is replaced.
stand_in() {
    local official="$1" local_image="$2"
    if pulled "$official" || [[ "$(recipe_of "$official")" == "$RECIPE" ]]; then
        say "$official is here"
        return 0
    fi
    docker tag "$local_image" "$official"
    say "no registry: $local_image stands in for $official"
}

# Every official image the project's Dockerfiles start FROM, each built locally once.
provide_official_images() {
    [[ "$(recipe_of "$LOCAL_BASE")" == "$RECIPE" ]] || build_base
    stand_in "$PYTHON_IMAGE" "$LOCAL_BASE"
}

# shellcheck source=.ci/apt.sh
source "$HERE/apt.sh"

# The Debian mirror apt already uses on this machine, as sources.list lines for
# $SUITE, $SUITE-updates and $SUITE-security (main only). Nothing is hard-coded.
host_debian_sources() {
    # shellcheck disable=SC2016  # $(REPO_URI) etc. are apt-get's own placeholders, not shell
    apt-get indextargets --no-release-info \
        --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Identifier: Packages' 2>/dev/null |
        awk -v s="$SUITE" '$3 == "main" && ($2 == s || $2 == s "-updates" || $2 == s "-security") {print "deb " $1 " " $2 " main"}' |
        sort -u
}

# Build the base image: a minimal Debian root filesystem made by mmdebstrap,
# piped straight into `docker import` (no registry involved).
build_base() {
    local sources=()
    mapfile -t sources < <(host_debian_sources)
    if [[ " ${sources[*]} " != *" $SUITE main "* ]]; then
        say "apt on this machine has no $SUITE mirror: cannot build $LOCAL_BASE" >&2
        exit 1
    fi
    apt_install "$STATE/apt.log" mmdebstrap
    say "building $LOCAL_BASE with mmdebstrap from: $(printf '%s\n' "${sources[@]}" | awk '{print $2}' | sort -u | tr '\n' ' ')"
    local t0; t0=$(now)
    # shellcheck disable=SC2016,SC2054  # "$1" is mmdebstrap's hook argument; --include takes commas
    local args=(
        --variant=minbase
        --include=python3,python3-venv,python3-pip,ca-certificates
        # merged /usr, as Debian has it: without this hook the image is ~50 MB larger
        --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
        # no apt lists, caches or docs in the image
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*'
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*'
        # as in the official python image: a `python` command, and pip may install into the
        # system Python (an image is its own environment; Debian's marker would refuse it)
        --customize-hook='ln -sf python3 "$1"/usr/bin/python'
        --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED'
    )
    # Same apt settings as the host for a frozen mirror (e.g. no Valid-Until check).
    local v
    for v in Acquire::Check-Valid-Until Acquire::Check-Date; do
        if [[ "$(apt-config dump "$v" | awk '{print $2}')" == '"false";' ]]; then
            args+=(--aptopt="$v \"false\"")
        fi
    done
    # Trust the same extra CA certificates as the host: without them, pip inside
    # `docker build` cannot reach the package index (TLS is intercepted here).
    shopt -s nullglob
    local certs=(/usr/local/share/ca-certificates/*.crt)
    shopt -u nullglob
    if [[ ${#certs[@]} -gt 0 ]]; then
        # shellcheck disable=SC2016  # "$1" is the root mmdebstrap passes to its hooks, not ours
        args+=(--customize-hook="copy-in ${certs[*]} /usr/local/share/ca-certificates/"
               --customize-hook='chroot "$1" update-ca-certificates >/dev/null')
    fi
    # Import under a temporary tag, so a failed build never leaves a half image behind the real tag.
    # (mmdebstrap's chatter goes to a log; it is shown when the build fails)
    mkdir -p "$STATE"
    mmdebstrap --quiet "${args[@]}" "$SUITE" - "${sources[@]}" 2>"$STATE/mmdebstrap.log" |
        docker import \
            --change 'ENV LANG=C.UTF-8' \
            --change 'CMD ["python3"]' \
            --change "LABEL penguins.recipe=$RECIPE" \
            -m "mmdebstrap $SUITE minbase + python3 (.ci/docker-engine.sh)" \
            - "$LOCAL_BASE-partial" >/dev/null ||
        { say "base image build failed; last lines of $STATE/mmdebstrap.log:" >&2
          tail -n 15 "$STATE/mmdebstrap.log" >&2
          docker rmi "$LOCAL_BASE-partial" >/dev/null 2>&1 || true
          exit 1; }
    docker tag "$LOCAL_BASE-partial" "$LOCAL_BASE"
    docker rmi "$LOCAL_BASE-partial" >/dev/null
    say "built $LOCAL_BASE in $(( $(now) - t0 )) s, size $(docker image inspect -f '{{.Size}}' "$LOCAL_BASE" | awk '{printf "%d MB", $1/1000000}')"
}

# 1. An engine already answers (Docker Desktop, a system service, or ours): reuse it.
#    The official images are provided only where we may change this engine (CI, or asked for);
#    anywhere else `docker build` pulls them from the registry as usual.
if engine_ok; then
    say "reusing the running engine"
    if our_engine_runs || [[ "${CI:-}" == "true" || "${DOCKER_ENGINE:-}" == "start" ]]; then
        provide_official_images
    fi
    exit 0
fi

# 2. Start one only in CI or when asked for explicitly.
if [[ "${CI:-}" != "true" && "${DOCKER_ENGINE:-}" != "start" ]]; then
    say "no engine runs here (CI=true or DOCKER_ENGINE=start starts one, as root)"
    exit 3
fi
if [[ "$(id -u)" -ne 0 ]]; then
    say "starting an engine needs root (run it with sudo)"; exit 3
fi
if ! command -v apt-get >/dev/null; then
    say "starting an engine needs apt-get (Debian/Ubuntu); install Docker another way"; exit 3
fi

# 3. Install the engine (docker.io brings dockerd, containerd, runc, iptables).
command -v dockerd >/dev/null || apt_install "$STATE/apt.log" docker.io
# The client may be another version than docker.io's (e.g. /usr/local/bin/docker): that is fine.

# 4. Start dockerd in the background, with default settings, unless a package script already did.
mkdir -p "$STATE"
if ! engine_ok; then
    t0=$(now)
    opts=()
    # Keep containers' MTU within the host's uplink MTU (1400 on these VMs, Docker's
    # default is 1500): a precaution against stalled downloads where ICMP is dropped.
    uplink="$(awk '$2 == "00000000" {print $1; exit}' /proc/net/route)"
    mtu="$(cat "/sys/class/net/${uplink:-none}/mtu" 2>/dev/null || echo 1500)"
    if [[ "$mtu" -lt 1500 ]]; then opts+=(--mtu "$mtu"); fi
    # setsid: dockerd gets its own session, so it outlives this script and its terminal.
    setsid dockerd "${opts[@]}" >>"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    for ((i = 0; i < START_WAIT * 2; i++)); do
        engine_ok && break
        if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
            say "dockerd exited at start; last lines of $LOG:" >&2
            tail -n 15 "$LOG" >&2
            rm -f "$PIDFILE"; exit 1
        fi
        sleep 0.5
    done
    if ! engine_ok; then
        say "dockerd did not answer within $START_WAIT s; see $LOG" >&2; exit 1
    fi
    say "dockerd started in $(( $(now) - t0 )) s (PID $(cat "$PIDFILE"), log $LOG${opts[*]:+, options: ${opts[*]}})"
fi

# 5. The official images, built once (they stay in /var/lib/docker across restarts).
provide_official_images
