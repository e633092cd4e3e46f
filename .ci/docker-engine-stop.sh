#!/usr/bin/env bash
# .ci/docker-engine-stop.sh (CI only): stop the dockerd that .ci/docker-engine.sh started.
# It only ever stops that one process (PID file + the process really is dockerd):
# an engine started by anything else (Docker Desktop, systemd) is left alone.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PIDFILE="$HERE/.docker-state/dockerd.pid"
STOP_WAIT=30   # seconds; dockerd first stops running containers (up to 15 s each by default)

say() { echo "docker engine: $*"; }
# Still running? (an exited process that nobody has reaped yet, a zombie, counts as gone)
alive() { [[ -r "/proc/$1/stat" ]] && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != "Z" ]]; }

if [[ ! -f "$PIDFILE" ]]; then
    say "nothing to stop (no engine started by .ci/docker-engine.sh)"
    exit 0
fi
pid="$(cat "$PIDFILE")"
if ! [[ "$pid" =~ ^[0-9]+$ ]] || [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" != "dockerd" ]]; then
    say "PID ${pid:-?} is no longer our dockerd; removing the stale PID file"
    rm -f "$PIDFILE"
    exit 0
fi

# SIGTERM lets dockerd stop its containers and its containerd cleanly.
kill -TERM "$pid"
for ((i = 0; i < STOP_WAIT * 2; i++)); do
    alive "$pid" || break
    sleep 0.5
done
if alive "$pid"; then
    say "dockerd (PID $pid) still runs after $STOP_WAIT s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
fi
if alive "$pid"; then
    say "could not stop dockerd (PID $pid)" >&2
    exit 1
fi
rm -f "$PIDFILE"
say "stopped dockerd (PID $pid)"
