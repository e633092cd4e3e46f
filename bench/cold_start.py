"""Cold start: from process start to the first successful `/ready`, the median of a few starts.

It is what a restart, a new container or a scale-up costs before the first answer, and it is
mostly imports: pandas and scikit-learn take about a second, ONNX Runtime a tenth of that.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.budget import Budget
from bench.rows import Row
from bench.servers import RunningServer, ServerSpec

SECTION = "cold start"


def measure(
    specs: list[ServerSpec], budget: Budget, log_dir: Path, starts: dict[str, list[float]] | None = None
) -> list[Row]:
    """The median of `budget.cold_starts` starts per server, counting those already in `starts`.

    The servers take turns (A, B, A, B, ...), so a busy minute on the machine hits them all.
    """
    samples = {spec.name: list((starts or {}).get(spec.name, [])) for spec in specs}
    for _ in range(budget.cold_starts):
        for spec in specs:
            if len(samples[spec.name]) < budget.cold_starts:
                with RunningServer(spec, log_dir) as server:
                    samples[spec.name].append(server.cold_start)
    rows = []
    for spec in specs:
        times = samples[spec.name]
        details = {"min_s": min(times), "max_s": max(times), "starts": float(len(times))}
        rows.append(Row(SECTION, spec.name, "", statistics.median(times), "s", details=details))
    return rows
