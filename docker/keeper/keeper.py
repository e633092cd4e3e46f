"""The keeper: a replica of the model that Docker calls unhealthy leaves the proxy's rotation,
and comes back once its last RISE health checks have passed.

Why: open-source nginx takes a replica out only after a request to it has failed. A CPU-starved
replica is slow, not failing: it keeps its share of the requests, and their answers are late.
Docker's healthcheck sees it (GET /ready times out), but Docker only reports it. This loop acts
on the report, the job Kubernetes does with a readiness probe and a Service's endpoints: look at
the replicas every second, compare with what should be, act.
- out: `docker network disconnect`. Docker's DNS stops answering with the replica's address, and
  nginx, which asks it again every second (`resolve`), sends it nothing more. Never the last
  healthy replica of its service: a slow answer beats none. And only while another one answers
  its checks quickly: when every replica is slow, the machine is overloaded, and taking one out
  would give the others its load (and cut its requests in flight): a cascade, not a cure.
- back: `docker network connect`, under the names it had, once its last RISE checks have passed
  (one is not enough: a starved replica without traffic can pass one, and sink again under load).

It talks to Docker's Engine API (the HTTP API the `docker` command calls) over the socket that
compose.room.yaml mounts, with Python's standard library only, so it runs in the model's image.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.parse
from datetime import datetime
from pathlib import Path
from typing import Any

SOCKET = "/var/run/docker.sock"
LABEL = "keeper"  # the services it looks after carry this label (compose.room.yaml: x-model)
RISE = 2  # passed health checks in a row before a replica comes back (Docker keeps the last 5)
QUICK = 0.5  # seconds: a check this fast shows a replica well (a well one's takes about 0.1 s)
EVERY = 1.0  # seconds between two looks
LOOKED = Path("/tmp/looked")  # touched after each look: the keeper's own healthcheck reads its time

Replica = dict[str, Any]  # a container as `docker inspect` shows it


class Engine(http.client.HTTPConnection):
    """HTTP to Docker's Engine API, over its Unix socket instead of TCP."""

    def __init__(self) -> None:
        super().__init__("docker")

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)  # a stuck engine shows as an unhealthy keeper, not a silent one
        self.sock.connect(SOCKET)


def engine(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One call to the Engine API: its JSON answer, or RuntimeError naming what failed."""
    connection = Engine()
    try:
        connection.request(method, path, json.dumps(body) if body else None, {"Content-Type": "application/json"})
        reply = connection.getresponse()
        text = reply.read()
    finally:
        connection.close()
    if reply.status >= 300:
        raise RuntimeError(f"{method} {path}: {reply.status} {text.decode().strip()}")
    return json.loads(text) if text else None


def service(replica: Replica) -> str:
    return str(replica["Config"]["Labels"]["com.docker.compose.service"])


def health(replica: Replica) -> str:
    """healthy, unhealthy or starting (a paused container counts as unhealthy: no checks run)."""
    return str(replica["State"].get("Health", {}).get("Status", ""))


def on(network: str, replica: Replica) -> bool:
    return network in replica["NetworkSettings"]["Networks"]


def recovered(replica: Replica) -> bool:
    checks = replica["State"]["Health"]["Log"][-RISE:]
    return len(checks) == RISE and all(check["ExitCode"] == 0 for check in checks)


def quick(replica: Replica) -> bool:
    """Its last health check passed within QUICK seconds (Docker logs when each began and ended)."""
    checks = replica["State"]["Health"]["Log"][-1:]
    took = [
        datetime.fromisoformat(c["End"]).timestamp() - datetime.fromisoformat(c["Start"]).timestamp() for c in checks
    ]
    return bool(checks) and checks[0]["ExitCode"] == 0 and took[0] < QUICK


def out_and_back(found: list[Replica], network: str) -> tuple[list[Replica], list[Replica]]:
    """Who leaves (unhealthy, while a healthy replica of its service stays and answers its checks
    quickly) and who comes back."""
    serving = {service(r) for r in found if on(network, r) and health(r) == "healthy" and quick(r)}
    out = [r for r in found if on(network, r) and health(r) == "unhealthy" and service(r) in serving]
    back = [r for r in found if not on(network, r) and health(r) == "healthy" and recovered(r)]
    return out, back


def look(project: str, network: str, names: dict[str, list[str]]) -> None:
    """Inspect the room's labelled replicas, take out and put back as out_and_back says."""
    wanted = {"label": [f"com.docker.compose.project={project}", LABEL]}
    listed = engine("GET", "/containers/json?filters=" + urllib.parse.quote(json.dumps(wanted)))
    out, back = out_and_back([engine("GET", f"/containers/{c['Id']}/json") for c in listed], network)
    for replica in out:
        names[replica["Id"]] = replica["NetworkSettings"]["Networks"][network]["Aliases"]
        engine("POST", f"/networks/{network}/disconnect", {"Container": replica["Id"]})
        say(f"out: {replica['Name'][1:]} is unhealthy")
    for replica in back:
        aliases = names.pop(replica["Id"], [service(replica)])  # its service's name, at least
        endpoint = {"Aliases": aliases}
        engine("POST", f"/networks/{network}/connect", {"Container": replica["Id"], "EndpointConfig": endpoint})
        say(f"back: {replica['Name'][1:]} passed its last {RISE} health checks")


def say(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} keeper: {line}", flush=True)


def main() -> None:
    me = engine("GET", f"/containers/{socket.gethostname()}/json")
    project = me["Config"]["Labels"]["com.docker.compose.project"]
    network = next(iter(me["NetworkSettings"]["Networks"]))  # the room's network is the keeper's own
    names: dict[str, list[str]] = {}  # the DNS names of each replica taken out, to put it back under
    say(f"looking after the services labelled {LABEL!r} in {project}, on {network}")
    while True:
        try:
            look(project, network, names)
            LOOKED.touch()
        except (OSError, RuntimeError) as err:  # a replica gone meanwhile, a busy engine: look again
            say(str(err))
        time.sleep(EVERY)


if __name__ == "__main__":
    main()
