"""Requests/s, p50/p99 latency and CPU per request of each server at 1 and 10 connections, on loopback.

One connection shows the latency of a lone client; ten show what one worker sustains under
load. All servers run at once but only one is loaded at a time: each gets a warm-up, then
they take turns for `budget.rounds` rounds, and each figure is the median of its rounds.
During each round the server's own CPU time (user + system, its child processes included)
is read too: on a shared 2-core machine req/s swings by ±10 % from run to run, while the CPU
a request costs the server barely moves, so the A/Bs of a few per cent are read from it.
"""

from __future__ import annotations

import dataclasses
import statistics
from contextlib import ExitStack
from pathlib import Path

from bench import load
from bench.budget import Budget
from bench.rows import HIGHER, Row
from bench.servers import RunningServer, ServerSpec

SECTION = "http"
CONNECTIONS = (1, 10)
CPU = "cpu_us_per_request"  # the details key: the server's median CPU µs per answered request


def case(connections: int) -> str:
    return f"{connections} connection{'s' if connections > 1 else ''}"


def summary(name: str, connections: int, rounds: list[load.Load], section: str = SECTION) -> Row:
    """One row from a server's rounds: the median rate, the median p50 and p99, and the median
    CPU per request when every round read it (not for the server room's containers)."""
    details = {
        "p50_ms": statistics.median(r.p50_ms for r in rounds),
        "p99_ms": statistics.median(r.p99_ms for r in rounds),
        "requests": float(sum(r.requests for r in rounds)),
        "errors": float(sum(r.errors for r in rounds)),
        "rounds": float(len(rounds)),
    }
    cpu = [value for r in rounds if (value := r.cpu_us_per_request) is not None]
    if cpu and len(cpu) == len(rounds):
        details[CPU] = statistics.median(cpu)
    rate = statistics.median(r.per_second for r in rounds)
    return Row(section, name, case(connections), rate, "req/s", HIGHER, details)


def take_turns(
    servers: list[RunningServer], connections: int, budget: Budget, wrk: str | None
) -> dict[str, list[load.Load]]:
    """A warm-up for each server, then the measured rounds, one server after another."""

    def run(server: RunningServer, seconds: float) -> load.Load:
        url = server.url(server.spec.predict_path)
        before = server.cpu_seconds()
        result = load.run(url, server.spec.body, connections, seconds, budget.load_max_requests, wrk)
        return dataclasses.replace(result, server_cpu_s=server.cpu_seconds() - before)

    for server in servers:
        run(server, budget.warmup_seconds)
    results: dict[str, list[load.Load]] = {server.spec.name: [] for server in servers}
    for _ in range(budget.rounds):
        for server in servers:
            results[server.spec.name].append(run(server, budget.load_seconds))
    return results


def measure(
    specs: list[ServerSpec],
    budget: Budget,
    wrk: str | None,
    log_dir: Path,
    starts: dict[str, list[float]] | None = None,
) -> list[Row]:
    """Every server at every connection count; rows grouped by server.

    Each start is also a cold start: its time is added to `starts` (by server name), so the
    cold-start measurement needs fewer starts of its own.
    """
    with ExitStack() as stack:
        servers = [stack.enter_context(RunningServer(spec, log_dir)) for spec in specs]
        for server in servers:
            if starts is not None:
                starts.setdefault(server.spec.name, []).append(server.cold_start)
            server.check_predict()
        by_connections = {n: take_turns(servers, n, budget, wrk) for n in CONNECTIONS}
    return [summary(spec.name, n, by_connections[n][spec.name]) for spec in specs for n in CONNECTIONS]
