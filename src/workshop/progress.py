"""`make check-exercises`: where each task of a class's exercises stands, for the instructor.

Each exercise notebook of the folder runs top to bottom in a fresh headless kernel, as a student's
Shift+Enter would (nothing is saved); each check cell is one task: ✓, not done, or failing and why.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from workshop.exercises import NOTEBOOKS

if TYPE_CHECKING:
    from nbclient import NotebookClient

CHECK_CALL = re.compile(r"^checks\.(check_\w+)\(", re.MULTILINE)
NOT_DONE_PREFIX = "not done yet"
CELL_TIMEOUT = 600  # a first `docker build` in exercise 06 takes minutes
DONE, NOT_DONE, FAILING = "✓", "not done", "failing"


@dataclass(frozen=True)
class Task:
    """Where one task of one notebook stands, and the one line that says why."""

    notebook: str
    check: str
    status: str
    reason: str

    def __str__(self) -> str:
        return f"{self.status:<8}  {self.notebook:<28}  {self.check:<26}  {self.reason}"


def notebook_client(
    notebook: nbformat.NotebookNode, folder: Path, sockets: Path, timeout: int, **options: Any
) -> NotebookClient:
    """A headless client running `notebook` in `folder` in a fresh kernel of this Python, over local sockets
    in `sockets` where it can (over TCP ipykernel warns on every start that traffic is unencrypted)."""
    from nbclient import NotebookClient
    from traitlets.config import Config

    ipc = {"KernelManager": {"transport": "ipc", "ip": str(sockets / "kernel")}} if os.name == "posix" else {}
    return NotebookClient(
        notebook,
        kernel_name="python3",
        config=Config(ipc),
        timeout=timeout,
        resources={"metadata": {"path": str(folder)}},
        **options,
    )


def run(path: Path, timeout: int = CELL_TIMEOUT) -> tuple[nbformat.NotebookNode, str | None]:
    """The notebook executed in its folder, every cell even after an error; why it stopped early, if it did."""
    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as sockets:
        client = notebook_client(notebook, path.parent, Path(sockets), timeout, allow_errors=True)
        try:
            client.execute()
        except Exception as error:  # a cell timed out or the kernel died: the cells run so far still count
            return notebook, _first_line(f"{type(error).__name__}: {error}")
    return notebook, None


def tasks(name: str, notebook: nbformat.NotebookNode, stopped: str | None = None) -> list[Task]:
    """One Task per check cell, judged with the outputs of the cells since the previous check."""
    found: list[Task] = []
    errors: list[tuple[str, str]] = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        called = CHECK_CALL.search(cell.source)
        if called is None:
            errors += _errors(cell)
            continue
        found.append(Task(name, called.group(1), *_judge(cell, errors, stopped)))
        errors = []
    return found


def _judge(cell: nbformat.NotebookNode, before: list[tuple[str, str]], stopped: str | None) -> tuple[str, str]:
    """One check cell's status and reason, given the errors of its task's other cells."""
    if before:
        ename, evalue = before[0]
        return FAILING, _first_line(f"an earlier cell of the task raised {ename}: {evalue}")
    raised = _errors(cell)
    if raised:
        ename, evalue = raised[0]
        if ename == "CheckFailed" and evalue.startswith(NOT_DONE_PREFIX):
            return NOT_DONE, _first_line(evalue.removeprefix(NOT_DONE_PREFIX).lstrip(": "))
        return FAILING, _first_line(evalue if ename == "CheckFailed" else f"{ename}: {evalue}")
    printed = "".join(out.text for out in cell.get("outputs", []) if out.get("name") == "stdout")
    said = [line for line in printed.splitlines() if line.startswith(f"{DONE} ")]
    if said:
        return DONE, said[0].removeprefix(f"{DONE} ")
    return FAILING, stopped or "the check printed no ✓ line (was the cell cut short?)"


def _errors(cell: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(out.ename, out.evalue) for out in cell.get("outputs", []) if out.output_type == "error"]


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


def check_folder(folder: Path, say: Callable[[str], None] = print) -> list[Task]:
    """Run every exercise notebook in `folder` and say one line per task, then the totals."""
    paths = sorted(Path(folder).glob(NOTEBOOKS))
    if not paths:
        say(f"no exercise notebooks in {folder}: `make my-exercises` copies them there")
        return []
    every: list[Task] = []
    for path in paths:
        notebook, stopped = run(path)
        found = tasks(path.stem, notebook, stopped)
        if not found:
            say(f"{FAILING:<8}  {path.stem:<28}  {'-':<26}  no check cell (a line checks.check_...) in this notebook")
        for task in found:
            say(str(task))
        every += found
    counts = {status: sum(task.status == status for task in every) for status in (DONE, NOT_DONE, FAILING)}
    say(f"{len(every)} tasks in {len(paths)} notebooks: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
    return every
