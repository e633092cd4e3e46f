"""`make prep` and the doctor's lines for what it prepares: each line's OK and FIX, with the
machine's answers (Node.js, Docker, Compose, the engine's images) replaced by fakes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import ROOT
from workshop import docker, doctor, node_runtime, prep, registry, room, serve_env

RUNNING = docker.Engine("20.10.24")
ABSENT = docker.Engine(None, "the docker command is installed, but no engine answers")


# --- .venv-serve and the Node environment ---------------------------------------------------


@pytest.mark.parametrize("ready", [True, False])
def test_serve_environment_line(monkeypatch: pytest.MonkeyPatch, ready: bool) -> None:
    monkeypatch.setattr(serve_env, "is_ready", lambda root=None: ready)
    ok, text = doctor.serve_environment()
    assert ok is ready
    assert text.startswith(".venv-serve/") and ("`make serve-env`" in text) is not ready


def test_node_line_without_node_is_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert doctor.node_environment() == (True, "node not installed: notebook 03's Node.js cell will say so")


def test_node_line_without_the_package_says_make_node_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(node_runtime, "script", lambda: Path("/nowhere/node/predict.js"))
    ok, text = doctor.node_environment()
    assert not ok and text.endswith("run `make node-env`")


def test_node_line_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(node_runtime, "missing", lambda: None)
    ok, text = doctor.node_environment()
    assert ok and "onnxruntime-node" in text and "make node-env" not in text


# --- Compose ---------------------------------------------------------------------------------


def test_compose_without_docker_is_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(room, "compose_version", lambda: pytest.fail("no docker: nothing to ask"))
    ok, text = doctor.compose()
    assert ok and "stage 07" in text


@pytest.mark.parametrize(
    ("version", "ok", "says"),
    [
        ("2.22.0", True, "docker compose 2.22.0"),
        ("2.0.1", True, "docker compose 2.0.1"),
        ("1.29.2", False, "docker compose 1.29.2: stage 07 needs Compose v2"),
        (None, False, "`docker compose version` fails"),
    ],
)
def test_compose_needs_version_2(monkeypatch: pytest.MonkeyPatch, version: str | None, ok: bool, says: str) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(room, "compose_version", lambda: version)
    found, text = doctor.compose()
    assert found is ok and text.startswith(says)
    assert ok or text.endswith(doctor.COMPOSE_FIX)


def test_compose_version_reads_the_short_form(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"v2.22.0\n": "2.22.0", "": None}
    for stdout, expected in answers.items():
        fake = subprocess.CompletedProcess(["docker"], 0, stdout=stdout, stderr="")
        monkeypatch.setattr(room.subprocess, "run", lambda *args, fake=fake, **kwargs: fake)
        assert room.compose_version() == expected
    monkeypatch.setattr(room.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(["docker"], 1, "", "no"))
    assert room.compose_version() is None
    monkeypatch.setattr(room, "compose_version", lambda: "1.29.2")
    assert room.compose_v2() is None  # the room needs v2's `up --wait`


# --- images ----------------------------------------------------------------------------------


def _images(monkeypatch: pytest.MonkeyPatch, engine: docker.Engine, cached: set[str]) -> None:
    monkeypatch.setattr(docker, "engine", lambda timeout=20: engine)
    monkeypatch.setattr(docker, "pulled_images", lambda root=None: ("python:3.11-slim", "nginx:1.28"))
    monkeypatch.setattr(docker, "has_image", lambda image: image in cached)


def test_base_images_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    _images(monkeypatch, RUNNING, {"python:3.11-slim", "nginx:1.28"})
    assert doctor.base_images() == (True, "base images cached: python:3.11-slim, nginx:1.28")


def test_base_image_missing_names_the_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    _images(monkeypatch, RUNNING, {"python:3.11-slim"})
    ok, text = doctor.base_images()
    assert not ok and text.startswith("not cached: nginx:1.28:") and "`make prep`" in text
    assert "docker pull nginx:1.28" in text and "docker pull python" not in text


def test_images_without_an_engine_are_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    _images(monkeypatch, ABSENT, set())
    monkeypatch.setattr(docker, "has_image", lambda image: pytest.fail("no engine: nothing to ask"))
    assert doctor.base_images() == (True, f"base images not checked (python:3.11-slim, nginx:1.28): {ABSENT.reason}")
    assert doctor.serving_image() == (True, f"serving image not checked: {ABSENT.reason}")


@pytest.mark.parametrize("built", [True, False])
def test_serving_image_line(monkeypatch: pytest.MonkeyPatch, built: bool) -> None:
    _images(monkeypatch, RUNNING, {docker.IMAGE} if built else set())
    ok, text = doctor.serving_image()
    assert ok is built
    assert docker.IMAGE in text and ("`make docker-build`" in text) is not built


def test_pulled_images_are_the_bases_the_registry_and_the_rooms_images(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    shutil.copy(ROOT / docker.DOCKERFILE, tmp_path / docker.DOCKERFILE)
    assert docker.pulled_images(tmp_path) == ("python:3.11-slim", registry.IMAGE)
    (tmp_path / docker.ROOM_FILE).write_text(
        "services:\n"
        "  penguins:\n    image: ${PENGUINS_IMAGE:-penguins-to-production}\n"
        "  proxy:\n    image: nginx:1.28  # the front door\n"
        "  station:\n    image: ${PENGUINS_IMAGE:-penguins-to-production}\n",
        encoding="utf-8",
    )
    assert docker.pulled_images(tmp_path) == ("python:3.11-slim", registry.IMAGE, "nginx:1.28")


# --- prep ------------------------------------------------------------------------------------


def test_prep_without_an_engine_says_what_it_would_run(monkeypatch: pytest.MonkeyPatch) -> None:
    _images(monkeypatch, ABSENT, set())
    said: list[str] = []
    prep.images(said.append)
    assert said[0].startswith("no Docker engine")
    assert said[1:] == [
        "  $ docker build -f docker/Dockerfile -t penguins-to-production .",
        "  $ docker pull nginx:1.28",
    ]


def test_prep_runs_its_steps_in_order_and_returns_the_doctors_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []
    monkeypatch.setattr(prep, "serve_environment", lambda say: ran.append("serve-env"))
    monkeypatch.setattr(prep, "node_environment", lambda say: ran.append("node-env"))
    monkeypatch.setattr(prep, "images", lambda say: ran.append("images"))
    monkeypatch.setattr(prep, "kind_node_image", lambda say: ran.append("kind"))
    monkeypatch.setattr(doctor, "run", lambda: ran.append("doctor") or 1)
    said: list[str] = []
    assert prep.run(say=said.append) == 1
    assert ran == list(prep.STEPS)
    assert [line for line in said if line.startswith("==")] == [
        f"== prep {n}/5: {step} ==" for n, step in enumerate(prep.STEPS, start=1)
    ]


def test_make_n_prep_lists_its_steps_in_order() -> None:
    if shutil.which("make") is None:
        pytest.skip("no make here")
    dry = subprocess.run(["make", "-n", "prep"], capture_output=True, text=True, timeout=60, cwd=ROOT, check=True)
    steps = [
        "make --no-print-directory setup",
        "-m workshop serve-env",
        "npm ci --ignore-scripts",
        "-m workshop prep images",
        "-m workshop prep kind",
        "-m workshop doctor",
    ]
    where = [dry.stdout.find(step) for step in steps]
    assert -1 not in where, dry.stdout
    assert where == sorted(where), dry.stdout
    assert re.findall(r"== prep (\d)/6", dry.stdout) == ["1", "2", "3", "4", "5", "6"]


def test_prep_installs_node_as_make_node_env_does() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^node-env:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe and " ".join(prep.NODE_INSTALL) in recipe.group(1)
    assert f"node_modules/{prep.NODE_STAMP}" in recipe.group(1)


def test_prep_stops_at_a_failed_step_and_says_where(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_build(say: object) -> None:
        raise docker.DockerError("docker build failed:\nno space left on device")

    monkeypatch.setattr(prep, "images", failing_build)
    monkeypatch.setattr(doctor, "run", lambda: pytest.fail("doctor runs only after every step worked"))
    said: list[str] = []
    assert prep.run(("images", "doctor"), say=said.append) == 1
    assert said[-1] == "prep stopped at images: docker build failed:\nno space left on device"


# --- kind and kubectl (notebook 07c) --------------------------------------------------------


def _tools(monkeypatch: pytest.MonkeyPatch, present: set[str]) -> None:
    found = {tool: f"/usr/bin/{tool}" for tool in present}
    monkeypatch.setattr(shutil, "which", lambda tool: found.get(tool))


def test_kubernetes_line_without_kind_is_only_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    _tools(monkeypatch, {"kubectl"})
    assert doctor.kubernetes() == (True, "kind not installed: needed only for notebook 07c (k8s/README.md)")


@pytest.mark.parametrize(("gib", "ok"), [(2.0, False), (8.0, True)])
def test_kubernetes_line_asks_the_engine_for_memory(monkeypatch: pytest.MonkeyPatch, gib: float, ok: bool) -> None:
    _tools(monkeypatch, {"kind", "kubectl"})
    monkeypatch.setattr(docker, "engine", lambda: RUNNING)
    monkeypatch.setattr(docker, "api", lambda: SimpleNamespace(info=lambda: {"MemTotal": int(gib * 2**30)}))
    found, text = doctor.kubernetes()
    assert found is ok and f"{gib:.1f} GiB" in text


def test_prep_without_kind_says_what_needs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    _tools(monkeypatch, set())
    said: list[str] = []
    prep.kind_node_image(said.append)
    assert said == ["no kind here: notebook 07c needs a cluster (k8s/README.md: install kind, then make prep)"]


def test_k8s_up_without_kind_says_where_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from workshop import k8s

    monkeypatch.delenv("CI", raising=False)
    _tools(monkeypatch, set())
    assert k8s.main("up") == 1
    assert "install kind and kubectl" in capsys.readouterr().out
