"""A paced load: a few threads send requests at a fixed total rate for a fixed time.

`run` waits for it; `start` runs it in the background while commands are typed (notebook 07b's
switches), until `stop()`. Stage 07's crash is judged under this load: a replica dies while requests keep coming, and
every request must still get its answer. Pacing (not "as fast as possible") keeps the load
the same on a fast laptop and a slow CI machine, and bounded: rate x duration requests, each
with a timeout, to 127.0.0.1 only.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from penguins.client import PenguinClient
from workshop.room import REPLICA_HEADER


@dataclass(frozen=True)
class Shot:
    """One request: when it was sent (s from the start), its status (0: no answer), the replicas
    the proxy tried (its replica header: "a, b" after a retry), how long it took."""

    at: float
    status: int
    tried: tuple[str, ...]
    seconds: float
    answer: str = ""  # what `answer` read from the response (a model version, ...), "" without it
    retry_after: str = ""  # the Retry-After header of a refusal, "" without it
    error: str = ""  # why there was no answer (the exception's name), "" with one

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def replica(self) -> str:
        """The replica that answered: the last one tried."""
        return self.tried[-1] if self.tried else ""


@dataclass
class Load:
    """What a paced load saw, request by request."""

    shots: list[Shot] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return len(self.shots)

    @property
    def failed(self) -> int:
        return sum(not shot.ok for shot in self.shots)

    def per_second(self) -> list[tuple[int, int, int]]:
        """(second, answered 2xx, failed) for every second of the run."""
        ok = Counter(int(s.at) for s in self.shots if s.ok)
        bad = Counter(int(s.at) for s in self.shots if not s.ok)
        last = max((int(s.at) for s in self.shots), default=-1)
        return [(second, ok[second], bad[second]) for second in range(last + 1)]

    def replicas_after(self, at: float) -> Counter[str]:
        """How many answers each replica gave after `at` seconds."""
        return Counter(s.replica for s in self.shots if s.at >= at and s.ok)

    def answers_per_second(self) -> list[tuple[int, Counter[str]]]:
        """(second, how many 2xx answers said what) for every second of the run: who answered when."""
        last = max((int(s.at) for s in self.shots), default=-1)
        return [
            (second, Counter(s.answer for s in self.shots if s.ok and int(s.at) == second))
            for second in range(last + 1)
        ]

    def table(self) -> str:
        marks = {int(at): what for at, what in self.events}
        lines = ["second   2xx  failed"]
        lines += [
            f"{second:>6} {ok:>5} {bad:>7}  {marks.get(second, '')}".rstrip() for second, ok, bad in self.per_second()
        ]
        lines.append(f"sent {self.sent}, failed {self.failed}")
        return "\n".join(lines)


class Running:
    """A paced load going on in the background (`start`): `stop()` ends it and returns what it saw."""

    def __init__(self, load: Load, began: float, stopping: threading.Event, pool: list[threading.Thread]) -> None:
        self.load, self.began, self.stopping, self.pool = load, began, stopping, pool

    def now(self) -> float:
        """Seconds since the load began: the clock its shots are timed by."""
        return time.monotonic() - self.began

    def mark(self, what: str, at: float | None = None) -> float:
        """Note an event (a command typed meanwhile) at `at` (default: now) on the load's clock."""
        when = self.now() if at is None else at
        self.load.events.append((when, what))
        return when

    def stop(self) -> Load:
        self.stopping.set()
        for thread in self.pool:
            thread.join()
        self.load.shots.sort(key=lambda shot: shot.at)
        return self.load


def start(
    make_client: Callable[[], PenguinClient],
    path: str,
    body: Any,
    *,
    rate: float = 100.0,
    seconds: float = math.inf,
    threads: int = 4,
    timeout: float = 3.0,
    replica_header: str = REPLICA_HEADER,
    answer: Callable[[requests.Response], str] | None = None,
) -> Running:
    """Begin POSTing `body` to `path`, each thread with its own client, at `rate` requests/s in
    total from `threads` threads, until `seconds` have passed or `stop()` is called.

    A request without a 2xx answer within `timeout` counts as failed. `answer` reads what each
    2xx response said (e.g. which model version answered) into its Shot.
    """
    load = Load()
    lock = threading.Lock()
    stopping = threading.Event()
    began = time.monotonic()
    interval = threads / rate

    def worker(offset: float) -> None:
        client = make_client()
        n = 0
        while (due := offset + n * interval) < seconds and not stopping.is_set():
            pause = began + due - time.monotonic()
            if pause > 0 and stopping.wait(pause):
                break
            sent = time.monotonic()
            said, header, retry_after, error = "", "", "", ""
            try:
                response = client.session.post(client.url + path, json=body, timeout=timeout, verify=client.verify)
                status, header = response.status_code, response.headers.get(replica_header, "")
                said = answer(response) if answer and response.ok else ""
                retry_after = response.headers.get("Retry-After", "")
            except (requests.RequestException, ValueError) as err:
                status, error = 0, type(err).__name__
            # "a, b" after a retry; "a, blue : c" when the request started over (nginx.conf's @again)
            tried = tuple(part.strip() for part in header.replace(" : ", ",").split(",") if part.strip())
            shot = Shot(sent - began, status, tried, time.monotonic() - sent, said, retry_after, error)
            with lock:
                load.shots.append(shot)
            n += 1
        client.close()

    pool = [threading.Thread(target=worker, args=(i * interval / threads,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    return Running(load, began, stopping, pool)


def run(
    make_client: Callable[[], PenguinClient],
    path: str,
    body: Any,
    *,
    rate: float = 100.0,
    seconds: float = 30.0,
    threads: int = 4,
    timeout: float = 3.0,
    replica_header: str = REPLICA_HEADER,
    at: dict[float, Callable[[], str]] | None = None,
    answer: Callable[[requests.Response], str] | None = None,
) -> Load:
    """The paced load of `start` for `seconds`, waited for. `at` maps a time (s from the start)
    to an action run then, in its own thread (a crash, a scale); the text it returns is
    recorded as an event."""
    running = start(
        make_client,
        path,
        body,
        rate=rate,
        seconds=seconds,
        threads=threads,
        timeout=timeout,
        replica_header=replica_header,
        answer=answer,
    )

    def act(when: float, action: Callable[[], str]) -> None:
        time.sleep(max(0.0, when - running.now()))
        running.mark(action(), at=when)

    actions = [threading.Thread(target=act, args=item) for item in (at or {}).items()]
    for thread in actions:
        thread.start()
    for thread in running.pool + actions:
        thread.join()
    return running.stop()
