"""Exercise 06's check, its parts: the build context it prepares, the Dockerfile's rules, the lines.

The variants in tests/exercise_variants/ex06 prove the check fair, with and without an engine
(tests/test_exercise_variants.py); here each rule says expected / found / what to try on its own.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from penguins.serving.examples import CLEAN_RECORD
from penguins.serving.predictor import PenguinPredictor
from tests.conftest import ROOT
from workshop import checks, container_context, docker, registry
from workshop.checks import CheckFailed, ex06

NOTEBOOK = "06_container.ipynb"
PUSHED = f"{registry.ADDRESS}/ex06-rules:1"
LINES = {
    "build": "docker build -t ex06-rules 06_context",
    "run": f"docker run -d -p 127.0.0.1:8000:8000 {PUSHED}",
    "tag": f"docker tag ex06-rules {PUSHED}",
    "push": f"docker push {PUSHED}",
}


def written(folder: str, target: str = "06_context/Dockerfile") -> str:
    """What the notebook's %%writefile cell writes to `target`."""
    magic = f"%%writefile {target}\n"
    cells = nbformat.read(ROOT / folder / NOTEBOOK, as_version=4).cells
    (source,) = [cell.source for cell in cells if cell.source.startswith(magic)]
    return source.removeprefix(magic) + "\n"


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory, artifact_dir: Path) -> Path:
    """Exercise 06's build context, as its starter cell writes it."""
    return container_context.prepare(tmp_path_factory.mktemp("ex06") / "06_context", artifact_dir)


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules alone, whether or not an engine runs here: what a student without Docker gets."""
    monkeypatch.setattr(docker, "engine", lambda: docker.Engine(None, "the docker command is not installed"))


def judge(tmp_path: Path, context: Path, dockerfile: str, **lines: str) -> None:
    shutil.copytree(context, tmp_path / "06_context", dirs_exist_ok=True)
    (tmp_path / "06_context" / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    given = {**LINES, **lines}
    checks.check_container(given["build"], given["run"], tag=given["tag"], push=given["push"], folder=tmp_path)


def test_the_context_holds_the_service_the_wrapper_the_model_and_the_pins(context: Path, tmp_path: Path) -> None:
    files = sorted(p.relative_to(context).as_posix() for p in context.rglob("*") if p.is_file())
    serving = sorted(
        f"penguins/{p.relative_to(ROOT / 'src/penguins').as_posix()}"
        for p in (ROOT / "src/penguins/serving").rglob("*.py")
    )
    assert [f for f in files if "__pycache__" not in f] == sorted(
        [".dockerignore", "artifacts/mlp.onnx", "artifacts/mlp.onnx.json", "my_service.py",
         "penguins/__init__.py", *serving, "requirements.txt"]
    )  # fmt: skip
    pins = (context / "requirements.txt").read_text(encoding="utf-8")
    assert "onnxruntime==" in pins and "fastapi==" in pins and "uvicorn==" in pins
    assert not re.search(r"^(torch|scikit-learn|pandas|jupyterlab)\b", pins, re.MULTILINE)
    assert all("==" in line for line in pins.splitlines() if line[:1].isalnum())
    assert "!my_service.py" in (context / ".dockerignore").read_text(encoding="utf-8")
    lecture = container_context.prepare(tmp_path / "06_context", context / "artifacts", service=False)
    assert not (lecture / "my_service.py").exists() and "my_service" not in (lecture / ".dockerignore").read_text()
    assert container_context.summary(lecture).splitlines()[1:] == [
        f"  {name:<24} {(lecture / name).stat().st_size / 1e3:>6,.1f} kB"
        for name in (".dockerignore", "artifacts/mlp.onnx", "artifacts/mlp.onnx.json", "requirements.txt")
    ] + [f"  penguins/ ({1 + len(serving)} files: the wrapper, the service and what they import)"]


def test_the_context_service_answers_in_exercise_05s_shape(context: Path) -> None:
    from fastapi.testclient import TestClient

    spec = importlib.util.spec_from_file_location("context_06_service", context / "my_service.py")
    assert spec is not None and spec.loader is not None
    service = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(service)
    wrapper = PenguinPredictor.load("mlp-onnx", context / "artifacts" / "mlp.onnx")
    with TestClient(service.app) as client:
        assert client.get("/health").status_code == 200
        assert client.post("/predict", json=CLEAN_RECORD).json() == {
            "species": wrapper.predict_one(CLEAN_RECORD).species
        }
        refused = client.post("/predict", json={**CLEAN_RECORD, "bill_length_mm": "forty"})
        assert refused.status_code == 422 and "bill_length_mm" in refused.text


def test_the_solution_and_the_lectures_dockerfile_follow_the_rules(context: Path, tmp_path: Path) -> None:
    assert ex06.lint(docker.Dockerfile.parse(written("solutions")), context) == []
    lecture = container_context.prepare(tmp_path / "06_context", context / "artifacts", service=False)
    nb = nbformat.read(ROOT / "notebooks" / NOTEBOOK, as_version=4)
    (source,) = [cell.source for cell in nb.cells if cell.source.startswith("%%writefile 06_context/Dockerfile")]
    assert ex06.lint(docker.Dockerfile.parse(source.split("\n", 1)[1]), lecture) == []


CMD = 'CMD ["uvicorn", "my_service:app", "--host", "0.0.0.0", "--port", "8000"]'
HOST = '"--host", "0.0.0.0", '
RULES = [
    ({"USER penguin": "USER root"}, r"^expected the service run by a user without privileges; found USER root \(line"),
    ({"USER penguin\n": ""}, r"found no USER: it runs as root. Try: useradd in a RUN, then USER with that name$"),
    ({CMD: "CMD uvicorn my_service:app --host 0.0.0.0"}, r"^expected CMD in exec form, .*; found CMD \(line \d+\) in"),
    ({HOST: ""}, r"^expected uvicorn to listen on every interface of the container \(0\.0\.0\.0\).*--host option$"),
    ({"requirements.txt\n": "requirements.txt torch\n"}, r"found RUN \(line \d+\) installs torch, gigabytes"),
    ({"COPY . .": "COPY my_service.py ./\nCOPY penguins/ penguins/"}, r"^expected the model \(artifacts/mlp\.onnx\)"),
    ({CMD: ""}, r"^expected a CMD that starts uvicorn; found none"),
    ({"USER penguin\n": "", HOST: ""}, r"it runs as root\. Try: .* \(1 more after this one\)$"),
]


@pytest.mark.parametrize(("replace", "message"), RULES)
def test_each_rule_says_expected_found_and_what_to_try(
    tmp_path: Path, context: Path, no_engine: None, replace: dict[str, str], message: str
) -> None:
    text = written("solutions")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    with pytest.raises(CheckFailed, match=message):
        judge(tmp_path, context, text)


@pytest.mark.parametrize(
    ("copy", "takes_the_model"),
    [
        ("COPY . .", True),
        ("COPY ./ /app/", True),
        ("COPY artifacts artifacts", True),
        ("COPY artifacts/ ./artifacts/", True),
        ("COPY --chown=penguin:penguin artifacts/*.onnx* ./artifacts/", True),
        ('COPY ["artifacts/mlp.onnx", "artifacts/mlp.onnx.json", "/app/artifacts/"]', True),
        ("ADD * /app/", True),
        ("COPY --from=build /opt/venv /opt/venv", False),
        ("COPY penguins penguins", False),
        ("COPY artifacts/mlp.onnx.json artifacts/", False),
    ],
)
def test_the_model_rule_reads_every_style_of_copy(copy: str, takes_the_model: bool) -> None:
    (instruction,) = docker.Dockerfile.parse(f"FROM x\n{copy}\n").final
    assert ex06.copies(instruction, "artifacts/mlp.onnx") is takes_the_model


def test_the_lines_name_the_registry_and_run_what_was_pushed(tmp_path: Path, context: Path, no_engine: None) -> None:
    solved = written("solutions")
    hub = {"tag": "docker tag ex06-rules ada/ex06-rules:1", "push": "docker push ada/ex06-rules:1"}
    with pytest.raises(
        CheckFailed, match=rf"^expected the push to the registry at {registry.ADDRESS}; found it pushes ada/"
    ):
        judge(tmp_path, context, solved, **hub)
    with pytest.raises(CheckFailed, match=rf"^expected the run line to start what the push line pushed, {PUSHED}"):
        judge(tmp_path, context, solved, run="docker run -d -p 127.0.0.1:8000:8000 ex06-rules")


def test_without_an_engine_the_rules_pass_and_the_lines_are_said_not_run(
    tmp_path: Path, context: Path, no_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    judge(tmp_path, context, written("solutions"))
    assert capsys.readouterr().out == (
        "✓ the Dockerfile follows the lesson; your build, tag, push, run lines did not run: "
        "the docker command is not installed\n"
    )


def test_blank_and_missing(tmp_path: Path, context: Path, no_engine: None) -> None:
    with pytest.raises(CheckFailed, match=r"^expected a Dockerfile at 06_context/Dockerfile; found none"):
        checks.check_container(LINES["build"], LINES["run"], folder=tmp_path)
    with pytest.raises(CheckFailed, match=r"^not done yet: write the Dockerfile in place of the line # TODO"):
        judge(tmp_path, context, written("exercises"))
    with pytest.raises(CheckFailed, match=r"^not done yet: write the push line as a string"):
        checks.check_container(LINES["build"], LINES["run"], tag=LINES["tag"], push=..., folder=tmp_path)  # type: ignore[arg-type]


def test_only_the_containers_of_the_run_line_are_judged_and_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine is shared: a Kubernetes pod's sandbox or a room's replica started meanwhile is
    neither judged nor removed with its image (removing the pause image broke the cluster)."""
    images = {"a1": "k8s.gcr.io/pause:3.2", "b2": "penguins-06", "c3": "penguins-to-production:mlp-1", "d4": "x"}
    monkeypatch.setattr(ex06.docker, "inspect", lambda name: {"Config": {"Image": images[name]}})
    run = "docker run -d --rm -p 127.0.0.1:8006:8000 penguins-06"
    assert ex06.ran_by(run, set(images)) == {"b2"}
    assert ex06.ran_by("docker run -d 127.0.0.1:5001/p:v1", set(images)) == set()
