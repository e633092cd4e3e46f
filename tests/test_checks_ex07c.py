"""Exercise 07c's check against students' answers: every right one passes (on paper, and on a
real cluster), every wrong one fails with its own message, never the answer's lines.

The answers are tests/exercise_variants/07c/*.yaml, put into the solution notebook's own
`penguins-k8s.yaml` cell in place of its region. A wrong answer is refused on paper without
touching a cluster (kubectl is replaced by a trap here), except the one marked `needs: cluster`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from tests.conftest import ROOT
from tests.test_k8s import pinned_image
from workshop import exercises, k8s
from workshop.checks import ex07c

VARIANTS = ROOT / "tests" / "exercise_variants" / "07c"
SOLUTION = ROOT / "solutions" / "07c_kubernetes.ipynb"
FILE = "penguins-k8s.yaml"


def cell() -> str:
    """The body of the solution's %%writefile cell."""
    notebook = nbformat.read(SOLUTION, as_version=4)
    (source,) = [c.source for c in notebook.cells if c.cell_type == "code" and c.source.startswith(exercises.WRITEFILE)]
    return source.partition("\n")[2]


def write_answer(answer: str, folder: Path) -> Path:
    """The file as the student's notebook writes it, with this answer in the region."""
    lines = cell().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == exercises.BEGIN)
    end = next(i for i, line in enumerate(lines) if line.strip() == exercises.END)
    path = folder / FILE
    path.write_text("\n".join([*lines[:start], answer.rstrip("\n"), *lines[end + 1 :]]) + "\n", encoding="utf-8")
    return path


def answer_lines() -> list[str]:
    """The solution's own lines (keys with their values), each of which a message must never give away."""
    lines = cell().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == exercises.BEGIN)
    code = [line.split("#")[0].strip() for line in lines[start + 1 : -1]]
    return [line for line in code if ": " in line and not line.startswith(("apiVersion", "kind", "name", "- name"))]


def load(path: Path) -> dict[str, Any]:
    variant: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return variant


RIGHT = sorted(VARIANTS.glob("right_*.yaml"))
WRONG = [path for path in sorted(VARIANTS.glob("wrong_*.yaml")) if load(path).get("needs") != "cluster"]
WRONG_ON_A_CLUSTER = [path for path in sorted(VARIANTS.glob("wrong_*.yaml")) if path not in WRONG]


@pytest.fixture
def no_cluster_touched(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster seems to answer, but any kubectl call fails the test."""

    def trap(*args: str, **kwargs: object) -> str:
        pytest.fail(f"a file refused on paper reached the cluster: kubectl {' '.join(args)}")

    monkeypatch.setattr(k8s, "unreachable", lambda: "")
    monkeypatch.setattr(k8s, "kubectl", trap)


def test_there_are_enough_variants() -> None:
    assert len(RIGHT) >= 2 and len(WRONG) >= 8 and WRONG_ON_A_CLUSTER
    needed = ("one_replica", "no_readiness", "liveness_on_ready", "port", "latest_always", "selector_not_the_templates")
    assert all(any(word in path.stem for path in WRONG) for word in needed)


def test_the_solution_runs_the_image_the_starter_names() -> None:
    assert f"image: {pinned_image()}" in cell()


@pytest.mark.parametrize("path", RIGHT, ids=lambda p: p.stem)
def test_a_right_answer_passes_on_paper(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(k8s, "unreachable", lambda: "no cluster in this test")
    ex07c.check_kubernetes(write_answer(load(path)["answer"], tmp_path))
    said = capsys.readouterr().out
    assert said.startswith("✓ ") and "not run on a cluster (no cluster in this test)" in said, said


@pytest.mark.parametrize("path", RIGHT, ids=lambda p: p.stem)
def test_a_right_answer_passes_on_a_cluster(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], k8s_cluster: None
) -> None:
    k8s.model_image()  # the image the answers name, built from this run's model
    ex07c.check_kubernetes(write_answer(load(path)["answer"], tmp_path))
    said = capsys.readouterr().out
    print(said)
    assert said.startswith("✓ ") and "on a cluster:" in said and "requests: 0 failed" in said, said


@pytest.mark.parametrize("path", WRONG, ids=lambda p: p.stem)
def test_a_wrong_answer_fails_on_paper_with_its_message(path: Path, tmp_path: Path, no_cluster_touched: None) -> None:
    variant = load(path)
    with pytest.raises(ex07c.CheckFailed) as caught:
        ex07c.check_kubernetes(write_answer(variant["answer"], tmp_path))
    message = str(caught.value)
    assert variant["expect"] in message, message
    assert "expected" in message and "found" in message and "Try:" in message, message
    assert not [line for line in answer_lines() if line in message], message


@pytest.mark.parametrize("path", WRONG_ON_A_CLUSTER, ids=lambda p: p.stem)
def test_a_wrong_answer_only_a_cluster_catches(path: Path, tmp_path: Path, k8s_cluster: None) -> None:
    variant = load(path)
    with pytest.raises(ex07c.CheckFailed) as caught:
        ex07c.check_kubernetes(write_answer(variant["answer"], tmp_path))
    assert variant["expect"] in str(caught.value), str(caught.value)
    assert "Try:" in str(caught.value)


def test_the_blank_exercise_is_not_done_yet(tmp_path: Path) -> None:
    blank = exercises.blank_regions(f"{exercises.WRITEFILE} {FILE}\n{cell()}")
    (tmp_path / FILE).write_text(blank.partition("\n")[2], encoding="utf-8")
    with pytest.raises(ex07c.CheckFailed, match=r"^not done yet: "):
        ex07c.check_kubernetes(tmp_path / FILE)


def test_a_file_yaml_cannot_read_is_named(tmp_path: Path) -> None:
    (tmp_path / FILE).write_text("kind: Deployment\nspec:\n  replicas: 3\n strategy: {}\n", encoding="utf-8")
    with pytest.raises(ex07c.CheckFailed, match=r"^the YAML: expected a file PyYAML can read; found .*line 4"):
        ex07c.check_kubernetes(tmp_path / FILE)
