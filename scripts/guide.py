"""`python -m scripts.guide` (run by `make notebooks`): the Time of each section of
`notebooks/INSTRUCTOR.md`, its first table and the README's course total, written from the notebooks
(typed by hand, they drifted): a lecture notebook's minutes from `scripts/slots.py`, an exercise's
from its solution's `**Time:** about N minutes`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from scripts import slots
from workshop.stages import APPENDICES, EXERCISES, NOTEBOOKS

GUIDE = Path("notebooks") / "INSTRUCTOR.md"
README = Path("README.md")
START = "<!-- minutes: written by `python -m scripts.guide` from the notebooks; edit the notebooks, not this -->"
END = "<!-- end of minutes -->"
_BLOCK = re.compile(rf"{re.escape(START)}\n(?:.*?\n)?{re.escape(END)}", re.S)
# "**Time:** about 15 minutes" in the first cell of an exercise's solution: its estimate, stated once.
ESTIMATE = re.compile(r"\*\*Time:\*\* about (\d+) minutes")
# A section's Time part begins with its minutes; what follows them on the line is the author's note.
_TIME = re.compile(r"^(## (\S+)\n\n### Time\n)\d+ minutes", re.M)


def minutes(root: Path, names: tuple[str, ...] = NOTEBOOKS) -> dict[str, int]:
    """Each notebook's minutes (the lecture's by default), in order."""
    return {name: slots.of(root / "notebooks" / f"{name}.ipynb").minutes for name in names}


def exercise_minutes(root: Path) -> dict[str, int | None]:
    """Each exercise's estimate from its solution's header, None where the header states none."""
    found: dict[str, int | None] = {}
    for name in (Path(exercise).stem for exercise in EXERCISES):
        cell = json.loads((root / "solutions" / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"][0]
        match = ESTIMATE.search("".join(cell["source"]))  # a list of lines or one string
        found[name] = int(match.group(1)) if match else None
    return found


def totals(root: Path) -> tuple[int, int]:
    """The lecture's minutes and the exercises' (those that state an estimate)."""
    return sum(minutes(root).values()), sum(m for m in exercise_minutes(root).values() if m)


def table(root: Path) -> str:
    """The guide's first table: every notebook and exercise with its minutes, and the totals."""
    lecture, exercises = minutes(root), exercise_minutes(root)
    taught, practised = totals(root)
    rows = ["| part | minutes | how the minutes are known |", "|---|---:|---|"]
    rows += [f"| `notebooks/{name}` | {taken} | computed (`scripts/slots.py`) |" for name, taken in lecture.items()]
    rows.append(f"| **the lecture, {len(lecture)} slots** | **{taught}** | |")
    for name, estimate in exercises.items():
        said = "the exercise's own estimate" if estimate else "not stated yet: left out of the total"
        rows.append(f"| `exercises/{name}` | {estimate or '-'} | {said} |")
    rows.append(f"| **the exercises** | **{practised}** | |")
    rows.append(f"| **the course** | **{taught + practised}** | |")
    rows += [
        f"| `notebooks/{name}` (appendix, optional) | {taken} | computed; outside the course's total |"
        for name, taken in minutes(root, APPENDICES).items()
    ]
    return "\n".join(rows)


def readme_line(root: Path) -> str:
    taught, practised = totals(root)
    return (
        f"The course takes **{taught + practised} minutes**: {taught} for the lecture's "
        f"{len(NOTEBOOKS)} notebooks, {practised} for the exercises (`notebooks/INSTRUCTOR.md` "
        "lists each part)."
    )


def _block(text: str, body: str, where: Path) -> str:
    if not _BLOCK.search(text):
        raise ValueError(f"{where} has no block between {START!r} and {END!r}")
    return _BLOCK.sub(lambda _: f"{START}\n{body}\n{END}", text, count=1)


def render_guide(text: str, root: Path) -> str:
    """The guide with its table and every section's minutes written from the notebooks."""
    lecture = minutes(root)
    text = _block(text, table(root), GUIDE)
    return _TIME.sub(
        lambda m: f"{m.group(1)}{lecture[m.group(2)]} minutes" if m.group(2) in lecture else m.group(0), text
    )


def render_readme(text: str, root: Path) -> str:
    return _block(text, readme_line(root), README)


def main(root: Path) -> int:
    """Rewrite the guide's and the README's minutes; say which files changed."""
    for path, render in ((GUIDE, render_guide), (README, render_readme)):
        before = (root / path).read_text(encoding="utf-8")
        after = render(before, root)
        if after != before:
            (root / path).write_text(after, encoding="utf-8")
        print(f"{path}: {'rewritten' if after != before else 'already current'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(__file__).resolve().parents[1]))
