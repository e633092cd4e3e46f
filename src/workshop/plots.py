"""The notebooks' two charts, one call each (plotting is not the lesson), as Figures pyplot does not
track: shown once, as the cell's value, never piling up as open figures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from workshop.speed import readable

if TYPE_CHECKING:
    import pandas as pd

# Okabe-Ito colours, as in the bird's-eye picture: safe with colour blindness.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9")


def species_scatter(frame: pd.DataFrame, x: str, y: str, by: str = "species") -> Figure:
    """One dot per penguin, coloured by `by`; rows missing `x` or `y` are left out (and counted)."""
    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    shown = frame.dropna(subset=[x, y])
    for colour, (name, group) in zip(COLOURS, shown.groupby(by, sort=True), strict=False):
        ax.scatter(group[x], group[y], s=14, alpha=0.75, color=colour, label=f"{name} ({len(group)})")
    ax.set(xlabel=x, ylabel=y)
    left_out = len(frame) - len(shown)
    ax.set_title(f"{len(shown)} penguins" + (f" ({left_out} without {x} or {y} left out)" if left_out else ""))
    ax.legend(title=by, frameon=False)
    return fig


def speed_bars(timings: Mapping[str, Mapping[str, float]], title: str = "time per call") -> Figure:
    """Bars on a log scale labelled with their times: `timings` maps a group ("1 row") to {case: seconds}."""
    groups, cases = list(timings), list(next(iter(timings.values())))
    if any(list(timings[group]) != cases for group in groups):
        raise ValueError("every group must time the same cases, in the same order")
    fig = Figure(figsize=(8.0, 4.5), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(cases)
    positions = np.arange(len(groups))
    for index, (case, colour) in enumerate(zip(cases, COLOURS, strict=False)):
        seconds = [timings[group][case] for group in groups]
        bars = ax.bar(positions + (index - (len(cases) - 1) / 2) * width, seconds, width, color=colour, label=case)
        ax.bar_label(bars, labels=[readable(s) for s in seconds], fontsize=7, padding=2)
    every = [seconds for group in timings.values() for seconds in group.values()]
    ax.set(yscale="log", ylim=(min(every) / 3, max(every) * 3), ylabel="seconds per call (log scale, lower is faster)")
    ax.set_xticks(positions, groups)
    ax.set_title(title)
    fig.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    return fig
