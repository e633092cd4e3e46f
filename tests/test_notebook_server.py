"""workshop.server: a server started as a child (from a notebook, the demo, the bench or a test),
ready when it answers, saying the command it ran, and never outliving its parent."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
import requests
from jupyter_client.manager import start_new_kernel

from penguins.ports import free_port
from penguins.serving.examples import MESSY_RECORDS
from penguins.serving.predictor import PenguinPredictor
from tests.conftest import ROOT, gone, wait_gone
from workshop.server import Server, ServerFailed, start, wait_ready


def test_start_in_one_cell_stop_in_another(artifact_dir: Path) -> None:
    server = start("04", env={"PENGUINS_ARTIFACTS": str(artifact_dir)})
    pid = server.pid
    assert server.running and repr(server).endswith(f"(running, pid {pid})>")
    with server.client() as client:
        answer = client.predict(MESSY_RECORDS[0])
    assert (
        answer.species
        == PenguinPredictor.load("mlp-onnx", artifact_dir / "mlp.onnx").predict_one(MESSY_RECORDS[0]).species
    )
    server.stop()
    assert not server.running and wait_gone(pid)
    assert "POST /predict 200" in server.logs()


def test_as_a_context_manager(artifact_dir: Path) -> None:
    with Server("03", env={"PENGUINS_ARTIFACTS": str(artifact_dir)}) as server:
        pid = server.pid
        assert requests.get(server.url + "/model", timeout=5).json()["mode"] == "features"
    assert wait_gone(pid)


def test_an_exercise_app_from_an_import_string(tmp_path: Path) -> None:
    """What a student writes with %%writefile, started from the notebook's folder."""
    (tmp_path / "my_service.py").write_text(
        textwrap.dedent("""
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/hello")
        def hello() -> dict:
            return {"message": "a student's service"}
    """)
    )
    with start("my_service:app", app_dir=tmp_path) as server:
        assert requests.get(server.url + "/hello", timeout=5).json() == {"message": "a student's service"}
    assert not server.running


def test_a_server_that_cannot_start_says_why_and_leaves_nothing(tmp_path: Path) -> None:
    server = Server("04", env={"PENGUINS_ARTIFACTS": str(tmp_path)})
    with pytest.raises(ServerFailed, match=r"mlp\.onnx is missing"):
        server.start()
    assert not server.running
    assert [
        child.cmdline() for child in psutil.Process().children(recursive=True) if "workshop" in child.cmdline()
    ] == []


def test_it_prints_the_exact_command_it_runs(artifact_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The printed line, typed in a terminal here, is the very command: same program, same arguments."""
    with start("03", env={"PENGUINS_ARTIFACTS": str(artifact_dir)}) as server:
        printed = capsys.readouterr().out.splitlines()
        assert printed[0].startswith("$ ")
        argv = shlex.split(printed[0][2:])
        assert os.path.samefile(argv[0], sys.executable) and not os.path.isabs(argv[0])
        assert argv[1:] == [
            "-m",
            "workshop",
            "serve",
            "03",
            "--host",
            "127.0.0.1",
            "--port",
            str(server.port),
            "--parent",
            str(os.getpid()),
        ]
        assert server.command[1:] == argv[1:]


def test_a_whole_command_with_a_kept_log_and_its_time_to_ready(
    artifact_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the benchmarks hand in: any command that listens on the port; the log stays."""
    port = free_port()
    command = [sys.executable, "-m", "penguins", "serve", "--port", str(port), "--artifacts", str(artifact_dir)]
    log = tmp_path / "logs" / "served.log"
    server = Server(command, port=port, log=log, cwd=ROOT).start(echo=False)
    try:
        assert server.ready_after is not None and 0 < server.ready_after < 30
        assert requests.get(server.url + "/ready", timeout=5).status_code == 200
    finally:
        assert server.stop() == 0  # SIGTERM: a graceful shutdown, exit code 0
    assert capsys.readouterr().out == ""
    assert "the penguin service" in log.read_text() and "Shutting down" in log.read_text()
    assert server.logs() == log.read_text()


def test_a_kernel_that_exits_stops_its_servers(artifact_dir: Path) -> None:
    """atexit: the kernel restarts, or the notebook is closed, without a stop() cell."""
    code = (
        "from workshop.server import start; "
        f"s = start('04', env={{'PENGUINS_ARTIFACTS': {str(artifact_dir)!r}}}); print(s.pid)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert wait_gone(int(result.stdout.split()[-1]))


def test_a_killed_kernel_takes_its_server_with_it(artifact_dir: Path) -> None:
    """SIGKILL runs no atexit: the child notices its parent is gone and shuts itself down."""
    manager, kernel = start_new_kernel(
        kernel_name="python3", cwd=str(ROOT), env={**os.environ, "PENGUINS_ARTIFACTS": str(artifact_dir)}
    )
    try:
        printed: list[str] = []
        kernel.execute_interactive(
            "from workshop.server import start\nserver = start('04')\nprint(server.pid)",
            timeout=60,
            output_hook=lambda msg: printed.append(msg["content"].get("text", "")),
        )
        server_pid = int("".join(printed).split()[-1])
        assert not gone(server_pid)
        os.kill(manager.provisioner.pid, signal.SIGKILL)
        assert wait_gone(server_pid), "the server outlived its kernel"
    finally:
        kernel.stop_channels()
        manager.cleanup_resources()


def test_a_server_whose_parent_was_killed_stops_by_its_own_watch(artifact_dir: Path) -> None:
    """Without Linux's death signal (macOS, Windows: or a plain Popen, as here) `--parent`'s watch
    stops the server: its parent SIGKILLed, it shuts itself down within the graceful shutdown's time."""
    port = free_port()
    serve = [sys.executable, "-m", "workshop", "serve", "04", "--port", str(port), "--parent", "{pid}"]
    code = (
        "import os, subprocess, sys, time; "
        f"command = [part.format(pid=os.getpid()) for part in {serve!r}]; "
        "print(subprocess.Popen(command).pid, flush=True); time.sleep(60)"
    )
    env = {**os.environ, "PENGUINS_ARTIFACTS": str(artifact_dir)}
    starter = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    assert starter.stdout is not None
    server_pid = int(starter.stdout.readline())
    try:
        assert wait_ready(port, "/ready", lambda: starter.poll() is None, 30), "the server never got ready"
        starter.kill()
        starter.wait()
        assert wait_gone(server_pid), "the server outlived its parent"
    finally:
        if not gone(server_pid):
            os.kill(server_pid, signal.SIGKILL)
