"""`python -m penguins serve`: one stage's service in the foreground, with uvicorn.

In front of a room, a start-up that fails must say why in one line, with the fix, and never
scroll a traceback: so the settings are read, the model is loaded and checked, and the port
is bound before uvicorn starts, and each of these failures is one line on stderr. A stage
picks its backend, mode and port (the instructor runs several side by side); environment
variables (see penguins.serving.settings) override a stage's choices and command-line flags
override both. SIGTERM and Ctrl-C shut the server down gracefully and exit 0.

With `--run-dir DIR` the server records its pid in DIR/serve-PORT.pid while it runs, so that
`python -m penguins stop` (make stop) stops exactly the servers this checkout started.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError

from penguins import ports
from penguins.serving.artifacts import ArtifactError
from penguins.serving.contract import BACKEND_FILES
from penguins.serving.predictor import PenguinPredictor
from penguins.serving.settings import PREFIX, Settings

EXIT_BAD_SETUP = 2  # a setting, or the model file, is wrong
EXIT_PORT_BUSY = 1
EVERY_INTERFACE = ("0.0.0.0", "::")
STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class Stage:
    """What a stage serves and where; its port matches workshop.stages (a test checks it)."""

    backend: str
    mode: str
    port: int
    what: str


STAGES: dict[str, Stage] = {
    "02": Stage("sklearn-pickle", "raw", 8002, "the pickled scikit-learn pipeline behind the wrapper"),
    "03": Stage("sklearn-onnx", "features", 8003, "the bare ONNX model: clean typed features only"),
    "04": Stage("mlp-onnx", "raw", 8004, "the wrapper over ONNX: raw, messy records in"),
}


class StartupError(Exception):
    """Why the server cannot start, as the one line a person reads."""


class PortUnavailable(StartupError):
    """The port is taken (or not ours to take)."""


def stage_settings(stage: str | None, **given: object) -> Settings:
    """Command-line values first, then environment variables, then the stage's choices."""
    from_env = Settings().model_fields_set
    choices = asdict(STAGES[stage]) if stage else {}
    defaults = {key: value for key, value in choices.items() if key != "what" and key not in from_env}
    return Settings(**{**defaults, **{key: value for key, value in given.items() if value is not None}})


def main(
    stage: str | None = None,
    host: str | None = None,
    port: int | None = None,
    artifacts: str | None = None,
    run_dir: str | None = None,
) -> int:
    """Check everything, then serve until SIGTERM or Ctrl-C; the exit code says how it went."""
    from penguins.serving.api import create_app

    _exit_on_signals()
    try:
        settings = _settings(stage, host, port, artifacts)
        predictor = _load(settings)
        sock = _listen(settings.host, settings.port)
    except PortUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_PORT_BUSY
    except (StartupError, ArtifactError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_SETUP
    _announce(stage, settings, predictor.model_version)
    with _pid_file(Path(run_dir) if run_dir else None, settings.port):
        _run(create_app(settings, predictor), sock, settings)
    return 0


def _load(settings: Settings) -> PenguinPredictor:
    """The model the settings name. Serving opens ONNX files itself; the pickled pipeline of
    stage 02 needs scikit-learn, so it comes from the training package, ready-made."""
    if settings.backend == "sklearn-pickle":
        from penguins.training.pickles import load_predictor as load_with_training

        return load_with_training(settings.backend, settings.model_path)
    from penguins.serving.api import load_predictor

    return load_predictor(settings)


def _settings(stage: str | None, host: str | None, port: int | None, artifacts: str | None) -> Settings:
    try:
        settings = stage_settings(stage, host=host, port=port)
    except ValidationError as err:
        problems = "; ".join(f"{PREFIX}{'.'.join(map(str, e['loc'])).upper()}={e['input']!r}: {e['msg']}" for e in err.errors())
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
        reason = ports.in_use_message(port, host) if err.errno == errno.EADDRINUSE else f"cannot listen on {host}:{port}: {err.strerror}"
        raise PortUnavailable(reason) from None
    return sock


def _announce(stage: str | None, settings: Settings, model_version: str) -> None:
    """Where to find the server, and what listening on every interface exposes."""
    title = f"stage {stage}: {STAGES[stage].what}" if stage else "the penguin service"
    lines = [title, f"  model {model_version} ({settings.backend}, {settings.mode} mode)"]
    if settings.host in EVERY_INTERFACE:
        lines += [
            f"  others on your network: http://{_network_address()}:{settings.port}/docs",
            f"  warning: HOST={settings.host} listens on every network interface: anyone who can reach this "
            "machine can call the model (no login, no encryption); use 127.0.0.1 to keep it to yourself",
        ]
    else:
        lines.append(f"  listening on http://{settings.host}:{settings.port}  (try it: http://{settings.host}:{settings.port}/docs)")
    lines.append("  stop: Ctrl-C here, or `make stop` from another terminal")
    print("\n".join(lines), flush=True)


def _network_address() -> str:
    """This machine's address as others on the network dial it.

    Connecting a UDP socket sends nothing: it only asks the system which interface it would
    use. 192.0.2.1 is a documentation address (TEST-NET-1) that is never routed anywhere.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            return probe.getsockname()[0]
    except OSError:
        try:
            return socket.gethostbyname(socket.gethostname())
        except OSError:
            return "<this machine's IP address>"


def _run(app: object, sock: socket.socket, settings: Settings) -> None:
    """Serve until a signal; uvicorn's own request log is off (the app logs one line per request)."""
    import uvicorn

    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_level=settings.log_level,
        access_log=False, timeout_graceful_shutdown=5,
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
    """Record this server's pid while it runs (see `stop_all`)."""
    if run_dir is None:
        yield
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / f"serve-{port}.pid"
    path.write_text(f"{os.getpid()}\n", encoding="utf-8")
    try:
        yield
    finally:
        if _read_pid(path) == os.getpid():
            path.unlink(missing_ok=True)


def stop_all(run_dir: Path, timeout: float = STOP_TIMEOUT) -> int:
    """Stop every server recorded in `run_dir`, and only those: a pid whose process is gone,
    or is no longer a penguins server (pids get reused), is forgotten, never signalled."""
    stopped = 0
    for path in sorted(run_dir.glob("serve-*.pid")) if run_dir.is_dir() else []:
        pid = _read_pid(path)
        if pid is not None and _is_penguins_server(pid):
            _terminate(pid, timeout)
            print(f"stopped the server on port {path.stem.removeprefix('serve-')} (pid {pid})")
            stopped += 1
        path.unlink(missing_ok=True)
    if not stopped:
        print("no stage server was running")
    return 0


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _is_penguins_server(pid: int) -> bool:
    """Alive and running `penguins serve`; where /proc is missing (macOS), alive is all we can tell."""
    if not _alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.exists():
        return True
    try:
        args = cmdline.read_bytes().split(b"\0")
    except OSError:
        return False
    return b"penguins" in args and b"serve" in args


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM, then wait for the graceful shutdown; SIGKILL if it does not come."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
