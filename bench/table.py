"""The run as a markdown table: each figure next to its ratio against the run's baseline.

Markdown, because the README, notebooks 03 and 05 and a pull request all show it as it is.
"""

from __future__ import annotations

from bench import cold_start, http_load, model_speed, sizes
from bench.rows import Row, against, find
from bench.targets import Verdict

Baselines = list[tuple[str, str]]  # (row name, column label)


def duration(ms: float) -> str:
    """Microseconds below a millisecond, so 0.021 ms reads as 21 µs."""
    return f"{ms * 1e3:.1f} µs" if ms < 1 else f"{ms:.2f} ms"


def times(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}×" if value >= 100 else f"{value:.2f}×"


def markdown_table(header: list[str], lines: list[list[str]]) -> str:
    rule = ["---" if index == 0 else "---:" for index in range(len(header))]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, rule, *lines])


def names_in(rows: list[Row], section: str) -> list[str]:
    return list(dict.fromkeys(row.name for row in rows if row.section == section))


def model_table(rows: list[Row], baselines: Baselines) -> str:
    cases = list(model_speed.SIZES)
    header = ["way of running the model", "takes"]
    for case in cases:
        header += [case, *(label for _, label in baselines)]
    lines = []
    for name in names_in(rows, model_speed.SECTION):
        found = [find(rows, model_speed.SECTION, name, case) for case in cases]
        cells = [name, next((row.note for row in found if row), "")]
        for row in found:
            cells += [duration(row.value), *ratio_cells(rows, row, baselines)] if row else ["-"] * (1 + len(baselines))
        lines.append(cells)
    return markdown_table(header, lines)


def ratio_cells(rows: list[Row], row: Row, baselines: Baselines) -> list[str]:
    return [times(against(rows, row, baseline)) for baseline, _ in baselines]


def http_table(rows: list[Row], baselines: Baselines, section: str = http_load.SECTION) -> str:
    """Requests/s, latency and the server's CPU per request, per server and connection count;
    also the server room's section (its containers' CPU is not read: "-")."""
    header = ["server", "connections", "req/s", "p50", "p99", "CPU per request", *(label for _, label in baselines)]
    lines = [
        [
            row.name,
            row.case.split()[0],
            f"{row.value:,.0f}",
            duration(row.details["p50_ms"]),
            duration(row.details["p99_ms"]),
            cpu_cell(row),
            *ratio_cells(rows, row, baselines),
        ]
        for row in rows
        if row.section == section
    ]
    return markdown_table(header, lines)


def cpu_cell(row: Row) -> str:
    cpu = row.details.get(http_load.CPU)
    return "-" if cpu is None else f"{cpu:,.0f} µs"


def cold_start_table(rows: list[Row], baselines: Baselines) -> str:
    header = ["server", "median", "min – max", *(label for _, label in baselines)]
    lines = [
        [
            row.name,
            f"{row.value:.2f} s",
            f"{row.details['min_s']:.2f} – {row.details['max_s']:.2f} s",
            *ratio_cells(rows, row, baselines),
        ]
        for row in rows
        if row.section == cold_start.SECTION
    ]
    return markdown_table(header, lines)


def size_table(rows: list[Row], baselines: Baselines) -> str:
    """Sizes as multiples of the baselines (how many times as large), not "how many times better"."""
    header = ["what", "size", *(label for _, label in baselines), "note"]
    lines = [
        [row.name, f"{row.value:,.0f} MB", *(_multiple(rows, row, b) for b, _ in baselines), row.note]
        for row in rows
        if row.section == sizes.SECTION
    ]
    return markdown_table(header, lines)


def _multiple(rows: list[Row], row: Row, baseline: str) -> str:
    base = find(rows, row.section, baseline)
    return f"{row.value / base.value:.1f}×" if base else "-"


def targets_table(verdicts: list[Verdict]) -> str:
    return markdown_table(["target", "measured", "verdict"], [[v.target, v.measured, v.mark] for v in verdicts])
