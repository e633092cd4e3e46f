"""`python -m penguins ...`: what make targets and Windows students run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from penguins.serving.examples import MESSY_RECORDS
from tests.conftest import ROOT


def penguins(*args: str, stdin: str | None = None, env_dir: Path | None = None) -> subprocess.CompletedProcess:
    env_args = ["--artifacts", str(env_dir)] if env_dir else []
    return subprocess.run(
        [sys.executable, "-m", "penguins", *args, *env_args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_predict_reads_raw_json_from_stdin(artifact_dir: Path) -> None:
    result = penguins("predict", "--backend", "sklearn-onnx", stdin=json.dumps(MESSY_RECORDS), env_dir=artifact_dir)
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["species"] for a in answers] == ["Chinstrap", "Gentoo", "Adelie"]
    assert all(a["model_version"].startswith("logreg-") for a in answers)


def test_missing_artifact_is_one_line_with_the_fix(tmp_path: Path) -> None:
    result = penguins("predict", stdin="[]", env_dir=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "mlp.onnx is missing" in result.stderr and "make export" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_every_command() -> None:
    result = penguins("--help")
    for command in ("train", "export", "build", "predict", "serve", "smoke"):
        assert command in result.stdout


def test_export_recovers_from_a_tampered_trained_model(artifact_dir: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(artifact_dir, tmp_path, dirs_exist_ok=True)
    (tmp_path / "pipeline.pkl").write_bytes(b"not a pickle")
    result = penguins("export", env_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "does not match its sha256" in result.stdout and "training again" in result.stdout
    assert "parity with scikit-learn" in result.stdout
