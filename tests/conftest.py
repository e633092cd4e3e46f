"""Shared fixtures: one set of artifacts per test session, the golden set, a fresh-process runner,
the Docker engine, the room, the registry and the cluster for the tests that need them
(session-scoped; which worker runs what is conftest.py's GROUPS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = json.loads((ROOT / "tests" / "golden.json").read_text(encoding="utf-8"))["cases"]


TRAINED, FAILED = ".trained", ".training-failed"  # the controller's word to the xdist workers
MODELS_WAIT = 900  # seconds: training both models takes ~10 s on a quiet 2-core machine


def train_for_the_workers(folder: Path) -> threading.Thread:
    """Under xdist: train and export once, in the controller, in a thread, while the workers start
    and collect; then leave TRAINED (or FAILED, with the reason) in the folder for them."""
    from penguins.training import build

    def train() -> None:
        try:
            build.ensure(folder, say=lambda line: None)
        except Exception as error:  # the workers fail with it instead of waiting
            (folder / FAILED).write_text(f"{type(error).__name__}: {error}", encoding="utf-8")
            raise
        (folder / TRAINED).touch()

    thread = threading.Thread(target=train, name="train-models", daemon=True)
    thread.start()
    return thread


def wait_for_the_models(folder: Path) -> None:
    """In an xdist worker: wait for the controller's models, so no two processes write them at once."""
    deadline = time.monotonic() + MODELS_WAIT
    while not (folder / TRAINED).exists():
        if (folder / FAILED).exists():
            pytest.fail(f"training the models failed: {(folder / FAILED).read_text(encoding='utf-8')}")
        if time.monotonic() > deadline:
            pytest.fail(f"no models in {folder} after {MODELS_WAIT} s")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def artifact_dir() -> Path:
    """Train and export once per run into the private folder the root conftest.py made
    ($PENGUINS_ARTIFACTS, shared with the notebooks); tests never touch ./artifacts. Under xdist
    the controller trains them (train_for_the_workers) and the workers wait for them."""
    from penguins.serving.paths import artifacts_dir
    from penguins.training import build

    if os.environ.get("PYTEST_XDIST_WORKER"):
        wait_for_the_models(artifacts_dir())
    return build.ensure(artifacts_dir(), say=lambda line: None)


@pytest.fixture(scope="session")
def golden() -> list[dict]:
    """Raw messy records from the data set, each with its true species from the data."""
    return GOLDEN


def run_python(code: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter of this environment (nothing imported yet)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


REGISTRY_IMAGE = ROOT / ".ci" / "registry-image.sh"  # CI only: registry:2 made without a registry


def unavailable(reason: str) -> None:
    """Skip on a laptop without Docker; under CI the container must really be tested."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true, so the container tests must run, but: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def base_image() -> str:
    """A running engine; the base image docker/Dockerfile starts FROM (python:3.11-slim).

    The engine is the one that runs here: under CI=true `make test` (.ci/test.sh) starts one and
    provides the base without a registry before pytest starts, and stops it after the last
    worker is done, so no test, and no worker of several, starts or stops it. Without one the
    test skips (CI=true: fails).
    """
    from workshop import docker

    if not (found := docker.engine()).running:
        unavailable(f"{found} (under CI=true `make test` starts one: .ci/test.sh)")
    buildx = subprocess.run(["docker", "buildx", "version"], capture_output=True)
    if os.environ.get("CI") == "true" and buildx.returncode:
        pytest.fail("CI=true, but no buildx plugin: docker build would use the legacy builder (.ci/buildx.sh)")
    return docker.Dockerfile.read().base


# ---------------------------------------------------------------- stage 07's room, shared by
# tests/test_room.py and tests/test_room_faults.py: one `up --wait` per run, `down` at its end.

ROOM_IMAGE = "penguins-to-production:test"  # the stage 06 tests' image: same build, from the cache


def run_here(*command: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """A command in the project root that must succeed (the test fails with its output)."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result


@pytest.fixture(scope="session")
def room_images(base_image: str, artifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The room's images: the model's (built from this run's artifacts), the proxy's nginx, Prometheus."""
    from workshop import docker, rollout, room

    if room.compose_v2() is None:
        if os.environ.get("CI") == "true":
            run_here("bash", ".ci/compose.sh")
        else:
            unavailable("no Compose v2 here (`docker compose version`): the room needs `up --wait`")
    if os.environ.get("CI") == "true":
        run_here("bash", ".ci/room-images.sh")
    for pulled in (room.facts().nginx_image, room.facts().prometheus_image):
        if subprocess.run(["docker", "image", "inspect", pulled], capture_output=True).returncode:
            unavailable(f"no {pulled} image here (docker pull {pulled})")
    context = docker.build_context(tmp_path_factory.mktemp("room-context"), artifact_dir)
    labels = rollout.label_args(artifact_dir)
    run_here("docker", "build", "--quiet", "-f", "docker/Dockerfile", *labels, "-t", ROOM_IMAGE, str(context))
    return {"PENGUINS_IMAGE": ROOM_IMAGE}


@pytest.fixture(scope="session")
def the_room(room_images: dict[str, str]) -> Iterator[Any]:
    """`docker compose up --wait` once, blue serving; at the end `down`, which must leave no
    container, network or volume of the room behind."""
    from workshop import room

    secrets = room.make_secrets(say=lambda line: None)
    room.down(env=room_images)
    room.write_colour(room.MODEL_SERVICES[0])
    started = room.up("--no-build", "--pull", "never", env=room_images)
    print(f"\nroom: up --wait {started.seconds:.1f} s")
    yield secrets
    room.down(env=room_images)
    label = f"label=com.docker.compose.project={room.facts().project}"
    for kind in (["ps", "--all"], ["network", "ls"], ["volume", "ls"]):
        left = run_here("docker", *kind, "--quiet", "--filter", label).stdout.split()
        assert left == [], f"docker {' '.join(kind)} still lists {left} after down"


@pytest.fixture(scope="session")
def registry_up(base_image: str) -> Iterator[str]:
    """Stage 06's registry on 127.0.0.1, started unless one answers there (and then stopped at the
    end of the run); yields its address. Under CI=true its image, registry:2, is made first without a
    registry (.ci/registry-image.sh); elsewhere a registry:2 that `make prep` did not pull skips."""
    from workshop import docker, registry

    if os.environ.get("CI") == "true":
        made = subprocess.run(["bash", str(REGISTRY_IMAGE)], capture_output=True, text=True, timeout=600, cwd=ROOT)
        if made.returncode != 0:
            pytest.fail(f".ci/registry-image.sh failed:\n{made.stdout}{made.stderr}")
    elif not docker.has_image(registry.IMAGE):
        unavailable(f"no {registry.IMAGE} image here: `make prep` pulls it")
    started = registry.up(say=lambda line: None)
    yield registry.ADDRESS
    if started:
        registry.down(say=lambda line: None)


K8S_CLUSTER = ROOT / ".ci" / "k8s-cluster.sh"  # CI only: builds, starts and stops a real cluster
_k8s_started: list[bool] = []  # this run started the cluster: it stops it at the end


def use_k8s_cluster() -> str:
    """Point kubectl at .ci/k8s-cluster.sh's cluster (PATH with its kubectl 1.20 first, KUBECONFIG:
    in os.environ, which the notebooks' kernels inherit); under CI=true start it first (once per
    run: it builds Kubernetes once per machine, ~15 min, then starts in ~30 s). "" when a
    cluster is ready, else why not."""
    from workshop import k8s

    if os.environ.get("CI") == "true" and not k8s.ci_environment():
        result = subprocess.run(["bash", str(K8S_CLUSTER), "start"], capture_output=True, text=True, timeout=5400)
        if result.returncode != 0:
            pytest.fail(f".ci/k8s-cluster.sh start failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        _k8s_started.append(True)
    environment = k8s.ci_environment()
    if not environment:
        return "no Kubernetes cluster here: CI=true starts one (`bash .ci/k8s-cluster.sh start` as root)"
    os.environ.update(environment)
    return ""


def stop_k8s_cluster() -> str:
    """Stop the cluster this run started (`.ci/k8s-cluster.sh stop`); what the script said."""
    result = subprocess.run(["bash", str(K8S_CLUSTER), "stop"], capture_output=True, text=True, timeout=300)
    _k8s_started.clear()
    if result.returncode != 0:
        pytest.fail(f".ci/k8s-cluster.sh stop failed:\n{result.stdout}{result.stderr}")
    return result.stdout


@pytest.fixture(scope="session")
def k8s_cluster(base_image: str) -> Iterator[None]:
    """A real Kubernetes cluster that kubectl (1.20) reaches, on the engine that builds the images."""
    reason = use_k8s_cluster()
    if reason:
        unavailable(reason)
    yield
    if _k8s_started:
        stop_k8s_cluster()


GONE_WITHIN = 10.0  # seconds: the child polls its parent every 0.2 s, then shuts down


def gone(pid: int) -> bool:
    """No such process, or only a zombie waiting for whoever adopted it to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def wait_gone(pid: int, within: float = GONE_WITHIN) -> bool:
    """Whether `pid` is gone within `within` seconds (a stopped process's children, a killed parent's)."""
    deadline = time.monotonic() + within
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return gone(pid)
