"""One run's results as files: bench.md (tables and targets), bench.png (plot), bench.json (raw)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from bench import cold_start, faults, http_load, k8s, model_speed, plot, room, sizes, table
from bench.budget import Budget
from bench.machine import Machine
from bench.rows import Row
from bench.targets import Verdict

NOISE = (
    "On a shared machine absolute figures drift from run to run (the load average above says how busy "
    "this one was); the ratios against a baseline of the same run are the figures that count."
)


@dataclass
class Report:
    title: str
    machine: Machine
    budget: Budget
    generator: str
    rows: list[Row]
    verdicts: list[Verdict]
    baselines: dict[str, list[tuple[str, str]]]  # section → (row, column label) of its ratios
    notes: list[str] = field(default_factory=list)

    def heading(self) -> str:
        return f"{self.title}: {self.machine}"

    def markdown(self) -> str:
        parts = [
            f"# {self.title}",
            "",
            f"Machine: {self.machine}. Budget: {self.budget.name}. Load generator: {self.generator}; "
            f"one server worker on 127.0.0.1. {NOISE}",
        ]
        sections = [
            (
                model_speed.SECTION,
                "The model alone and through the wrapper (median time per call, one thread)",
                table.model_table,
            ),
            (http_load.SECTION, "HTTP on loopback (POST /predict, one record per request)", table.http_table),
            (
                room.SECTION,
                "The server room (stage 07): one container direct vs through the proxy, POST /predict",
                partial(table.http_table, section=room.SECTION),
            ),
            (
                faults.SECTION,
                "Faults in the server room under the paced load (100 predictions/s, 10 s each; overload: wrk)",
                faults.table,
            ),
            (
                k8s.SECTION,
                "Kubernetes (stage 07c): one container direct vs through k8s/'s Service on a real cluster",
                partial(table.http_table, section=k8s.SECTION),
            ),
            (cold_start.SECTION, "Cold start: process start to the first successful /ready", table.cold_start_table),
            (sizes.SECTION, "Size", table.size_table),
        ]
        for section, heading, render in sections:
            if any(row.section == section for row in self.rows):
                parts += ["", f"## {heading}", "", render(self.rows, self.baselines.get(section, []))]
        parts += ["", "## Targets", "", table.targets_table(self.verdicts)]
        if self.notes:
            parts += ["", *(f"- {note}" for note in self.notes)]
        return "\n".join(parts) + "\n"

    def write(self, folder: Path, stem: str) -> list[Path]:
        """Write `<stem>.md`, `<stem>.png` and `<stem>.json` into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        written = [folder / f"{stem}.md", folder / f"{stem}.json"]
        written[0].write_text(self.markdown(), encoding="utf-8")
        written[1].write_text(json.dumps(asdict(self), indent=1, default=str) + "\n", encoding="utf-8")
        written.append(plot.write(self.rows, self.heading(), folder / f"{stem}.png"))
        return written
