"""Start a server in its own process, time how long it takes to answer `/ready`, stop it.

The time from process start to the first successful `/ready` is the cold start: what a
restart, a new container or a scale-up costs before the first user gets an answer. Every
server runs with one worker, on 127.0.0.1 only, with its output kept in a log file so a
server that fails to start says why. Starting, waiting and stopping is workshop.server's job,
the same helper the notebooks and the tests use; this module says what to start and times it.
"""

from __future__ import annotations

import compileall
import http.client
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from penguins.ports import free_port
from workshop.server import HOST, Server, ServerFailed

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.005
START_TIMEOUT = 120.0
__all__ = ["RunningServer", "ServerFailed", "ServerSpec", "post"]


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server: `argv` and `env` values may hold "{port}" and "{host}";
    `body` is what its predict path takes."""

    name: str
    argv: tuple[str, ...]
    body: bytes
    env: dict[str, str] = field(default_factory=dict)
    predict_path: str = "/predict"
    ready_path: str = "/ready"

    def command(self, port: int) -> list[str]:
        return [part.format(port=port, host=HOST) for part in self.argv]

    def environment(self, port: int) -> dict[str, str]:
        """Its own variables, to add to this process's environment."""
        return {key: value.format(port=port, host=HOST) for key, value in self.env.items()}


def post(port: int, path: str, body: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """One POST with a JSON body: (status, response body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def compile_sources(spec: ServerSpec) -> None:
    """Byte-compile the source trees a server imports, as pip compiles an installed package and
    docker/Dockerfile the image's code: with PYTHONDONTWRITEBYTECODE set (as on this machine), a
    start would otherwise compile our modules each time (~20-30 ms), while the bare endpoint's
    dependencies in the venv come compiled. Already compiled files cost a stat each."""
    extra = [Path(folder) for folder in spec.env.get("PYTHONPATH", "").split(os.pathsep) if folder]
    for folder in (ROOT / "src", ROOT / "bench" / "apps", *extra):
        compileall.compile_dir(folder, quiet=1)


class RunningServer:
    """A started server, its cold start measured; use as a context manager so it is always stopped."""

    def __init__(self, spec: ServerSpec, log_dir: Path) -> None:
        self.spec = spec
        compile_sources(spec)
        self.port = free_port(HOST)
        self.log = Path(log_dir) / (re.sub(r"[^\w.-]+", "_", spec.name).strip("_") + ".log")
        self.server = Server(
            spec.command(self.port),
            port=self.port,
            env=spec.environment(self.port),
            cwd=ROOT,
            log=self.log,
            ready_path=spec.ready_path,
        )
        self.server.start(START_TIMEOUT, poll=POLL_SECONDS, echo=False)
        assert self.server.ready_after is not None  # start() returns only once it is ready
        self.cold_start = self.server.ready_after

    def check_predict(self) -> None:
        """One request first: a benchmark of error responses would measure nothing useful."""
        status, body = post(self.port, self.spec.predict_path, self.spec.body)
        if status != 200:
            raise ServerFailed(f"{self.spec.name} answered {status} to its /predict: {body[:300]!r}")

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far by the server's process and its descendants
        (a peer's worker processes), those already exited and reaped included."""
        assert self.server.pid is not None  # started in __init__, stopped only on exit
        root = psutil.Process(self.server.pid)
        total = 0.0
        for process in (root, *root.children(recursive=True)):
            try:
                used = process.cpu_times()
            except psutil.NoSuchProcess:  # a child that exited a moment ago: its parent counts it once reaped
                continue
            total += used.user + used.system + used.children_user + used.children_system
        return total

    def url(self, path: str) -> str:
        return f"{self.server.url}{path}"

    def stop(self) -> None:
        """SIGTERM to the server's own process group (its workers too), SIGKILL if it hangs."""
        self.server.stop(timeout=15)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
