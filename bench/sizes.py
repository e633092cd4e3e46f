"""What each way of deploying weighs: the serving image, and for contrast the training stack.

The image is measured only where a Docker engine answers and the image was built
(`make docker-build`); the bench never builds one, and never one with torch in it. With
DOCKER_ENGINE=start (as root) an engine is started by tools/docker-engine.sh for the
measurement and stopped again by tools/docker-engine-stop.sh; otherwise none is started. The
environment sizes are read from the installed packages' own file lists, so they need no
engine: the whole training environment, torch's share of it, and the packages that
requirements/serve.txt pulls in, which is what the serving image installs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from bench.rows import Row
from workshop import docker_cli

SECTION = "size"
ROOT = Path(__file__).resolve().parents[1]
IMAGE = "penguins-to-production"
BASE_IMAGES = ("penguins-base:bookworm", "python:3.11-slim", "python:3.11-slim-bookworm")
SERVING = "serving packages (requirements/serve.txt)"
TRAINING = "training environment (.venv)"
TORCH = "of which torch"
MB = 1e6


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed() -> dict[str, metadata.Distribution]:
    return {canonical(dist.metadata["Name"]): dist for dist in metadata.distributions()}


def dist_bytes(dist: metadata.Distribution) -> int:
    """The bytes of every file the package installed, from its RECORD."""
    total = 0
    for file in dist.files or ():
        path = Path(dist.locate_file(file))
        if path.is_file():
            total += path.stat().st_size
    return total


def closure(roots: list[str], dists: dict[str, metadata.Distribution]) -> set[str]:
    """The packages `roots` pull in, following installed metadata (no extras)."""
    seen: set[str] = set()
    todo = [canonical(name) for name in roots]
    while todo:
        name = todo.pop()
        if name in seen or name not in dists:
            continue
        seen.add(name)
        for text in dists[name].requires or ():
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonical(requirement.name))
    return seen


def requirement_names(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line).name for line in lines if line and not line.startswith("-")]


def environment_rows() -> list[Row]:
    dists = installed()
    sizes = {name: dist_bytes(dist) for name, dist in dists.items()}
    serving = closure(requirement_names(ROOT / "requirements" / "serve.txt"), dists)
    return [
        Row(SECTION, SERVING, "", sum(sizes[name] for name in serving) / MB, "MB",
            note=f"{len(serving)} packages"),
        Row(SECTION, TRAINING, "", sum(sizes.values()) / MB, "MB", note=f"{len(sizes)} packages"),
        Row(SECTION, TORCH, "", sizes.get("torch", 0) / MB, "MB"),
    ]


def docker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60)


def inspect(image: str) -> dict | None:
    out = docker("image", "inspect", image)
    return json.loads(out.stdout)[0] if out.returncode == 0 else None


def image_rows() -> tuple[list[Row], str]:
    """The image's rows, starting (and then stopping) an engine only when DOCKER_ENGINE=start."""
    if docker_cli.engine().running:
        return measure_image()
    if os.environ.get("DOCKER_ENGINE") != "start":
        return [], "no Docker engine answers (DOCKER_ENGINE=start starts one): image not measured"
    started = subprocess.run(["bash", str(ROOT / "tools" / "docker-engine.sh")], capture_output=True,
                             text=True, timeout=900)
    try:
        return measure_image() if started.returncode == 0 else ([], "the Docker engine did not start")
    finally:
        if started.returncode == 0 and "reusing the running engine" not in started.stdout:
            subprocess.run(["bash", str(ROOT / "tools" / "docker-engine-stop.sh")], capture_output=True, timeout=120)


def base_of(image: dict) -> str | None:
    """The first of BASE_IMAGES whose layers the image starts with: the base it was built FROM."""
    layers = image["RootFS"]["Layers"]
    for name in BASE_IMAGES:
        base = inspect(name)
        if base and layers[: len(base["RootFS"]["Layers"])] == base["RootFS"]["Layers"]:
            return name
    return None


def measure_image() -> tuple[list[Row], str]:
    """Base, added and total size of the serving image, or no rows and the reason why."""
    image = inspect(IMAGE)
    if image is None:
        return [], f"image {IMAGE} not built (make docker-build): not measured"
    name = base_of(image)
    base = inspect(name) if name else None
    if name is None or base is None:
        return [Row(SECTION, "serving image: total", "", image["Size"] / MB, "MB")], "its base image is not here"
    total, base_size = image["Size"] / MB, base["Size"] / MB
    return [
        Row(SECTION, f"serving image: base ({name})", "", base_size, "MB"),
        Row(SECTION, "serving image: added by us", "", total - base_size, "MB"),
        Row(SECTION, "serving image: total", "", total, "MB"),
    ], ""


def measure() -> tuple[list[Row], str]:
    """Every size row, and a note when the image could not be measured."""
    rows, note = image_rows()
    return environment_rows() + rows, note
