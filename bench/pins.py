"""The pins pip-compile wrote into requirements/*.txt (`make lock`), read back as data for the test
that keeps them in step with pyproject.toml and for the benchmark's size table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

SERVE = "requirements/serve.txt"  # the container's and .venv-serve's pins, with hashes
DEV = "requirements/dev.txt"  # the whole classroom environment but torch
DIRECT = "penguins-to-production (pyproject.toml)"  # pip-compile's "via" for pyproject's own requirements

_PIN = re.compile(r"^([A-Za-z0-9][\w.-]*)==(\S+?)(?: ; (.+?))?(?: \\)?$", re.MULTILINE)
_VIA = re.compile(r"^[ \t]+#[ \t]+(?:via[ \t]+)?(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Pin:
    name: str  # canonical: fastapi-offline, prometheus-client
    version: str
    marker: str = ""
    hashes: tuple[str, ...] = ()
    via: tuple[str, ...] = ()  # who needs it

    @property
    def line(self) -> str:
        """As a requirement line without hashes: `uvloop==0.23.0 ; sys_platform != "win32"`."""
        return f"{self.name}=={self.version}" + (f" ; {self.marker}" if self.marker else "")


def command(path: Path) -> str:
    """The command in the file's header: how it was made, and how to make it again."""
    found = re.search(r"^#\s+(pip-compile .+)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    if found is None:
        raise ValueError(f"{path} has no pip-compile header: it was written by hand, run `make lock`")
    return found.group(1).strip()


def read(path: Path) -> dict[str, Pin]:
    """Every pin of a pip-compile output file, by canonical name (torch, left out, is not there)."""
    pins: dict[str, Pin] = {}
    for entry in re.split(r"\n(?=[A-Za-z0-9])", path.read_text(encoding="utf-8")):
        if found := _PIN.match(entry):
            name, version, marker = canonicalize_name(found[1]), found[2], found[3] or ""
            via = tuple(who for who in _VIA.findall(entry) if who != "via")
            pins[name] = Pin(name, version, marker, tuple(re.findall(r"--hash=(\S+)", entry)), via)
    return pins
