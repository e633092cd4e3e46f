"""A server in a child process on a free loopback port (in a notebook `uvicorn.run` fails: the kernel
runs an event loop), ready when it answers. `start` prints the command, to be typed by hand. No server
outlives its notebook: stop() ends its process group, and the child stops once its parent is gone."""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from penguins.ports import free_port

if TYPE_CHECKING:  # requests is a tenth of a second to import: not on a server's way to /ready
    from penguins.client import PenguinClient

HOST = "127.0.0.1"
READY_TIMEOUT = 30.0


class ServerFailed(RuntimeError):
    """The server stopped, or never answered, before it was ready; the message holds its output."""


class Server:
    """A stage ("04") or an app ("module:attribute" in `app_dir`) run by `python -m workshop serve`, or a
    whole command listening on `port`; ready when `ready_path` says 200 (an app: any answer)."""

    def __init__(
        self,
        target: str | Sequence[str] = "04",
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        app_dir: str | Path = ".",
        cwd: str | Path | None = None,
        port: int | None = None,
        log: Path | None = None,
        ready_path: str | None = "/ready",
    ) -> None:
        self.port = port or free_port(HOST)
        self.url = f"http://{HOST}:{self.port}"
        self.env = dict(env or {})
        self.cwd = Path(cwd) if cwd else None
        if isinstance(target, str):
            serve = ["-m", "workshop", "serve", target, "--host", HOST, "--port", str(self.port)]
            self.command = [sys.executable, *serve, "--parent", str(os.getpid())]  # it stops when we are gone
            folder = os.path.relpath(Path(app_dir).resolve(), (self.cwd or Path.cwd()).resolve())
            if ":" in target and folder != os.curdir:
                self.command += ["--app-dir", folder]
            self.command += args
            self.target, self.ready_path = target, None if ":" in target else ready_path
        else:
            self.command = [str(part) for part in target]
            self.target, self.ready_path = Path(self.command[0]).name, ready_path
        self.ready_after: float | None = None  # seconds from start to the first ready answer
        self.process: subprocess.Popen[bytes] | None = None
        self._log = log
        self._path: Path | None = None  # the log being written
        self._logged = ""  # the log as it was at stop()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __repr__(self) -> str:
        state = f"running, pid {self.pid}" if self.running else "stopped"
        return f"<Server {self.target} at {self.url} ({state})>"

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = READY_TIMEOUT, poll: float = 0.05, echo: bool = True) -> Server:
        if self.running:
            return self
        if echo:
            print(f"$ {shown(self.command)}", flush=True)
        self._path = self._log or Path(tempfile.gettempdir(), f"penguins-server-{os.getpid()}-{self.port}.log")
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("w", encoding="utf-8") as out:  # the child writes to its own copy of the file
            started = time.perf_counter()
            process = subprocess.Popen(
                self.command,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                start_new_session=True,
                env={**os.environ, **self.env},
                preexec_fn=_dies_with_us(),
            )
        self.process = process
        _RUNNING.add(self)
        try:
            if not wait_ready(self.port, self.ready_path, lambda: process.poll() is None, timeout, poll):
                why = f"exit code {process.returncode}" if process.poll() is not None else f"no answer at {self.url}"
                raise ServerFailed(f"{self.target} was not ready ({why}):\n{self.logs()[-1500:]}")
        except BaseException:
            self.stop()
            raise
        self.ready_after = time.perf_counter() - started
        return self

    def stop(self, timeout: float = 5.0) -> int | None:
        process, self.process = self.process, None
        _RUNNING.discard(self)
        if process is None:
            return None
        code = stop_process(process, timeout, group=True)
        self._logged = self.logs()
        if self._path and not self._log:
            self._path.unlink(missing_ok=True)
        self._path = None
        return code

    def client(self, timeout: float = 5.0) -> PenguinClient:
        from penguins.client import PenguinClient

        return PenguinClient(self.url, timeout=timeout)

    def logs(self) -> str:
        """What the server printed so far: its start-up lines and one line per request."""
        return self._path.read_text(encoding="utf-8", errors="replace") if self._path else self._logged


def get_status(port: int, path: str, timeout: float = 2.0) -> int | None:
    """GET path's HTTP status on the loopback port; None while nothing answers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def wait_ready(port: int, path: str | None, alive: Callable[[], bool], within: float, every: float = 0.05) -> bool:
    """The one wait-until-ready loop: did GET `path` answer 200 (None: anything) while `alive()`?"""
    deadline = time.monotonic() + within
    while alive() and time.monotonic() < deadline:
        if (status := get_status(port, path or "/")) == 200 or (path is None and status is not None):
            return True
        time.sleep(every)
    return False


def start(
    target: str | Sequence[str] = "04", *, timeout: float = READY_TIMEOUT, echo: bool = True, **options: Any
) -> Server:
    return Server(target, **options).start(timeout, echo=echo)


def shown(command: Sequence[str]) -> str:
    """The command as a person types it here: this Python by its path from the current folder."""
    first, *rest = command
    if first == sys.executable and not os.path.relpath(first).startswith(os.pardir + os.sep + os.pardir):
        first = os.path.relpath(first)
    return shlex.join([first, *rest])


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0, group: bool = False) -> int | None:
    """SIGTERM (uvicorn's graceful shutdown), SIGKILL only if it lingers; its exit code."""
    for sig, wait in ((signal.SIGTERM, timeout), (getattr(signal, "SIGKILL", signal.SIGTERM), None)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            if group and hasattr(os, "killpg"):
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
    return process.returncode


def _dies_with_us() -> Callable[[], None] | None:
    """Linux: SIGTERM to the child once the thread that started it ends, even by SIGKILL (kubectl cannot watch us)."""
    if sys.platform != "linux":
        return None
    import ctypes

    parent, prctl = os.getpid(), ctypes.CDLL(None, use_errno=True).prctl  # found before the fork

    def arm() -> None:  # in the child, between fork and exec
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # we were gone before that: no signal will come
            os._exit(1)

    return arm


_RUNNING: set[Server] = set()


@atexit.register
def stop_all() -> None:
    """At a kernel's normal exit (restart, shutdown), its servers stop."""
    for server in list(_RUNNING):
        server.stop()


def run(
    target: str,
    *,
    host: str | None = None,
    port: int | None = None,
    artifacts: str | None = None,
    run_dir: str | None = None,
    parent: int | None = None,
    app_dir: str = ".",
) -> int:
    """`python -m workshop serve`, the child's side: a stage's server (its settings under PENGUINS_*), or an app."""
    _watch_parent(parent)
    if ":" in target:
        import uvicorn

        uvicorn.run(target, host=host or HOST, port=port or 8000, app_dir=app_dir)
        return 0
    from penguins import serve
    from workshop import stages

    try:
        os.environ.update(stages.environment(target, os.environ))
        title = stages.banner(target)
    except stages.UnknownStage as err:
        print(f"error: {err}", file=sys.stderr)
        return serve.EXIT_BAD_SETUP
    # A child has no terminal of its own, and `make stop` knows only the servers with a pid file.
    hint = serve.STOP_HINT if parent is None else "server.stop() in the process that started it; it also stops with it"
    return serve.main(host, port, artifacts, run_dir, title=title, stop_hint=hint)


def _watch_parent(parent: int | None) -> None:
    """Shut down once the process that started us is gone (re-parented: getppid changes)."""
    if parent is None:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)
        from penguins.serve import GRACEFUL_SHUTDOWN_S  # only now: an app's server may never need it

        time.sleep(GRACEFUL_SHUTDOWN_S)  # the graceful shutdown's time, then no more waiting
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
