"""Real servers: the stage servers (`python -m workshop serve NN` over `penguins.serve`) as uvicorn
processes on loopback, called over HTTP through penguins.client; the stage table driving their
settings; start-up failures, signals, `stop`, and load."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from penguins import serve
from penguins.client import InvalidInput, PenguinClient
from penguins.ports import free_port
from penguins.serving.contract import BACKEND_FILES
from penguins.serving.examples import CLEAN_RECORD, MESSY_RECORDS
from penguins.serving.predictor import PenguinPredictor
from penguins.training.pickles import load_predictor
from tests.conftest import ROOT
from tests.live import live_server, serve_command
from workshop import stages
from workshop.server import Server, stop_process

THREADS = 32
REQUESTS_PER_THREAD = 100


@pytest.fixture(scope="module")
def stage04(artifact_dir: Path) -> Iterator[Server]:
    with live_server("04", "--artifacts", str(artifact_dir)) as live:
        yield live


def in_process(artifact_dir: Path, backend: str) -> PenguinPredictor:
    return load_predictor(backend, artifact_dir / BACKEND_FILES[backend])


def as_tuples(answers: list) -> list[tuple]:
    return [(a.species, a.probabilities, a.model_version) for a in answers]


# ---------------------------------------------------------------- answers over HTTP


def test_golden_set_over_http_equals_in_process(stage04: Server, artifact_dir: Path, golden: list[dict]) -> None:
    golden = [case for case in golden if case["expect"] == "answer"]  # the refused ones: tests/test_one_path.py
    records = [case["record"] for case in golden]
    expected = as_tuples(in_process(artifact_dir, "mlp-onnx").predict(records))
    with PenguinClient(stage04.url) as client:
        assert as_tuples(client.predict_batch(records)) == expected
        assert as_tuples([client.predict(record) for record in records]) == expected
    assert [species for species, _, _ in expected] == [case["species"] for case in golden]


def test_every_stage_serves_side_by_side(stage04: Server, artifact_dir: Path) -> None:
    """02, 03 and 04 at the same time, each with its own backend and mode."""
    args = ("--artifacts", str(artifact_dir))
    with (
        live_server("02", *args) as stage02,
        live_server("03", *args) as stage03,
        PenguinClient(stage02.url) as s02,
        PenguinClient(stage03.url) as s03,
        PenguinClient(stage04.url) as s04,
    ):
        assert [(c.model()["backend"], c.model()["mode"]) for c in (s02, s03, s04)] == [
            ("sklearn-pickle", "raw"),
            ("sklearn-onnx", "features"),
            ("mlp-onnx", "raw"),
        ]
        pickle_answers = as_tuples(s02.predict_batch(MESSY_RECORDS))
        assert pickle_answers == as_tuples(in_process(artifact_dir, "sklearn-pickle").predict(MESSY_RECORDS))
        assert s03.predict(CLEAN_RECORD).species == "Adelie"
        with pytest.raises(InvalidInput) as refused:
            s03.predict(MESSY_RECORDS[0])
    assert {where for where, _, _ in refused.value.problems} == {
        "field bill_length_mm",
        "field bill_depth_mm",
        "field flipper_length_mm",
    }


def test_many_threads_at_once_all_get_the_right_answer(stage04: Server, artifact_dir: Path, golden: list[dict]) -> None:
    """THREADS clients, REQUESTS_PER_THREAD requests each: no error, every answer exact."""
    records = [case["record"] for case in golden if case["expect"] == "answer"] + MESSY_RECORDS
    expected = as_tuples(in_process(artifact_dir, "mlp-onnx").predict(records))

    def worker(offset: int) -> list[tuple]:
        wrong = []
        with PenguinClient(stage04.url, timeout=30) as client:
            for i in range(REQUESTS_PER_THREAD):
                index = (offset + i) % len(records)
                got = as_tuples([client.predict(records[index])])[0]
                if got != expected[index]:
                    wrong.append((index, got))
        return wrong

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, range(THREADS)))
    assert sum(map(len, results)) == 0, results
    lines = [line for line in stage04.logs().splitlines() if "POST /predict 200" in line]
    assert len(lines) >= THREADS * REQUESTS_PER_THREAD


# ---------------------------------------------------------------- start-up failures: one line, the fix


def serve_fails(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        serve_command(*args, port=free_port()),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result


def copy_artifacts(artifact_dir: Path, target: Path) -> Path:
    shutil.copytree(artifact_dir, target)
    return target


def test_missing_model_stops_with_the_command_that_fixes_it(tmp_path: Path) -> None:
    result = serve_fails("04", "--artifacts", str(tmp_path))
    assert result.returncode == serve.EXIT_BAD_SETUP
    assert "mlp.onnx is missing" in result.stderr and "make export" in result.stderr


def test_tampered_model_is_refused(artifact_dir: Path, tmp_path: Path) -> None:
    folder = copy_artifacts(artifact_dir, tmp_path / "a")
    data = bytearray((folder / "mlp.onnx").read_bytes())
    data[-1] ^= 0xFF
    (folder / "mlp.onnx").write_bytes(bytes(data))
    result = serve_fails("04", "--artifacts", str(folder))
    assert "does not match its sha256" in result.stderr and "make export" in result.stderr


def test_model_for_another_feature_contract_is_refused(artifact_dir: Path, tmp_path: Path) -> None:
    folder = copy_artifacts(artifact_dir, tmp_path / "a")
    sidecar = folder / "pipeline.onnx.json"
    meta = json.loads(sidecar.read_text())
    meta["contract"]["version"] = "999"
    sidecar.write_text(json.dumps(meta))
    result = serve_fails("03", "--artifacts", str(folder))
    assert "feature contract v999" in result.stderr and "make export" in result.stderr


def test_a_bad_setting_is_named(artifact_dir: Path) -> None:
    result = serve_fails("04", "--artifacts", str(artifact_dir), env={"PENGUINS_BATCH_LIMIT": "lots"})
    assert "BATCH_LIMIT='lots'" in result.stderr


def test_a_busy_port_names_the_process_that_holds_it(artifact_dir: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run(
            [*serve_command("04", "--artifacts", str(artifact_dir)), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    assert result.returncode == serve.EXIT_PORT_BUSY and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: port {port} on 127.0.0.1 is already in use by ")
    assert f"(pid {os.getpid()})" in line and "make stop" in line


# ---------------------------------------------------------------- signals, pid files, stop


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_stops_it_cleanly_and_removes_its_pid_file(artifact_dir: Path, tmp_path: Path, sig: int) -> None:
    with live_server("04", "--artifacts", str(artifact_dir), "--run-dir", str(tmp_path)) as live:
        assert live.process is not None
        pid_file = tmp_path / f"serve-{live.port}.pid"
        assert pid_file.read_text().split()[0] == str(live.pid)
        live.process.send_signal(sig)
        assert live.process.wait(timeout=15) == 0
    assert not pid_file.exists()
    assert "Shutting down" in live.logs() and "Traceback" not in live.logs()


def test_stop_stops_our_servers_and_never_a_stranger(artifact_dir: Path, tmp_path: Path) -> None:
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        # A recycled pid: a server recorded it, stopped, and the pid went to another process later.
        recorded_start = psutil.Process(stranger.pid).create_time() - 60
        (tmp_path / "serve-1.pid").write_text(f"{stranger.pid} {recorded_start}\n")
        with live_server("04", "--artifacts", str(artifact_dir), "--run-dir", str(tmp_path)) as live:
            assert live.process is not None
            pid = live.pid
            result = subprocess.run(
                [sys.executable, "-m", "penguins", "stop", "--run-dir", str(tmp_path)],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=ROOT,
            )
            assert result.returncode == 0, result.stderr
            assert live.process.wait(timeout=15) == 0
        assert result.stdout.strip() == f"stopped the server on port {live.port} (pid {pid})"
        assert stranger.poll() is None
        assert list(tmp_path.glob("*.pid")) == []
    finally:
        stranger.kill()
        stranger.wait()


def test_every_interface_prints_the_network_url_and_a_warning(artifact_dir: Path) -> None:
    port = free_port("0.0.0.0")
    process = subprocess.Popen(
        serve_command("04", "--artifacts", str(artifact_dir), "--host", "0.0.0.0", port=port),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    try:
        banner = [process.stdout.readline() for _ in range(5)]
    finally:
        stop_process(process)
    network = [line for line in banner if "others on your network" in line]
    assert len(network) == 1 and f":{port}/docs" in network[0] and "0.0.0.0" not in network[0]
    warning = [line for line in banner if line.strip().startswith("warning:")]
    assert len(warning) == 1 and "anyone who can reach this machine can call the model" in warning[0]


# ---------------------------------------------------------------- configuration


def test_the_stage_table_drives_each_stage_servers_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m workshop serve NN` sets the stage's backend, mode and port from the table."""
    for name, backend, mode, port in (
        ("02", "sklearn-pickle", "raw", 8002),
        ("03", "sklearn-onnx", "features", 8003),
        ("04", "mlp-onnx", "raw", 8004),
    ):
        for key, value in stages.environment(name, {}).items():
            monkeypatch.setenv(key, value)
        settings = serve.read_settings()
        assert (settings.backend, settings.mode, settings.port) == (backend, mode, port)
    with pytest.raises(stages.UnknownStage, match=r"stage 05 has no server of its own \(`make serve-04` serves it\)"):
        stages.environment("05", {})


def test_flags_beat_environment_which_beats_the_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENGUINS_PORT", "9003")
    monkeypatch.setenv("PENGUINS_MODE", "raw")
    for key, value in stages.environment("03", dict(os.environ)).items():
        monkeypatch.setenv(key, value)
    settings = serve.read_settings()
    assert (settings.port, settings.mode, settings.backend) == (9003, "raw", "sklearn-onnx")
    assert serve.read_settings(port=9100).port == 9100


def test_penguins_serve_knows_no_stage_only_its_settings(artifact_dir: Path) -> None:
    """The service alone, configured by PENGUINS_* variables: the bare ONNX model in features mode."""
    port = free_port()
    command = [sys.executable, "-m", "penguins", "serve", "--port", str(port), "--artifacts", str(artifact_dir)]
    env = {"PENGUINS_BACKEND": "sklearn-onnx", "PENGUINS_MODE": "features"}
    with Server(command, port=port, env=env, cwd=ROOT).start(echo=False) as server, server.client() as client:
        assert (client.model()["backend"], client.model()["mode"]) == ("sklearn-onnx", "features")
        assert server.logs().startswith("the penguin service\n")
    result = subprocess.run([*command, "--stage", "04"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 2 and "unrecognized arguments: --stage 04" in result.stderr


def test_an_unknown_stage_is_one_line() -> None:
    result = subprocess.run(serve_command("10", port=free_port()), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == serve.EXIT_BAD_SETUP
    assert result.stderr.strip() == (
        "error: there is no stage '10': the stages are 00, 01, 02, 03, 04, 05, 06, 07, 08, 09"
    )
