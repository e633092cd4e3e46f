"""The checks are fair: right answers of other shapes pass, plausible wrong ones fail with their reason.

Each file in tests/exercise_variants/<exercise>/ is an answer to the exercise's task cell. It
runs as it would in the notebook: after the exercise's starter cells (tagged `starter` in the
solution), in a namespace that is `__main__` while it runs (so a class it defines is pickled
as `__main__.X`, as in a kernel), followed by the notebook's own check cell of the from-scratch
task (the first task; the optional "extend the package" tasks after it have tests of their own
in test_checks.py). The starter runs
once per exercise per session: models and networks are trained once and shared by the
variants; every variant gets a folder of its own for the files it writes. Where the answer is a
whole file (FILE_ANSWERS: ex05's my_service.py), the variant is that file and the check cell
runs in its folder. A notebook with two from-scratch tasks keeps the second task's variants in
a folder of their own (ex08/metrics/); CHECKED_BY names the check that judges each folder.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import shutil
import sys
import tempfile
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import nbformat
import pytest

from tests.conftest import ROOT
from workshop import checks, docker, exercises, serve_env

VARIANTS = ROOT / "tests" / "exercise_variants"
NOTEBOOKS = {
    "ex01": "01_model_in_a_notebook.ipynb",
    "ex02": "02_save_the_model.ipynb",
    "ex03": "03_onnx.ipynb",
    "ex04": "04_wrapper_class.ipynb",
    "ex05": "05_service.ipynb",
    "ex08": "08_running_it.ipynb",
    "ex08/metrics": "08_running_it.ipynb",
}
# Exercises whose answer is a whole file, written by a %%writefile cell: the variant is that file,
# written into its folder, and the check cell runs in that folder, as the notebook's does.
FILE_ANSWERS = {"ex05": "my_service.py", "ex08/metrics": "counted_service.py"}
# Where a notebook has two from-scratch tasks: the check that judges each folder's variants.
CHECKED_BY = {"ex08": "check_drift_decision", "ex08/metrics": "check_metrics"}
EXPECTED = re.compile(r"^# fails with: (.+)$", re.MULTILINE)
CHECK_CALL = re.compile(r"^checks\.check_\w+\(", re.MULTILINE)
SHORTEST_LEAK = 12  # shorter solution lines (`return`, `)`, `model.fit(`) say nothing on their own


def variants(prefix: str) -> list[Path]:
    return sorted(path for folder in NOTEBOOKS for path in (VARIANTS / folder).glob(f"{prefix}_*.py"))


def folder_of(path: Path) -> str:
    """The key of NOTEBOOKS a variant belongs to: "ex05", "ex08/metrics"."""
    return path.parent.relative_to(VARIANTS).as_posix()


def cells(exercise: str) -> list[nbformat.NotebookNode]:
    notebook = nbformat.read(ROOT / "solutions" / NOTEBOOKS[exercise], as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def check_index(exercise: str) -> int:
    """The code cell that judges the exercise's variants: the check CHECKED_BY names, else the
    first check (the from-scratch task comes first; optional tasks follow it)."""
    named = CHECKED_BY.get(exercise)
    return next(
        index
        for index, cell in enumerate(cells(exercise))
        if CHECK_CALL.search(cell.source) and (named is None or f"checks.{named}(" in cell.source)
    )


def first_check(exercise: str) -> str:
    return cells(exercise)[check_index(exercise)].source


def task_cell(exercise: str) -> str:
    """The answer cell of that task: the last cell with a solution region before its check."""
    return next(c.source for c in reversed(cells(exercise)[: check_index(exercise)]) if exercises.BEGIN in c.source)


@functools.cache
def starter(exercise: str) -> dict[str, Any]:
    """The names the exercise's starter cells define, run once per session."""
    if exercise == "ex03":  # its check runs the file in .venv-serve, which `make test` builds first
        assert serve_env.python().exists(), "no .venv-serve: run `make serve-env` (make test does)"
    namespace: dict[str, Any] = {"__name__": "__main__", "checks": checks}
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        for cell in cells(exercise):
            if "starter" in cell.metadata.get("tags", []):
                exec(compile(cell.source, f"<{exercise} starter>", "exec"), namespace)
    return namespace


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str  # the check's ✓ line, or its CheckFailed message


@contextlib.contextmanager
def as_main(module: types.ModuleType) -> Any:
    """`module` stands in for a kernel's `__main__` while the answer and its check run."""
    previous = sys.modules["__main__"]
    sys.modules["__main__"] = module
    try:
        yield
    finally:
        sys.modules["__main__"] = previous


def run_answer(exercise: str, source: str, name: str) -> Outcome:
    """Starter, then `source`, then the notebook's check cells; what the check said."""
    module = types.ModuleType("__main__")
    module.__dict__.update(starter(exercise))
    folder = Path(tempfile.mkdtemp(prefix=f"variant-{exercise.replace('/', '-')}-"))
    module.__dict__["folder"] = folder
    written = FILE_ANSWERS.get(exercise)
    if written:
        (folder / written).write_text(source.removeprefix(f"{exercises.WRITEFILE} {written}\n"), encoding="utf-8")
        source = ""
    inside = contextlib.chdir(folder) if written else contextlib.nullcontext()
    printed = io.StringIO()
    with as_main(module), contextlib.redirect_stdout(printed), warnings.catch_warnings(), inside:
        warnings.simplefilter("ignore")
        exec(compile(source, name, "exec"), module.__dict__)
        try:
            exec(compile(first_check(exercise), f"<{exercise} check>", "exec"), module.__dict__)
        except checks.CheckFailed as failed:
            return Outcome(False, str(failed))
    return Outcome(True, printed.getvalue())


@functools.cache
def outcome(path: Path) -> Outcome:
    return run_answer(folder_of(path), path.read_text(encoding="utf-8"), str(path))


@functools.cache
def blank_outcome(exercise: str) -> Outcome:
    """What the generated exercise's blank task cells get from the check: "not done yet"."""
    blank = exercises.blank_regions(task_cell(exercise))
    return run_answer(exercise, blank, f"<{exercise} blank>")


def test_every_exercise_has_three_right_and_three_wrong_answers() -> None:
    for exercise in NOTEBOOKS:
        rights = list((VARIANTS / exercise).glob("right_*.py"))
        wrongs = list((VARIANTS / exercise).glob("wrong_*.py"))
        assert len(rights) >= 3 and len(wrongs) >= 3, f"{exercise}: {len(rights)} right, {len(wrongs)} wrong"
        for wrong in wrongs:
            assert EXPECTED.search(wrong.read_text(encoding="utf-8")), f"{wrong.name} names no '# fails with:'"


@pytest.mark.slow
@pytest.mark.parametrize("path", variants("right"), ids=lambda p: f"{folder_of(p)}/{p.stem}")
def test_a_right_answer_passes(path: Path) -> None:
    result = outcome(path)
    assert result.passed, f"{folder_of(path)}/{path.name} is right but the check said: {result.message}"
    assert result.message.startswith("✓ ") and result.message.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize("path", variants("wrong"), ids=lambda p: f"{folder_of(p)}/{p.stem}")
def test_a_wrong_answer_fails_with_its_reason(path: Path) -> None:
    found = EXPECTED.search(path.read_text(encoding="utf-8"))
    assert found
    result = outcome(path)
    assert not result.passed, f"{folder_of(path)}/{path.name} is wrong but passed: {result.message}"
    assert found.group(1) in result.message


@pytest.mark.slow
@pytest.mark.parametrize("exercise", NOTEBOOKS)
def test_the_blank_task_is_not_done_yet(exercise: str) -> None:
    result = blank_outcome(exercise)
    assert not result.passed and result.message.startswith("not done yet: ")


def solution_lines(exercise: str) -> set[str]:
    """The lines of the solution's answers, comments left out."""
    lines = set()
    for cell in cells(exercise):
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped in (exercises.BEGIN, exercises.END):
                inside = stripped == exercises.BEGIN
            elif inside and len(stripped) >= SHORTEST_LEAK and not stripped.startswith(("#", '"""')):
                lines.add(stripped)
    return lines


@pytest.mark.slow
@pytest.mark.parametrize("exercise", NOTEBOOKS)
def test_no_failure_message_contains_a_line_of_the_solution(exercise: str) -> None:
    answers = solution_lines(exercise)
    assert answers, f"{exercise}: no solution lines found"
    wrongs = sorted((VARIANTS / exercise).glob("wrong_*.py"))
    messages = [blank_outcome(exercise).message, *(outcome(path).message for path in wrongs)]
    leaks = [(line, message) for message in messages for line in answers if line in message]
    assert leaks == [], f"{exercise}: a failure message gives the answer away: {leaks}"


# 06 · the container: each variant is a Dockerfile whose first comments are its four command lines
# (`# build: ...`, `# tag: ...`, `# push: ...`, `# run: ...`); it is judged in a copy of the exercise's
# build context. A wrong variant says `# fails with:` when the Dockerfile's rules or the lines catch it
# (judged without an engine), `# fails when run with:` when only building and running it shows it.

CONTAINER_NOTEBOOK = "06_container.ipynb"
CONTAINER_VARIANTS = sorted((VARIANTS / "ex06").glob("*.Dockerfile"))
COMMAND_LINE = re.compile(r"^# (build|tag|push|run): (.+)$", re.MULTILINE)
WHEN_RUN = re.compile(r"^# fails when run with: (.+)$", re.MULTILINE)
# Built, pushed, pulled and run for real with an engine: the right one sharing the solution's cached
# layers, and every wrong one that only running shows.
BUILT_AND_RUN = (
    "right_copy_folder_host_equals",
    *(path.stem for path in CONTAINER_VARIANTS if WHEN_RUN.search(path.read_text(encoding="utf-8"))),
)


@pytest.fixture(scope="session")
def context_06(artifact_dir: Path) -> Path:
    """Exercise 06's build context, written once per session as its starter cell writes it."""
    from workshop import container_context

    return container_context.prepare(Path(tempfile.mkdtemp(prefix="variant-ex06-")) / "06_context", artifact_dir)


def container_lines(path: Path) -> dict[str, str]:
    return dict(COMMAND_LINE.findall(path.read_text(encoding="utf-8")))


def judge_container(path: Path, context: Path, engine: bool) -> Outcome:
    """The variant's Dockerfile in a copy of the context, checked with its four lines."""
    lines = container_lines(path)
    folder = Path(tempfile.mkdtemp(prefix=f"variant-ex06-{path.stem}-"))
    shutil.copytree(context, folder / "06_context")
    (folder / "06_context" / "Dockerfile").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    printed = io.StringIO()
    no_engine = docker.Engine(None, "the docker command is not installed")
    with (
        contextlib.redirect_stdout(printed),
        mock.patch.object(docker, "engine", docker.engine if engine else lambda: no_engine),
    ):
        try:
            checks.check_container(
                lines["build"], lines["run"], tag=lines["tag"], push=lines["push"], folder=folder, say=lambda line: None
            )
        except checks.CheckFailed as failed:
            return Outcome(False, str(failed))
    return Outcome(True, printed.getvalue())


def test_the_container_exercise_has_three_right_and_three_wrong_answers() -> None:
    rights = [path for path in CONTAINER_VARIANTS if path.name.startswith("right_")]
    wrongs = [path for path in CONTAINER_VARIANTS if path.name.startswith("wrong_")]
    assert len(rights) >= 3 and len(wrongs) >= 3, f"ex06: {len(rights)} right, {len(wrongs)} wrong"
    for path in CONTAINER_VARIANTS:
        text = path.read_text(encoding="utf-8")
        assert sorted(container_lines(path)) == ["build", "push", "run", "tag"], f"{path.name} lacks a command line"
        said = len(EXPECTED.findall(text)) + len(WHEN_RUN.findall(text))
        assert said == (0 if path.name.startswith("right_") else 1), f"{path.name}: one '# fails ...' line per wrong"


def expect(path: Path, result: Outcome, engine: bool) -> None:
    text = path.read_text(encoding="utf-8")
    found = EXPECTED.search(text) or (WHEN_RUN.search(text) if engine else None)
    if found is None:
        assert result.passed, f"ex06/{path.name} should pass here but the check said: {result.message}"
        assert result.message.startswith("✓ ") and result.message.count("\n") == 1
        return
    assert not result.passed, f"ex06/{path.name} is wrong but passed: {result.message}"
    assert found.group(1) in result.message


@pytest.mark.parametrize("path", CONTAINER_VARIANTS, ids=lambda p: f"ex06/{p.stem}")
def test_a_container_variant_is_judged_without_an_engine(path: Path, context_06: Path) -> None:
    """The rules catch what they can; what only running shows passes them (and is run below)."""
    result = judge_container(path, context_06, engine=False)
    expect(path, result, engine=False)
    assert not result.passed or "did not run: the docker command is not installed" in result.message


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILT_AND_RUN, ids=lambda name: f"ex06/{name}")
def test_with_an_engine_a_container_variant_is_built_pushed_pulled_run_and_called(
    name: str, registry_up: str, context_06: Path
) -> None:
    path = VARIANTS / "ex06" / f"{name}.Dockerfile"
    result = judge_container(path, context_06, engine=True)
    expect(path, result, engine=True)
    assert name.startswith("wrong_") or f"pushed to {registry_up} and pulled back" in result.message
    pushed = container_lines(path)["push"].split()[-1]
    assert not docker.has_image(pushed), f"the check left the image {pushed}"
    assert not docker.api().containers.list(all=True, filters={"ancestor": pushed})


def container_solution_lines() -> set[str]:
    """The lines of the solution's Dockerfile and command lines, comments left out."""
    notebook = nbformat.read(ROOT / "solutions" / CONTAINER_NOTEBOOK, as_version=4)
    lines = set()
    for cell in notebook.cells:
        inside = False
        for line in cell.source.splitlines():
            stripped = line.strip()
            if stripped in (exercises.BEGIN, exercises.END):
                inside = stripped == exercises.BEGIN
            elif inside and len(stripped) >= SHORTEST_LEAK and not stripped.startswith("#"):
                lines.add(stripped)
    return lines


def test_no_container_failure_message_contains_a_line_of_the_solution(context_06: Path) -> None:
    answers = container_solution_lines()
    assert len(answers) >= 8, f"ex06: only {len(answers)} solution lines found"
    wrongs = [path for path in CONTAINER_VARIANTS if path.name.startswith("wrong_")]
    messages = [judge_container(path, context_06, engine=False).message for path in wrongs]
    leaks = [(line, message) for message in messages for line in answers if line in message]
    assert leaks == [], f"ex06: a failure message gives the answer away: {leaks}"
