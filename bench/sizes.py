"""What each way of deploying weighs: the serving image, and for contrast the training stack.

The image is measured only where a Docker engine answers and the image was built
(`make docker-build`); the bench never starts an engine, never builds an image, and never one
with torch in it. Its base is the one docker/Dockerfile names (workshop.docker). The
environment sizes are read from the installed packages' own file lists, so they need no
engine: the whole training environment, torch's share of it, and the packages that
requirements/serve.txt pins (all the service pulls in), which is what the serving image installs.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from bench import pins
from bench.rows import Row
from workshop import docker

SECTION = "size"
ROOT = Path(__file__).resolve().parents[1]
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


def environment_rows() -> list[Row]:
    dists = installed()
    sizes = {name: dist_bytes(dist) for name, dist in dists.items()}
    serving = [name for name in pins.read(ROOT / pins.SERVE) if name in dists]
    return [
        Row(SECTION, SERVING, "", sum(sizes[name] for name in serving) / MB, "MB", note=f"{len(serving)} packages"),
        Row(SECTION, TRAINING, "", sum(sizes.values()) / MB, "MB", note=f"{len(sizes)} packages"),
        Row(SECTION, TORCH, "", sizes.get("torch", 0) / MB, "MB"),
    ]


def image_rows() -> tuple[list[Row], str]:
    """Base, added and total size of the serving image, or no rows and the reason why."""
    if not docker.engine().running:
        return [], "no Docker engine answers: image not measured"
    if not docker.has_image(docker.IMAGE):
        return [], f"image {docker.IMAGE} not built (make docker-build): not measured"
    base, total = docker.Dockerfile.read().base, docker.api().images.get(docker.IMAGE).attrs["Size"] / MB
    if not docker.has_image(base):
        return [Row(SECTION, "serving image: total", "", total, "MB")], f"its base image {base} is not here"
    base_size = docker.api().images.get(base).attrs["Size"] / MB
    return [
        Row(SECTION, f"serving image: base ({base})", "", base_size, "MB"),
        Row(SECTION, "serving image: added by us", "", total - base_size, "MB"),
        Row(SECTION, "serving image: total", "", total, "MB"),
    ], ""


def measure() -> tuple[list[Row], str]:
    """Every size row, and a note when the image could not be measured."""
    rows, note = image_rows()
    return environment_rows() + rows, note
