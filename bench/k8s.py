"""Stage 07c on a real cluster: one container called directly, against k8s/ behind its Service
(three pods, kube-proxy's NodePort on 127.0.0.1, the API key), taking turns round by round.

It runs only where the cluster of .ci/k8s-cluster.sh runs (a kind cluster's NodePorts are not
on this machine's loopback); otherwise the section says why and measures nothing. On a 2-core
machine three pods add no speed (each uvicorn is one process, and wrk, kube-proxy's iptables
and the pods share the cores): the figure to read is what the Service's path costs per request.
The cluster's own times (start to a Ready node, k8s/ applied, a rolling update) go into the note.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench import http_load, load
from bench.budget import Budget
from bench.room import CONTAINER, start_direct
from bench.rows import Row
from bench.servers import HOST
from penguins.serving.examples import CLEAN_RECORD
from workshop import k8s, room

SECTION = "kubernetes"
DIRECT = "one container, direct (HTTP)"
SERVICE = "the Service: 3 pods, NodePort (HTTP + key)"
NAMESPACE = "penguins-bench"
OVERLAY = room.root() / ".ci" / "k8s" / "overlay"


def why_not() -> str:
    """Why the cluster cannot be measured here, or "" when it can."""
    if not k8s.ci_environment():
        return "kubernetes not measured: no cluster of .ci/k8s-cluster.sh runs here (`bash .ci/k8s-cluster.sh start`)"
    return ""


def kubectl(*args: str) -> str:
    return k8s.kubectl("--namespace", NAMESPACE, *args, timeout=300)


def deploy(v2: str) -> tuple[str, str]:
    """k8s/ in its own namespace, rolled out; then a rolling update to `v2` and back, timed.
    The Service's URL, and what the times were, in words."""
    secrets = room.make_secrets(say=lambda line: None)
    gone = ["kubectl", "delete", "namespace", NAMESPACE, "--ignore-not-found"]
    subprocess.run(gone, capture_output=True, timeout=300)
    k8s.kubectl("create", "namespace", NAMESPACE)
    kubectl("create", "secret", "generic", "penguins-api-key", f"--from-file=api-key={secrets.folder / 'api-key'}")
    started = time.monotonic()
    kubectl("apply", "-k", str(OVERLAY))
    kubectl("rollout", "status", "deployment/penguins", "--timeout=300s")
    applied = time.monotonic() - started
    started = time.monotonic()
    kubectl("set", "image", "deployment/penguins", f"penguins={v2}")
    kubectl("rollout", "status", "deployment/penguins", "--timeout=300s")
    rolled = time.monotonic() - started
    kubectl("rollout", "undo", "deployment/penguins")
    kubectl("rollout", "status", "deployment/penguins", "--timeout=300s")
    port = kubectl("get", "service", "penguins", "-o", "jsonpath={.spec.ports[0].nodePort}")
    state = Path(k8s.ci_environment()["KUBECONFIG"]).parent
    start = (state / "start-seconds").read_text().strip()
    times = (
        f"kubernetes: cluster start to a Ready node {start} s (.ci/k8s-cluster.sh, binaries cached); "
        f"k8s/ applied and its 3 pods Ready in {applied:.1f} s; a rolling update of the 3 pods to "
        f"another model version {rolled:.1f} s (`kubectl rollout status`)"
    )
    return f"http://{HOST}:{port}/predict", times


def measure(budget: Budget, wrk: str | None, say: Callable[[str], None] = print) -> tuple[list[Row], str]:
    """Rows for the direct container and the Service at 1 and 10 connections, and a note."""
    reason = why_not()
    if reason:
        return [], reason
    v1, v2 = k8s.images(say=lambda line: None)
    body = json.dumps(CLEAN_RECORD).encode()
    try:
        service, times = deploy(v2)
        key = {room.API_KEY_HEADER: room.make_secrets(say=lambda line: None).api_key}
        direct = f"http://{HOST}:{start_direct(v1)}/predict"
        results: dict[tuple[str, int], list[load.Load]] = {}

        def turn(name: str, url: str, headers: dict[str, str], seconds: float, keep: bool = True) -> None:
            for connections in http_load.CONNECTIONS:
                got = load.run(url, body, connections, seconds, budget.load_max_requests, wrk, headers)
                if keep:
                    results.setdefault((name, connections), []).append(got)

        turn(DIRECT, direct, {}, budget.warmup_seconds, keep=False)
        turn(SERVICE, service, key, budget.warmup_seconds, keep=False)
        for number in range(budget.rounds):
            say(f"   kubernetes round {number + 1}/{budget.rounds}")
            turn(DIRECT, direct, {}, budget.load_seconds)
            turn(SERVICE, service, key, budget.load_seconds)
    finally:
        subprocess.run(["docker", "stop", "--time", "5", CONTAINER], capture_output=True, timeout=60)
        subprocess.run(["kubectl", "delete", "namespace", NAMESPACE, "--wait=false"], capture_output=True, timeout=60)
    rows = [
        http_load.summary(name, n, results[(name, n)], SECTION)
        for name in (DIRECT, SERVICE)
        for n in http_load.CONNECTIONS
    ]
    return rows, times
