#!/usr/bin/env bash
# buildx.sh (CI, and `make notebooks`): make `docker build` use BuildKit, through the buildx plugin.
#
#   bash .ci/buildx.sh                     probe; under CI=true (or BUILDX_INSTALL=1) install it if missing
#
# Without the plugin the docker CLI falls back to the legacy builder, which prints a deprecation
# banner into every build's output (and so into the notebooks' committed outputs). Docker Desktop
# and docker-ce ship the plugin; Debian bookworm has no docker-buildx package, so this takes
# trixie's (0.13.1, it links only libc): `apt-get download` with a private APT_CONFIG whose one
# source is this machine's own Debian mirror with `Suites: trixie` (the host's apt configuration
# is left alone), `dpkg-deb -x`, then the binary into $DOCKER_CONFIG/cli-plugins/, where the
# CLI looks for plugins. Idempotent: nothing happens when `docker buildx version` already answers.
# Exit codes: 0 = BuildKit ready; 3 = no plugin here and none may be installed; else broken.
set -euo pipefail

PLUGINS="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
SUITE="trixie"
say() { echo "docker buildx: $*"; }
ready() { docker buildx version >/dev/null 2>&1; }

command -v docker >/dev/null || { say "no docker command here: nothing to build with" >&2; exit 3; }
if ready; then say "$(docker buildx version | awk '{print $2}')"; exit 0; fi
if [[ "${CI:-}" != true && "${BUILDX_INSTALL:-}" != 1 ]]; then
    say "no buildx plugin: docker build uses the legacy builder (install docker-buildx-plugin; CI: CI=true bash .ci/buildx.sh)" >&2
    exit 3
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    say "installing the plugin needs apt-get and dpkg-deb (Debian/Ubuntu)" >&2; exit 1
fi

# The Debian mirror apt already uses on this machine (nothing is hard-coded).
# shellcheck disable=SC2016  # $(REPO_URI) etc. are apt-get's own placeholders, not shell
uri="$(apt-get indextargets --no-release-info --format '$(REPO_URI) $(COMPONENT)' 'Identifier: Packages' 2>/dev/null |
    awk '$2 == "main" && $1 !~ /security/ {print $1; exit}')"
[[ -n "$uri" ]] || { say "apt on this machine names no Debian mirror" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/sources" "$work/lists/partial" "$work/cache/archives/partial"
cat >"$work/sources/$SUITE.sources" <<EOF
Types: deb
URIs: $uri
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Read after the host's apt.conf.d (proxies, Check-Valid-Until), so only these lines change.
cat >"$work/apt.conf" <<EOF
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$work/sources";
Dir::State::Lists "$work/lists";
Dir::Cache "$work/cache";
Acquire::Languages "none";
EOF
t0=$(date +%s)
export APT_CONFIG="$work/apt.conf"
if ! { apt-get update -qq && (cd "$work" && apt-get download -qq docker-buildx); } >"$work/apt.log" 2>&1; then
    say "apt-get failed:" >&2; tail -n 15 "$work/apt.log" >&2; exit 1
fi
dpkg-deb -x "$work"/docker-buildx_*.deb "$work/root"
mkdir -p "$PLUGINS"
install -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-buildx" "$PLUGINS/docker-buildx"
ready || { say "the plugin from $SUITE does not run here: $(docker buildx version 2>&1 | head -n 1)" >&2; exit 1; }
say "installed $(docker buildx version | awk '{print $2}') ($SUITE's docker-buildx) into $PLUGINS in $(( $(date +%s) - t0 )) s"
