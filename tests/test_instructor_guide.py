"""notebooks/INSTRUCTOR.md: a "before class" checklist first, then one section per notebook of the
stage table, each with the same five parts. Sections may be written ahead of the table (a notebook
on its way); a notebook the table names without a section here fails."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from workshop import stages

GUIDE = ROOT / "notebooks" / "INSTRUCTOR.md"
PARTS = ("Time", "Say", "Type live", "Goes wrong → fix", "Reset")


def _split(text: str, level: str) -> dict[str, str]:
    """Headings of one level (`##`, `###`) mapped to the text under each, in the file's order."""
    pieces = re.split(rf"^{level} (.+)$", text, flags=re.M)
    return {title.strip(): body.strip() for title, body in zip(pieces[1::2], pieces[2::2], strict=True)}


SECTIONS = _split(GUIDE.read_text(encoding="utf-8"), "##")


def test_the_guide_opens_with_the_before_class_checklist() -> None:
    first, checklist = next(iter(SECTIONS.items()))
    assert first == "Before class"
    items = re.findall(r"^- \[ \] (.+)$", checklist, re.M)
    assert len(items) >= 6
    for command in ("make prep", "make doctor", "make lab", "docker compose version", "make stop", "make reset"):
        assert command in checklist, f"the checklist should mention `{command}`"


@pytest.mark.parametrize("notebook", stages.NOTEBOOKS)
def test_every_notebook_of_the_stage_table_has_its_five_parts(notebook: str) -> None:
    assert notebook in SECTIONS, f"notebooks/INSTRUCTOR.md has no section `## {notebook}`"
    parts = _split(SECTIONS[notebook], "###")
    assert tuple(parts) == PARTS, f"{notebook}: the parts should be {PARTS}, in that order"
    empty = [part for part, text in parts.items() if len(text.split()) < 2]
    assert not empty, f"{notebook}: nothing written under {empty}"


def test_sections_follow_the_stage_table() -> None:
    order = [title for title in SECTIONS if title in stages.NOTEBOOKS]
    assert order == [notebook for notebook in stages.NOTEBOOKS if notebook in order]


def test_a_section_missing_a_part_is_noticed() -> None:
    text = "## 04_wrapper_class\n\n### Time\n20 minutes.\n\n### Say\nThe wrapper.\n\n### Reset\nRestart.\n"
    parts = _split(_split(text, "##")["04_wrapper_class"], "###")
    assert tuple(parts) == ("Time", "Say", "Reset") != PARTS
