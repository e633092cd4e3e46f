"""The pinned requirement files, read back: what pip-compile wrote into requirements/*.txt.

The files are generated (`make lock`): pyproject.toml says what the code needs, pip-compile pins
that and everything it pulls in, with the command that made the file in its header. Whoever needs
the pins as data reads them here: the test that keeps them in step with pyproject.toml, exercise
06's build context, the benchmark's size table and notebook 09.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

SERVE = "requirements/serve.txt"  # the container's and .venv-serve's pins, with hashes
DEV = "requirements/dev.txt"  # the whole classroom environment but torch
DIRECT = "penguins-to-production (pyproject.toml)"  # pip-compile's "via" for pyproject's own requirements

_HEADER = re.compile(r"^#\s+(pip-compile .+)$", re.MULTILINE)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s*(?:;\s*(.+?))?\s*$")


@dataclass(frozen=True)
class Pin:
    """One pinned package: its exact version, the platform marker it keeps, its hashes, who needs it."""

    name: str  # canonical: fastapi-offline, prometheus-client
    version: str
    marker: str = ""
    hashes: tuple[str, ...] = ()
    via: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        """As a requirement line without hashes: `uvloop==0.23.0 ; sys_platform != "win32"`."""
        return f"{self.name}=={self.version}" + (f" ; {self.marker}" if self.marker else "")


def command(path: Path) -> str:
    """The command in the file's header: how it was made, and how to make it again."""
    found = _HEADER.search(path.read_text(encoding="utf-8"))
    if found is None:
        raise ValueError(f"{path} has no pip-compile header: it was written by hand, run `make lock`")
    return found.group(1).strip()


def read(path: Path) -> dict[str, Pin]:
    """Every pin of a pip-compile output file, by canonical name (torch, left out, is not there)."""
    pins: dict[str, Pin] = {}
    entries = re.split(r"\n(?=[A-Za-z0-9])", path.read_text(encoding="utf-8"))
    for entry in entries:
        first = entry.split("\n", 1)[0].removesuffix("\\").strip()
        match = _PIN.match(first)
        if match is None:
            continue
        name, version, marker = match.groups()
        hashes = tuple(re.findall(r"--hash=(\S+)", entry))
        via = tuple(
            re.sub(r"^#\s*(via\s*)?", "", line.strip()).strip()
            for line in entry.splitlines()[1:]
            if line.strip().startswith("#") and line.strip() not in ("# via", "#")
        )
        pins[canonicalize_name(name)] = Pin(canonicalize_name(name), version, marker or "", hashes, via)
    return pins
