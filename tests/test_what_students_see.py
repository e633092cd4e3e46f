"""What a student reads is what a student sees (rule 6 of DESIGN.md): no committed output and no
markdown of the notebooks, exercises and solutions, and nothing in the instructor guide, speaks of
the machine it was executed on: its CI base images, its missing registries or tools, the
deprecation banners of its tools. Where this machine cannot run something a laptop can, a test's
skip reason says so, never the notebook. A banner is removed by removing its cause (BuildKit for
`docker build`), never by filtering outputs.

Code cells' sources are not scanned: they are what a student types, and outputs are what the
machine said. Matching ignores case, backticks and line breaks.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT

PHRASES = (
    "penguins-base",  # CI's registry-free base images
    "mmdebstrap",
    "docker-engine.sh",
    "stand-in",
    "stands in for",
    "legacy builder",  # the docker CLI's banner without buildx
    "install the buildx component",
    "no registry",
    "cannot run on this machine",
    "can run on this machine",
    "not installed: run make",
    "validated here, not run",
    "no docker engine here",
    "the cells below skip",
)
GUIDE = ROOT / "notebooks" / "INSTRUCTOR.md"
NOTEBOOKS = sorted(
    path for folder in ("notebooks", "exercises", "solutions") for path in (ROOT / folder).glob("*.ipynb")
)
# Known, named exceptions: each fails the scan today for the reason given, until the rewrite that
# removes its cause lands (the lead deletes the entry then; an entry that no longer fails is an error).
# Never add an entry for a phrase in new work, and never shorten PHRASES to make a file pass.
KNOWN: dict[str, str] = {}


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").split()).lower()


def found_in(text: str) -> list[str]:
    """The phrases `text` holds."""
    plain = _plain(text)
    return [phrase for phrase in PHRASES if _plain(phrase) in plain]


def _read(cell: nbformat.NotebookNode) -> list[str]:
    """A markdown cell's text, or every textual output of a code cell (pictures are base64: left out)."""
    if cell.cell_type == "markdown":
        return [cell.source]
    texts = []
    for output in cell.get("outputs", []):
        texts += [output.get("text", ""), output.get("evalue", ""), *output.get("traceback", [])]
        texts += [value for kind, value in output.get("data", {}).items() if not kind.startswith("image/")]
    return [text if isinstance(text, str) else "".join(text) for text in texts]


def scan_notebook(path: Path) -> list[str]:
    """`cell N: "phrase"` for every phrase in an output or a markdown cell of the notebook."""
    cells = nbformat.read(path, as_version=4).cells
    return [
        f"cell {index}: {phrase!r}" for index, cell in enumerate(cells) for phrase in found_in("\n".join(_read(cell)))
    ]


def guide_sections() -> dict[str, str]:
    pieces = re.split(r"^## (.+)$", GUIDE.read_text(encoding="utf-8"), flags=re.M)
    return {"(top)": pieces[0], **dict(zip(pieces[1::2], pieces[2::2], strict=True))}


def _judge(name: str, findings: list[str]) -> None:
    if name in KNOWN:
        if not findings:
            pytest.fail(f"{name} passes the scan now: delete its entry from KNOWN ({KNOWN[name]})")
        pytest.xfail(f"known: {KNOWN[name]}; found {findings}")
    assert not findings, f"{name} speaks of the machine it ran on: {'; '.join(findings)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_output_or_markdown_speaks_of_the_machine(path: Path) -> None:
    _judge(path.relative_to(ROOT).as_posix(), scan_notebook(path))


@pytest.mark.parametrize("section", list(guide_sections()))
def test_the_instructor_guide_speaks_of_laptops_not_of_this_machine(section: str) -> None:
    _judge(f"notebooks/INSTRUCTOR.md#{section}", [repr(p) for p in found_in(guide_sections()[section])])


def test_the_scan_finds_a_phrase_in_outputs_and_markdown_but_not_in_code(tmp_path: Path) -> None:
    banner = "DEPRECATED: The legacy builder is deprecated\n            Install the buildx component"
    cells = [
        nbformat.v4.new_markdown_cell("On this laptop it runs. The image `penguins-base:bookworm`."),
        nbformat.v4.new_code_cell("print('no registry')  # code a student types is not scanned"),
        nbformat.v4.new_code_cell("!docker build ."),
        nbformat.v4.new_markdown_cell("onnxruntime-node is not installed:\nrun `make node-env`"),
    ]
    cells[2].outputs = [nbformat.v4.new_output("stream", name="stderr", text=banner)]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / "x.ipynb")
    assert scan_notebook(tmp_path / "x.ipynb") == [
        "cell 0: 'penguins-base'",
        "cell 2: 'legacy builder'",
        "cell 2: 'install the buildx component'",
        "cell 3: 'not installed: run make'",
    ]
    assert all(found_in(phrase.upper()) for phrase in PHRASES)
