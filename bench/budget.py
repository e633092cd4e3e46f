"""How long each measurement may run: a full budget for `make bench`, a tiny one for the tests.

The smoke test runs every part of the benchmark with the quick budget so the code cannot rot;
its numbers mean nothing, only that they exist.

Measurements are taken in rounds that take turns (A, B, C, A, B, C, ...), and each figure is
the median over its rounds: when a neighbour's job loads the machine for a while, it slows
every contender a little instead of one of them a lot, so the ratios hold.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """Limits of one run; every load test is bounded in time and in request count."""

    name: str
    rounds: int  # turns each contender gets; figures are medians over them
    model_seconds: float  # time for each model timing in one round (after one warm-up call)
    model_min_repeats: int  # ...but at least this many calls, however slow
    warmup_seconds: float  # load before measuring, so imports and caches are done
    load_seconds: float  # one load test (a round): this long...
    load_max_requests: int  # ...or this many requests (the Python load generator stops here)
    cold_starts: int  # process starts per server for the cold-start median


FULL = Budget(
    "full",
    rounds=3,
    model_seconds=0.4,
    model_min_repeats=5,
    warmup_seconds=1.0,
    load_seconds=2.0,
    load_max_requests=50_000,
    cold_starts=5,
)
QUICK = Budget(
    "quick",
    rounds=1,
    model_seconds=0.02,
    model_min_repeats=2,
    warmup_seconds=0.1,
    load_seconds=0.3,
    load_max_requests=400,  # the server CPU clock ticks every 10 ms: 100 bare requests (~11 ms) could read 0
    cold_starts=1,
)
