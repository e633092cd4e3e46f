"""The run as one picture: model time, requests/s, cold start and size, side by side.

Model times span orders of magnitude (15 µs next to 3 ms), so that axis is logarithmic.
The ONNX ways are blue, the peers orange, everything else (the baselines) grey.
"""

from __future__ import annotations

from pathlib import Path

from bench import cold_start, http_load, model_speed, room, sizes
from bench.rows import Row

ONNX, PEER, OTHER = "#1f77b4", "#ff7f0e", "#9e9e9e"
PANELS = [
    (model_speed.SECTION, "1 row", "model, 1 row: ms per call (log; lower is better)", True),
    (model_speed.SECTION, "10,000 rows", "model, 10,000 rows: ms per call (log; lower is better)", True),
    (http_load.SECTION, http_load.case(10), "HTTP, 10 connections: requests/s (higher is better)", False),
    (http_load.SECTION, http_load.case(1), "HTTP, 1 connection: requests/s (higher is better)", False),
    (room.SECTION, http_load.case(10), "server room, 10 connections: requests/s (higher is better)", False),
    (room.SECTION, http_load.case(1), "server room, 1 connection: requests/s (higher is better)", False),
    (cold_start.SECTION, "", "cold start to /ready: seconds (lower is better)", False),
    (sizes.SECTION, "", "size: MB (lower is better)", False),
]


def colour(name: str) -> str:
    if "MLServer" in name or "BentoML" in name:
        return PEER
    return ONNX if "onnx" in name.lower() else OTHER


def label(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _bars(axis, chosen: list[Row], title: str, log: bool) -> None:
    names = [row.name for row in chosen][::-1]
    values = [row.value for row in chosen][::-1]
    axis.barh(names, values, color=[colour(name) for name in names])
    axis.set_title(title, fontsize=9)
    if log:
        axis.set_xscale("log")
    axis.tick_params(axis="both", labelsize=7)
    axis.margins(x=0.15)
    for y, value in enumerate(values):
        axis.annotate(label(value), (value, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize=7)


def write(rows: list[Row], title: str, path: Path) -> Path:
    """Draw the panels this run has figures for, two to a line, and save them as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    present = []
    for section, case, heading, log in PANELS:
        chosen = [row for row in rows if row.section == section and row.case == case]
        if chosen:
            present.append((chosen, heading, log))
    lines = (len(present) + 1) // 2
    figure, axes = plt.subplots(lines, 2, figsize=(14, 2.6 * lines + 0.6), squeeze=False)
    for axis, panel in zip(axes.flat, present, strict=False):
        _bars(axis, *panel)
    for axis in list(axes.flat)[len(present) :]:
        axis.set_visible(False)
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
