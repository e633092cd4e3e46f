# shellcheck shell=bash
# Sourced by the .ci/ scripts that install Debian packages: apt_install LOG PACKAGE...
# installs the packages that are missing (apt-get update first) as root, without letting a
# package's scripts start a service (dockerd and etcd are started by our own scripts), and
# says how long it took. One apt-get at a time (a lock): .ci/test.sh runs these scripts side by
# side. On failure it shows the last lines of LOG and exits 1. The caller
# defines say().

apt_install() {
    local log=$1 missing=() p t0 lock
    shift
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null; then
        say "installing ${missing[*]} needs root and apt-get (Debian/Ubuntu)" >&2
        exit 1
    fi
    exec {lock}>/var/lock/penguins-apt.lock
    flock "$lock"
    say "installing ${missing[*]} with apt-get"
    t0=$(date +%s)
    local guard=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        guard=/usr/sbin/policy-rc.d
    fi
    mkdir -p "$(dirname "$log")"
    local status=0
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        >"$log" 2>&1 || status=$?
    if [[ -n "$guard" ]]; then rm -f "$guard"; fi
    if [[ $status -ne 0 ]]; then
        say "apt-get failed; last lines of $log:" >&2
        tail -n 15 "$log" >&2
        exit 1
    fi
    say "installed ${missing[*]} in $(($(date +%s) - t0)) s"
    exec {lock}>&-
}
