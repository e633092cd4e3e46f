"""The checks are fair: right answers of other shapes pass, plausible wrong ones fail with their reason.

Each file in tests/exercise_variants/<exercise>/ is an answer to the exercise's task cell. It
runs as it would in the notebook: after the exercise's starter cells (tagged `starter` in the
solution), in a namespace that is `__main__` while it runs (so a class it defines is pickled
as `__main__.X`, as in a kernel), followed by the notebook's own check cell of the from-scratch
task (the first task; the optional "extend the package" tasks after it have tests of their own
in test_checks.py). The starter runs
once per exercise per session: models and networks are trained once and shared by the
variants; every variant gets a folder of its own for the files it writes.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import sys
import tempfile
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.conftest import ROOT
from workshop import checks, exercises, serve_env

VARIANTS = ROOT / "tests" / "exercise_variants"
NOTEBOOKS = {
    "ex01": "01_model_in_a_notebook.ipynb",
    "ex02": "02_save_the_model.ipynb",
    "ex03": "03_onnx.ipynb",
    "ex04": "04_wrapper_class.ipynb",
    "ex08": "08_running_it.ipynb",
}
EXPECTED = re.compile(r"^# fails with: (.+)$", re.MULTILINE)
CHECK_CALL = re.compile(r"^checks\.check_\w+\(", re.MULTILINE)
SHORTEST_LEAK = 12  # shorter solution lines (`return`, `)`, `model.fit(`) say nothing on their own


def variants(prefix: str) -> list[Path]:
    return sorted(path for folder in NOTEBOOKS for path in (VARIANTS / folder).glob(f"{prefix}_*.py"))


def cells(exercise: str) -> list[nbformat.NotebookNode]:
    notebook = nbformat.read(ROOT / "solutions" / NOTEBOOKS[exercise], as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def first_check(exercise: str) -> str:
    """The check cell of the from-scratch task, which comes first; optional tasks follow it."""
    return next(cell.source for cell in cells(exercise) if CHECK_CALL.search(cell.source))


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
    folder = Path(tempfile.mkdtemp(prefix=f"variant-{exercise}-"))
    module.__dict__["folder"] = folder
    printed = io.StringIO()
    with as_main(module), contextlib.redirect_stdout(printed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(source, name, "exec"), module.__dict__)
        try:
            exec(compile(first_check(exercise), f"<{exercise} check>", "exec"), module.__dict__)
        except checks.CheckFailed as failed:
            return Outcome(False, str(failed))
    return Outcome(True, printed.getvalue())


@functools.cache
def outcome(path: Path) -> Outcome:
    return run_answer(path.parent.name, path.read_text(encoding="utf-8"), str(path))


@functools.cache
def blank_outcome(exercise: str) -> Outcome:
    """What the generated exercise's blank task cells get from the check: "not done yet"."""
    task = next(c.source for c in cells(exercise) if exercises.BEGIN in c.source)
    blank = exercises.blank_regions(task)
    return run_answer(exercise, blank, f"<{exercise} blank>")


def test_every_exercise_has_three_right_and_three_wrong_answers() -> None:
    for exercise in NOTEBOOKS:
        rights = list((VARIANTS / exercise).glob("right_*.py"))
        wrongs = list((VARIANTS / exercise).glob("wrong_*.py"))
        assert len(rights) >= 3 and len(wrongs) >= 3, f"{exercise}: {len(rights)} right, {len(wrongs)} wrong"
        for wrong in wrongs:
            assert EXPECTED.search(wrong.read_text(encoding="utf-8")), f"{wrong.name} names no '# fails with:'"


@pytest.mark.slow
@pytest.mark.parametrize("path", variants("right"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_right_answer_passes(path: Path) -> None:
    result = outcome(path)
    assert result.passed, f"{path.parent.name}/{path.name} is right but the check said: {result.message}"
    assert result.message.startswith("✓ ") and result.message.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize("path", variants("wrong"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_wrong_answer_fails_with_its_reason(path: Path) -> None:
    found = EXPECTED.search(path.read_text(encoding="utf-8"))
    assert found
    result = outcome(path)
    assert not result.passed, f"{path.parent.name}/{path.name} is wrong but passed: {result.message}"
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
