"""Real servers for the live tests: `python -m penguins serve` in a process of its own, on a
free loopback port (never a stage's fixed port), stopped when the test is done."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from penguins.client import PenguinClient, ServiceUnreachable
from penguins.ports import free_port
from tests.conftest import ROOT
from workshop import processes

START_TIMEOUT = 60.0


@dataclass
class Live:
    process: subprocess.Popen
    port: int
    log: Path
    final_output: str | None = None  # kept once the server is stopped and its log removed

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        if self.final_output is not None:
            return self.final_output
        return self.log.read_text(encoding="utf-8", errors="replace")


def serve_command(*args: str, port: int | None = None) -> list[str]:
    return [sys.executable, "-m", "penguins", "serve", *args, *(["--port", str(port)] if port else [])]


@contextmanager
def live_server(*args: str, env: dict[str, str] | None = None) -> Iterator[Live]:
    """A ready server started with `args` (e.g. "--stage", "04", "--artifacts", dir).

    Its output goes to a file, not a pipe: a pipe nobody reads fills up under load (one log
    line per request) and then blocks the server.
    """
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        with log.open("w") as sink:
            process = subprocess.Popen(serve_command(*args, port=port), stdout=sink, stderr=subprocess.STDOUT,
                                       env={**os.environ, **(env or {})}, cwd=ROOT)
        live = Live(process, port, log)
        try:
            wait_until_ready(live)
            yield live
        finally:
            stop(process)
            live.final_output = live.output()


def wait_until_ready(live: Live, timeout: float = START_TIMEOUT) -> None:
    """Ready, or fail at once with the server's output if it exited."""
    deadline = time.monotonic() + timeout
    with PenguinClient(live.url) as client:
        while live.process.poll() is None:
            try:
                client.wait_until_ready(timeout=0.5)
                return
            except ServiceUnreachable:
                if time.monotonic() > deadline:
                    raise
    raise RuntimeError(f"the server exited with code {live.process.returncode}:\n{live.output()}")


def stop(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM and wait; SIGKILL if it does not stop. Returns the exit code."""
    return processes.stop(process, timeout)
