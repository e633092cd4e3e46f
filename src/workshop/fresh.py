"""Run a few lines of Python in a fresh process: the honest test of "can someone else use this?".

Inside a notebook everything works, because everything the notebook defined is still in
memory. Another process, the way a server or a colleague would start, has only what is on
disk and installed. The notebooks use run() to show exactly that: a model variable that does
not exist elsewhere, a pickle whose class lived in `__main__`, a model that loads fine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 120.0


@dataclass(frozen=True)
class Result:
    """What the other process printed, and how it ended."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def error(self) -> str:
        """The last line of stderr: the exception as Python names it, e.g. `AttributeError: ...`."""
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""

    def __str__(self) -> str:
        """What a reader wants to see: the output, or the error the process died of."""
        return self.stdout.rstrip() if self.ok else f"{self.stdout}exit code {self.returncode}: {self.error}".strip()


def run(
    code: str,
    *,
    stdin: bytes | str | None = None,
    python: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = TIMEOUT,
) -> Result:
    """Run `code` with `python -c` (this kernel's Python by default) and capture what it says.

    `stdin` is handed to the process (bytes for a pickle, text for JSON). The process
    inherits the environment (so $PENGUINS_ARTIFACTS still points at the same models), plus
    `env`, and starts in the project root when there is one.
    """
    from penguins.serving.paths import project_root

    data = stdin.encode() if isinstance(stdin, str) else stdin
    completed = subprocess.run(
        [str(python or sys.executable), "-c", code],
        input=data,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
        cwd=project_root() or Path.cwd(),
    )
    return Result(
        completed.returncode,
        completed.stdout.decode("utf-8", "replace"),
        completed.stderr.decode("utf-8", "replace"),
    )
