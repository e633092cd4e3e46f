"""`make bench`: every measurement in one run, so each ratio compares figures taken minutes apart.

Order: the model (in this process), the HTTP servers one at a time, the server room (only
where a Docker engine answers; the section says why otherwise) and Kubernetes (only where CI's
cluster runs), the cold starts, the sizes.
Artifacts are built first if missing, exactly as any stage does.
"""

from __future__ import annotations

from pathlib import Path

from bench import cold_start, faults, http_load, k8s, load, machine, model_speed, room, sizes, specs, targets
from bench.budget import Budget
from bench.report import Report
from penguins.training import build

RESULTS = Path(__file__).with_name("results")
# section → (row, column label): the rows that section's ratios are taken against
BASELINES = {
    model_speed.SECTION: [(model_speed.BASELINE, "vs scikit-learn")],
    http_load.SECTION: [(specs.BARE, "vs bare"), (specs.NAIVE, "vs naive")],
    room.SECTION: [(room.DIRECT, "vs direct")],
    k8s.SECTION: [(k8s.DIRECT, "vs direct")],
    cold_start.SECTION: [(specs.NAIVE, "vs naive")],
    sizes.SECTION: [(sizes.SERVING, "× serving packages")],
}


def generator_name(wrk: str | None) -> str:
    return "wrk (1 thread)" if wrk else "Python asyncio client (wrk not installed)"


def run(
    budget: Budget,
    artifacts: Path | None = None,
    use_wrk: bool = True,
    log_dir: Path | None = None,
    say=print,
    with_room: bool = True,
    with_k8s: bool = True,
) -> Report:
    """Measure everything; `say` reports progress, since a full run takes minutes."""
    here = machine.describe()
    folder = build.ensure(artifacts, say=lambda line: None)
    log_dir = log_dir or folder / "bench-logs"
    wrk = load.ensure_wrk() if use_wrk else None
    say(f"bench ({budget.name}): {here}")
    say("1/5 the model alone and through the wrapper")
    rows = model_speed.measure(folder, budget)
    say(f"2/5 HTTP load with {generator_name(wrk)}")
    starts: dict[str, list[float]] = {}
    before = [specs.before(folder)] if budget.name == "full" else []  # a git archive: the full run only
    servers = [
        specs.bare(),
        specs.served(folder),
        *before,
        specs.tuned(folder),
        specs.served(folder, log_level="warning"),
        specs.served(folder, metrics=False),
        specs.naive(folder),
    ]
    rows += http_load.measure(servers, budget, wrk, log_dir, starts)
    say("3/5 the server room (Docker): one container direct, the proxy with 1 and 3 replicas")
    room_rows, room_note = room.measure(budget, wrk, say) if with_room else ([], "server room not measured in this run")
    rows += room_rows
    say(f"   {room_note}")
    say("   faults in the room, each under the paced load; overload with wrk")
    fault_rows, fault_note = faults.measure(budget, wrk, say) if with_room else ([], "faults not measured in this run")
    rows += fault_rows
    say(f"   {fault_note}")
    say("   Kubernetes (stage 07c): one container direct, the Service of k8s/ on a real cluster")
    k8s_rows, k8s_note = k8s.measure(budget, wrk, say) if with_k8s else ([], "kubernetes not measured in this run")
    rows += k8s_rows
    say(f"   {k8s_note}")
    say("4/5 cold starts")
    servers = [specs.bare(), specs.served(folder), specs.served(folder, "02"), specs.naive(folder)]
    rows += cold_start.measure(servers, budget, log_dir, starts)
    say("5/5 sizes")
    size_rows, size_note = sizes.measure()
    rows += size_rows
    notes = [room_note, fault_note, k8s_note]
    notes += [size_note] if size_note else []
    notes.append(
        "The peers (MLServer, BentoML, LitServe, Ray Serve) are measured by `make bench-peers`: bench/results/peers.md."
    )
    return Report("Benchmarks", here, budget, generator_name(wrk), rows, targets.check(rows), BASELINES, notes)
