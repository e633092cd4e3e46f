"""A server in a child process: started on a free loopback port, ready when it answers, stopped.

The one way the notebooks, the demo, the benchmarks and the tests start a server. In a
notebook `uvicorn.run` fails (the kernel already runs an event loop), so a cell starts the
server as a child and keeps a handle on it across cells:

    server = start("04")                  # a cell: stage 04's server, ready to answer
    server.client().predict(record)       # later cells (or requests.post(server.url + ...))
    server.stop()                         # a later cell (or stop_all(): every server it started)

    with start("04") as server: ...       # or for one cell only
    server = start("my_service:app")      # an exercise's own app, e.g. a file written with %%writefile

`start` prints the exact command it runs (`python -m workshop serve 04 --port ...`), so the
same server can be started by hand in a terminal. No server outlives its notebook: the child
runs in a process group of its own (stop() ends the whole group), the kernel stops its
servers when it exits (atexit), and the child, told its parent's pid with --parent, shuts
itself down once the kernel is gone, even after a SIGKILL, when nothing else gets the chance
to run. The benchmarks hand in a whole command instead of a target, and read `ready_after`.
"""

from __future__ import annotations

import atexit
import http.client
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from penguins.ports import free_port

if TYPE_CHECKING:  # requests is a tenth of a second to import: not on a server's way to /ready
    from penguins.client import PenguinClient

HOST = "127.0.0.1"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0
POLL = 0.05  # seconds between two looks at a starting server
PARENT_POLL = 0.2  # seconds between the child's looks at its parent
GRACE = 5.0  # seconds the child allows its own graceful shutdown once the parent is gone
STAGE_READY = "/ready"
# A child has no terminal of its own, and `make stop` knows only the servers with a pid file.
CHILD_STOP_HINT = "server.stop() in the process that started it; it also stops when that process ends"


class ServerFailed(RuntimeError):
    """The server stopped, or never answered, before it was ready; the message holds its output."""


class Server:
    """One server in a child process.

    `target` is a stage ("02", "03", "04") or an app ("module:attribute", found in `app_dir`),
    both run by `python -m workshop serve` with `args` added; or a whole command (a list) that
    listens on `port`. A stage is ready when `ready_path` says 200, an app once it answers
    HTTP at all. The output goes to `log` (kept), or to a temporary file removed on stop().
    """

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
        ready_path: str | None = STAGE_READY,
    ) -> None:
        self.port = port or free_port(HOST)
        self.url = f"http://{HOST}:{self.port}"
        self.env = dict(env or {})
        self.cwd = Path(cwd) if cwd else None
        if isinstance(target, str):
            self.target = target
            self.command = _serve_command(target, self.port, Path(app_dir), self.cwd, args)
            self.ready_path = None if ":" in target else ready_path
        else:
            self.command = [str(part) for part in target]
            self.target = Path(self.command[0]).name
            self.ready_path = ready_path
        self.ready_after: float | None = None  # seconds from start to the first ready answer
        self.process: subprocess.Popen[bytes] | None = None
        self._log_path = log
        self._log: IO[str] | None = None
        self._last_logs = ""

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

    def start(self, timeout: float = READY_TIMEOUT, poll: float = POLL, echo: bool = True) -> Server:
        """Start the child (printing its command when `echo`) and return once it is ready."""
        if self.running:
            return self
        if echo:
            print(f"$ {shown(self.command)}", flush=True)
        self._log = self._open_log()
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.cwd,
            start_new_session=True,
            env={**os.environ, **self.env},
        )
        _RUNNING.add(self)
        try:
            self._wait_until_ready(started + timeout, poll)
        except BaseException:
            self.stop()
            raise
        self.ready_after = time.perf_counter() - started
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Stop the server and its process group: SIGTERM, then SIGKILL if it lingers; its exit code."""
        process, self.process = self.process, None
        _RUNNING.discard(self)
        if process is None:
            return None
        code = stop_process(process, timeout, group=True)
        self._last_logs = self.logs()
        self._close_log()
        return code

    def client(self, timeout: float = 5.0) -> PenguinClient:
        """A penguins.client for this server."""
        from penguins.client import PenguinClient

        return PenguinClient(self.url, timeout=timeout)

    def logs(self) -> str:
        """What the server printed so far: its start-up lines and one line per request."""
        if self._log is None:
            return self._last_logs
        self._log.flush()
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def _open_log(self) -> IO[str]:
        if self._log_path is None:
            return tempfile.NamedTemporaryFile("w+", prefix="penguins-server-", suffix=".log", delete=False)
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        return self._log_path.open("w", encoding="utf-8")

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            if self._log_path is None:
                Path(self._log.name).unlink(missing_ok=True)
            self._log = None

    def _wait_until_ready(self, deadline: float, poll: float) -> None:
        while time.perf_counter() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = self.process.returncode if self.process else None
                raise ServerFailed(
                    f"{self.target} stopped (exit code {code}) before it was ready:\n{self.logs()[-1500:]}"
                )
            if self._answers():
                return
            time.sleep(poll)
        raise ServerFailed(f"{self.target} did not answer at {self.url} in time:\n{self.logs()[-1500:]}")

    def _answers(self) -> bool:
        """Ready: `ready_path` says 200; or, without one, any HTTP answer at "/"."""
        status = get_status(self.port, self.ready_path or "/")
        return status is not None and (self.ready_path is None or status == 200)


def get_status(port: int, path: str, timeout: float = 2.0) -> int | None:
    """The HTTP status of GET path on the loopback port, or None while nothing answers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def start(
    target: str | Sequence[str] = "04", *, timeout: float = READY_TIMEOUT, echo: bool = True, **options: object
) -> Server:
    """Start a stage's server ("02", "03", "04") or an app ("module:attribute"); see Server."""
    return Server(target, **options).start(timeout, echo=echo)  # type: ignore[arg-type]


def shown(command: Sequence[str]) -> str:
    """The command as a person types it here: this Python by its path from the current folder."""
    first, *rest = command
    if first == sys.executable:
        relative = os.path.relpath(first)
        first = relative if not relative.startswith(os.pardir + os.sep + os.pardir) else first
    return shlex.join([first, *rest])


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0, group: bool = False) -> int | None:
    """Stop `process` politely: SIGTERM (to its whole process group when `group`, where groups
    exist), a bounded wait, SIGKILL only if it lingers. Its exit code. Every child the workshop
    starts stops this way, so a uvicorn child always gets its graceful shutdown first."""
    if process.poll() is None:
        _signal(process, signal.SIGTERM, group)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal(process, getattr(signal, "SIGKILL", signal.SIGTERM), group)
            process.wait()
    return process.returncode


def _signal(process: subprocess.Popen[Any], sig: int, group: bool) -> None:
    try:
        if group and hasattr(os, "killpg"):
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)
    except ProcessLookupError:
        pass


_RUNNING: set[Server] = set()


@atexit.register
def stop_all() -> None:
    """Stop every server this kernel started. A notebook's last cell calls it (it works even
    where a cell that should have started a server was left blank), a cell that starts a
    server may call it first (so running that cell again leaves no old server behind), and a
    kernel that exits normally (restart, shutdown) calls it by itself."""
    for server in list(_RUNNING):
        server.stop()


def _serve_command(target: str, port: int, app_dir: Path, cwd: Path | None, args: Sequence[str]) -> list[str]:
    """`python -m workshop serve TARGET ...`, told to stop when this process is gone."""
    command = [
        sys.executable,
        "-m",
        "workshop",
        "serve",
        target,
        "--host",
        HOST,
        "--port",
        str(port),
        "--parent",
        str(os.getpid()),
    ]
    folder = os.path.relpath(app_dir.resolve(), (cwd or Path.cwd()).resolve())
    if ":" in target and folder != os.curdir:
        command += ["--app-dir", folder]
    return [*command, *args]


# ---------------------------------------------------------------- the child's side


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
    """`python -m workshop serve`: a stage's server (its settings from workshop.stages, under any
    PENGUINS_* variable already set and the flags), or an app under uvicorn."""
    if ":" in target:
        import uvicorn

        _watch_parent(parent)
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
    _watch_parent(parent)
    stop_hint = serve.STOP_HINT if parent is None else CHILD_STOP_HINT
    return serve.main(host, port, artifacts, run_dir, title=title, stop_hint=stop_hint)


def _watch_parent(parent: int | None) -> None:
    """Shut down once the process that started us is gone (re-parented: getppid changes)."""
    if parent is None:
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(GRACE)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
