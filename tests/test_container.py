"""Stage 06 for real: build the serving image, run it, talk to it over HTTP, ship it through a registry.

The engine is the one that runs here; under CI=true .ci/docker-engine.sh starts one (and
provides the base image without a registry), stopped again when the whole test run ends (the
fixture is session-scoped), so that notebook 06, which runs later in `make test` and uses an
engine only when one answers, builds and runs the image for real there too. Where none runs and none may be started (a
laptop without Docker) these tests skip and say why; under CI=true they fail instead.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from penguins import smoke
from penguins.client import Answer, InvalidInput, PenguinClient
from penguins.ports import free_port
from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD, MESSY_RECORDS
from penguins.serving.predictor import Prediction
from tests.conftest import ROOM_IMAGE, ROOT
from workshop import docker as helper
from workshop import registry, rollout

DOCKERFILE = ROOT / "docker" / "Dockerfile"
IMAGE = ROOM_IMAGE  # the same build as the room's, labels too: one tag, never two different images
SIZE_BUDGET_MB = 180  # what the Dockerfile may add on top of its base image
TRAINING_STACK = ("torch", "sklearn", "pandas", "jupyterlab", "matplotlib", "workshop")


def docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        pytest.fail(f"docker {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result


@pytest.fixture(scope="module")
def image(base_image: str, artifact_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The image, built by docker/Dockerfile from a context that holds this session's artifacts.

    The context copies what the Dockerfile needs from the checkout, with the model from the
    tests' own artifact folder (tests never touch ./artifacts).
    """
    context = helper.build_context(tmp_path_factory.mktemp("context"), artifact_dir)
    labels = rollout.label_args(artifact_dir)
    docker("build", "--quiet", "-f", "docker/Dockerfile", *labels, "-t", IMAGE, str(context), timeout=600)
    return IMAGE


def start(image: str) -> tuple[str, str]:
    """Run the image read-only on a free loopback port; (container id, base URL)."""
    port = free_port()
    container = docker("run", "--detach", "--read-only", "--publish", f"127.0.0.1:{port}:8000", image).stdout.strip()
    return container, f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class Service:
    container: str
    url: str
    seconds_to_healthy: float


@pytest.fixture(scope="module")
def service(image: str) -> Iterator[Service]:
    """One running container, healthy by Docker's own HEALTHCHECK (what `make docker-run` waits for)."""
    started = time.monotonic()
    container, url = start(image)
    waited = subprocess.run(
        [sys.executable, "-m", "workshop.docker", "wait-healthy", container, "90"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if waited.returncode != 0:
        docker("rm", "--force", container, check=False)
        pytest.fail(waited.stderr)
    assert waited.stdout.startswith(f"container {container} is healthy after")
    yield Service(container, url, time.monotonic() - started)
    docker("rm", "--force", container, check=False)


def test_golden_set_over_http_gives_the_in_process_answers(service: Service, artifact_dir: Path) -> None:
    """What `make docker-smoke` runs: truth, species, probabilities and model all agree."""
    golden = ROOT / "tests" / "golden.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "penguins",
            "smoke",
            "--url",
            service.url,
            str(golden),
            "--artifacts",
            str(artifact_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    cases = len(smoke.load_cases(golden))
    assert f"all match: {cases} records" in result.stdout
    assert "(mlp-onnx)" in result.stdout.splitlines()[0]


def test_health_names_the_model_inside(service: Service, artifact_dir: Path, capsys: pytest.CaptureFixture) -> None:
    with PenguinClient(service.url) as client:
        health = client.health()
    meta = json.loads((artifact_dir / "mlp.onnx.json").read_text(encoding="utf-8"))
    assert health == {"status": "ok", "model_version": meta["model_version"]}
    with capsys.disabled():
        print(f"\ncontainer healthy {service.seconds_to_healthy:.1f} s after docker run")


def test_bad_record_gets_422_naming_the_bad_fields(service: Service) -> None:
    with PenguinClient(service.url) as client, pytest.raises(InvalidInput) as refused:
        client.predict(BAD_RECORD)
    fields = {where for where, _, _ in refused.value.problems}
    assert {"field bill_length_mm", "field bill_depth_mm", "field sex"} <= fields


def test_service_does_not_run_as_root(service: Service) -> None:
    status = docker("exec", service.container, "cat", "/proc/1/status").stdout
    uids = re.search(r"^Uid:\s+(.*)$", status, re.MULTILINE).group(1).split()
    assert uids and all(uid != "0" for uid in uids), f"PID 1 runs with uids {uids}"
    assert "uvicorn" in docker("exec", service.container, "cat", "/proc/1/cmdline").stdout


def test_image_holds_no_training_stack_tests_or_notebooks(service: Service) -> None:
    found = docker(
        "exec",
        service.container,
        "python",
        "-c",
        f"import importlib.util as u; print([m for m in {TRAINING_STACK!r} if u.find_spec(m)])",
    ).stdout.strip()
    assert found == "[]"
    assert docker("exec", service.container, "ls", "/app").stdout.split() == ["artifacts", "penguins"]
    assert docker("exec", service.container, "ls", "/app/artifacts").stdout.split() == ["mlp.onnx", "mlp.onnx.json"]


def test_docker_stop_ends_it_cleanly_on_sigterm(image: str) -> None:
    """uvicorn is PID 1 and gets SIGTERM itself: exit code 0, not 137 (killed after the grace time)."""
    container, url = start(image)
    try:
        with PenguinClient(url) as client:  # uvicorn has started and installed its signal handlers
            client.wait_until_ready(60)
        docker("stop", "--time", "5", container, timeout=30)
        state = json.loads(docker("inspect", "-f", "{{json .State}}", container).stdout)
        assert state["ExitCode"] == 0, docker("logs", container).stderr[-2000:]
        assert not state["OOMKilled"]
    finally:
        docker("rm", "--force", container, check=False)


def test_image_adds_at_most_180_mb_to_its_base(image: str, base_image: str, capsys: pytest.CaptureFixture) -> None:
    size, base = (int(docker("image", "inspect", "-f", "{{.Size}}", name).stdout) for name in (image, base_image))
    added = size - base
    with capsys.disabled():
        print(
            f"\nimage {image}: base {base_image} {base / 1e6:.0f} MB + added {added / 1e6:.0f} MB = {size / 1e6:.0f} MB"
        )
    assert added <= SIZE_BUDGET_MB * 1e6


def test_notebook_build_streams_docker_s_output_and_reuses_the_cache(image: str, artifact_dir: Path) -> None:
    """Notebook 06's hardened build: the make target's command, from a copy of the context, all cached."""
    said: list[str] = []
    before = docker("image", "inspect", "-f", "{{.Id}}", image).stdout.strip()
    labels = rollout.label_args(artifact_dir)  # as the image was built: the room's rollouts read them
    built = helper.build(image, artifacts=artifact_dir, say=said.append, options=labels)
    assert said[0] == f"$ docker build -f docker/Dockerfile {' '.join(labels)} -t {image} .    (in {built.where})"
    assert built.where.startswith("a copy") and any("CACHED" in line for line in said), said
    assert not any("legacy builder" in line for line in said), "BuildKit builds (make test installs buildx)"
    assert built.image_id == before  # nothing rebuilt: the same image, its labels too


@dataclass(frozen=True)
class Shipped:
    pushed: str
    push_seconds: float
    pull_seconds: float


@pytest.fixture(scope="module")
def shipped(image: str, registry_up: str, artifact_dir: Path) -> Iterator[Shipped]:
    """`make docker-push`'s push (the image, tagged with its model's version under the registry), then the
    local copy removed and pulled back, as a server would."""
    version = json.loads((artifact_dir / "mlp.onnx.json").read_text(encoding="utf-8"))["model_version"]
    local = f"{IMAGE.split(':')[0]}-shipped:{version}"  # not the version tag a cluster's pods may still hold
    docker("tag", IMAGE, local)
    said: list[str] = []
    started = time.perf_counter()
    pushed = registry.push(local, say=said.append)
    pushed_in = time.perf_counter() - started
    assert said[:2] == [f"$ docker tag {local} {pushed}", f"$ docker push {pushed}"] and pushed.startswith(registry_up)
    docker("rmi", local, pushed)
    started = time.perf_counter()
    docker("pull", pushed, timeout=300)
    yield Shipped(pushed, pushed_in, time.perf_counter() - started)
    docker("rmi", "--force", pushed, check=False)


def test_the_image_pulled_from_the_registry_answers_as_the_built_one(
    shipped: Shipped, service: Service, capsys: pytest.CaptureFixture
) -> None:
    catalog = requests.get(f"http://{registry.ADDRESS}/v2/_catalog", timeout=5).json()
    assert shipped.pushed.split("/", 1)[1].split(":")[0] in catalog["repositories"]
    pulled, url = start(shipped.pushed)
    try:
        helper.wait_healthy(pulled)
        with PenguinClient(url) as here, PenguinClient(service.url) as built:
            for record in (CLEAN_RECORD, *MESSY_RECORDS):
                assert here.predict(record) == built.predict(record)
    finally:
        docker("rm", "--force", pulled, check=False)
    with capsys.disabled():
        print(f"\nregistry: push {shipped.push_seconds:.1f} s, pull {shipped.pull_seconds:.1f} s ({shipped.pushed})")


def test_the_healthcheck_asks_the_readiness_route(artifact_dir: Path) -> None:
    """The Dockerfile's and compose.yaml's HEALTHCHECK ask the path that says 503 until the model is
    loaded and 200 after: the service's readiness, not its liveness (which answers from the start)."""
    from fastapi.testclient import TestClient

    from penguins.serving.app import create_app
    from penguins.serving.settings import Settings

    dockerfile = helper.Dockerfile.read().last("HEALTHCHECK")
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text(encoding="utf-8"))
    assert dockerfile is not None and compose["services"]["penguins"]["healthcheck"]["test"][0] == "CMD"
    paths = {re.search(r"127\.0\.0\.1:8000(/\w+)", text).group(1) for text in (dockerfile.value, str(compose))}
    [path] = paths
    app = create_app(Settings(model_path=artifact_dir / "mlp.onnx"))
    loading = TestClient(app)  # not started: the lifespan has not loaded the model yet
    assert loading.get("/health").status_code == 200 and loading.get(path).status_code == 503
    with TestClient(app) as started:
        assert started.get(path).status_code == 200


def test_make_docker_push_builds_starts_the_registry_and_pushes_and_make_stop_stops_it() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    push = r"^docker-push: \$\(STAMP\) docker-build registry-up ##.*\n\t\$\(PY\) -m workshop registry push$"
    assert re.search(push, makefile, re.M)
    assert re.search(r"^stop:.*\n\t.*\$\(PY\) -m workshop registry down", makefile, re.M)


def test_smoke_names_every_difference_from_the_truth_and_the_model_here() -> None:
    """No engine needed: what `make docker-smoke` reports when the service answers otherwise."""
    here = Prediction("Adelie", {"Adelie": 0.9, "Chinstrap": 0.05, "Gentoo": 0.05}, "mlp-1")
    same = Answer(here.species, dict(here.probabilities), here.model_version)
    case = smoke.Case({"island": "Dream"}, "Adelie")
    assert smoke.check_case(case, here, same, same).problems == []
    other = Answer("Gentoo", {"Adelie": 0.05, "Chinstrap": 0.05, "Gentoo": 0.9}, "mlp-2")
    problems = smoke.check_case(case, here, other, same).problems
    assert problems == [
        "truth is Adelie",
        "species Gentoo, expected Adelie",
        "model mlp-2, expected mlp-1",
        "probabilities differ by 0.85",
        "/predict/batch: species Adelie, expected Gentoo",
        "/predict/batch: model mlp-1, expected mlp-2",
        "/predict/batch: probabilities differ by 0.85",
    ]


def test_compose_healthcheck_and_port_match_the_dockerfile() -> None:
    """compose.yaml repeats the image's HEALTHCHECK and port: they must not drift apart."""
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text(encoding="utf-8"))
    penguins = compose["services"]["penguins"]
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    healthcheck = re.search(r"^HEALTHCHECK [^\n]*\\\n\s+CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert penguins["healthcheck"]["test"] == ["CMD", *json.loads(healthcheck.group(1))]
    assert penguins["ports"] == ["127.0.0.1:8006:8000"]
    assert "EXPOSE 8000" in dockerfile
