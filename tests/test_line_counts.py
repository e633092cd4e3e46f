"""The line budgets' count: the same code counts the same however it is laid out (issue 24)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "line_counts.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("line_counts", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SPREAD = '''def area(
    width,
    height
):
    """Why: rooms are rectangles."""

    # a comment is not code


    return width * height
'''
SQUEEZED = 'def area(width, height):\n    """Why: rooms are rectangles."""\n    return width * height\n'


def test_layout_and_comments_do_not_change_the_count() -> None:
    counts = _script().formatted_counts({"a/spread.py": SPREAD, "b/squeezed.py": SQUEEZED})
    assert counts == {"a/spread.py": 3, "b/squeezed.py": 3}


def test_a_docstring_counts_and_a_blank_line_does_not() -> None:
    counted = _script().counted
    assert counted('x = 1\n\n"""why"""\n   # note\n') == 2
