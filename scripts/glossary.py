"""The lecture's Polish terms with the English names this repository uses (`glossary.toml`): the
README and notebook 00 show the whole table, each stage notebook its stage's terms, and a test checks
that they show exactly it. `python -m scripts.glossary [--notebooks]` prints the table (or rewrites
the notebooks' markdown copies, with no need to re-execute them). Nothing in the classroom imports it:
a maintainer's tool, like the guide.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat

from workshop.stages import NOTEBOOKS

FULL_GLOSSARY_LINK = "../README.md#glossary-słowniczek"  # where a notebook links to the whole table
LINE_START = "**Słowniczek / glossary:**"
TABLE_HEADER = "| lecture (Polish) | here (English) | stage |"


@dataclass(frozen=True)
class Term:
    """A term as said in Polish, as named here, its stage (and its one notebook, when named)."""

    polish: str
    english: str
    stage: int
    notebook: str = ""


def _term(stage: str, polish: str, said: str | dict[str, str]) -> Term:
    english, notebook = (said, "") if isinstance(said, str) else (said["english"], said["notebook"])
    return Term(polish, english, int(stage), notebook)


_TABLE = tomllib.loads(Path(__file__).with_name("glossary.toml").read_text("utf-8"))
GLOSSARY = tuple(_term(stage, polish, said) for stage, terms in _TABLE.items() for polish, said in terms.items())


def markdown_table() -> str:
    """The whole glossary as the README and notebook 00 show it."""
    rows = [TABLE_HEADER, "|---|---|---|"]
    rows += [f"| {t.polish} | {t.english} | {t.stage:02d} |" for t in GLOSSARY]
    return "\n".join(rows)


def stage_line(stage: int, notebook: str = "") -> str:
    """The top line of a stage's notebook (`notebook`, e.g. "07c_kubernetes"): its terms and a link to
    the rest. ValueError for a stage without terms: a notebook cannot promise what is not here."""
    terms = [term for term in GLOSSARY if term.stage == stage and term.notebook in ("", notebook)]
    if not terms:
        raise ValueError(f"the glossary has no terms for stage {stage}")
    listed = "; ".join(f"*{t.polish}* = {t.english}" for t in terms)
    return f"{LINE_START} {listed} ([all terms]({FULL_GLOSSARY_LINK}))"


def _rewritten(source: str, name: str) -> str:
    """A markdown cell of notebook `name` with its glossary line or table as written here."""
    lines = source.split("\n")
    if any(line.startswith(LINE_START) for line in lines):
        line_here = stage_line(int(name[:2]), name)
        return "\n".join(line_here if line.startswith(LINE_START) else line for line in lines)
    if TABLE_HEADER in lines:
        start = lines.index(TABLE_HEADER)
        end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
        return "\n".join([*lines[:start], markdown_table(), *lines[end:]])
    return source


def write_notebooks(folder: Path) -> list[Path]:
    """Rewrite the glossary's copies in the lecture notebooks in `folder` (markdown only); those changed."""
    changed = []
    for name in NOTEBOOKS:
        path = folder / f"{name}.ipynb"
        if not path.exists():
            continue
        nb = nbformat.read(path, as_version=4)
        before = [cell.source for cell in nb.cells]
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                cell.source = _rewritten(cell.source, name)
        if [cell.source for cell in nb.cells] != before:
            nbformat.write(nb, path)
            changed.append(path)
    return changed


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m scripts.glossary", description=__doc__)
    parser.add_argument("--notebooks", action="store_true", help="rewrite its copies in notebooks/ instead")
    if parser.parse_args().notebooks:
        for path in write_notebooks(Path(__file__).resolve().parents[1] / "notebooks"):
            print(f"wrote {path.name}")
    else:
        print(markdown_table())
