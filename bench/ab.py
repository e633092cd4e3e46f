"""`python -m bench.ab [--before REF]`: this tree's served /predict against REF's, in one run.

The A/B an optimisation of the service earns its place with (DESIGN rule 5): the bare endpoint
(the floor), the served /predict of REF (its src/ by `git archive`, as specs.before) and of this
tree take turns at 10 connections under wrk, then in cold starts; each figure is a median of
rounds. CPU per request is the figure to read (req/s swings ±10 % on a shared 2-core machine).
Writes bench/results/ab.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
from contextlib import ExitStack
from pathlib import Path

from bench import cold_start, load, machine, specs
from bench.budget import FULL, Budget
from bench.http_load import CPU, summary, take_turns
from bench.rows import Row
from bench.run import RESULTS
from bench.servers import ROOT, RunningServer
from bench.table import markdown_table
from penguins.training import build

CONNECTIONS = 10
SERVED_HERE = "served /predict (ONNX), this tree"


def measure(before: str, budget: Budget, wrk: str | None) -> tuple[list[Row], dict[str, float]]:
    """The three servers' load rows at CONNECTIONS, and their median cold starts."""
    folder = build.ensure(None, say=lambda line: None)
    log_dir = folder / "bench-logs"
    commit = subprocess.run(["git", "rev-parse", "--short", before], cwd=ROOT, capture_output=True, text=True)
    servers = [
        specs.bare(),
        specs.before(folder, commit.stdout.strip(), f"served /predict (ONNX), {before}"),
        dataclasses.replace(specs.served(folder), name=SERVED_HERE),
    ]
    with ExitStack() as stack:
        running = [stack.enter_context(RunningServer(spec, log_dir)) for spec in servers]
        for server in running:
            server.check_predict()
        turns = take_turns(running, CONNECTIONS, budget, wrk)
    rows = [summary(spec.name, CONNECTIONS, turns[spec.name]) for spec in servers]
    starts = cold_start.measure(servers, budget, log_dir)
    return rows, {row.name: row.value for row in starts}


def report(rows: list[Row], starts: dict[str, float]) -> str:
    """One line per server, each figure beside its ratio to the bare endpoint's (the floor)."""
    bare = rows[0]
    lines = []
    for row in rows:
        cpu, p99 = row.details[CPU], row.details["p99_ms"]
        lines.append(
            [
                row.name,
                f"{row.value:,.0f} ({row.value / bare.value:.2f}×)",
                f"{cpu:,.0f} µs ({cpu / bare.details[CPU]:.2f}×)",
                f"{p99:.2f} ms ({p99 / bare.details['p99_ms']:.2f}×)",
                f"{starts[row.name]:.2f} s ({starts[row.name] / starts[bare.name]:.2f}×)",
            ]
        )
    header = ["server", "req/s (× bare)", "CPU per request (× bare)", "p99 (× bare)", "cold start (× bare)"]
    return markdown_table(header, lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("--before", default="main", help="the git ref to compare with (default main)")
    parser.add_argument("--rounds", type=int, default=5, help="turns each server gets (default 5)")
    parser.add_argument("--out", type=Path, default=RESULTS / "ab.md")
    args = parser.parse_args()
    budget = Budget("ab", args.rounds, FULL.model_seconds, 1, 1.0, 2.0, FULL.load_max_requests, args.rounds)
    rows, starts = measure(args.before, budget, load.ensure_wrk())
    text = "\n".join(
        [
            f"# Same-run A/B: the served /predict against {args.before}",
            "",
            f"{machine.describe()}. wrk (1 thread), {CONNECTIONS} connections, POST /predict with one record, "
            f"{args.rounds} rounds of {budget.load_seconds:.0f} s taken in turns, medians; cold start: process start "
            f"to the first /ready, median of {args.rounds} starts in turns (`python -m bench.ab`).",
            "",
            report(rows, starts),
            "",
        ]
    )
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
