"""Exercise 07, task 3 (the Deployment's probes and strategy) against students' answers: every
right one passes, every wrong one fails with its own message, never the answer's lines. The task
moves to exercise 07c (checks.ex07c); this file goes when exercise 07 drops it. (Its cell was
k8s/deployment.yaml to the byte until k8s/ grew a preStop pause and enableServiceLinks.)

The answers are tests/exercise_variants/07/deployment_*.yaml, put into the solution notebook's
own `k8s-deployment.yaml` cell in place of its two regions. No engine, no cluster: the check
validates against the Kubernetes schema and the rules of workshop.k8s.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

from tests.conftest import ROOT
from workshop import exercises
from workshop.checks import ex07c

VARIANTS = ROOT / "tests" / "exercise_variants" / "07"
SOLUTION = ROOT / "solutions" / "07_server_room.ipynb"
FILE = "k8s-deployment.yaml"
REGIONS = ("strategy", "probes")  # the cell's regions, in order


def cell() -> str:
    """The body of the solution's %%writefile k8s-deployment.yaml cell."""
    notebook = nbformat.read(SOLUTION, as_version=4)
    (source,) = [
        c.source for c in notebook.cells if c.cell_type == "code" and c.source.startswith(f"%%writefile {FILE}")
    ]
    return source.partition("\n")[2]


def regions(body: str) -> list[tuple[int, int, str]]:
    """(first line, line after the end, indent) of each solution region of the cell."""
    lines, found, start = body.splitlines(), [], 0
    for number, line in enumerate(lines):
        if line.strip() == exercises.BEGIN:
            start = number
        elif line.strip() == exercises.END:
            found.append((start, number + 1, lines[start][: len(lines[start]) - len(lines[start].lstrip())]))
    return found


def write_answer(variant: dict[str, str], folder: Path) -> Path:
    """The file as the student's notebook writes it, with this variant's lines in each region."""
    lines = cell().splitlines()
    for (start, end, indent), key in reversed(list(zip(regions(cell()), REGIONS, strict=True))):
        lines[start:end] = [f"{indent}{line}" for line in variant[key].splitlines()]
    path = folder / FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def answer_lines() -> list[str]:
    body = cell().splitlines()
    return [
        body[number].strip()
        for start, end, _ in regions(cell())
        for number in range(start + 1, end - 1)
        if " " in body[number].strip() and not body[number].strip().startswith("###")
    ]


def load(path: Path) -> dict[str, str]:
    variant: dict[str, str] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return variant


def test_there_are_enough_variants() -> None:
    assert len(sorted(VARIANTS.glob("deployment_right_*.yaml"))) >= 3
    assert len(sorted(VARIANTS.glob("deployment_wrong_*.yaml"))) >= 3
    assert len(regions(cell())) == len(REGIONS)


@pytest.mark.parametrize("path", sorted(VARIANTS.glob("deployment_right_*.yaml")), ids=lambda p: p.stem)
def test_a_right_answer_passes(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ex07c.check_deployment(write_answer(load(path), tmp_path))
    said = capsys.readouterr().out
    assert said.startswith("✓ ") and "valid Deployment" in said and "/ready" in said, said


@pytest.mark.parametrize("path", sorted(VARIANTS.glob("deployment_wrong_*.yaml")), ids=lambda p: p.stem)
def test_a_wrong_answer_fails_with_its_message(path: Path, tmp_path: Path) -> None:
    variant = load(path)
    with pytest.raises(ex07c.CheckFailed) as caught:
        ex07c.check_deployment(write_answer(variant, tmp_path))
    message = str(caught.value)
    assert variant["expect"] in message, message
    assert "expected" in message and "found" in message and "Try:" in message, message
    assert not [line for line in answer_lines() if line in message], message


def test_the_blank_exercise_is_not_done_yet(tmp_path: Path) -> None:
    blank = exercises.blank_regions(f"{exercises.WRITEFILE} {FILE}\n{cell()}")
    (tmp_path / FILE).write_text(blank.partition("\n")[2], encoding="utf-8")
    with pytest.raises(ex07c.CheckFailed, match=r"^not done yet: "):
        ex07c.check_deployment(tmp_path / FILE)


def test_a_file_yaml_cannot_read_is_named(tmp_path: Path) -> None:
    (tmp_path / FILE).write_text("spec:\n  replicas: 3\n strategy: {}\n", encoding="utf-8")
    with pytest.raises(ex07c.CheckFailed, match=r"^the YAML: expected a file PyYAML can read; found .*line 3"):
        ex07c.check_deployment(tmp_path / FILE)
