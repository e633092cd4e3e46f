"""The project's speed targets, checked against the figures of one run.

They live here, in the benchmark's output, and never in timed tests: a busy CI machine
would fail a timed test for reasons that have nothing to do with the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import cold_start, http_load, model_speed
from bench.rows import Row, find, ratio
from bench.specs import BARE, BENTOML_ONNX, MLSERVER_ONNX, NAIVE, SERVED_ONNX

LOADED = http_load.case(10)


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool | None  # None: not measured in this run

    @property
    def mark(self) -> str:
        return {True: "met", False: "MISSED", None: "not measured"}[self.met]


def times_baseline(rows: list[Row], target: str, name: str, baseline: str, minimum: float) -> Verdict:
    """Served requests/s at 10 connections against another server's, same run."""
    row, base = find(rows, http_load.SECTION, name, LOADED), find(rows, http_load.SECTION, baseline, LOADED)
    if row is None or base is None:
        return Verdict(target, "-", None)
    times = ratio(row, base)
    return Verdict(target, f"{times:.2f}× ({row.value:,.0f} vs {base.value:,.0f} req/s)", times >= minimum)


def p99_below_peers(rows: list[Row]) -> Verdict:
    target = "served p99 lower than MLServer's and BentoML's (ONNX, 10 connections)"
    served = find(rows, http_load.SECTION, SERVED_ONNX, LOADED)
    peers = [find(rows, http_load.SECTION, name, LOADED) for name in (MLSERVER_ONNX, BENTOML_ONNX)]
    if served is None or None in peers:
        return Verdict(target, "-", None)
    mine, theirs = served.details["p99_ms"], [peer.details["p99_ms"] for peer in peers]
    shown = ", ".join(f"{value:.1f}" for value in theirs)
    return Verdict(target, f"{mine:.1f} ms vs {shown} ms", all(mine < value for value in theirs))


def at_most(target: str, row: Row | None, value: float | None, limit: float, unit: str) -> Verdict:
    if row is None or value is None:
        return Verdict(target, "-", None)
    return Verdict(target, f"{value:.3g} {unit}", value <= limit)


def check(rows: list[Row]) -> list[Verdict]:
    """Every target; those whose figures this run did not measure say so."""
    served = find(rows, http_load.SECTION, SERVED_ONNX, LOADED)
    batch = find(rows, model_speed.SECTION, "wrapper mlp-onnx, end to end", "10,000 rows")
    start = find(rows, cold_start.SECTION, SERVED_ONNX)
    return [
        times_baseline(rows, "served /predict ≥ 60 % of the bare endpoint's req/s (10 connections)",
                       SERVED_ONNX, BARE, 0.60),
        times_baseline(rows, "served /predict ≥ 15× the naive tutorial's req/s", SERVED_ONNX, NAIVE, 15),
        times_baseline(rows, "served /predict ≥ 2× MLServer's req/s (same ONNX model)",
                       SERVED_ONNX, MLSERVER_ONNX, 2),
        times_baseline(rows, "served /predict ≥ 3× BentoML's req/s (same ONNX model)",
                       SERVED_ONNX, BENTOML_ONNX, 3),
        p99_below_peers(rows),
        at_most("served p99 ≤ 10 ms at 10 connections", served,
                served.details["p99_ms"] if served else None, 10, "ms"),
        at_most("10,000 raw records end to end through the wrapper ≤ 50 ms", batch,
                batch.value if batch else None, 50, "ms"),
        at_most("cold start of the ONNX server ≤ 0.6 s", start, start.value if start else None, 0.6, "s"),
    ]
