"""Which machine a run was measured on: figures without it cannot be compared or trusted."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    cores: int
    cpu: str
    memory_gib: float
    python: str
    load_average: tuple[float, float, float]
    date: str

    def __str__(self) -> str:
        load = " / ".join(f"{value:.2f}" for value in self.load_average)
        return (
            f"{self.date}, {self.cores} cores ({self.cpu}), {self.memory_gib:.0f} GiB RAM, "
            f"Python {self.python}, load average at start {load}"
        )


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform says."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def memory_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return float("nan")


def describe() -> Machine:
    """This machine now; the load average says how busy it was when the run began."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return Machine(
        cores=os.cpu_count() or 1,
        cpu=cpu_model(),
        memory_gib=memory_gib(),
        python=platform.python_version(),
        load_average=tuple(load),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
