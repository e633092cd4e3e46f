"""Self-checks for the exercises: one function per task, one line when it passes, and a
`CheckFailed` that says what was expected, what was found and what to try when it does not.

Why it is built this way:
- A blank answer is the placeholder `...` that `workshop.exercises` leaves in place of the
  solution. Every check looks for it first and answers "not done yet: <what to do>", so a
  student who runs a check early reads the task, not a NameError.
- Every check works out what it expects on its own: from the data, or by running the
  student's function or file on inputs it makes itself. A check that trusts the numbers it is
  checking passes on a wrong answer.
- Heavy libraries are imported inside the check that needs them: every exercise imports this
  module, and a stage without torch should not pay for it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PLACEHOLDER = ...


class CheckFailed(AssertionError):
    """A check that did not pass; its message is all a student reads, so it says what to do.

    An AssertionError, so pytest reports it as a failed assertion; in a notebook it shows as
    one red line instead of a traceback through this module.
    """

    def _render_traceback_(self) -> list[str]:
        """IPython shows this instead of the traceback: the message is the whole story."""
        return [f"\x1b[31mCheckFailed\x1b[0m: {self}"]


def require(value: object, todo: str) -> None:
    """Stop with "not done yet" while `value` is still the placeholder `...`."""
    if value is PLACEHOLDER:
        raise CheckFailed(f"not done yet: {todo}")


def require_file(path: Path, todo: str, name: str | None = None) -> None:
    """Stop with "not done yet" while the file a %%writefile cell writes is missing, or while a
    top-level `name = ...` in it (any name, unless one is given) is still the placeholder."""
    if not path.is_file():
        raise CheckFailed(
            f"not done yet: expected the file {path} (in {path.resolve().parent}), found none: "
            "run the %%writefile cell that writes it"
        )
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError:
        return  # the server's start-up names the line
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value is PLACEHOLDER:
            found = ast.unparse(node.targets[0])
            if name in (None, found):
                raise CheckFailed(f"not done yet: {path.name} still says {found} = ...: {todo}")


def passed(message: str) -> None:
    """The one line a passing check prints."""
    print(f"✓ {message}")


def first_line(error: BaseException) -> str:
    """An error as one short line: its type, and the first line of its message if it has one."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
