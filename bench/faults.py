"""Faults in the server room, each under the same paced load: what the room's clients see.

One room (docker/compose.room.yaml, already up), one fault at a time, each during about ten
seconds of the paced load of notebook 07 (100 predictions/s from 4 threads through the proxy at
the domain, 3 s client timeout; the clients retry a refused or cut connection with backoff, as
penguins.client does). Overload is wrk's 1,000 connections instead. Each fault is a row:

    sent, unanswered (no HTTP answer), 5xx, the proxy's 503 with Retry-After, p50 and p99,
    answers per second, and the requests a hung or starved replica still got OUT_WITHIN s after
    the fault began (the answers it gave before that, and when the last request reached it), by
    the proxy's X-Replica header; for the starved replica also its share of the predictions
    before the fault, during its first OUT_WITHIN s and after, by the replicas' own logs.

tests/test_room_faults.py asserts the counts of each row; `make bench` puts the timings beside
the same run's no-fault row as ratios (throughput and p99), never as timed tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import room as bench_room
from bench.budget import Budget
from bench.rows import HIGHER, Row
from penguins.serving.examples import CLEAN_RECORD
from workshop import paced_load, room

SECTION = "faults"
NONE = "no fault"
LOAD = {"rate": 100.0, "seconds": 10.0, "threads": 4, "timeout": 3.0}
FAULT_AT = 1.0  # seconds into the load when the fault starts
# A hung or starved replica gets no new request later than this after the fault starts.
# Hung (paused): nginx leaves it out after its first request's proxy_read_timeout (1 s; measured:
# the last request reached it 0.1-0.2 s after the fault) for fail_timeout (10 s), but on a busy
# machine the other replicas may time out too, and the `backup` line then tries it again; what
# holds is the keeper, as for a starved one. Starved, at the latest (compose.room.yaml's
# healthcheck, docker/keeper/keeper.py, nginx.conf): the next check starts within 2 s (interval),
# it and the one 2 s after it time out (1 s each): unhealthy 6 s after the fault; the keeper's next
# look within 1 s disconnects it; nginx re-resolves within 1 s (valid=1s). 8 s, and 2 s to spare
# for a busy engine. Measured: 5-6 s.
OUT_WITHIN = 10.0
VICTIM_SECONDS = 16.0  # the hung and starved rows' load: 5 s of it past OUT_WITHIN
STARVED_CPUS = "0.05"  # 5 % of one core
# A prediction in a replica's log (penguins.serving's RequestGate), after `docker logs --timestamps`'
# time: when the line was written and how long the replica took (so when it began the request).
PREDICTION_LOGGED = re.compile(r"^(\S+) .*\bPOST /predict \d{3} ([\d.]+) ms\b")
REJOIN_WITHIN = 5.0  # seconds of predictions, one at a time, for the starved replica to answer one again
SLOW_CONNECTIONS = 2100
OVERLOAD_CONNECTIONS = 1000
OVERLOAD_SECONDS = 10
# wrk gives up on an answer after this: 1,000 TLS handshakes at once on the machine that also runs
# the room and wrk can keep a first answer waiting longer than the paced load's 3 s.
OVERLOAD_TIMEOUT = 10
WRK_SCRIPT = Path(__file__).with_name("faults.lua")
CLEAN_UP_WITHIN = 60.0  # seconds for the room to be whole again after a fault


@dataclass(frozen=True)
class Outcome:
    """What the clients saw during one fault."""

    fault: str
    sent: int
    unanswered: int  # no HTTP answer within the client's timeout (connection errors after retries)
    server_errors: int  # 5xx, except the proxy's own 503 with Retry-After
    refused: int  # the proxy's 503 with Retry-After: the intended fast refusal under overload
    p50_ms: float
    p99_ms: float
    per_second: float  # 2xx answers per second of the run
    victim_hits: int | None = None  # requests the hung or starved replica got `within` s after the fault
    victim_before: int | None = None  # the answers it gave before that
    victim_last: float | None = None  # when the last request reached it, in s after the fault
    # the starved replica's share of the predictions before the fault, in its first `within` s
    # and after them, by the replicas' own logs (not the proxy's word, nor the keeper's)
    victim_shares: tuple[float, float, float] | None = None
    rejoined: int | None = None  # once healthy: predictions one at a time until it answered one (0: none did)
    within: float = OUT_WITHIN
    note: str = ""
    seconds: float = LOAD["seconds"]  # the load's length: the tests' windows are shorter than the bench's

    def line(self) -> str:
        last = "none" if self.victim_last is None else f"{self.victim_last:.1f} s after the fault"
        hits = (
            ""
            if self.victim_hits is None
            else f", the victim answered {self.victim_before} until {self.within:g} s after the fault and got "
            f"{self.victim_hits} requests after that (the last one reached it: {last})"
        )
        if self.victim_shares:
            before, during, after = (f"{share:.0%}" for share in self.victim_shares)
            hits += (
                f"; by the replicas' logs its share of the predictions was {before} before the fault, "
                f"{during} in its first {self.within:g} s, {after} after that"
            )
        return (
            f"{self.fault}: sent {self.sent}, unanswered {self.unanswered}, 5xx {self.server_errors}, "
            f"503 with Retry-After {self.refused}, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, "
            f"{self.per_second:.1f} answers/s{hits}{'; ' + self.note if self.note else ''}"
        )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def outcome(
    fault: str,
    load: paced_load.Load,
    victim: str | None = None,
    within: float = OUT_WITHIN,
    seconds: float = LOAD["seconds"],
) -> Outcome:
    """Count a paced load's shots; `victim`: the address whose requests `within` s after the fault count."""
    shots = load.shots
    took = [shot.seconds for shot in shots]
    ended = max((shot.at + shot.seconds for shot in shots), default=1.0)
    hits, before, last = None, None, None
    if victim is not None:
        reached = [shot for shot in shots if any(t.startswith(f"{victim}:") for t in shot.tried)]
        late = FAULT_AT + within
        hits = sum(shot.at >= late for shot in reached)
        before = sum(shot.ok and shot.replica.startswith(f"{victim}:") for shot in reached if shot.at < late)
        last = max((shot.at - FAULT_AT for shot in reached), default=None)
    return Outcome(
        fault,
        sent=len(shots),
        unanswered=sum(shot.status == 0 for shot in shots),
        server_errors=sum(shot.status >= 500 and not (shot.status == 503 and shot.retry_after) for shot in shots),
        refused=sum(shot.status == 503 and bool(shot.retry_after) for shot in shots),
        p50_ms=_percentile(took, 0.5) * 1e3,
        p99_ms=_percentile(took, 0.99) * 1e3,
        per_second=sum(shot.ok for shot in shots) / ended,
        victim_hits=hits,
        victim_before=before,
        victim_last=last,
        within=within,
        seconds=seconds,
    )


# ---------------------------------------------------------------- the room's parts


def docker(*args: str, timeout: float = 60) -> str:
    """Run one docker command; the command itself is what the load records as its event."""
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise room.RoomError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
    return f"docker {' '.join(args)}"


def signal_uvicorn(name: str, signal: str) -> str:
    """A signal to the replica's uvicorn from inside it: the restart policy still counts (not `docker kill`)."""
    command = ["docker", "exec", name, "sh", "-c", f"kill -{signal} $(pidof -x uvicorn)"]
    subprocess.run(command, capture_output=True, timeout=30)
    return room.shell(command)


def whole_again(env: dict[str, str], within: float = CLEAN_UP_WITHIN) -> float:
    """Wait until every replica of the room is running, healthy and back on the room's network
    (restart policy, unpause, the keeper); return how long that took."""
    start = time.monotonic()
    deadline = start + within
    while True:
        found = room.replicas(services=(room.MODEL_SERVICES[0],))
        if len(found) == room.facts().replicas and all(r.health == "healthy" and r.address for r in found):
            return time.monotonic() - start
        if time.monotonic() > deadline:
            raise room.RoomError(f"the room is not whole {within:g} s after a fault: {found}")
        time.sleep(0.25)


# ---------------------------------------------------------------- one fault under the load


Action = Callable[[], str]


def under_load(
    fault: str,
    action: Action | None,
    victim: str | None = None,
    more: dict[float, Action] | None = None,
    within: float = OUT_WITHIN,
    seconds: float = LOAD["seconds"],
) -> tuple[Outcome, paced_load.Load]:
    """The paced load with `action` at FAULT_AT (and `more` actions at their times), for `seconds`."""
    at = {FAULT_AT: action} if action else {}
    load = paced_load.run(
        lambda: room.client(),
        "/predict",
        CLEAN_RECORD,
        rate=LOAD["rate"],
        seconds=seconds,
        threads=int(LOAD["threads"]),
        timeout=LOAD["timeout"],
        at={**at, **(more or {})},
    )
    return outcome(fault, load, victim, within=within, seconds=seconds), load


def no_fault(env: dict[str, str], seconds: float = LOAD["seconds"]) -> Outcome:
    return under_load(NONE, None, seconds=seconds)[0]


def hung(env: dict[str, str], seconds: float = VICTIM_SECONDS) -> Outcome:
    """`docker pause`: the replica's processes are frozen; its kernel still accepts connections."""
    victim = room.replicas()[0]
    try:
        result, _ = under_load(
            "a replica hung (docker pause)",
            lambda: docker("pause", victim.name),
            victim.address,
            seconds=seconds,
        )
    finally:
        subprocess.run(["docker", "unpause", victim.name], capture_output=True, timeout=60)
    return back(result, whole_again(env))


def back(result: Outcome, seconds: float) -> Outcome:
    """The outcome, noting how long after the fault ended the victim was back in the room's DNS."""
    return Outcome(**{**result.__dict__, "note": f"back in the room's DNS {seconds:.1f} s after the fault ended"})


def begun(name: str, since: float) -> list[float]:
    """When the replica began each prediction it answered since `since` (s since the epoch), by
    its own log: the replica's word, not the proxy's, the client's or the keeper's."""
    command = ["docker", "logs", "--timestamps", "--since", f"{since:.3f}", name]
    logged = subprocess.run(command, capture_output=True, text=True, timeout=60)
    found = (PREDICTION_LOGGED.match(line) for line in (logged.stdout + logged.stderr).splitlines())
    return [datetime.fromisoformat(m[1]).timestamp() - float(m[2]) / 1e3 for m in found if m]


def shares(victim: str, names: list[str], began: float, fault: float, within: float) -> tuple[float, float, float]:
    """The victim's share of the replicas' predictions before the fault, in its first `within` s, after."""
    times = {name: begun(name, began) for name in names}

    def share(start: float, end: float) -> float:
        counts = {name: sum(start <= t < end for t in found) for name, found in times.items()}
        return counts[victim] / max(1, sum(counts.values()))

    return share(began, fault), share(fault, fault + within), share(fault + within, time.time())


def rejoined(name: str) -> int:
    """Predictions sent one at a time through the proxy until the replica answers one (by its
    address now: reconnected, it may have another); how many, or 0 if none within REJOIN_WITHIN s."""
    address = next(r.address for r in room.replicas() if r.name == name)
    client, deadline, n = room.client(), time.monotonic() + REJOIN_WITHIN, 0
    body, url = json.dumps(CLEAN_RECORD), client.url + "/predict"
    while time.monotonic() < deadline:
        n += 1
        response = client.session.post(
            url, data=body, headers={"Content-Type": "application/json"}, timeout=10, verify=client.verify
        )
        if response.headers.get(room.REPLICA_HEADER, "").startswith(f"{address}:"):
            return n
    return 0


def starved(env: dict[str, str], seconds: float = VICTIM_SECONDS) -> Outcome:
    """`docker update --cpus 0.05`: the replica runs, at 5 % of a core. Not the replica the hung
    row paused: one that comes back may first lose a request to the connections cut when it
    left, and nginx then leaves it out for fail_timeout (10 s)."""
    found = room.replicas()
    victim, fault = found[1], [0.0]

    def starve() -> str:
        fault[0] = time.time()
        return docker("update", "--cpus", STARVED_CPUS, victim.name)

    began = time.time()
    try:
        result, _ = under_load(
            f"a replica CPU-starved (--cpus {STARVED_CPUS})",
            starve,
            victim.address,
            seconds=seconds,
        )
    finally:  # every CPU of the engine again (engine 20.10 ignores `--cpus 0`: the limit stayed)
        cpus = subprocess.run(["docker", "info", "--format", "{{.NCPU}}"], capture_output=True, text=True, timeout=60)
        subprocess.run(
            ["docker", "update", "--cpus", cpus.stdout.strip(), victim.name], capture_output=True, timeout=60
        )
    back = whole_again(env)
    split = shares(victim.name, [r.name for r in found], began, fault[0], OUT_WITHIN)
    tries = rejoined(victim.name)
    note = f"back in the room's DNS {back:.1f} s after the fault ended, " + (
        f"answering again at prediction {tries}" if tries else f"answering no prediction within {REJOIN_WITHIN:g} s"
    )
    return Outcome(**{**result.__dict__, "victim_shares": split, "rejoined": tries, "note": note})


def two_crashed(env: dict[str, str], seconds: float = LOAD["seconds"]) -> Outcome:
    """SIGKILL to uvicorn in two of the three replicas at once; Docker's restart policy brings them back."""
    victims = room.replicas()[:2]

    def crash() -> str:
        for victim in victims:
            signal_uvicorn(victim.name, "KILL")
        return "two crashed"

    result, _ = under_load("two of three replicas crashed at once (SIGKILL)", crash, seconds=seconds)
    whole_again(env)
    now = {replica.name: replica.restarts for replica in room.replicas()}
    restarts = [now.get(victim.name, 0) - victim.restarts for victim in victims]
    return Outcome(**{**result.__dict__, "note": f"restarted by Docker: {restarts}"})


def drained(env: dict[str, str], seconds: float = LOAD["seconds"]) -> Outcome:
    """SIGTERM to one replica's uvicorn: it stops taking connections, finishes those in flight, exits."""
    victim = room.replicas()[0]
    result, _ = under_load(
        "a replica stopped with SIGTERM", lambda: signal_uvicorn(victim.name, "TERM"), victim.address, seconds=seconds
    )
    whole_again(env)
    return Outcome(**{**result.__dict__, "victim_hits": None})


def proxy_restarted(env: dict[str, str], seconds: float = LOAD["seconds"]) -> Outcome:
    """`docker compose restart proxy`: nginx exits gracefully and starts again; nothing listens meanwhile."""
    return under_load("the proxy restarted", lambda: str(room.compose("restart", "proxy", env=env)), seconds=seconds)[0]


def reloaded(env: dict[str, str], seconds: float = LOAD["seconds"]) -> Outcome:
    """Three configuration changes, each applied with `nginx -s reload` (new workers, old ones finish),
    a third of the load after the fault apart (10 s: at 1, 4 and 7 s)."""
    path = room.root() / room.SECRETS / room.COLOUR_CONF
    live = path.read_text(encoding="utf-8")

    def change(n: int) -> Action:
        def act() -> str:
            path.write_text(f"# change {n}\n{live}", encoding="utf-8")
            return room.compose("exec", "-T", "proxy", "nginx", "-s", "reload", env=env).output

        return act

    apart = (seconds - FAULT_AT) / 3
    try:
        result, _ = under_load(
            "the proxy's configuration reloaded (3 times)",
            change(1),
            more={FAULT_AT + apart: change(2), FAULT_AT + 2 * apart: change(3)},
            seconds=seconds,
        )
    finally:
        path.write_text(live, encoding="utf-8")
        room.compose("exec", "-T", "proxy", "nginx", "-s", "reload", env=env)
    return result


# ---------------------------------------------------------------- slow connections


async def _hold_slow(url: str, count: int, ca: str, seconds: float) -> tuple[int, int, float]:
    """Open `count` TLS connections that send half a request line and then nothing; return how
    many opened, how many the server closed within `seconds`, and the latest close (s after open)."""
    host, port = url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=ca)
    opened, closed, latest = 0, 0, 0.0
    gate = asyncio.Semaphore(64)  # handshakes at once: the load keeps its share of the CPU

    async def one() -> None:
        nonlocal opened, closed, latest
        async with gate:
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", int(port), ssl=context, server_hostname=host
                )
            except OSError:
                return
        opened += 1
        start = time.monotonic()
        writer.write(b"POST /predict HTTP/1.1\r\nHost: ")
        try:
            await asyncio.wait_for(reader.read(), timeout=seconds)
            closed += 1
            latest = max(latest, time.monotonic() - start)
        except (TimeoutError, OSError):
            pass
        writer.close()

    await asyncio.gather(*(one() for _ in range(count)))
    return opened, closed, latest


def slow_connections(env: dict[str, str]) -> Outcome:
    """2,100 TLS connections that never finish their request, opened during the load by another
    process (`python -m bench.faults`: their handshakes would take the load's interpreter)."""
    secrets = room.make_secrets(say=lambda line: None)
    command = [sys.executable, "-m", "bench.faults", room.facts().url, str(SLOW_CONNECTIONS), str(secrets.ca)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=room.root()) as holder:
        result, _ = under_load(f"{SLOW_CONNECTIONS:,} slow TLS connections held open", None)
        out, _ = holder.communicate(timeout=120)
    opened, closed, latest = json.loads(out)
    return Outcome(
        **{**result.__dict__, "note": f"{opened} opened, {closed} closed by the proxy, the last after {latest:.1f} s"}
    )


def slow_counts(result: Outcome) -> tuple[int, int, float]:
    """(opened, closed by the proxy, latest close in s) from the slow-connections row's note."""
    words = result.note.replace(",", "").split()
    return int(words[0]), int(words[2]), float(words[-2])


# ---------------------------------------------------------------- overload (wrk)


def overloaded(env: dict[str, str], wrk: str) -> Outcome:
    """wrk with 1,000 connections at once, POST /predict as fast as answers come, for 10 s."""
    facts, secrets = room.facts(), room.make_secrets(say=lambda line: None)
    command = [
        wrk,
        "-t1",
        f"-c{OVERLOAD_CONNECTIONS}",
        f"-d{OVERLOAD_SECONDS}s",
        "--timeout",
        f"{OVERLOAD_TIMEOUT}s",
        "-s",
        str(WRK_SCRIPT),
        "-H",
        f"Host: {facts.domain}",
        "-H",
        f"{room.API_KEY_HEADER}: {secrets.api_key}",
        f"https://127.0.0.1:{facts.https_port}/predict",
    ]
    env_wrk = {**os.environ, "BENCH_BODY": json.dumps(CLEAN_RECORD)}
    out = subprocess.run(command, capture_output=True, text=True, env=env_wrk, timeout=OVERLOAD_SECONDS + 60)
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    statuses = {int(code): count for code, count in figures["statuses"].items()}
    answered = sum(statuses.values())
    return Outcome(
        f"overload (wrk, {OVERLOAD_CONNECTIONS:,} connections)",
        sent=answered + figures["socket_errors"],
        unanswered=figures["socket_errors"],
        server_errors=sum(count for code, count in statuses.items() if code >= 500) - figures["refused"],
        refused=figures["refused"],
        p50_ms=figures["p50_us"] / 1e3,
        p99_ms=figures["p99_us"] / 1e3,
        per_second=statuses.get(200, 0) / (figures["duration_us"] / 1e6),
        note=f"statuses {dict(sorted(statuses.items()))}",
    )


# ---------------------------------------------------------------- the table, for make bench


FAULTS: list[Callable[[dict[str, str]], Outcome]] = [
    no_fault,
    hung,
    starved,
    proxy_restarted,
    reloaded,
    slow_connections,
    two_crashed,
    drained,
]


def rows(outcomes: list[Outcome]) -> list[Row]:
    """One row per fault: answers/s as the value, the counts and latencies as details."""
    return [
        Row(
            SECTION,
            result.fault,
            "",
            result.per_second,
            "answers/s",
            HIGHER,
            {
                "sent": result.sent,
                "unanswered": result.unanswered,
                "5xx": result.server_errors,
                "503 with Retry-After": result.refused,
                "p50_ms": result.p50_ms,
                "p99_ms": result.p99_ms,
                **_shares(result),
            },
            result.note,
        )
        for result in outcomes
    ]


def _shares(result: Outcome) -> dict[str, float]:
    """The starved replica's share of the predictions before the fault and `within` s after it."""
    if result.victim_shares is None:
        return {}
    return {"victim share before": result.victim_shares[0], "victim share after": result.victim_shares[2]}


def table(found: list[Row], baselines: object = None) -> str:
    """The fault table: counts, then throughput and p99 as multiples of the no-fault row's."""
    mine = [row for row in found if row.section == SECTION]
    none = next((row for row in mine if row.name == NONE), None)
    lines = [
        "| fault | sent | unanswered | 5xx | 503 + Retry-After | p50 | p99 | answers/s | throughput × no fault "
        "| p99 × no fault | starved replica's share: before → after |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in mine:
        d = row.details
        speed = f"{row.value / none.value:.2f}" if none else "-"
        tail = f"{d['p99_ms'] / none.details['p99_ms']:.1f}" if none else "-"
        share = (
            f"{d['victim share before']:.0%} → {d['victim share after']:.0%} after {OUT_WITHIN:g} s"
            if "victim share after" in d
            else "-"
        )
        lines.append(
            f"| {row.name} | {d['sent']:,.0f} | {d['unanswered']:,.0f} | {d['5xx']:,.0f} | "
            f"{d['503 with Retry-After']:,.0f} | {d['p50_ms']:.1f} ms | {d['p99_ms']:.1f} ms | {row.value:.1f} | "
            f"{speed} | {tail} | {share} |"
        )
    return "\n".join(lines)


TARGETED = ("a replica hung (docker pause)", f"a replica CPU-starved (--cpus {STARVED_CPUS})")


def targets(found: list[Row]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for a hung and a starved replica: throughput ≥ 0.9× and p99 ≤ 10×
    the no-fault row of the same run."""
    none = next((row for row in found if (row.section, row.name) == (SECTION, NONE)), None)
    verdicts: list[tuple[str, str, bool | None]] = []
    for name in TARGETED:
        target = f"{name}: throughput ≥ 0.9× and p99 ≤ 10× the no-fault row"
        row = next((row for row in found if (row.section, row.name) == (SECTION, name)), None)
        if row is None or none is None:
            verdicts.append((target, "-", None))
            continue
        speed, tail = row.value / none.value, row.details["p99_ms"] / none.details["p99_ms"]
        verdicts.append((target, f"{speed:.2f}× throughput, {tail:.1f}× p99", speed >= 0.9 and tail <= 10))
    return verdicts


def measure(
    budget: Budget, wrk: str | None, say: Callable[[str], None] = print, image: str = bench_room.IMAGE
) -> tuple[list[Row], str]:
    """Every fault once on the room (started here unless it runs; left as found), then the
    overload (when wrk is here). Rows, and a note saying why not when the room cannot run."""
    reason = bench_room.why_not(image)
    if reason:
        return [], reason.replace("server room", "faults")
    env = {"PENGUINS_IMAGE": image}
    was_up = bool(room.replicas())
    room.up("--no-build", "--pull", "never", env=env)
    outcomes = []
    try:
        for fault in FAULTS:
            outcomes.append(fault(env))
            say(f"   {outcomes[-1].line()}")
        if wrk:
            outcomes.append(overloaded(env, wrk))
            say(f"   {outcomes[-1].line()}")
    finally:
        if not was_up:
            room.down(env=env)
    return rows(outcomes), f"faults measured on {image}, {len(outcomes)} rows"


if __name__ == "__main__":  # python -m bench.faults URL COUNT CA: hold slow connections, print the counts
    print(json.dumps(asyncio.run(_hold_slow(sys.argv[1], int(sys.argv[2]), sys.argv[3], 20.0))))
