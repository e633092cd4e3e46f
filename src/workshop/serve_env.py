"""`.venv-serve`: a second Python environment with only what serving needs, and no torch.

Stage 03 claims that an ONNX file runs "elsewhere", without the stack that trained it. A claim
made inside the training environment proves nothing: torch is right there. This environment
holds requirements/serve.txt, what the container installs: pyproject.toml's dependencies and
everything they pull in, compiled by pip-compile with hashes (`pip install --require-hashes`
installs exactly those bytes), then the project itself without resolving anything more. A
dependency that pyproject.toml forgets is missing from the compiled file too, so the service
fails to start here (a test starts it) instead of at a student's first `uvicorn`. The training
extra is not installed, so torch's absence is a fact the notebook can show.

`make serve-env` (or `python -m workshop serve-env`) builds it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

from penguins.serving.paths import project_root

FOLDER = ".venv-serve"
REQUIREMENTS = "requirements/serve.txt"
PROJECT = "pyproject.toml"
STAMP = ".ready"  # written last; holds the fingerprint of what the environment was built from
PIP_TIMEOUT = 600.0


class ServeEnvError(RuntimeError):
    """The serving environment could not be built; the message ends with pip's last words."""


def _root(root: Path | None) -> Path:
    found = root or project_root()
    if found is None:
        raise ServeEnvError("no project checkout found: the serving environment is built from requirements/")
    return Path(found)


def folder(root: Path | None = None) -> Path:
    """Where the environment lives: `.venv-serve` at the project root (git-ignored)."""
    return _root(root) / FOLDER


def python(root: Path | None = None) -> Path:
    """The environment's interpreter (Scripts\\python.exe on Windows)."""
    base = folder(root)
    return base / "Scripts" / "python.exe" if sys.platform == "win32" else base / "bin" / "python"


def fingerprint(root: Path | None = None) -> str:
    """A hash of the requirement files, the project's metadata and the Python version: change
    any of them and we rebuild."""
    root = _root(root)
    digest = hashlib.sha256(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    for name in (REQUIREMENTS, PROJECT):
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:16]


def is_ready(root: Path | None = None) -> bool:
    """True when the environment was built completely from the current requirement files."""
    stamp = folder(root) / STAMP
    return stamp.exists() and python(root).exists() and stamp.read_text().strip() == fingerprint(root)


def create(root: Path | None = None, say: Callable[[str], None] = print) -> Path:
    """Build the environment from scratch; return its interpreter. Takes 10-20 s with a pip cache."""
    root = _root(root)
    target = folder(root)
    say(f"building {FOLDER}/: pip install --require-hashes -r {REQUIREMENTS} (no torch, no scikit-learn, no pandas)...")
    shutil.rmtree(target, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    interpreter = python(root)
    pip = [str(interpreter), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _check_call(
        [*pip, "--require-hashes", "-r", str(root / REQUIREMENTS)], "pip could not install the pinned dependencies"
    )
    _check_call([*pip, "--no-deps", "-e", str(root)], "pip could not install the project")
    (target / STAMP).write_text(fingerprint(root) + "\n", encoding="utf-8")
    say(f"{FOLDER}/ is ready")
    return interpreter


def ensure(root: Path | None = None, say: Callable[[str], None] = print) -> Path:
    """The environment's interpreter, building the environment first if it is missing or stale."""
    if is_ready(root):
        return python(root)
    return create(root, say)


def _check_call(command: list[str], what: str) -> str:
    """Run a build step; on failure raise ServeEnvError with the tail of its output."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as err:
        raise ServeEnvError(f"{what}: {err}") from None
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise ServeEnvError(f"{what} (exit code {done.returncode}): {tail}")
    return done.stdout
