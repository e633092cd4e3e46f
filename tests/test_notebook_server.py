"""workshop.server: a stage's server started from a notebook, and never outliving it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests
from jupyter_client.manager import start_new_kernel

from penguins.serving.examples import MESSY_RECORDS
from penguins.serving.predictor import PenguinPredictor
from tests.conftest import ROOT
from workshop.server import Server, ServerFailed, start

GONE_WITHIN = 10.0  # seconds: the child polls its parent every 0.2 s, then shuts down


def gone(pid: int) -> bool:
    """No such process, or only a zombie waiting for whoever adopted it to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def wait_gone(pid: int, within: float = GONE_WITHIN) -> bool:
    deadline = time.monotonic() + within
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return gone(pid)


def test_start_in_one_cell_stop_in_another(artifact_dir: Path) -> None:
    server = start("04", env={"PENGUINS_ARTIFACTS": str(artifact_dir)})
    pid = server.pid
    assert server.running and repr(server).endswith(f"(running, pid {pid})>")
    with server.client() as client:
        answer = client.predict(MESSY_RECORDS[0])
    assert answer.species == PenguinPredictor.load("mlp-onnx", artifact_dir / "mlp.onnx").predict_one(MESSY_RECORDS[0]).species
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
    (tmp_path / "my_service.py").write_text(textwrap.dedent("""
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/hello")
        def hello() -> dict:
            return {"message": "a student's service"}
    """))
    with start("my_service:app", app_dir=tmp_path) as server:
        assert requests.get(server.url + "/hello", timeout=5).json() == {"message": "a student's service"}
    assert not server.running


def test_a_server_that_cannot_start_says_why_and_leaves_nothing(tmp_path: Path) -> None:
    server = Server("04", env={"PENGUINS_ARTIFACTS": str(tmp_path)})
    with pytest.raises(ServerFailed, match="mlp.onnx is missing"):
        server.start()
    assert not server.running


def test_a_kernel_that_exits_stops_its_servers(artifact_dir: Path) -> None:
    """atexit: the kernel restarts, or the notebook is closed, without a stop() cell."""
    code = ("from workshop.server import start; "
            f"s = start('04', env={{'PENGUINS_ARTIFACTS': {str(artifact_dir)!r}}}); print(s.pid)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert wait_gone(int(result.stdout.strip()))


def test_a_killed_kernel_takes_its_server_with_it(artifact_dir: Path) -> None:
    """SIGKILL runs no atexit: the child notices its parent is gone and shuts itself down."""
    manager, kernel = start_new_kernel(kernel_name="python3", cwd=str(ROOT),
                                       env={**os.environ, "PENGUINS_ARTIFACTS": str(artifact_dir)})
    try:
        printed: list[str] = []
        kernel.execute_interactive(
            "from workshop.server import start\nserver = start('04')\nprint(server.pid)",
            timeout=60,
            output_hook=lambda msg: printed.append(msg["content"].get("text", "")),
        )
        server_pid = int("".join(printed).strip())
        assert not gone(server_pid)
        os.kill(manager.provisioner.pid, signal.SIGKILL)
        assert wait_gone(server_pid), "the server outlived its kernel"
    finally:
        kernel.stop_channels()
        manager.cleanup_resources()
