"""`make doctor`: what a student runs before class. Every line is OK, or a fix to run."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from penguins import ports
from penguins.serving.paths import artifacts_dir, project_root
from penguins.training import build
from workshop.stages import PORTS

Check = tuple[bool, str]
NEEDED = (
    "numpy",
    "pandas",
    "sklearn",
    "torch",
    "onnx",
    "onnxruntime",
    "skl2onnx",
    "fastapi",
    "uvicorn",
    "requests",
    "jupyterlab",
    "nbval",
)
MIN_FREE_GB = 2.0


def python_version() -> Check:
    ok = sys.version_info[:2] == (3, 11)
    return ok, f"Python {sys.version.split()[0]}" + (
        "" if ok else ": the workshop pins Python 3.11; install it and run `make clean setup`"
    )


def disk() -> Check:
    free = shutil.disk_usage(project_root() or Path.cwd()).free / 1e9
    ok = free >= MIN_FREE_GB
    return ok, f"{free:.1f} GB free on disk" + ("" if ok else f": free at least {MIN_FREE_GB} GB")


def environment() -> Check:
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        return False, f"not installed: {', '.join(missing)}: run `make setup`"
    return True, f"environment {sys.prefix}: all {len(NEEDED)} packages importable"


def torch_build() -> Check:
    version = md.version("torch")
    cuda = [d.metadata["Name"] for d in md.distributions() if (d.metadata["Name"] or "").startswith("nvidia-")]
    if cuda:
        return (
            True,
            f"torch {version}, a CUDA build ({len(cuda)} nvidia packages, several GB); fine, the CPU build is "
            "smaller: remove .venv and run make setup again (on Linux it takes the CPU build)",
        )
    return True, f"torch {version}, CPU build"


def artifacts() -> Check:
    absent = build.missing()
    if absent:
        return False, f"artifacts missing in {artifacts_dir()}: {', '.join(absent)}: run `make export`"
    return True, f"artifacts present in {artifacts_dir()}"


def stage_ports() -> Check:
    busy = [ports.in_use_message(port) for port in PORTS if not ports.is_free(port)]
    if busy:
        return False, "; ".join(busy)
    return True, f"stage ports free: {', '.join(map(str, PORTS))}"


def docker() -> Check:
    if not shutil.which("docker"):
        return True, "Docker not installed: needed only for stage 06 (install Docker Desktop before class)"
    engine = subprocess.run(["docker", "info"], capture_output=True, timeout=20)
    if engine.returncode != 0:
        return True, "Docker client found, no engine running: start Docker Desktop for stage 06"
    return True, "Docker engine running"


CHECKS: tuple[Callable[[], Check], ...] = (
    python_version,
    disk,
    environment,
    torch_build,
    artifacts,
    stage_ports,
    docker,
)


def run() -> int:
    """Print one line per check; exit 1 when anything needs fixing."""
    failed = 0
    for check in CHECKS:
        ok, text = check()
        failed += not ok
        print(f"{'OK ' if ok else 'FIX'}  {text}")
    print("ready for class" if not failed else f"{failed} thing(s) to fix before class")
    return 1 if failed else 0
