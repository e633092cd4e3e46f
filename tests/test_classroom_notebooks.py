"""The notebooks as a classroom uses them: links that open in `make lab`, slides, deliberate errors.

- Every relative link and picture in a markdown cell (lecture notebooks, exercises, solutions)
  names a file or folder that exists under the folder `make lab` serves.
- A notebook carrying slide metadata presents as a talk: it starts on a slide and has at most
  MAX_SLIDES `slide` cells (the rest are `subslide`, `fragment`, `skip` or plain).
- At most one cell per notebook fails on purpose (tag `raises-exception`); any other deliberate
  failure is caught and printed as `type(err).__name__: err`, so the notebook still reads top
  to bottom and the one red traceback left stands out.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from tests.conftest import ROOT
from workshop import lab

FOLDERS = ("notebooks", "exercises", "solutions")
EVERY_NOTEBOOK = sorted(path for folder in FOLDERS for path in (ROOT / folder).glob("*.ipynb"))
LECTURE = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_SLIDES = 12
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
RAISES = "raises-exception"
# [text](target), ![alt](target "title"), <img src="target">, and reference definitions [x]: target
LINK = re.compile(
    r"!?\[[^\]]*\]\(\s*<?(?P<inline>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
    r"|<(?:img|a)\b[^>]*\b(?:src|href)=[\"'](?P<html>[^\"']+)[\"']"
    r"|^\s*\[[^\]]+\]:\s*(?P<reference>\S+)",
    re.M,
)


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def relative_links(markdown: str) -> list[str]:
    """The targets in `markdown` that point at this project (no scheme, no bare #anchor)."""
    targets = (next(group for group in match.groups() if group) for match in LINK.finditer(markdown))
    return [target for target in targets if not urlsplit(target).scheme and not target.startswith("#")]


def test_the_link_pattern_finds_each_kind_of_link() -> None:
    markdown = (
        "![pic](img/a.png) [next](01_x.ipynb#Glossary) [web](https://example.org) [top](#top)\n"
        '<img src="../bench/results/bench.png" width=400> [ex](<../exercises> "title")\n'
        "[ref]: ../solutions/01.ipynb\n"
    )
    assert relative_links(markdown) == [
        "img/a.png",
        "01_x.ipynb#Glossary",
        "../bench/results/bench.png",
        "../exercises",
        "../solutions/01.ipynb",
    ]


@pytest.mark.parametrize("path", EVERY_NOTEBOOK, ids=_name)
def test_every_relative_link_opens_under_the_labs_root(path: Path) -> None:
    root = lab.root_dir().resolve()
    assert root == ROOT.resolve()
    broken = []
    for cell in _read(path).cells:
        if cell.cell_type != "markdown":
            continue
        for link in relative_links(cell.source):
            target = (path.parent / unquote(urlsplit(link).path)).resolve()
            if not target.is_relative_to(root) or not target.exists():
                broken.append(link)
    assert broken == [], f"{_name(path)}: these links do not open in `make lab` (served from {root})"


def _slide_type(cell: nbformat.NotebookNode) -> str | None:
    slideshow = cell.metadata.get("slideshow")
    return slideshow.get("slide_type") if isinstance(slideshow, dict) else None


WITH_SLIDES = [path for path in LECTURE if any(_slide_type(cell) for cell in _read(path).cells)]


def test_every_stage_notebook_presents_as_slides() -> None:
    """`make slides` works for each stage the instructor presents (the appendices 98, 99 are read alone)."""
    stages = [path for path in LECTURE if not path.name.startswith("9")]
    assert ROOT / "notebooks" / "04_wrapper_class.ipynb" in stages
    assert [path.name for path in stages if path not in WITH_SLIDES] == []


@pytest.mark.parametrize("path", WITH_SLIDES, ids=_name)
def test_slides_start_on_a_slide_and_stay_within_the_limit(path: Path) -> None:
    types = [_slide_type(cell) for cell in _read(path).cells]
    assert types[0] == "slide", f"{_name(path)}: the first cell must be a slide"
    assert set(types) - {None} <= SLIDE_TYPES, f"{_name(path)}: unknown slide types {set(types) - SLIDE_TYPES}"
    slides = types.count("slide")
    assert slides <= MAX_SLIDES, f"{_name(path)} has {slides} `slide` cells; at most {MAX_SLIDES} (use subslide)"


@pytest.mark.parametrize("path", [p for p in EVERY_NOTEBOOK if not p.is_relative_to(ROOT / "exercises")], ids=_name)
def test_at_most_one_cell_fails_on_purpose(path: Path) -> None:
    raising = [i for i, cell in enumerate(_read(path).cells) if RAISES in cell.metadata.get("tags", [])]
    assert len(raising) <= 1, (
        f"{_name(path)}: cells {raising} are tagged {RAISES}; keep one, and catch the others: "
        "`except SomeError as err: print(f'{type(err).__name__}: {err}')`"
    )
