"""`make doctor`: what a student runs before class. Every line is OK, or a fix to run."""

from __future__ import annotations

import importlib.metadata as md
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from penguins import ports
from penguins.serving.paths import artifacts_dir, project_root
from penguins.training import build
from workshop import docker as docker_tools
from workshop import node_runtime, room, serve_env
from workshop.stages import PORTS

Check = tuple[bool, str]
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
    """What pyproject.toml requires with the train and dev extras, installed (what `make setup` does)."""
    wanted = [Requirement(text) for text in md.requires("penguins-to-production") or []]
    wanted = [r for r in wanted if not r.marker or any(r.marker.evaluate({"extra": e}) for e in ("train", "dev"))]
    installed = {canonicalize_name(dist.metadata["Name"] or "") for dist in md.distributions()}
    missing = [r.name for r in wanted if canonicalize_name(r.name) not in installed]
    if missing:
        return False, f"not installed: {', '.join(missing)}: run `make setup`"
    return True, f"environment {sys.prefix}: all {len(wanted)} packages installed"


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
    engine = docker_tools.engine()
    return True, "Docker engine running" if engine.running else f"{engine.reason}: stage 06 on needs Docker Desktop"


def serve_environment() -> Check:
    if serve_env.is_ready():
        return True, f"{serve_env.FOLDER}/ ready: notebook 03's runtime without torch"
    return False, f"{serve_env.FOLDER}/ missing or older than the requirements: run `make serve-env`"


def node_environment() -> Check:
    if shutil.which("node") is None:
        return True, "node not installed: notebook 03's Node.js cell will say so"
    reason = node_runtime.missing()
    if reason:
        return False, f"Node environment: {reason}"
    return True, f"Node environment ready: {node_runtime.PACKAGE} in {node_runtime.FOLDER.as_posix()}/node_modules"


COMPOSE_FIX = "install Compose v2 (Docker Desktop has it; on Linux the docker-compose-plugin package)"


def compose() -> Check:
    if shutil.which("docker") is None:
        return True, "Docker not installed: Compose v2 is needed only for stage 07"
    version = room.compose_version()
    if version is None:
        return False, f"`docker compose version` fails: {COMPOSE_FIX}"
    major = version.split(".")[0]
    if not major.isdigit() or int(major) < 2:
        return False, f"docker compose {version}: stage 07 needs Compose v2 (`up --wait`): {COMPOSE_FIX}"
    return True, f"docker compose {version}"


def base_images() -> Check:
    images = docker_tools.pulled_images()
    engine = docker_tools.engine()
    if not engine.running:
        return True, f"base images not checked ({', '.join(images)}): {engine.reason}"
    missing = [image for image in images if not docker_tools.has_image(image)]
    if missing:
        pulls = " && ".join(f"docker pull {image}" for image in missing)
        return False, f"not cached: {', '.join(missing)}: on good Wi-Fi run `make prep` (or `{pulls}`)"
    return True, f"base images cached: {', '.join(images)}"


def serving_image() -> Check:
    engine = docker_tools.engine()
    if not engine.running:
        return True, f"serving image not checked: {engine.reason}"
    if docker_tools.has_image(docker_tools.IMAGE):
        return True, f"serving image {docker_tools.IMAGE} built"
    return False, f"serving image {docker_tools.IMAGE} not built: run `make docker-build`"


KIND_MEMORY_GIB = 4.0  # kind's node, the Deployment's three pods and a rollout's fourth


def kubernetes() -> Check:
    missing = [tool for tool in ("kind", "kubectl") if shutil.which(tool) is None]
    if missing:
        return True, f"{' and '.join(missing)} not installed: needed only for notebook 07c (k8s/README.md)"
    engine = docker_tools.engine()
    if not engine.running:
        return True, f"kind and kubectl installed; the engine's memory not checked: {engine.reason}"
    gib = int(docker_tools.api().info()["MemTotal"]) / 2**30
    if gib < KIND_MEMORY_GIB:
        return False, (
            f"the Docker engine has {gib:.1f} GiB of memory: kind and notebook 07c's pods want "
            f"{KIND_MEMORY_GIB:g} GiB or more (Docker Desktop: Settings, Resources)"
        )
    return True, f"kind and kubectl installed; the Docker engine has {gib:.1f} GiB of memory"


CHECKS: tuple[Callable[[], Check], ...] = (
    python_version,
    disk,
    environment,
    torch_build,
    artifacts,
    stage_ports,
    serve_environment,
    node_environment,
    docker,
    compose,
    base_images,
    serving_image,
    kubernetes,
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
