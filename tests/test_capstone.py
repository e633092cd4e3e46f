"""The capstone's verdict: one line per step, and "not done yet" only while no step is wrong; its
folder judged by exercise 06's rules where no engine answers."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT
from workshop import checks, container_context, docker
from workshop.checks import CheckFailed, capstone
from workshop.checks.common import passed, require


def done(value: object) -> None:
    require(value, "assign it")
    passed(f"{value} is right")


def wrong(value: object) -> None:
    require(value, "assign it")
    raise CheckFailed(f"expected 2, found {value}: add one")


def crashes(value: object) -> None:
    raise KeyError(value)


def test_a_step_is_its_checks_line_whatever_the_check_did() -> None:
    assert str(capstone.run_step(1, "train", done, 1)) == "✓ 1 train    1 is right"
    assert str(capstone.run_step(2, "pickle", done, ...)) == "✗ 2 pickle   not done yet: assign it"
    assert str(capstone.run_step(3, "ONNX", wrong, 1)) == "✗ 3 ONNX     expected 2, found 1: add one"
    assert str(capstone.run_step(4, "wrapper", crashes, "x")) == "✗ 4 wrapper  the check stopped with KeyError: 'x'"


def test_blank_steps_are_not_done_but_one_wrong_step_is_failing(capsys: pytest.CaptureFixture[str]) -> None:
    blank = [capstone.run_step(n, "step", done, ...) for n in (1, 2)]
    with pytest.raises(CheckFailed, match=r"^not done yet: step 1, 2 of 2 "):
        capstone.report(blank)
    mixed = [capstone.run_step(1, "step", done, 1), blank[1], capstone.run_step(3, "step", wrong, 1)]
    with pytest.raises(CheckFailed, match=r"^2 of 3 steps do not pass yet \(2, 3\); start with step 3:"):
        capstone.report(mixed)
    capstone.report([capstone.run_step(1, "step", done, 1)])
    assert capsys.readouterr().out == "✓ all 1 steps pass, each judged by its stage's own check\n"


SOLUTION = ROOT / "solutions" / "99_blank_folder.ipynb"
FOLDER = "99_blank"
# What steps 1-4 leave in the folder besides the files written below; the lint reads names, not contents.
MADE = ("mlp.onnx", "mlp.onnx.data", "model.pkl", "model.pkl.json", "__pycache__/wrapper.cpython-311.pyc")


def solution_cells() -> list[str]:
    return [cell.source for cell in nbformat.read(SOLUTION, as_version=4).cells if cell.cell_type == "code"]


def capstone_folder(root: Path) -> tuple[str, str]:
    """The folder as the solution leaves it (every %%writefile of it, requirements.txt as its starter
    writes it), and the solution's build and run lines."""
    folder = root / FOLDER
    for name in MADE:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"made by steps 1-4")
    (folder / "requirements.txt").write_text(container_context.requirements(), encoding="utf-8")
    lines: dict[str, str] = {}
    for source in solution_cells():
        first, _, text = source.partition("\n")
        if first.startswith("%%writefile {folder}/"):
            (folder / first.removeprefix("%%writefile {folder}/")).write_text(text + "\n", encoding="utf-8")
        elif source.lstrip("# ").startswith("Each as you would type it"):
            exec(source, {}, lines)
    return lines["build"], lines["run"]


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lint only, whether or not an engine runs here: what a student without Docker gets."""
    monkeypatch.setattr(docker, "engine", lambda: docker.Engine(None, "the docker command is not installed"))


def test_without_an_engine_the_solutions_folder_passes_exercise_06s_lint(
    tmp_path: Path, no_engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    build, run = capstone_folder(tmp_path)
    checks.check_container(build, run, FOLDER, tmp_path)
    said = capsys.readouterr().out
    assert said == (
        "✓ the Dockerfile follows the lesson; your build, run lines did not run: the docker command is not installed\n"
    )


def test_without_an_engine_a_capstone_listening_on_loopback_fails_the_lint(tmp_path: Path, no_engine: None) -> None:
    build, run = capstone_folder(tmp_path)
    dockerfile = tmp_path / FOLDER / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text(encoding="utf-8").replace('"--host", "0.0.0.0", ', ""), encoding="utf-8")
    with pytest.raises(CheckFailed, match=r"listen on every interface of the container \(0\.0\.0\.0\)"):
        checks.check_container(build, run, FOLDER, tmp_path)
