"""One measured figure per row, and ratios against a baseline row of the same run.

On a noisy machine the absolute numbers drift from run to run; two things measured a few
seconds apart drift together, so "how many times faster than the baseline" is what counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LOWER, HIGHER = "lower", "higher"


@dataclass(frozen=True)
class Row:
    """One figure: `value` in `unit`; `better` says which direction is good."""

    section: str  # "model", "http", "cold start", "size"
    name: str  # the way of deploying, e.g. "ONNX Runtime: mlp.onnx"
    case: str  # "1 row", "10,000 rows", "10 connections", "" when there is one case
    value: float
    unit: str
    better: str = LOWER
    details: dict[str, float] = field(default_factory=dict)  # e.g. p50_ms, p99_ms
    note: str = ""


def find(rows: list[Row], section: str, name: str, case: str = "") -> Row | None:
    """The row of `name` in `section` and `case`, if it was measured in this run."""
    for row in rows:
        if (row.section, row.name, row.case) == (section, name, case):
            return row
    return None


def ratio(row: Row, baseline: Row) -> float:
    """How many times better than the baseline: > 1 is better, whichever way `better` points."""
    if row.unit != baseline.unit:
        raise ValueError(f"cannot compare {row.unit} with {baseline.unit}")
    if row.better == HIGHER:
        return row.value / baseline.value
    return baseline.value / row.value


def against(rows: list[Row], row: Row, baseline_name: str) -> float | None:
    """`row` against the baseline of the same section and case, if the baseline was measured."""
    baseline = find(rows, row.section, baseline_name, row.case)
    return None if baseline is None else ratio(row, baseline)
