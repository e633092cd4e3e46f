"""Exercises generated from their solutions: one source of truth, so the two cannot drift apart.

A solution notebook marks each answer inside a code cell, in the style of nbgrader:

    ### BEGIN SOLUTION
    ### HINT: what to try (optional; any number of these lines)
    model = ...the worked answer...
    ### END SOLUTION

The exercise keeps everything else and turns each region into its hints plus a placeholder
that keeps the notebook runnable, so the check cell after it fails with its own message
("not done yet: ...") rather than with a NameError:
- at the top level of a cell, every name the answer binds becomes `name = ...  # TODO`;
- indented inside a function body, the region becomes `return ...  # TODO`;
- in a `%%writefile` cell whose file is not Python (a Dockerfile, YAML, requirements: any
  file whose comments start with `#`), the region becomes the comment line `# TODO`, which
  keeps the file well-formed; the check that reads the file answers "not done yet" to it.
Outputs are cleared and a header cell says the notebook is generated and where its solution
is. Students work on copies in `my-exercises/` (git-ignored), so regenerating never touches
their answers and pulling never conflicts with them.
"""

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

Say = Callable[[str], None]


class RegionError(ValueError):
    """A solution region that cannot become a runnable blank; says which notebook, cell and line."""


def blank_regions(source: str) -> str:
    """The source of one code cell with every solution region replaced by hints + placeholder."""
    text = writes_text_file(source)
    lines: list[str] = []
    region: list[str] | None = None
    indent = ""
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if region is not None:
                raise RegionError(f"line {number}: {BEGIN} inside another region")
            region, indent = [], line[: len(line) - len(line.lstrip())]
        elif marker == END:
            if region is None:
                raise RegionError(f"line {number}: {END} without {BEGIN}")
            lines += _blank(region, indent, text)
            region = None
        elif region is not None:
            region.append(line)
        else:
            lines.append(line)
    if region is not None:
        raise RegionError(f"{BEGIN} without {END}")
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")


def writes_text_file(source: str) -> bool:
    """Whether the cell writes a file that is not Python: `%%writefile [-a] name` on its first
    line, with a name that does not end in .py (a Dockerfile, a YAML file, ...)."""
    words = source.split("\n", 1)[0].split()
    return bool(words) and words[0] == WRITEFILE and not words[-1].endswith(".py")


def _blank(region: list[str], indent: str, text: bool = False) -> list[str]:
    """Hints first, then the placeholder that keeps the cell runnable (or the file well-formed)."""
    hints = [line.strip()[len(HINT) :].strip() for line in region if line.strip().startswith(HINT)]
    comments = [f"{indent}# HINT: {hint}" for hint in hints]
    if text:
        return [*comments, f"{indent}{TEXT_TODO}"]
    if indent:
        return [*comments, f"{indent}return {TODO}"]
    code = "\n".join(line for line in region if not line.strip().startswith(HINT))
    return [*comments, *(f"{name} = {TODO}" for name in bound_names(code))]


def bound_names(code: str) -> list[str]:
    """The names a top-level answer assigns or defines, in order; imports do not count.

    A region must bind at least one: the check after it needs a name to look at, and a
    region that binds none would leave nothing that can be "not done yet".
    """
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
            for target in targets:
                names.update(dict.fromkeys(n.id for n in ast.walk(target) if isinstance(n, ast.Name)))
    if not names:
        raise RegionError("the answer binds no name: assign it to a variable the check can look at")
    return list(names)


def generate(solution_path: Path) -> NotebookNode:
    """The exercise notebook made from one solution notebook."""
    solution_path = Path(solution_path)
    notebook = nbformat.read(solution_path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            try:
                cell.source = blank_regions(cell.source)
            except RegionError as error:
                raise RegionError(f"{solution_path.name}, cell {index}: {error}") from None
            cell.outputs, cell.execution_count = [], None
        cell.metadata = {key: value for key, value in cell.metadata.items() if key == "tags"}
    header = nbformat.v4.new_markdown_cell(HEADER.format(name=solution_path.name), id=HEADER_ID)
    notebook.cells.insert(0, header)
    nbformat.validate(notebook)
    return notebook


def render(notebook: NotebookNode) -> str:
    """The exact text written to disk, so staleness is a plain comparison of texts."""
    return nbformat.writes(notebook) + "\n"


def solutions(solutions_dir: Path) -> list[Path]:
    return sorted(Path(solutions_dir).glob(NOTEBOOKS))


def _expected(solutions_dir: Path, exercises_dir: Path) -> dict[Path, str]:
    """Every exercise file that should exist, with its text."""
    return {Path(exercises_dir) / s.name: render(generate(s)) for s in solutions(solutions_dir)}


def _stale(exercises_dir: Path, expected: dict[Path, str]) -> list[Path]:
    """Exercises missing or edited (their text differs), then those whose solution was renamed or removed."""
    differ = [path for path, text in expected.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    return differ + [path for path in sorted(Path(exercises_dir).glob(NOTEBOOKS)) if path not in expected]


def write_all(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """Regenerate `exercises_dir`; returns the files written or removed (unchanged ones are left)."""
    expected = _expected(solutions_dir, exercises_dir)
    Path(exercises_dir).mkdir(parents=True, exist_ok=True)
    changed = _stale(exercises_dir, expected)
    for path in changed:
        if path in expected:
            path.write_text(expected[path], encoding="utf-8")
        else:
            path.unlink()
    return changed


def stale(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """The exercise files that `make exercises` would write or remove: missing, edited or orphaned."""
    return _stale(exercises_dir, _expected(solutions_dir, exercises_dir))


def copy_for_student(exercises_dir: Path, target_dir: Path, say: Say = print) -> list[Path]:
    """Copy each exercise into `target_dir` unless a copy is already there: that one is the student's work."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for exercise in sorted(Path(exercises_dir).glob(NOTEBOOKS)):
        mine = target_dir / exercise.name
        if mine.exists():
            say(f"kept    {target_dir.name}/{mine.name}: your work is never overwritten (delete it for a fresh copy)")
            continue
        shutil.copyfile(exercise, mine)
        copied.append(mine)
        say(f"copied  {target_dir.name}/{mine.name}")
    return copied
