"""Stage 07's server room under load: one container called directly, against the same image
behind the room's proxy (HTTPS, the API key) with 1 and with 3 replicas.

The direct container is the stage 06 way (`docker run --publish`, plain HTTP); through the
proxy every request also pays for TLS, the key check and nginx's own connection to a replica.
On a 2-core machine three replicas cannot add much speed: each uvicorn is one process on one
core, and wrk, nginx and the replicas share the same two cores. What replicas buy here is that
a dead one costs nothing (stage 07's crash test); more speed needs more cores.

It runs only where a Docker engine and Compose v2 answer and the images exist (`make
docker-build`; the proxy's nginx image); otherwise the section says why and measures nothing.
The contenders take turns round by round, like the HTTP section (the room is scaled 3 → 1 → 3
in each round), and every figure is the median of its rounds.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

from bench import http_load, load
from bench.budget import Budget
from bench.rows import Row
from bench.servers import HOST
from penguins.client import PenguinClient, ServiceUnreachable
from penguins.ports import free_port
from penguins.serving.examples import CLEAN_RECORD
from workshop import docker, room

SECTION = "server room"
DIRECT = "one container, direct (HTTP)"
PROXY_1 = "proxy, 1 replica (HTTPS + key)"
PROXY_3 = "proxy, 3 replicas (HTTPS + key)"
CONTAINER = "penguins-bench-direct"
IMAGE = docker.IMAGE
FLAGS = ("--no-build", "--pull", "never", "--no-recreate")


def why_not(image: str) -> str:
    """Why the room cannot be measured here, or "" when it can."""
    engine = docker.engine()
    if not engine.running:
        return f"server room not measured: {engine.reason}"
    if room.compose_v2() is None:
        return "server room not measured: no Compose v2 (`docker compose version`)"
    for needed in (image, room.facts().nginx_image, room.facts().prometheus_image):
        if not docker.has_image(needed):
            return f"server room not measured: no image {needed} (make docker-build; the room's nginx and Prometheus)"
    return ""


def base_note(name: str) -> str:
    """Which base the measured image was built on: figures from another base are not comparable."""
    found = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", name], capture_output=True, text=True)
    ident = found.stdout.strip()[:19] if found.returncode == 0 else "-"
    return f"server room measured on {name} ({ident}) built FROM {docker.Dockerfile.read().base}"


def start_direct(image: str) -> int:
    """The stage 06 container with the room's settings (init, read-only), published on loopback."""
    port = free_port(HOST)
    subprocess.run(["docker", "rm", "--force", CONTAINER], capture_output=True, timeout=60)
    subprocess.run(
        [
            "docker",
            "run",
            "--detach",
            "--rm",
            "--init",
            "--read-only",
            "--name",
            CONTAINER,
            "--publish",
            f"{HOST}:{port}:{docker.Dockerfile.read().port}",
            image,
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    try:
        with PenguinClient(f"http://{HOST}:{port}") as client:
            client.wait_until_ready(docker.HEALTHY_WITHIN)
    except ServiceUnreachable as err:
        raise room.RoomError(f"{CONTAINER} was not ready: {err}") from None
    return port


def scale(replicas: int, env: dict[str, str]) -> None:
    room.compose("up", "--wait", *FLAGS, "--scale", f"{room.MODEL_SERVICES[0]}={replicas}", env=env)
    room.in_rotation()  # a replica nginx tried while it started is out of rotation for a few seconds


def measure(
    budget: Budget, wrk: str | None, say: Callable[[str], None] = print, image: str = IMAGE
) -> tuple[list[Row], str]:
    """Rows for the three contenders at 1 and 10 connections, and a note (why not, or the base).
    A room already up is used and left up (with its replicas); one started here is taken down."""
    reason = why_not(image)
    if reason:
        return [], reason
    body = json.dumps(CLEAN_RECORD).encode()
    facts = room.facts()
    was_up = bool(room.replicas())
    env = {"PENGUINS_IMAGE": image}
    room.up(*FLAGS[:-1], env=env)
    proxy = (
        f"https://{HOST}:{facts.https_port}/predict",
        {"Host": facts.domain, room.API_KEY_HEADER: room.make_secrets(say=lambda line: None).api_key},
    )
    try:
        direct = (f"http://{HOST}:{start_direct(image)}/predict", {})
        results: dict[tuple[str, int], list[load.Load]] = {}

        def turn(name: str, target: tuple[str, dict[str, str]], seconds: float, keep: bool = True) -> None:
            for connections in http_load.CONNECTIONS:
                got = load.run(target[0], body, connections, seconds, budget.load_max_requests, wrk, target[1])
                if keep:
                    results.setdefault((name, connections), []).append(got)

        scale(facts.replicas, env)
        for name, target in ((DIRECT, direct), (PROXY_3, proxy)):
            turn(name, target, budget.warmup_seconds, keep=False)
        for number in range(budget.rounds):
            say(f"   room round {number + 1}/{budget.rounds}")
            turn(DIRECT, direct, budget.load_seconds)
            turn(PROXY_3, proxy, budget.load_seconds)
            scale(1, env)
            turn(PROXY_1, proxy, budget.load_seconds)
            scale(facts.replicas, env)
    finally:
        subprocess.run(["docker", "stop", "--time", "5", CONTAINER], capture_output=True, timeout=60)
        if not was_up:
            room.down(env=env)
    rows = [
        http_load.summary(name, n, results[(name, n)], SECTION)
        for name in (DIRECT, PROXY_1, PROXY_3)
        for n in http_load.CONNECTIONS
    ]
    return rows, base_note(image)
