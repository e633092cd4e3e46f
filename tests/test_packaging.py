"""The package as pip sees it, and the boundaries import-linter guards.

`pip install .` must give a service that starts: every import of the serving path is a declared
dependency. The serving environment (.venv-serve) is exactly that install: requirements/serve.txt,
compiled from the declaration (tests/test_pins.py keeps the two in step), which the container
installs too. Starting the app from it proves the declaration. And the floors of DESIGN.md are
not prose: the contracts in pyproject.toml fail as soon as serving imports the training stack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from penguins.client import PenguinClient
from penguins.ports import free_port
from penguins.serving.examples import CLEAN_RECORD
from tests.conftest import ROOT
from workshop import serve_env

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
SERVING_CONTRACT = "serving ships alone: no training stack, no training code, no classroom"


@pytest.mark.slow
def test_pip_install_dot_gives_a_service_that_starts(artifact_dir: Path) -> None:
    python = serve_env.ensure(say=lambda line: None)
    # this Python's pip, pointed at the environment (which has no pip of its own when uv built it)
    pip_check = [sys.executable, "-m", "pip", "--python", str(python), "check"]
    check = subprocess.run(pip_check, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    port = free_port()
    env = {**os.environ, "PENGUINS_ARTIFACTS": str(artifact_dir), "PENGUINS_LOG_LEVEL": "warning"}
    server = subprocess.Popen(
        [str(python), "-m", "uvicorn", "penguins.serving.app:app", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=artifact_dir,
    )
    try:
        with PenguinClient(f"http://127.0.0.1:{port}") as client:
            client.wait_until_ready(60)
            assert client.model()["backend"] == "mlp-onnx"
            assert client.predict(CLEAN_RECORD).species == "Adelie"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "Traceback" not in output, output


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on a copy of the project: its own src/ comes first on the path."""
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )


def test_import_contracts_fail_when_serving_imports_torch(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    kept = _lint_imports(tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    (tmp_path / "src" / "penguins" / "serving" / "leak.py").write_text('"""A mistake."""\n\nimport torch\n')
    broken = _lint_imports(tmp_path)
    assert broken.returncode != 0
    assert f"{SERVING_CONTRACT} BROKEN" in broken.stdout
    assert "penguins.serving.leak -> torch" in broken.stdout


def test_the_wrapper_is_exported_lazily() -> None:
    code = (
        "import sys, penguins.client; light = 'numpy' not in sys.modules; "
        "from penguins import PenguinPredictor, CleaningError; "
        "print(light, PenguinPredictor.__module__, CleaningError.__module__, 'numpy' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "penguins.serving.predictor", "penguins.serving.cleaning", "True"]


def test_an_unknown_name_is_an_attribute_error() -> None:
    import penguins

    with pytest.raises(AttributeError, match="no attribute 'Predictor'"):
        penguins.Predictor  # noqa: B018
