"""`make serve-env`: `.venv-serve`, what the container installs (requirements/serve.txt) and no torch,
where stage 03 shows an ONNX file running without the stack that trained it (in the training
environment that proves nothing), and where a dependency pyproject.toml forgets fails in a test.
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


def folder(root: Path | None = None) -> Path:
    return (root or project_root() or Path.cwd()) / FOLDER


def python(root: Path | None = None) -> Path:
    """The environment's interpreter (Scripts\\python.exe on Windows)."""
    return folder(root) / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def fingerprint(root: Path | None = None) -> str:
    """A hash of the requirements, the project's metadata and the Python version: any change rebuilds."""
    base = folder(root).parent
    digest = hashlib.sha256(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    for name in (REQUIREMENTS, PROJECT):
        digest.update((base / name).read_bytes())
    return digest.hexdigest()[:16]


def is_ready(root: Path | None = None) -> bool:
    """Built completely from the current requirement files?"""
    stamp = folder(root) / STAMP
    return stamp.exists() and python(root).exists() and stamp.read_text().strip() == fingerprint(root)


def ensure(say: Callable[[str], None] = print) -> Path:
    """The environment's interpreter, built from scratch first if missing or stale: with the uv
    `make setup` puts beside this Python (a few seconds, from its cache), else pip (10-20 s)."""
    root = folder().parent  # the project's root, looked up once
    if is_ready(root):
        say(f"{FOLDER}/ is up to date")
        return python(root)
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    tool = "uv pip" if uv else "pip"
    say(f"building {FOLDER}/: {tool} install --require-hashes -r {REQUIREMENTS} (no torch, scikit-learn, pandas)...")
    venv.EnvBuilder(with_pip=not uv, clear=True).create(folder(root))  # clear: whatever was there goes
    target = str(python(root))
    pip = [target, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    install = [uv, "pip", "install", "--python", target, "--quiet"] if uv else pip
    subprocess.run([*install, "--require-hashes", "-r", str(root / REQUIREMENTS)], check=True, timeout=600)
    subprocess.run([*install, "--no-deps", "-e", str(root)], check=True, timeout=600)
    (folder(root) / STAMP).write_text(fingerprint(root) + "\n", encoding="utf-8")
    say(f"{FOLDER}/ is ready")
    return python(root)
