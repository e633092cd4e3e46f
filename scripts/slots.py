"""A lecture notebook's minutes in front of a room (a slot is 15), computed from the notebook itself:
each part at the rate the instructor spends on it: markdown said aloud, lines of `type-live` cells
typed, every other code line (`%%writefile` bodies too) walked through, not typed (at the typing
rate a 40-line compose file alone would take 13 minutes), the run time `make notebooks` recorded,
and one minute for a question.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WORDS_PER_MINUTE = 130
SECONDS_PER_TYPED_LINE = 20
SECONDS_PER_SHOWN_LINE = 6
QUESTION_MINUTES = 1
SLOT_MINUTES = 15

TYPE_LIVE = "type-live"  # the cell tag of what the instructor types in front of the room
RUN_SECONDS = "run_seconds"  # the key `make notebooks` writes under the notebook's metadata "penguins"
METADATA = "penguins"

_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")  # a picture is looked at, not read out


@dataclass(frozen=True)
class Slot:
    """What a notebook asks of a live slot, part by part."""

    words: int
    typed_lines: int
    shown_lines: int
    run_seconds: float

    @property
    def minutes(self) -> int:
        """Whole minutes, rounded up: the figure the guide states."""
        seconds = (
            self.words / WORDS_PER_MINUTE * 60
            + self.typed_lines * SECONDS_PER_TYPED_LINE
            + self.shown_lines * SECONDS_PER_SHOWN_LINE
            + self.run_seconds
            + QUESTION_MINUTES * 60
        )
        return math.ceil(seconds / 60)


def code_lines(source: str) -> int:
    """Lines that carry code: not blank, not a comment, not the `%%writefile` magic itself."""
    lines = (line.strip() for line in source.splitlines())
    return sum(1 for line in lines if line and not line.startswith("#") and not line.startswith("%%"))


def measure(notebook: dict[str, Any]) -> Slot:
    """The slot a notebook (as JSON) needs."""
    said = typed = shown = 0
    for cell in notebook["cells"]:
        text = "".join(cell.get("source", ""))  # a list of lines or one string
        if cell["cell_type"] == "markdown":
            said += len(_IMAGE.sub("", text).split())
        elif cell["cell_type"] == "code":
            if TYPE_LIVE in cell.get("metadata", {}).get("tags", []):
                typed += code_lines(text)
            else:
                shown += code_lines(text)
    run = float(notebook.get("metadata", {}).get(METADATA, {}).get(RUN_SECONDS, 0))
    return Slot(words=said, typed_lines=typed, shown_lines=shown, run_seconds=run)


def of(path: Path) -> Slot:
    """The slot of the notebook at `path`."""
    return measure(json.loads(path.read_text(encoding="utf-8")))


def recorded_run_seconds(seconds: float) -> int:
    """What `make notebooks` records: whole seconds rounded up to 5, so re-runs rarely change it."""
    return 5 * math.ceil(seconds / 5)
