"""The lecture notebooks as committed: what a reader on GitHub sees.

nbval (the `notebooks` folder in `make test`) proves that they run; these tests check the
files themselves: executed top to bottom, no absolute path and no unexpected error in any
output, no warning spam, the stage picture and glossary on top, a "what we proved" at the end.
Re-execute them with `make notebooks`.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
import pytest

from scripts import glossary
from scripts.execute import KERNELSPEC, lecture_notebooks, normalise
from tests.conftest import ROOT
from workshop import stages

NOTEBOOKS = ROOT / "notebooks"
LECTURE = lecture_notebooks(NOTEBOOKS)
EVERY = lecture_notebooks(NOTEBOOKS, (*stages.NOTEBOOKS, *stages.APPENDICES))  # the appendices too
RERUN = "re-execute with `make notebooks`"
# A path on someone's machine: Unix homes and temp folders, macOS users, Windows drives.
ABSOLUTE_PATH = re.compile(r"(/work/|/root/|/tmp/|/home/|/Users/|/private/var/|\b[A-Za-z]:\\)")
RAISES = "raises-exception"


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _stage(path: Path) -> int:
    return int(path.name[:2])


def _texts(cell: nbformat.NotebookNode) -> list[str]:
    """The source and every textual output of a cell (images are base64, so left out)."""
    texts = [cell.source]
    for output in cell.get("outputs", []):
        texts.append(output.get("text", ""))
        texts.append(output.get("evalue", ""))
        texts.extend(output.get("traceback", []))
        for kind, value in output.get("data", {}).items():
            if not kind.startswith("image/"):
                texts.append(value if isinstance(value, str) else str(value))
    return texts


def test_every_stage_has_its_notebooks() -> None:
    assert [path.stem for path in LECTURE] == list(stages.NOTEBOOKS)
    assert all(notebook.startswith(f"{stage.name}") for stage in stages.STAGES for notebook in stage.notebooks)


@pytest.mark.parametrize("path", EVERY, ids=lambda p: p.stem)
def test_executed_top_to_bottom_and_normalised(path: Path) -> None:
    nb = _read(path)
    counts = [cell.execution_count for cell in nb.cells if cell.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1)), f"{path.name} is not executed in order: {RERUN}"
    assert nb.metadata["kernelspec"] == KERNELSPEC
    assert normalise(copy.deepcopy(nb)) == nb, f"{path.name} holds volatile metadata: {RERUN}"


def _absolute_paths(text: str) -> list[str]:
    """Each absolute path in `text`, with a little context; the checkout's own path counts too."""
    hits = [text[max(0, m.start() - 30) : m.end() + 30] for m in ABSOLUTE_PATH.finditer(text)]
    return hits + ([str(ROOT)] if str(ROOT) in text else [])


@pytest.mark.parametrize("path", EVERY, ids=lambda p: p.stem)
def test_no_absolute_path_anywhere(path: Path) -> None:
    nb = _read(path)
    found = {
        index: hits
        for index, cell in enumerate(nb.cells)
        if (hits := [hit for text in _texts(cell) for hit in _absolute_paths(text)])
    }
    assert not found, f"{path.name} shows absolute paths (print them with workshop.notebook.shown): {found}"


def test_the_path_check_catches_a_path() -> None:
    assert _absolute_paths("model file /home/ada/penguins/artifacts/x.pkl is missing")
    assert _absolute_paths(f"saved to {ROOT}/artifacts")
    assert not _absolute_paths("model file ../artifacts/scratch/x.pkl; see artifacts/x.pkl.json")


@pytest.mark.parametrize("path", EVERY, ids=lambda p: p.stem)
def test_errors_only_where_tagged_and_no_warnings(path: Path) -> None:
    nb = _read(path)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        kinds = [output.output_type for output in cell.outputs]
        tagged = RAISES in cell.metadata.get("tags", [])
        if tagged:
            assert kinds.count("error") == 1, f"{path.name} cell {index} is tagged {RAISES} but shows no error"
        else:
            assert "error" not in kinds, f"{path.name} cell {index} shows an unexpected error: {RERUN}"
        streams = [output.text for output in cell.outputs if output.output_type == "stream" and output.name == "stderr"]
        assert not streams, f"{path.name} cell {index} writes to stderr (warning spam?): {streams}"


@pytest.mark.parametrize("path", LECTURE, ids=lambda p: p.stem)
def test_first_code_cell_checks_the_environment(path: Path) -> None:
    first = next(cell for cell in _read(path).cells if cell.cell_type == "code")
    assert "check_environment()" in first.source and "tidy_output()" in first.source


@pytest.mark.parametrize("path", [p for p in LECTURE if _stage(p) >= 1], ids=lambda p: p.stem)
def test_stage_notebook_opens_with_its_picture_and_terms_and_ends_with_proof(path: Path) -> None:
    stage = _stage(path)
    nb = _read(path)
    top, last = nb.cells[0], nb.cells[-1]
    picture = f"img/bird_eye_stage{stage}.png"
    assert top.source.startswith(f"# {path.stem.split('_')[0]} ·")  # 02a, 02b: a stage in several notebooks
    assert f"]({picture})" in top.source and (NOTEBOOKS / picture).exists()
    assert glossary.stage_line(stage, path.stem) in top.source, f"re-generate the glossary line of {path.name}"
    assert last.cell_type == "markdown" and "## What we proved" in last.source
    steps = set(re.findall(r"\*\*steps? ([0-9])", last.source))
    headings = set(re.findall(r"^### ([0-9]) ·", "\n".join(c.source for c in nb.cells), re.M))
    assert steps and steps <= headings, f"{path.name}: 'what we proved' points at steps that do not exist"


def test_big_picture_shows_the_image_links_every_notebook_and_the_glossary() -> None:
    nb = _read(NOTEBOOKS / "00_big_picture.ipynb")
    markdown = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert "](img/bird_eye.png)" in markdown and (NOTEBOOKS / "img" / "bird_eye.png").exists()
    linked = set(re.findall(r"\]\(([0-9][^)#]*)\.ipynb\)", markdown))
    assert linked == {path.stem for path in LECTURE if path.stem != "00_big_picture"}, "00 links every stage notebook"
    assert "](../README.md#the-stages)" in markdown  # the stage table with exercises, targets, ports
    assert "## Glossary" in markdown and "](../README.md#glossary-słowniczek)" in markdown  # the whole table
    images = [
        kind
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        for kind in output.get("data", {})
        if kind.startswith("image/")
    ]
    assert not images, "the picture belongs in markdown (it renders on GitHub), not in a cell output"


def test_readme_shows_the_glossary_and_the_picture() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert glossary.markdown_table() in readme, "paste `python -m scripts.glossary` into the README"
    assert "](notebooks/img/bird_eye.png)" in readme
