"""Exercises generated from their solutions (nbgrader style), so the two cannot drift apart: each
`### BEGIN/END SOLUTION` region becomes its `### HINT:` lines and a placeholder that keeps the notebook
runnable (the check after it says "not done yet", not NameError): `name = ...  # TODO` per name bound,
`return ...  # TODO` in a function, `# TODO` in a `%%writefile` of a file that is not Python."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat import NotebookNode

BEGIN, END, HINT = "### BEGIN SOLUTION", "### END SOLUTION", "### HINT:"
TODO = "...  # TODO"
TEXT_TODO = "# TODO"  # the placeholder in a file written by %%writefile that is not Python
WRITEFILE = "%%writefile"
NOTEBOOKS = "[0-9][0-9]*_*.ipynb"  # 07_server_room, 07c_kubernetes
HEADER_ID = "exercise-header"
HEADER = """\
**Exercise**, generated from [`solutions/{name}`](../solutions/{name}) by `make exercises`:
changes made in `exercises/` are overwritten. Work on your own copy: `make my-exercises`, then
open `my-exercises/{name}` with the kernel "Python (penguins-to-production)".

Replace every `...  # TODO` with your answer and run the check cell after it: it says what is
missing until it prints ✓. Stuck? The worked solution is in `solutions/`."""


class RegionError(ValueError):
    """A solution region that cannot become a runnable blank; says which notebook, cell and line."""


def blank_regions(source: str) -> str:
    """The source of one code cell with every solution region replaced by hints + placeholder."""
    first = source.split("\n", 1)[0].split()
    text = bool(first) and first[0] == WRITEFILE and not first[-1].endswith(".py")
    lines: list[str] = []
    region: list[str] | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN and region is None:
            region, indent = [], line[: len(line) - len(line.lstrip())]
        elif marker == END and region is not None:
            hints = [code.strip()[len(HINT) :].strip() for code in region if code.strip().startswith(HINT)]
            answer = "\n".join(code for code in region if not code.strip().startswith(HINT))
            blank = [f"{indent}{TEXT_TODO}"] if text else [f"{indent}return {TODO}"] if indent else []
            lines += [f"{indent}# HINT: {hint}" for hint in hints] + (
                blank or [f"{name} = {TODO}" for name in bound_names(answer)]
            )
            region = None
        elif marker in (BEGIN, END):
            raise RegionError(
                f"line {number}: {marker} " + ("inside another region" if region is not None else f"without {BEGIN}")
            )
        elif region is not None:
            region.append(line)
        else:
            lines.append(line)
    if region is not None:
        raise RegionError(f"{BEGIN} without {END}")
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")


def bound_names(code: str) -> list[str]:
    """The names a top-level answer assigns or defines, in order (imports do not count); at least one,
    since the check after it needs a name that can be "not done yet"."""
    try:
        tree = ast.parse(code)
    except SyntaxError as error:
        raise RegionError(f"the answer is not plain Python ({error.msg}, line {error.lineno})") from None
    names: dict[str, None] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = None
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(dict.fromkeys(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)))
    if not names:
        raise RegionError("the answer binds no name: assign it to a variable the check can look at")
    return list(names)


def generate(solution_path: Path) -> NotebookNode:
    """The exercise notebook made from one solution notebook."""
    notebook = nbformat.read(solution_path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            try:
                cell.source = blank_regions(cell.source)
            except RegionError as error:
                raise RegionError(f"{Path(solution_path).name}, cell {index}: {error}") from None
            cell.outputs, cell.execution_count = [], None
        cell.metadata = {key: value for key, value in cell.metadata.items() if key == "tags"}
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(HEADER.format(name=Path(solution_path).name), id=HEADER_ID))
    nbformat.validate(notebook)
    return notebook


def stale(solutions_dir: Path, exercises_dir: Path, write: bool = False) -> list[Path]:
    """The exercise files that `make exercises` writes or removes (missing or edited, then orphaned);
    with `write`, writes or removes them."""
    expected = {
        Path(exercises_dir) / s.name: nbformat.writes(generate(s)) + "\n"
        for s in sorted(Path(solutions_dir).glob(NOTEBOOKS))
    }
    changed = [path for path, text in expected.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    changed += [path for path in sorted(Path(exercises_dir).glob(NOTEBOOKS)) if path not in expected]
    for path in changed if write else []:
        if path in expected:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(expected[path], encoding="utf-8")
        else:
            path.unlink()
    return changed


def copy_for_student(exercises_dir: Path, target_dir: Path, say: Callable[[str], None] = print) -> list[Path]:
    """Copy each exercise into `target_dir` unless a copy is already there: that one is the student's work."""
    Path(target_dir).mkdir(parents=True, exist_ok=True)
    copied = []
    for exercise in sorted(Path(exercises_dir).glob(NOTEBOOKS)):
        mine = Path(target_dir) / exercise.name
        if mine.exists():
            say(f"kept    {mine.parent.name}/{mine.name}: your work is never overwritten (delete it for a fresh copy)")
            continue
        shutil.copyfile(exercise, mine)
        copied.append(mine)
        say(f"copied  {mine.parent.name}/{mine.name}")
    return copied
