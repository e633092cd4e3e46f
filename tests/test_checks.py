"""The exercise checks: a blank is "not done yet", a wrong answer fails with its hint, a right one passes."""

from __future__ import annotations

import importlib.util
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from penguins.serving.examples import CLEAN_RECORD
from penguins.serving.predictor import PenguinPredictor
from tests.conftest import ROOT
from workshop import checks, container_context, docker
from workshop.checks import CheckFailed, ex06


def fails(message: str) -> pytest.RaisesExc[CheckFailed]:
    return pytest.raises(CheckFailed, match=message)


def test_check_failed_is_an_assertion_shown_in_one_line() -> None:
    error = CheckFailed("not done yet: x")
    assert isinstance(error, AssertionError)
    assert error._render_traceback_() == ["\x1b[31mCheckFailed\x1b[0m: not done yet: x"]


# 05 · the service


def test_the_service_check_wants_the_file_first(tmp_path: Path) -> None:
    with fails(r"^not done yet: expected the file .*my_service\.py .*run the %%writefile cell"):
        checks.check_service(tmp_path / "my_service.py")


@pytest.mark.slow
def test_a_service_that_cannot_start_is_reported_with_its_last_log_line(tmp_path: Path, artifact_dir: Path) -> None:
    """The rest of the check's verdicts are proved by tests/exercise_variants/ex05."""
    (tmp_path / "my_service.py").write_text("from fastapi import FastAPI\n\nservice = FastAPI()\n", encoding="utf-8")
    with fails(
        r'^expected my_service.py to start a server, .*its log ends: ERROR: +Error loading ASGI app\. Attribute "app"'
    ):
        checks.check_service(tmp_path / "my_service.py")


def written_file(folder: str, name: str, target: str) -> str:
    """The text that a %%writefile cell of a solution or exercise notebook writes to `target`."""
    notebook = nbformat.read(ROOT / folder / name, as_version=4)
    magic = f"%%writefile {target}\n"
    (source,) = [cell.source for cell in notebook.cells if cell.source.startswith(magic)]
    return source.removeprefix(magic) + "\n"


# 06 · the container (the variants in tests/exercise_variants/ex06 prove the check fair; here, its parts)

CONTAINER = "06_container.ipynb"


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lint only, whether or not an engine runs here."""
    monkeypatch.setattr(docker, "engine", lambda: docker.Engine(None, "the docker command is not installed"))


@pytest.fixture(scope="module")
def context_06(tmp_path_factory: pytest.TempPathFactory, artifact_dir: Path) -> Path:
    """Exercise 06's build context, as its starter cell writes it."""
    return container_context.prepare(tmp_path_factory.mktemp("ex06") / "06_context", artifact_dir)


def test_the_build_context_sends_the_service_the_wrapper_the_model_and_the_pins(context_06: Path) -> None:
    (context_06 / "Dockerfile").write_text("FROM python:3.11-slim\n", encoding="utf-8")
    (context_06 / "notes.txt").write_text("mine", encoding="utf-8")
    (context_06 / "penguins" / "serving" / "__pycache__").mkdir(exist_ok=True)
    (context_06 / "penguins" / "serving" / "__pycache__" / "api.cpython-311.pyc").write_bytes(b"")
    serving = sorted(f"penguins/serving/{p.name}" for p in (ROOT / "src/penguins/serving").glob("*.py"))
    assert docker.sent_to_build(context_06) == sorted(
        [
            "artifacts/mlp.onnx",
            "artifacts/mlp.onnx.json",
            "my_service.py",
            "penguins/__init__.py",
            *serving,
            "requirements.txt",
        ]
    )
    pins = (context_06 / "requirements.txt").read_text(encoding="utf-8")
    assert "onnxruntime==" in pins and "fastapi==" in pins and "uvicorn==" in pins
    assert not re.search(r"^(torch|scikit-learn|pandas|jupyterlab)\b", pins, re.MULTILINE)
    assert all("==" in line for line in pins.splitlines() if line[:1].isalnum())


def test_the_context_service_answers_in_exercise_05s_shape(context_06: Path) -> None:
    from fastapi.testclient import TestClient

    spec = importlib.util.spec_from_file_location("context_06_service", context_06 / "my_service.py")
    assert spec is not None and spec.loader is not None
    service = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(service)
    wrapper = PenguinPredictor.load("mlp-onnx", context_06 / "artifacts" / "mlp.onnx")
    with TestClient(service.app) as client:
        assert client.get("/health").status_code == 200
        answer = client.post("/predict", json=CLEAN_RECORD)
        assert answer.json() == {"species": wrapper.predict_one(CLEAN_RECORD).species}
        refused = client.post("/predict", json={**CLEAN_RECORD, "bill_length_mm": "forty"})
        assert refused.status_code == 422 and "bill_length_mm" in refused.text


def test_dockerignore_patterns_as_docker_reads_them(tmp_path: Path) -> None:
    for path in ("a.py", "keep/b.py", "keep/deep/c.py", "keep/__pycache__/d.pyc", "drop/e.py", "notes.md"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x", encoding="utf-8")
    (tmp_path / ".dockerignore").write_text("# a comment\n*\n!keep\n!*.py\n**/__pycache__\n", encoding="utf-8")
    assert docker.sent_to_build(tmp_path) == ["a.py", "keep/b.py", "keep/deep/c.py"]
    (tmp_path / ".dockerignore").unlink()
    assert len(docker.sent_to_build(tmp_path)) == 6


@pytest.mark.parametrize(
    ("line", "options", "rest"),
    [
        (
            "docker run -dp 127.0.0.1:8000:8000 --name=x img cmd --port 1",
            (("--detach", None), ("--publish", "127.0.0.1:8000:8000"), ("--name", "x")),
            ("img", "cmd", "--port", "1"),
        ),
        (
            "docker container run --rm -it --publish=127.0.0.1::8000 -e A=1 img",
            (
                ("--rm", None),
                ("--interactive", None),
                ("--tty", None),
                ("--publish", "127.0.0.1::8000"),
                ("--env", "A=1"),
            ),
            ("img",),
        ),
    ],
)
def test_a_run_line_is_read_as_docker_reads_it(line: str, options: tuple, rest: tuple) -> None:
    parsed = ex06.run_line(line)
    assert parsed.options == options and parsed.rest == rest


def test_a_build_line_is_read_as_docker_reads_it() -> None:
    parsed = ex06.build_line("docker build --tag=a:1 -f '06_context/Dockerfile' --no-cache ./06_context/")
    assert parsed.value("--tag") == "a:1" and parsed.value("--file") == "06_context/Dockerfile"
    assert parsed.has("--no-cache") and parsed.rest == ("./06_context/",)
    assert ex06.build_line("docker build 06_context -t a").value("--tag") == "a"  # options after the context
    with fails(r"^expected the build line to start with docker build; found docker run x"):
        ex06.build_line("docker run x")
    with fails(r"^expected a build command line; found one the shell cannot split"):
        ex06.build_line("docker build -t 'x 06_context")


@pytest.mark.parametrize(
    ("text", "ip", "host", "port"),
    [
        ("8000:8000", "", "8000", 8000),
        ("8000", "", "", 8000),
        ("127.0.0.1:8080:8000/tcp", "127.0.0.1", "8080", 8000),
        ("127.0.0.1::8000", "127.0.0.1", "", 8000),
        ("[::1]:8000:8000", "::1", "8000", 8000),
        ("0.0.0.0:8000:8000", "0.0.0.0", "8000", 8000),
    ],
)
def test_a_publish_spec_is_read_as_docker_reads_it(text: str, ip: str, host: str, port: int) -> None:
    publish = ex06.Publish.parse(text)
    assert (publish.ip, publish.host_port, publish.container_port) == (ip, host, port)
    assert publish.loopback == (ip in ("127.0.0.1", "::1"))


def solved_dockerfile() -> str:
    return written_file("solutions", CONTAINER, "06_context/Dockerfile")


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (
            {"FROM python:3.11-slim": "FROM python:3.11"},
            r"^expected the slim Python base, python:3\.11-slim; found python:3\.11, about 1 GB",
        ),
        (
            {"COPY . .": "COPY . .\nCOPY notes.txt ."},
            r"^expected every source of COPY \(line \d+\) in the build context; "
            r"found notes.txt, kept out of the build by its \.dockerignore",
        ),
        (
            {"-r requirements.txt": "fastapi uvicorn onnxruntime"},
            r"installs packages by name, at whatever version is newest",
        ),
        ({"USER penguin": "USER root"}, r"found USER \(line \d+\) root: the service runs as root"),
        (
            {'"my_service:app"': '"service:app"'},
            r"^expected uvicorn to serve the app of a module in the folder \(my_service:app\); found service:app",
        ),
        (
            {'"--port", "8000"': '"--port", "80"'},
            r"found -p 127.0.0.1:8000:8000 publishes container port 8000; try the container port last in -p$",
        ),
        (
            {'CMD ["uvicorn"': 'CMD ["python", "my_service.py"'},
            r"^expected the container to start the service with uvicorn; found a CMD that starts no uvicorn",
        ),
        ({"COPY . .": "COPY . /srv/"}, r"^expected uvicorn to start in /srv, where my_service.py lands"),
    ],
)
def test_more_lint_rules_say_expected_found_and_what_to_try(
    tmp_path: Path, context_06: Path, no_engine: None, replace: dict[str, str], message: str
) -> None:
    text = solved_dockerfile()
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    shutil.copytree(context_06, tmp_path / "06_context")
    (tmp_path / "06_context" / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "06_context" / "Dockerfile").write_text(text, encoding="utf-8")
    with fails(message):
        checks.check_container(
            "docker build -t ex06-lint 06_context", "docker run -d -p 127.0.0.1:8000:8000 ex06-lint", folder=tmp_path
        )


def test_container_check_blank_and_missing(tmp_path: Path, context_06: Path, no_engine: None) -> None:
    lines = "docker build -t ex06-blank 06_context", "docker run -d -p 127.0.0.1:8000:8000 ex06-blank"
    with fails(r"^expected the folder 06_context here; found none; try running the cells above first$"):
        checks.check_container(*lines, folder=tmp_path)
    shutil.copytree(context_06, tmp_path / "06_context")
    (tmp_path / "06_context" / "Dockerfile").unlink(missing_ok=True)
    with fails(r"^expected a Dockerfile at 06_context/Dockerfile; found no file there"):
        checks.check_container(*lines, folder=tmp_path)
    blank = written_file("exercises", CONTAINER, "06_context/Dockerfile")
    (tmp_path / "06_context" / "Dockerfile").write_text(blank, encoding="utf-8")
    with fails(r"^not done yet: write the Dockerfile in place of the line # TODO"):
        checks.check_container(*lines, folder=tmp_path)
    with fails(r"^not done yet: write the build and the run command lines"):
        checks.check_container(..., ..., folder=tmp_path)  # type: ignore[arg-type]


def test_the_build_context_holds_the_allow_list_with_the_model_in_use(tmp_path: Path, artifact_dir: Path) -> None:
    context = docker.build_context(tmp_path / "context", artifact_dir, ROOT)
    files = sorted(p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file())
    serving = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "src/penguins/serving").glob("*.py"))
    assert files == sorted(
        [
            ".dockerignore",
            "docker/Dockerfile",
            "requirements/serve.txt",
            "artifacts/mlp.onnx",
            "artifacts/mlp.onnx.json",
            "src/penguins/__init__.py",
            *serving,
        ]
    )
    assert (context / "artifacts/mlp.onnx").read_bytes() == (artifact_dir / "mlp.onnx").read_bytes()


@pytest.fixture
def engine(base_image: str) -> None:
    """A running engine: reused, or started under CI by the session fixture (which skips, or
    under CI fails, where none may be started)."""
    assert docker.engine().running


@pytest.mark.slow
def test_with_an_engine_a_container_that_stops_is_reported_with_its_log(
    tmp_path: Path, engine: None, context_06: Path
) -> None:
    """A tampered model passes any lint; the service refuses it at start-up, and the check shows why."""
    shutil.copytree(context_06, tmp_path / "06_context")
    (tmp_path / "06_context" / "Dockerfile").write_text(solved_dockerfile(), encoding="utf-8")
    with (tmp_path / "06_context" / "artifacts" / "mlp.onnx").open("ab") as model:
        model.write(b"tampered")
    started = time.monotonic()
    with fails(r"^expected the container to keep serving; found it exited, its log ends:\n(.|\n)*sha256"):
        checks.check_container(
            "docker build -t ex06-tampered 06_context",
            "docker run --rm -d -p 127.0.0.1:8000:8000 ex06-tampered",
            folder=tmp_path,
            say=lambda line: None,
        )
    assert time.monotonic() - started < 60, "a container that stops is reported at once, not after a timeout"
    assert not docker.has_image("ex06-tampered"), "the check removes the image it built"
