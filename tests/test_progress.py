"""`make check-exercises`: a folder's exercise notebooks run headless, one line per task: ✓, not done or failing."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from tests.conftest import ROOT
from workshop import progress

EXERCISE = ROOT / "exercises" / "01_model_in_a_notebook.ipynb"
SOLUTION = ROOT / "solutions" / "01_model_in_a_notebook.ipynb"
WRONG = ROOT / "tests" / "exercise_variants" / "ex01" / "wrong_one_column_reaches_the_model.py"
BLANK_ANSWER = "model = ...  # TODO"


@pytest.fixture
def class_folder() -> Iterator[Path]:
    """A folder inside the checkout, as my-exercises/ is (each notebook's first cell insists on it)."""
    parent = ROOT / "my-exercises"
    made = not parent.exists()
    parent.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="check-exercises-test-", dir=parent))
    yield folder
    shutil.rmtree(folder)
    if made and not any(parent.iterdir()):
        parent.rmdir()


def wrong_copy(target: Path) -> str:
    """Exercise 01 with a plausible wrong answer in place of its placeholder; the reason it must fail with."""
    answer = WRONG.read_text(encoding="utf-8")
    notebook = nbformat.read(EXERCISE, as_version=4)
    [cell] = [cell for cell in notebook.cells if BLANK_ANSWER in cell.source]
    cell.source = cell.source.replace(BLANK_ANSWER, answer)
    nbformat.write(notebook, target)
    [reason] = re.findall(r"^# fails with: (.+)$", answer, re.MULTILINE)
    return reason


@pytest.mark.slow
def test_a_solved_a_blank_and_a_wrong_notebook_are_done_not_done_and_failing(class_folder: Path) -> None:
    shutil.copyfile(SOLUTION, class_folder / "01_solved.ipynb")
    shutil.copyfile(EXERCISE, class_folder / "01_blank.ipynb")
    reason = wrong_copy(class_folder / "01_wrong.ipynb")
    said: list[str] = []
    found = progress.check_folder(class_folder, say=said.append)

    assert [(task.notebook, task.check, task.status) for task in found] == [
        ("01_blank", "check_two_feature_model", "not done"),
        ("01_solved", "check_two_feature_model", "✓"),
        ("01_wrong", "check_two_feature_model", "failing"),
    ]
    blank, solved, wrong = found
    assert blank.reason.startswith("fit a scikit-learn model on X_train")
    assert solved.reason.startswith("a copy of your KNeighborsClassifier refitted")
    assert reason in wrong.reason
    assert said == [*map(str, found), "3 tasks in 3 notebooks: 1 ✓, 1 not done, 1 failing"]
    assert all("\n" not in line for line in said)


def test_a_task_whose_own_cell_crashed_is_failing_not_not_done() -> None:
    """The placeholder may still be there because the student's cell raised before assigning it."""
    crashed = new_output("error", ename="TypeError", evalue="fit() missing an argument", traceback=[])
    not_done = new_output("error", ename="CheckFailed", evalue="not done yet: assign `model`", traceback=[])
    notebook = new_notebook(
        cells=[
            new_code_cell("model = LogisticRegression().fit(X)", outputs=[crashed]),
            new_code_cell("checks.check_two_feature_model(model)", outputs=[not_done]),
            new_code_cell("checks.check_save_and_verify(save, verify, model)", outputs=[not_done]),
        ]
    )
    first, second = progress.tasks("01_x", notebook)
    assert (first.status, first.reason) == (
        "failing",
        "an earlier cell of the task raised TypeError: fit() missing an argument",
    )
    assert (second.status, second.reason) == ("not done", "assign `model`")
