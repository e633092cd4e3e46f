"""How long one call takes, measured quickly enough to run live in class: a lecture cannot wait for
a proper benchmark (`make bench`), so each case gets a small time budget and we report the median
of its runs, robust to the odd slow call and honest enough to show differences of 10x and more."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping

MIN_RUNS = 5


def median_seconds(call: Callable[[], object], budget: float = 0.15) -> float:
    """The median of `call()`'s durations after an untimed warm-up, run until `budget` seconds are
    spent and at least MIN_RUNS calls (at most 5,000) are timed."""
    call()
    durations: list[float] = []
    started = time.perf_counter()
    while len(durations) < 5000 and (len(durations) < MIN_RUNS or time.perf_counter() - started < budget):
        before = time.perf_counter()
        call()
        durations.append(time.perf_counter() - before)
    return statistics.median(durations)


def compare(cases: Mapping[str, Callable[[], object]], budget: float = 0.15) -> dict[str, float]:
    """median_seconds() of each case, in the order given."""
    return {name: median_seconds(call, budget) for name, call in cases.items()}


def readable(seconds: float) -> str:
    """3.5 ms, 21 µs, 1.2 s: the unit a person would pick."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"
