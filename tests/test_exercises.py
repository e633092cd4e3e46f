"""Exercises: generated from the solutions, never stale, and every check fails blank and passes solved."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from penguins.serving.paths import ENV_VAR
from tests.conftest import ROOT
from workshop import exercises, stages
from workshop.stages import STAGES

SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
READY_STAGES = (1, 2, 3, 4, 5, 6, 7, 8, 9)  # stages whose exercise exists: all of them
CHECK_CALL = re.compile(r"^checks\.check_\w+\(", re.MULTILINE)

SOLVED = """\
from math import sqrt

### BEGIN SOLUTION
### HINT: the square root of 16
root = sqrt(16)
first, second = root, -root
### END SOLUTION
checks.check_root(root)"""

BLANKED = """\
from math import sqrt

# HINT: the square root of 16
root = ...  # TODO
first = ...  # TODO
second = ...  # TODO
checks.check_root(root)"""


def solution_notebook(folder: Path, name: str, *sources: str) -> Path:
    """A small solution notebook whose code cells carry stale outputs, as a run would leave them."""
    cells = [new_markdown_cell("# a stage", id="intro")]
    for index, source in enumerate(sources):
        output = new_output("stream", name="stdout", text="from the last run\n")
        cells.append(new_code_cell(source, id=f"code-{index}", execution_count=index + 1, outputs=[output]))
    path = folder / name
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_a_region_becomes_its_hint_and_a_placeholder_per_name() -> None:
    assert exercises.blank_regions(SOLVED) == BLANKED


def test_a_region_inside_a_function_returns_the_placeholder() -> None:
    source = "def area(r):\n    ### BEGIN SOLUTION\n    return 3.14 * r * r\n    ### END SOLUTION\n"
    assert exercises.blank_regions(source) == "def area(r):\n    return ...  # TODO\n"


def test_a_region_in_a_written_python_file_is_python() -> None:
    source = "%%writefile my_service.py\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    assert exercises.blank_regions(source) == "%%writefile my_service.py\ndef f():\n    return ...  # TODO\n"


@pytest.mark.parametrize("magic", ["%%writefile Dockerfile", "%%writefile -a compose.yaml"])
def test_a_region_in_a_written_file_that_is_not_python_becomes_a_todo_comment(magic: str) -> None:
    """A Dockerfile has no `...`: the placeholder is a comment, so the file stays well-formed."""
    source = (
        f"{magic}\nFROM python\n### BEGIN SOLUTION\n### HINT: a user\nUSER penguin\n"
        'CMD ["x"]\n### END SOLUTION\nEXPOSE 1\n'
    )
    assert exercises.blank_regions(source) == f"{magic}\nFROM python\n# HINT: a user\n# TODO\nEXPOSE 1\n"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("### BEGIN SOLUTION\nprint(1)\n### END SOLUTION", "binds no name"),
        ("### BEGIN SOLUTION\nx = 1", "without ### END SOLUTION"),
        ("x = 1\n### END SOLUTION", "line 2: ### END SOLUTION without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n", "line 2: ### BEGIN SOLUTION inside"),
        ("### BEGIN SOLUTION\n!pip install x\n### END SOLUTION", "not plain Python"),
    ],
)
def test_a_region_that_cannot_become_a_runnable_blank_is_refused(tmp_path: Path, source: str, problem: str) -> None:
    path = solution_notebook(tmp_path, "01_x.ipynb", "ok = 1", source)
    with pytest.raises(exercises.RegionError, match=re.escape(problem)) as caught:
        exercises.generate(path)
    assert str(caught.value).startswith("01_x.ipynb, cell 2:")


def test_the_exercise_is_headed_cleared_and_keeps_the_rest(tmp_path: Path) -> None:
    path = solution_notebook(tmp_path, "01_x.ipynb", "import math", SOLVED)
    exercise = exercises.generate(path)
    header, intro, first, second = exercise.cells
    assert header.id == exercises.HEADER_ID and "solutions/01_x.ipynb" in header.source
    assert "make my-exercises" in header.source and "make exercises" in header.source
    assert intro.source == "# a stage" and first.source == "import math" and second.source == BLANKED
    assert all(cell.outputs == [] and cell.execution_count is None for cell in (first, second))


def test_write_all_is_idempotent_and_stale_names_every_difference(tmp_path: Path) -> None:
    solutions, generated = tmp_path / "solutions", tmp_path / "exercises"
    first = solution_notebook(solutions, "01_a.ipynb", SOLVED)
    solution_notebook(solutions, "02_b.ipynb", "x = 1")
    assert exercises.stale(solutions, generated) == [generated / "01_a.ipynb", generated / "02_b.ipynb"]
    assert len(exercises.stale(solutions, generated, write=True)) == 2
    assert exercises.stale(solutions, generated, write=True) == []
    assert exercises.stale(solutions, generated) == []

    solution_notebook(solutions, "01_a.ipynb", SOLVED.replace("16", "25"))
    (solutions / "02_b.ipynb").rename(solutions / "03_b.ipynb")
    assert exercises.stale(solutions, generated) == [
        generated / "01_a.ipynb",
        generated / "03_b.ipynb",
        generated / "02_b.ipynb",
    ]
    exercises.stale(solutions, generated, write=True)
    assert exercises.stale(solutions, generated) == []
    assert sorted(p.name for p in generated.iterdir()) == ["01_a.ipynb", "03_b.ipynb"]
    assert "25" in (generated / first.name).read_text(encoding="utf-8")


def test_copy_for_student_never_overwrites_their_work(tmp_path: Path) -> None:
    solutions, generated, mine = tmp_path / "solutions", tmp_path / "exercises", tmp_path / "my-exercises"
    solution_notebook(solutions, "01_a.ipynb", SOLVED)
    solution_notebook(solutions, "02_b.ipynb", "x = 1")
    exercises.stale(solutions, generated, write=True)
    mine.mkdir()
    (mine / "01_a.ipynb").write_text("my answers", encoding="utf-8")
    said: list[str] = []
    copied = exercises.copy_for_student(generated, mine, say=said.append)
    assert copied == [mine / "02_b.ipynb"]
    assert (mine / "01_a.ipynb").read_text(encoding="utf-8") == "my answers"
    assert (mine / "02_b.ipynb").read_bytes() == (generated / "02_b.ipynb").read_bytes()
    assert "kept" in said[0] and "01_a.ipynb" in said[0] and "never overwritten" in said[0]
    assert exercises.copy_for_student(generated, mine, say=said.append) == []


def test_the_committed_exercises_are_generated_from_the_current_solutions() -> None:
    stale = [p.name for p in exercises.stale(SOLUTIONS, EXERCISES)]
    assert stale == [], f"exercises/ is stale ({', '.join(stale)}): run `make exercises`"


def test_every_ready_stage_has_its_solution_and_exercise_under_the_stage_maps_name() -> None:
    found = {f"exercises/{p.name}" for p in sorted(SOLUTIONS.glob(exercises.NOTEBOOKS))}
    assert found <= set(stages.EXERCISES), "a solution whose name is not an exercise in workshop.stages"
    assert stages.CAPSTONE in found
    assert {exercise for s in STAGES if s.number in READY_STAGES for exercise in s.exercises} <= found


# Run after a notebook's last cell, in its kernel: the processes it left running (servers, ...).
LEFTOVERS = """\
import psutil
alive = []
for child in psutil.Process().children(recursive=True):
    try:
        if child.status() != psutil.STATUS_ZOMBIE:
            alive.append(" ".join(child.cmdline()))
    except psutil.Error:
        pass
print(alive)"""


def execute(path: Path, artifacts: Path) -> nbformat.NotebookNode:
    """Run a notebook the way a student does: its own folder, a fresh kernel of this environment.

    Blank or solved, a notebook must stop what it started (05's server) before it ends: a
    student who runs it to the end leaves nothing running.
    """
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(new_code_cell(LEFTOVERS))
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env={**os.environ, ENV_VAR: str(artifacts)})
    left = stream(notebook.cells.pop(), "stdout")
    assert left == "[]\n", f"{path.parent.name}/{path.name} leaves processes running when it ends: {left}"
    return notebook


def check_cells(notebook: nbformat.NotebookNode) -> list[int]:
    return [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code" and CHECK_CALL.search(cell.source)]


def errors(cell: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(out.ename, out.evalue) for out in cell.get("outputs", []) if out.output_type == "error"]


def stream(cell: nbformat.NotebookNode, name: str) -> str:
    return "".join(out.text for out in cell.get("outputs", []) if out.output_type == "stream" and out.name == name)


# Exercise 09's starter starts the server room and the registry (most of a minute), 07c's builds the
# model's image onto the cluster's node, before the check says "not done yet": their blanks are
# judged below without them (each check looks for the TODO first); their starters run in the
# solutions, under nbval.
BLANK_WITHOUT_A_ROOM = ("07c_kubernetes.ipynb", "09_pipeline.ipynb")


def test_the_blank_release_is_not_done_yet_before_anything_runs(tmp_path: Path) -> None:
    from workshop import checks

    blank = nbformat.read(EXERCISES / "09_pipeline.ipynb", as_version=4)
    (written,) = [cell.source for cell in blank.cells if cell.source.startswith("%%writefile release.sh")]
    (tmp_path / "release.sh").write_text(written.split("\n", 1)[1], encoding="utf-8")
    (call,) = [cell.source for cell in blank.cells if CHECK_CALL.search(cell.source)]
    command = re.search(r'check_release\("(.+)"\)', call)
    assert command, call
    with pytest.raises(checks.CheckFailed, match=r"not done yet: write the release in release\.sh"):
        checks.check_release(command[1], tmp_path)


def test_the_blank_cluster_is_not_done_yet_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workshop import checks

    blank = nbformat.read(EXERCISES / "07c_kubernetes.ipynb", as_version=4)
    (written,) = [cell.source for cell in blank.cells if cell.source.startswith("%%writefile ")]
    header, _, body = written.partition("\n")
    (tmp_path / header.split()[1]).write_text(body, encoding="utf-8")
    (call,) = [cell.source for cell in blank.cells if CHECK_CALL.search(cell.source)]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(checks.CheckFailed, match=r"^not done yet: "):
        eval(call, {"checks": checks})  # the check cell as the student runs it


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", [p.name for p in sorted(SOLUTIONS.glob(exercises.NOTEBOOKS)) if p.name not in BLANK_WITHOUT_A_ROOM]
)
def test_every_check_fails_on_the_blank_exercise(name: str, artifact_dir: Path) -> None:
    """The blank exercise, run as a student opens it: each check cell says "not done yet" and
    nothing else fails. The solutions run once, under nbval (`make test`'s `solutions` folder),
    where conftest.py holds each check cell to its "✓" and a quiet stderr."""
    exercise = execute(EXERCISES / name, artifact_dir)
    checks = check_cells(exercise)
    assert checks, f"{name} has no check cell (a line starting with checks.check_...)"
    for index, cell in enumerate(exercise.cells):
        expected = [("CheckFailed", "not done yet")] if index in checks else []
        found = [(ename, evalue[: len("not done yet")]) for ename, evalue in errors(cell)]
        assert found == expected, f"exercise {name}, cell {index}:\n{cell.source}\nraised {errors(cell)}"
