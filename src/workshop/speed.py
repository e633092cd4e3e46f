"""How long one call takes, quickly enough to run live (`make bench` is the proper benchmark): the
median of a small time budget's runs, robust to the odd slow call, shows differences of 10x and more."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import requests

MIN_RUNS = 5


def median_seconds(call: Callable[[], object], budget: float = 0.15) -> float:
    """The median of `call()`'s durations after a warm-up: MIN_RUNS to 5,000 calls within `budget` seconds."""
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


def together(url: str, calls: int = 4, each: int = 1) -> float:
    """Seconds until `calls` clients at once, each sending `each` GETs on one keep-alive session, are answered."""

    def client(_: int) -> None:
        with requests.Session() as session:
            for _ in range(each):
                session.get(url, timeout=30).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=calls) as pool:
        list(pool.map(client, range(calls)))
    return time.perf_counter() - started


def readable(seconds: float) -> str:
    """3.5 ms, 21 µs, 1.2 s: the unit a person would pick."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"
