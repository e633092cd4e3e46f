"""The helpers of notebooks 05 and 06: the endpoint-style app, the docker helper.

What needs a Docker engine (build, run, look inside, sizes) is tested for real in
tests/test_container.py; here is everything that runs without one.
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path

import pytest
from docker.errors import DockerException

from tests.conftest import ROOT
from workshop import docker, notebook
from workshop.server import start
from workshop.speed import together

# --- async def or def (notebook 05) ----------------------------------------------------------


def test_a_slow_async_endpoint_makes_requests_wait_for_each_other(tmp_path: Path) -> None:
    """Notebook 05b's app, as its cell writes it."""
    calls, slow = 6, 0.2  # six calls: side by side stays well under half even on a loaded machine
    with contextlib.chdir(tmp_path):
        assert notebook.replay("05b_addresses_and_async.ipynb", "two-styles") == ["%%writefile two_styles.py"]
        assert f"SLOW_SECONDS = {slow}" in Path("two_styles.py").read_text(encoding="utf-8")
        with start("two_styles:app") as server:
            on_the_loop = together(server.url + "/async-def", calls)
            in_threads = together(server.url + "/def", calls)
    assert on_the_loop >= calls * slow * 0.95  # one after another
    assert in_threads < on_the_loop / 2  # side by side


# --- the docker helper and the Dockerfile (notebook 06) --------------------------------------

MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
STUDENT_READS = [
    ROOT / "Makefile",
    ROOT / "README.md",
    *(path for path in ROOT.glob("docker/**/*") if path.is_file() and "__pycache__" not in path.parts),
    *(ROOT / folder / "06_container.ipynb" for folder in ("notebooks", "exercises", "solutions")),
]


def test_the_make_targets_build_and_run_the_helpers_image() -> None:
    assert re.search(rf"^IMAGE\s+\?= {re.escape(docker.IMAGE)}$", MAKEFILE, re.MULTILINE)
    build = next(line for line in MAKEFILE.splitlines() if line.lstrip().startswith("docker build"))
    assert build.strip().startswith(f"docker build -f {docker.DOCKERFILE} ")
    assert "-t $(IMAGE) -t $(IMAGE):$$($(PY) -m workshop room version) ." in MAKEFILE  # latest and the model's tag
    assert "$(PY) -m workshop.docker wait-healthy $(CONTAINER)" in MAKEFILE


@pytest.mark.parametrize("path", STUDENT_READS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_ci_s_base_image_stays_in_ci(path: Path) -> None:
    """What a student reads starts FROM the official image and never shows how CI makes one."""
    text = path.read_text(encoding="utf-8")
    for ci_only in ("BASE_IMAGE", "penguins-base", "mmdebstrap", "docker-engine", "docker-registry", "stand-in"):
        assert ci_only not in text, f"{path.name} mentions {ci_only}"


def test_the_dockerfile_starts_from_the_official_slim_python() -> None:
    dockerfile = docker.Dockerfile.read()
    assert dockerfile.bases == ("python:3.11-slim", "python:3.11-slim") and dockerfile.base == "python:3.11-slim"
    assert "ARG" not in [instruction.name for instruction in dockerfile.instructions]


def test_instructions_of_the_real_dockerfile_with_their_lines_and_stages() -> None:
    lines = (ROOT / docker.DOCKERFILE).read_text(encoding="utf-8").splitlines()
    found = docker.Dockerfile.read().instructions
    for item in found:
        assert lines[item.line - 1].startswith(item.name), item
    assert [item.stage for item in found if item.name == "FROM"] == [0, 1]
    run = next(item for item in found if item.value.startswith("python3 -m venv"))
    assert "&& /opt/venv/bin/pip install" in run.value and "\\" not in run.value
    assert found[-1].name == "CMD" and found[-1].exec_form is not None
    assert "penguins.serving.app:app" in found[-1].exec_form


def test_the_parser_reads_stages_and_the_last_of_each_instruction() -> None:
    dockerfile = docker.Dockerfile.parse(
        "# TODO later\nFROM base:1 AS build\nRUN make\n\n# ---- final ----\nFROM base:2\n"
        '# says why\nEXPOSE 9000\nENTRYPOINT ["uvicorn"]\nCMD ["app:app", "--port", "8000"]\n'
    )
    assert dockerfile.bases == ("base:1", "base:2") and dockerfile.base == "base:2"
    assert [(i.name, i.stage, i.line) for i in dockerfile.final] == [
        ("EXPOSE", 1, 8),
        ("ENTRYPOINT", 1, 9),
        ("CMD", 1, 10),
    ]
    assert dockerfile.last("CMD").exec_form == ["app:app", "--port", "8000"] and dockerfile.port == 9000
    shell_form = docker.Dockerfile.parse("FROM x\nCMD uvicorn app:app --port 8001\n")
    assert shell_form.last("CMD").exec_form is None and shell_form.port == 8000
    assert docker.Dockerfile.parse("# TODO\n").instructions == ()


def test_allowed_in_build_is_the_serving_package_and_the_model() -> None:
    allowed = docker.allowed_in_build()
    assert {"src/penguins/__init__.py", "src/penguins/serving", "artifacts/mlp.onnx"} <= set(allowed)
    assert not any(item.startswith(("src/penguins/training", "notebooks", ".venv")) for item in allowed)


def test_build_context_holds_what_the_dockerfile_copies(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for name in ("mlp.onnx", "mlp.onnx.json"):
        (models / name).write_text(name)
    context = docker.build_context(tmp_path / "context", models)
    for item in docker.allowed_in_build():
        assert (context / item).exists(), item
    assert (context / ".dockerignore").exists() and (context / "docker/Dockerfile").exists()
    assert (context / "artifacts/mlp.onnx").read_text() == "mlp.onnx"
    assert not (context / "src/penguins/training").exists()
    assert not list(context.rglob("__pycache__"))


def test_no_engine_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker.shutil, "which", lambda name: None)
    engine = docker.engine()
    assert not engine.running and str(engine).startswith("no Docker engine here (the docker command is not installed)")
    monkeypatch.undo()

    def refused() -> None:
        raise DockerException("Error while fetching server API version: Connection refused")

    monkeypatch.setattr(docker.shutil, "which", lambda name: "/usr/bin/docker")
    monkeypatch.setattr(docker, "api", refused)
    assert "no engine answers" in str(docker.engine())


def test_streamed_output_arrives_line_by_line_and_a_failure_keeps_its_tail(tmp_path: Path) -> None:
    said: list[str] = []
    script = "import sys, time\nfor i in range(3):\n    print(i, flush=True)\nprint('oops', file=sys.stderr)"
    docker.stream([sys.executable, "-c", script], tmp_path, timeout=30, say=said.append)
    assert said == ["0", "1", "2", "oops"]
    with pytest.raises(docker.DockerError, match=r"failed:\nlast words\n$"):
        docker.stream([sys.executable, "-c", "print('last words'); raise SystemExit(3)"], tmp_path, 30, said.append)
    with pytest.raises(docker.DockerError, match=r"stopped after 0.5 s"):
        docker.stream([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path, 0.5, said.append)


def test_make_notebooks_warns_when_06_would_run_without_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from scripts import execute

    notebooks = ROOT / "notebooks"
    monkeypatch.setattr(docker, "engine", lambda: docker.Engine(None, "no engine answers"))
    assert execute.engine_note([notebooks / "05a_first_service.ipynb"]) is None
    note = execute.engine_note([notebooks / "05a_first_service.ipynb", notebooks / "06_container.ipynb"])
    assert note == (
        "note: no engine answers: 06_container type docker commands and need an engine; "
        "start one first (Docker Desktop, or the docker service on Linux)"
    )
    monkeypatch.setattr(docker, "engine", lambda: docker.Engine("28.0"))
    assert execute.engine_note([notebooks / "06_container.ipynb"]) is None
