"""Shared fixtures: one set of artifacts per test session, the golden set, a fresh-process runner,
and a Docker engine for every test that needs one (session-scoped: see base_image)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = json.loads((ROOT / "tests" / "golden.json").read_text(encoding="utf-8"))["cases"]


@pytest.fixture(scope="session")
def artifact_dir() -> Path:
    """Train and export once per run into the private folder the root conftest.py made
    ($PENGUINS_ARTIFACTS, shared with the notebooks); tests never touch ./artifacts."""
    from penguins.serving.paths import artifacts_dir
    from penguins.training import build

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


ENGINE = ROOT / ".ci" / "docker-engine.sh"  # CI only: starts dockerd, provides the official base images
ENGINE_STOP = ROOT / ".ci" / "docker-engine-stop.sh"
UNAVAILABLE = 3  # .ci/docker-engine.sh: no engine here and none may be started


FAST = "off"  # DOCKER_ENGINE=off: `make test-fast`, the loop that needs no engine


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test-fast` (DOCKER_ENGINE=off) leaves out every test that needs a Docker engine."""
    if os.environ.get("DOCKER_ENGINE") != FAST:
        return
    engine = [item for item in items if "base_image" in getattr(item, "fixturenames", ())]
    config.hook.pytest_deselected(items=engine)
    items[:] = [item for item in items if item not in engine]


def unavailable(reason: str) -> None:
    """Skip on a laptop without Docker; under CI the container must really be tested."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true, so the container tests must run, but: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def base_image() -> Iterator[str]:
    """A running engine; yields the base image docker/Dockerfile starts FROM (python:3.11-slim).

    Anywhere but CI the running engine is used as it is (none: skip), and `docker build` gets
    the base as a student's does. Under CI=true (or DOCKER_ENGINE=start) .ci/docker-engine.sh
    starts an engine if none runs and provides the base without a registry. An engine started
    here is stopped at the end of the test run, not of this module: the notebooks (nbval) run
    after tests/ and find it still up.
    """
    from workshop import docker

    base = docker.Dockerfile.read().base
    was_running = docker.engine().running
    if os.environ.get("CI") != "true" and os.environ.get("DOCKER_ENGINE") != "start":
        if not was_running:
            unavailable(str(docker.engine()))
        yield base
        return
    if shutil.which("bash") is None:
        unavailable("no bash here to run .ci/docker-engine.sh")
    result = subprocess.run(["bash", str(ENGINE)], capture_output=True, text=True, timeout=900)
    if result.returncode == UNAVAILABLE:
        unavailable(result.stdout.strip().splitlines()[-1])
    if result.returncode != 0:
        pytest.fail(f".ci/docker-engine.sh failed:\n{result.stdout}{result.stderr}")
    yield base
    if not was_running:
        subprocess.run(["bash", str(ENGINE_STOP)], capture_output=True, text=True, timeout=120)
