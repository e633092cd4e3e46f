"""`python -m penguins serve`: the service in the foreground, with uvicorn, as its settings say.

In front of a room, a start-up that fails must say why in one line, with the fix, and never
scroll a traceback: so the settings are read, the model is loaded and checked, and the port
is bound before uvicorn starts, and each of these failures is one line on stderr. What to
serve comes from the PENGUINS_* settings (see penguins.serving.settings), and --host/--port
override them; a stage's choices are the classroom's business (`python -m workshop serve 04`
sets them, then calls `main`). SIGTERM and Ctrl-C shut the server down gracefully and exit 0.

With `--run-dir DIR` the server records its pid in DIR/serve-PORT.pid while it runs, so that
`python -m penguins stop` (make stop) stops exactly the servers this checkout started.
"""

from __future__ import annotations

import errno
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import ValidationError

from penguins import ports
from penguins.serving.artifacts import ArtifactError
from penguins.serving.contract import BACKEND_FILES
from penguins.serving.settings import PREFIX, Settings

if TYPE_CHECKING:
    import psutil
    from fastapi import FastAPI

    from penguins.serving.predictor import PenguinPredictor

EXIT_BAD_SETUP = 2  # a setting, or the model file, is wrong
EXIT_PORT_BUSY = 1
EVERY_INTERFACE = ("0.0.0.0", "::")
STOP_TIMEOUT = 10.0
GRACEFUL_SHUTDOWN_S = 5  # SIGTERM: requests under way get this long; docker/Dockerfile's CMD says the same (test_k8s)
STOP_HINT = "Ctrl-C here, or `make stop` from another terminal"


class StartupError(Exception):
    """Why the server cannot start, as the one line a person reads."""


class PortUnavailable(StartupError):
    """The port is taken (or not ours to take)."""


def main(
    host: str | None = None,
    port: int | None = None,
    artifacts: str | None = None,
    run_dir: str | None = None,
    title: str = "the penguin service",
    stop_hint: str = STOP_HINT,
) -> int:
    """Check everything, then serve until SIGTERM or Ctrl-C; the exit code says how it went.
    `title` is the banner's first line (a stage's launcher names the stage there), `stop_hint`
    its last (a server started by a notebook is not stopped from a terminal)."""
    # Before numpy loads: the service multiplies no matrices with it (ONNX Runtime has its own
    # kernels), and OpenBLAS starting a thread per core is ~50 ms of every cold start.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # Start-up keeps what it allocates (modules, routes, the model): no collection until _run
    # freezes it all, ~10 % of the imports' CPU (a failed start-up ends the process anyway).
    gc.disable()
    from penguins.serving.api import create_app

    _exit_on_signals()
    try:
        settings = read_settings(host, port, artifacts)
        predictor = _load(settings)
        sock = _listen(settings.host, settings.port)
    except PortUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_PORT_BUSY
    except (StartupError, ArtifactError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_SETUP
    _announce(title, settings, predictor.model_version, stop_hint)
    with _pid_file(Path(run_dir) if run_dir else None, settings.port):
        _run(create_app(settings, predictor), sock, settings)
    return 0


def _load(settings: Settings) -> PenguinPredictor:
    """The model the settings name. Serving opens ONNX files itself; the pickled pipeline
    (sklearn-pickle) needs scikit-learn, so it comes from the training package, ready-made."""
    if settings.backend == "sklearn-pickle":
        from penguins.training.pickles import load_predictor as load_with_training

        return load_with_training(settings.backend, settings.model_path)
    from penguins.serving.api import load_predictor

    return load_predictor(settings)


def read_settings(host: str | None = None, port: int | None = None, artifacts: str | None = None) -> Settings:
    """The PENGUINS_* environment, with the command line's --host/--port/--artifacts on top."""
    flags: dict[str, Any] = {key: value for key, value in {"host": host, "port": port}.items() if value is not None}
    try:
        settings = Settings(**flags)
    except ValidationError as err:
        problems = "; ".join(
            f"{PREFIX}{'.'.join(map(str, e['loc'])).upper()}={e['input']!r}: {e['msg']}" for e in err.errors()
        )
        raise StartupError(f"invalid setting {problems} (see python -m penguins serve --help)") from None
    if artifacts:
        settings = settings.model_copy(update={"model_path": Path(artifacts) / BACKEND_FILES[settings.backend]})
    return settings


def _listen(host: str, port: int) -> socket.socket:
    """Bind the port now, the way uvicorn would, so a busy port is named before anything runs."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        busy = err.errno == errno.EADDRINUSE
        reason = ports.in_use_message(port, host) if busy else f"cannot listen on {host}:{port}: {err.strerror}"
        raise PortUnavailable(reason) from None
    return sock


def _announce(title: str, settings: Settings, model_version: str, stop_hint: str = STOP_HINT) -> None:
    """Where to find the server, and what listening on every interface exposes."""
    lines = [title, f"  model {model_version} ({settings.backend}, {settings.mode} mode)"]
    if settings.host in EVERY_INTERFACE:
        lines += [
            f"  others on your network: http://{_network_address()}:{settings.port}/docs",
            f"  warning: HOST={settings.host} listens on every network interface: anyone who can reach this "
            "machine can call the model (no login, no encryption); use 127.0.0.1 to keep it to yourself",
        ]
    else:
        lines.append(
            f"  listening on http://{settings.host}:{settings.port}  (try it: http://{settings.host}:{settings.port}/docs)"
        )
    lines.append(f"  stop: {stop_hint}")
    print("\n".join(lines), flush=True)


def _network_address() -> str:
    """This machine's address as others on the network dial it.

    Connecting a UDP socket sends nothing: it only asks the system which interface it would
    use. 192.0.2.1 is a documentation address (TEST-NET-1) that is never routed anywhere.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return str(probe.getsockname()[0])
    except OSError:
        try:
            return socket.gethostbyname(socket.gethostname())
        except OSError:
            return "<this machine's IP address>"


def _run(app: FastAPI, sock: socket.socket, settings: Settings) -> None:
    """Serve until a signal; uvicorn's own request log is off (the app logs one line per request)."""
    import uvicorn

    # What start-up built (FastAPI's routes, pydantic's validators, the model) never becomes
    # garbage: frozen, the collector's full passes skip it (bench/results/ab.md: p99 and CPU).
    gc.freeze()
    gc.enable()
    # Each request's log line skips what no format here prints (thread, process, caller): the
    # logging HOWTO's "Optimization" switches, a quarter of the line's cost.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _exit_on_signals() -> None:
    """SIGTERM and Ctrl-C end the process with code 0 and no traceback, whenever they come.

    While uvicorn serves, it takes both signals over to shut down gracefully, and then raises
    the signal again for the handler it found, which is this one.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_cleanly)


def _exit_cleanly(signum: int, frame: object) -> NoReturn:
    raise SystemExit(0)


@contextmanager
def _pid_file(run_dir: Path | None, port: int) -> Iterator[None]:
    """Record this server while it runs (see `stop_all`): its pid and the time it started,
    which together name this process and no later one that gets the same pid."""
    if run_dir is None:
        yield
        return
    import psutil  # here, not at the top: only a server with a pid file needs it

    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / f"serve-{port}.pid"
    me = psutil.Process()
    path.write_text(f"{me.pid} {me.create_time()!r}\n", encoding="utf-8")
    try:
        yield
    finally:
        if _recorded(path) == me:
            path.unlink(missing_ok=True)


def stop_all(run_dir: Path, timeout: float = STOP_TIMEOUT) -> int:
    """Stop every server recorded in `run_dir`, and only those: a record whose process is gone,
    or is another process by now (pids get reused), is forgotten, never signalled."""
    stopped = 0
    for path in sorted(run_dir.glob("serve-*.pid")) if run_dir.is_dir() else []:
        server = _recorded(path)
        if server is not None:
            _terminate(server, timeout)
            print(f"stopped the server on port {path.stem.removeprefix('serve-')} (pid {server.pid})")
            stopped += 1
        path.unlink(missing_ok=True)
    if not stopped:
        print("no stage server was running")
    return 0


def _recorded(path: Path) -> psutil.Process | None:
    """The live process a pid file names: same pid, same start time, not a zombie."""
    import psutil

    try:
        pid, started = path.read_text(encoding="utf-8").split()
        process = psutil.Process(int(pid))
        same = abs(process.create_time() - float(started)) < 0.01
        return process if same and process.status() != psutil.STATUS_ZOMBIE else None
    except (OSError, ValueError, psutil.Error):
        return None


def _terminate(process: psutil.Process, timeout: float) -> None:
    """SIGTERM, then wait for the graceful shutdown; SIGKILL if it does not come."""
    import psutil

    try:
        process.terminate()
        process.wait(timeout)
    except psutil.TimeoutExpired:
        process.kill()
    except psutil.NoSuchProcess:
        pass
