"""Start a server in its own process, time how long it takes to answer `/ready`, stop it.

The time from process start to the first successful `/ready` is the cold start: what a
restart, a new container or a scale-up costs before the first user gets an answer. Every
server runs with one worker, on 127.0.0.1 only, with its output kept in a log file so a
server that fails to start says why.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from penguins.ports import free_port
from workshop import processes

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
POLL_SECONDS = 0.005
START_TIMEOUT = 120.0


class ServerFailed(RuntimeError):
    """A server that did not start or did not answer its /predict with 200."""


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
        return {**os.environ, **{key: value.format(port=port, host=HOST) for key, value in self.env.items()}}


def get_status(port: int, path: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of GET path, or None while nothing answers yet."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def post(port: int, path: str, body: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """One POST with a JSON body: (status, response body)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class RunningServer:
    """A started server; use as a context manager so it is always stopped."""

    def __init__(self, spec: ServerSpec, log_dir: Path) -> None:
        self.spec = spec
        self.port = free_port(HOST)
        self.log = Path(log_dir) / (re.sub(r"[^\w.-]+", "_", spec.name).strip("_") + ".log")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.started = time.perf_counter()
            self.process = subprocess.Popen(
                spec.command(self.port),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env=spec.environment(self.port),
                start_new_session=True,  # its own process group: workers it forks stop with it
            )
        self.cold_start = self._wait_ready()

    def _wait_ready(self) -> float:
        """Seconds from process start to the first 200 on the ready path."""
        deadline = self.started + START_TIMEOUT
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"{self.spec.name} exited with {self.process.returncode}:\n{self.tail()}")
            if get_status(self.port, self.spec.ready_path) == 200:
                return time.perf_counter() - self.started
            time.sleep(POLL_SECONDS)
        self.stop()
        raise ServerFailed(f"{self.spec.name} was not ready after {START_TIMEOUT:.0f} s:\n{self.tail()}")

    def check_predict(self) -> None:
        """One request first: a benchmark of error responses would measure nothing useful."""
        status, body = post(self.port, self.spec.predict_path, self.spec.body)
        if status != 200:
            raise ServerFailed(f"{self.spec.name} answered {status} to its /predict: {body[:300]!r}")

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the server's own process group (its workers too), SIGKILL if it hangs."""
        processes.stop(self.process, timeout=15, group=True)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
