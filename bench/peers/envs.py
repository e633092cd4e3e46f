"""Each peer's own virtual environment under bench/.peers/, installed from its pinned file.

A stamp holds the hash of the requirements file, so a second run installs nothing unless
the pins changed. The venvs are git-ignored: they are ~600 MB each and rebuilt on demand.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS_DIR = HERE.parent / ".peers"
PEERS = ("mlserver", "bentoml", "litserve", "ray")


def requirements(peer: str) -> Path:
    return HERE / f"requirements-{peer}.txt"


def venv(peer: str) -> Path:
    return PEERS_DIR / peer


def ensure(peer: str, say: Callable[[str], None] = print) -> Path:
    """The bin/ folder of the peer's environment, installing it first when the pins changed."""
    folder, pins = venv(peer), requirements(peer)
    stamp = folder / ".installed"
    digest = hashlib.sha256(pins.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == digest:
        return folder / "bin"
    say(f"    installing {peer} into {folder} (a few minutes, once)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(folder)], check=True)
    subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", str(pins)], check=True)
    stamp.write_text(digest + "\n")
    return folder / "bin"
