"""The project's speed targets, checked against the figures of one run.

They live here, in the benchmark's output, and never in timed tests: a busy CI machine
would fail a timed test for reasons that have nothing to do with the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import cold_start, faults, http_load, model_speed, validation
from bench.rows import Row, find, ratio
from bench.specs import (
    BARE,
    BENTOML_ONNX,
    LITSERVE_ONNX,
    MLSERVER_ONNX,
    NAIVE,
    RAY_ONNX,
    SERVED_NO_METRICS,
    SERVED_ONNX,
    SERVED_TUNED,
)

# The peers /predict must beat, by how many times its req/s (same model, same run, 10 connections).
PEERS = {MLSERVER_ONNX: 3, BENTOML_ONNX: 3, LITSERVE_ONNX: 3, RAY_ONNX: 10}

LOADED = http_load.case(10)
# Against the bare endpoint (the stack's floor): at least this share of its req/s, at most this many times its CPU.
BARE_RATE, BARE_CPU = 0.45, 2.5


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
    said = f"{times:.2f}× ({row.value:,.0f} vs {base.value:,.0f} req/s{_cores(row, base)})"
    return Verdict(target, said, times >= minimum)


def _cores(row: Row, base: Row) -> str:
    """How many cores each server kept busy (req/s × CPU per request), and the answers per CPU
    second: one process's req/s stops at one core, a server of several processes can take both."""
    if http_load.CPU not in row.details or http_load.CPU not in base.details:
        return ""
    busy = [r.value * r.details[http_load.CPU] / 1e6 for r in (row, base)]
    per_cpu = base.details[http_load.CPU] / row.details[http_load.CPU]
    return f"; {busy[0]:.2f} vs {busy[1]:.2f} cores busy, {per_cpu:.2f}× the answers per CPU second"


def p99_below_peers(rows: list[Row]) -> Verdict:
    target = f"served p99 lower than each peer's ({', '.join(PEERS)}; 10 connections)"
    served = find(rows, http_load.SECTION, SERVED_ONNX, LOADED)
    peers = [peer for name in PEERS if (peer := find(rows, http_load.SECTION, name, LOADED)) is not None]
    if served is None or not peers:
        return Verdict(target, "-", None)
    mine, theirs = served.details["p99_ms"], [peer.details["p99_ms"] for peer in peers]
    shown = ", ".join(f"{value:.1f}" for value in theirs)
    return Verdict(target, f"{mine:.1f} ms vs {shown} ms", all(mine < value for value in theirs))


def times_bare(rows: list[Row], target: str, key: str | None, limit: float) -> Verdict:
    """The served /predict's figure as a multiple of the bare endpoint's, same run, 10 connections:
    its CPU per request (`key` CPU) or p99 (`key` "p99_ms"); at most `limit`."""
    row, base = find(rows, http_load.SECTION, SERVED_ONNX, LOADED), find(rows, http_load.SECTION, BARE, LOADED)
    if row is None or base is None or key not in row.details or key not in base.details:
        return Verdict(target, "-", None)
    mine, theirs = row.details[key], base.details[key]
    unit = "µs" if key == http_load.CPU else "ms"
    return Verdict(target, f"{mine / theirs:.2f}× ({mine:,.3g} vs {theirs:,.3g} {unit})", mine / theirs <= limit)


def cold_start_vs_bare(rows: list[Row]) -> Verdict:
    target = "cold start of the ONNX server ≤ 1.3× the bare endpoint's"
    row, base = find(rows, cold_start.SECTION, SERVED_ONNX), find(rows, cold_start.SECTION, BARE)
    if row is None or base is None:
        return Verdict(target, "-", None)
    times = row.value / base.value
    return Verdict(target, f"{times:.2f}× ({row.value:.2f} vs {base.value:.2f} s)", times <= 1.3)


def model_times(rows: list[Row], target: str, name: str, baseline: str, case: str, limit: float) -> Verdict:
    """A model-section row's time as a multiple of another's, same run and case: at most `limit`."""
    row = find(rows, model_speed.SECTION, name, case)
    base = find(rows, model_speed.SECTION, baseline, case)
    if row is None or base is None:
        return Verdict(target, "-", None)
    times = row.value / base.value
    return Verdict(target, f"{times:.2f}× ({row.value:.3g} vs {base.value:.3g} ms)", times <= limit)


def more_cpu(rows: list[Row], target: str, name: str, baseline: str, limit: float) -> Verdict:
    """How much more CPU a /predict request costs `name` than `baseline` (10 connections, same
    run): at most `limit`. An A/B of ~10 % is read from CPU per request, not req/s, which swings
    more than that between runs here (why: bench/http_load.py)."""
    row, base = find(rows, http_load.SECTION, name, LOADED), find(rows, http_load.SECTION, baseline, LOADED)
    if row is None or base is None or http_load.CPU not in row.details or http_load.CPU not in base.details:
        return Verdict(target, "-", None)
    mine, theirs = row.details[http_load.CPU], base.details[http_load.CPU]
    extra = mine / theirs - 1
    shown = f"{mine:,.0f} vs {theirs:,.0f} µs; {row.value:,.0f} vs {base.value:,.0f} req/s"
    return Verdict(target, f"{extra:+.1%} CPU per request ({shown})", extra <= limit)


def plain_idioms(rows: list[Row]) -> Verdict:
    """The A/B of plain idioms: the CPU per request the former micro-optimisations save /predict."""
    target = (
        "the former micro-optimisations buy ≤ 10 %: /predict without them takes ≤ 1.10× the CPU per request "
        "(same-run A/B, 10 connections)"
    )
    return more_cpu(rows, target, SERVED_ONNX, SERVED_TUNED, 0.10)


def metrics_cost(rows: list[Row]) -> Verdict:
    """The A/B of /metrics: the CPU per request that counting every request and answer adds to /predict."""
    target = (
        "metrics cost ≤ 10 %: /predict takes ≤ 1.10× the CPU per request of PENGUINS_METRICS=false "
        "(same-run A/B, 10 connections)"
    )
    return more_cpu(rows, target, SERVED_ONNX, SERVED_NO_METRICS, 0.10)


def at_most(target: str, row: Row | None, value: float | None, limit: float, unit: str) -> Verdict:
    if row is None or value is None:
        return Verdict(target, "-", None)
    return Verdict(target, f"{value:.3g} {unit}", value <= limit)


def check(rows: list[Row]) -> list[Verdict]:
    """Every target; those whose figures this run did not measure say so."""
    batch = find(rows, model_speed.SECTION, "wrapper mlp-onnx, end to end", "10,000 rows")
    wrapper, alone = "wrapper mlp-onnx, end to end", "ONNX Runtime: mlp.onnx"
    return [
        times_baseline(
            rows,
            f"served /predict ≥ {BARE_RATE * 100:.0f} % of the bare endpoint's req/s (10 connections)",
            SERVED_ONNX,
            BARE,
            BARE_RATE,
        ),
        times_baseline(
            rows, "served /predict ≥ 18× the naive tutorial's req/s (10 connections)", SERVED_ONNX, NAIVE, 18
        ),
        times_bare(
            rows, f"served /predict's CPU per request ≤ {BARE_CPU}× the bare endpoint's", http_load.CPU, BARE_CPU
        ),
        times_bare(rows, "served /predict's p99 ≤ 2× the bare endpoint's (10 connections)", "p99_ms", 2),
        plain_idioms(rows),
        metrics_cost(rows),
        *[
            times_baseline(
                rows, f"served /predict ≥ {times}× {name}'s req/s (same ONNX model)", SERVED_ONNX, name, times
            )
            for name, times in PEERS.items()
        ],
        p99_below_peers(rows),
        at_most(
            "10,000 raw records end to end through the wrapper ≤ 50 ms", batch, batch.value if batch else None, 50, "ms"
        ),
        model_times(
            rows,
            "10,000 raw records through the wrapper ≤ 4× mlp.onnx alone on the same rows",
            wrapper,
            alone,
            "10,000 rows",
            4,
        ),
        model_times(
            rows,
            "10,000 raw records through the wrapper faster than the scikit-learn pipeline alone",
            wrapper,
            model_speed.BASELINE,
            "10,000 rows",
            1,
        ),
        # Before issue 11 one raw record through the wrapper took 1.61× mlp.onnx alone (committed run of
        # 2026-11-25: 23.3 vs 14.5 µs); "within 10 % of before" is this ratio times 1.1.
        model_times(
            rows,
            "1 raw record through the wrapper within 10 % of before (≤ 1.77× mlp.onnx alone)",
            wrapper,
            alone,
            "1 row",
            1.77,
        ),
        cold_start_vs_bare(rows),
        *[
            model_times(
                rows,
                f"the service's one validation layer (B) costs ≤ pydantic types with cleaning's codes (A), {case}",
                validation.PLAIN,
                validation.PYDANTIC,
                case,
                1,
            )
            for case in model_speed.SIZES
        ],
        *(Verdict(*verdict) for verdict in faults.targets(rows)),
    ]
