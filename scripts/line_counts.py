"""Formatter-neutral line counts of issue 24's two budgets, per module, between two commits.

A raw `wc -l` rewards squeezing code onto fewer lines. Here each file of a commit is put through
`ruff format` with the project's own settings first, then only the lines that hold code or a
docstring are counted (blank and comment-only lines are not), so the same code counts the same
however it was laid out. Usage: `python scripts/line_counts.py [BEFORE] [AFTER]` (commits; the
defaults are the issue's start and HEAD); `make lines` runs it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = "d351afa"  # main when issue 24 was filed: src/workshop 8,080 raw lines, serving 2,440
BUDGETS = {"src/workshop": 2 / 3, "src/penguins/serving": None}  # a third off; serving: a fixed cap
SERVING_CAP = 1800


def git(*args: str) -> str:
    """One git command's output, in the repository."""
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def counted(text: str) -> int:
    """Lines holding code or a docstring: not blank, not only a comment."""
    return sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def formatted_counts(sources: dict[str, str]) -> dict[str, int]:
    """Each source (by its path) put through ruff format with the project's settings, then counted."""
    with tempfile.TemporaryDirectory() as tmp:
        for path, text in sources.items():
            target = Path(tmp, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        config = ROOT / "pyproject.toml"
        subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", "--config", str(config), tmp], check=True)
        return {path: counted(Path(tmp, path).read_text()) for path in sources}


def module_counts(commit: str, folder: str) -> dict[str, int]:
    """Each module of `folder` at `commit` and its counted lines."""
    paths = [p for p in git("ls-tree", "-r", "--name-only", commit, "--", folder).split() if p.endswith(".py")]
    counts = formatted_counts({path: git("show", f"{commit}:{path}") for path in paths})
    return {path.removeprefix(folder + "/"): n for path, n in counts.items()}


def table(folder: str, before: str, after: str) -> tuple[str, int, int]:
    """A markdown table of one folder's modules before and after, with the totals."""
    old, new = module_counts(before, folder), module_counts(after, folder)
    rows = [f"| `{folder}` module | {before} | {after} | change |", "| --- | ---: | ---: | ---: |"]
    for name in sorted(old.keys() | new.keys(), key=lambda n: -max(old.get(n, 0), new.get(n, 0))):
        a, b = old.get(name, 0), new.get(name, 0)
        if a or b:
            rows.append(f"| {name} | {a:,} | {b:,} | {b - a:+,} |")
    total_old, total_new = sum(old.values()), sum(new.values())
    rows.append(f"| **total** | **{total_old:,}** | **{total_new:,}** | **{total_new - total_old:+,}** |")
    return "\n".join(rows), total_old, total_new


def main(before: str = START, after: str = "HEAD") -> int:
    """Print both tables and each budget's verdict; exit 1 when a budget is over."""
    over = False
    for folder, share in BUDGETS.items():
        text, total_old, total_new = table(folder, before, after)
        budget = round(total_old * share) if share else SERVING_CAP
        verdict = "within" if total_new <= budget else "OVER"
        over |= total_new > budget
        print(f"{text}\n\nbudget {budget:,} lines: {total_new:,} is {verdict}\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
