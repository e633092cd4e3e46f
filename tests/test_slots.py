"""A notebook's minutes come from the notebook: words said, lines typed or shown, its recorded run."""

from __future__ import annotations

from scripts import slots


def cell(kind: str, source: str, *tags: str) -> dict:
    return {"cell_type": kind, "source": source, "metadata": {"tags": list(tags)}}


def test_each_part_counts_at_its_own_rate() -> None:
    notebook = {
        "cells": [
            cell("markdown", "![stage](img/x.png)\n" + " ".join(["word"] * 260)),  # 2 minutes said
            cell("code", "import json\n\n# a comment\nprint(1)\nprint(2)\n", "type-live"),  # 3 typed: 60 s
            cell("code", '%%writefile Dockerfile\nFROM python:3.11-slim\n# why\nCMD ["x"]\n'),  # 2 shown: 12 s
            cell("raw", "not counted at all"),
        ],
        "metadata": {"penguins": {"run_seconds": 48}},
    }
    slot = slots.measure(notebook)
    assert (slot.words, slot.typed_lines, slot.shown_lines, slot.run_seconds) == (260, 3, 2, 48)
    assert slot.minutes == 5  # 120 + 60 + 12 + 48 + 60 = 300 s


def test_minutes_round_up_and_a_notebook_never_run_counts_no_run_time() -> None:
    notebook = {"cells": [cell("code", "x = 1\n")], "metadata": {}}
    assert slots.measure(notebook).run_seconds == 0
    assert slots.measure(notebook).minutes == 2  # 6 s + 60 s: a second minute begun


def test_the_recorded_run_time_rounds_up_to_five_seconds() -> None:
    assert [slots.recorded_run_seconds(s) for s in (0.2, 5.0, 5.1, 61)] == [5, 5, 10, 65]
