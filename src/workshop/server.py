"""Start and stop a stage's server from a notebook.

`uvicorn.run` inside Jupyter fails: the kernel already runs an event loop. So a notebook
starts the server as a child process on a free loopback port, and keeps a handle on it
across cells:

    server = start("04")                  # a cell: stage 04's server, ready to answer
    server.client().predict(record)       # later cells (or requests.post(server.url + ...))
    server.stop()                         # a later cell (or stop_all(): every server it started)

    with start("04") as server: ...       # or for one cell only

An exercise starts its own app from an import string, e.g. a file written with %%writefile:

    server = start("my_service:app")      # my_service.py in the notebook's folder

No server outlives its notebook: the child runs in a process group of its own (stop() ends
the whole group), the kernel stops its servers when it exits (atexit), and the child polls
its parent's pid and shuts itself down once the kernel is gone, even after a SIGKILL, when
nothing else gets the chance to run.

`python -m workshop.server` is the child's side; a notebook never calls it directly.
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import requests

from penguins.client import PenguinClient
from penguins.ports import free_port
from workshop import processes

HOST = "127.0.0.1"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
PARENT_POLL = 0.2  # seconds between the child's looks at its parent
GRACE = 5.0  # seconds the child allows its own graceful shutdown once the parent is gone


class ServerFailed(RuntimeError):
    """The server stopped, or never answered, before it was ready; the message holds its output."""


class Server:
    """One server in a child process: a stage ("02", "03", "04") or an app ("module:attribute")."""

    def __init__(
        self,
        target: str = "04",
        *,
        env: Mapping[str, str] | None = None,
        app_dir: str | Path = ".",
        port: int | None = None,
    ) -> None:
        self.target = target
        self.env = dict(env or {})
        self.app_dir = Path(app_dir).resolve()
        self.port = port or free_port(HOST)
        self.url = f"http://{HOST}:{self.port}"
        self._process: subprocess.Popen | None = None
        self._log: tempfile._TemporaryFileWrapper | None = None
        self._last_logs = ""

    @property
    def is_app(self) -> bool:
        return ":" in self.target

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __repr__(self) -> str:
        state = f"running, pid {self.pid}" if self.running else "stopped"
        return f"<Server {self.target} at {self.url} ({state})>"

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = READY_TIMEOUT) -> Server:
        """Start the child and return once it answers (a stage: /ready says 200)."""
        if self.running:
            return self
        self._log = tempfile.NamedTemporaryFile("w+", prefix="penguins-server-", suffix=".log", delete=False)
        self._process = subprocess.Popen(
            self._command(), stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, env={**os.environ, **self.env},
        )
        _RUNNING.add(self)
        try:
            self._wait_until_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the server and its process group: SIGTERM, then SIGKILL if it lingers."""
        process, self._process = self._process, None
        _RUNNING.discard(self)
        if process is None:
            return
        processes.stop(process, timeout, group=True)
        self._last_logs = self.logs()
        self._close_log()

    def client(self, timeout: float = 5.0) -> PenguinClient:
        """A penguins.client for this server."""
        return PenguinClient(self.url, timeout=timeout)

    def logs(self) -> str:
        """What the server printed so far: its start-up lines and one line per request."""
        if self._log is None:
            return self._last_logs
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def _command(self) -> list[str]:
        return [sys.executable, "-m", "workshop.server", self.target, "--port", str(self.port),
                "--parent", str(os.getpid()), "--app-dir", str(self.app_dir)]

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                code = self._process.returncode if self._process else None
                raise ServerFailed(f"{self.target} stopped (exit code {code}) before it was ready:\n{self.logs()[-1500:]}")
            if self._answers():
                return
            time.sleep(0.1)
        raise ServerFailed(f"{self.target} did not answer at {self.url} within {timeout:g} s:\n{self.logs()[-1500:]}")

    def _answers(self) -> bool:
        """A stage is ready when /ready says 200; an exercise's app when it answers HTTP at all."""
        try:
            response = requests.get(self.url + ("/" if self.is_app else "/ready"), timeout=1)
        except requests.RequestException:
            return False
        return self.is_app or response.status_code == 200

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            Path(self._log.name).unlink(missing_ok=True)
            self._log = None


def start(target: str = "04", **options: object) -> Server:
    """Start a stage's server ("02", "03", "04") or an app ("module:attribute"); see Server."""
    return Server(target, **options).start()  # type: ignore[arg-type]


_RUNNING: set[Server] = set()


@atexit.register
def stop_all() -> None:
    """Stop every server this kernel started. A notebook's last cell calls it (it works even
    where a cell that should have started a server was left blank), a cell that starts a
    server may call it first (so running that cell again leaves no old server behind), and a
    kernel that exits normally (restart, shutdown) calls it by itself."""
    for server in list(_RUNNING):
        server.stop()


# ---------------------------------------------------------------- the child's side


def _watch_parent(parent: int) -> None:
    """Shut down once the process that started us is gone (re-parented: getppid changes)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(GRACE)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _child(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.server")
    parser.add_argument("target", help='a stage ("04") or an app ("module:attribute")')
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True, help="stop when this pid is gone")
    parser.add_argument("--app-dir", default=".", help="where the app's module lives")
    args = parser.parse_args(argv)
    _watch_parent(args.parent)
    if ":" not in args.target:
        from penguins import serve

        return serve.main(stage=args.target, host=HOST, port=args.port)
    import uvicorn

    uvicorn.run(args.target, host=HOST, port=args.port, app_dir=args.app_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1:]))
