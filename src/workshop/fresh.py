"""Run a few lines of Python in a fresh process: the honest test of "can someone else use this?" (it
has only what is on disk and installed, not what a notebook defined)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def error(self) -> str:
        """The last line of stderr: the exception as Python names it, e.g. `AttributeError: ...`."""
        return (self.stderr.strip().splitlines() or [""])[-1]

    def __str__(self) -> str:
        return self.stdout.rstrip() if self.ok else f"{self.stdout}exit code {self.returncode}: {self.error}".strip()


def run(
    code: str,
    *,
    stdin: str | None = None,
    python: str | os.PathLike[str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> Result:
    """`python -c code` (this kernel's Python by default) in `cwd` (on its sys.path; default: the project
    root), `stdin` handed over, this environment inherited: $PENGUINS_ARTIFACTS names the same models."""
    from penguins.serving.paths import project_root

    completed = subprocess.run(
        [str(python or sys.executable), "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        cwd=cwd or project_root() or Path.cwd(),
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)
