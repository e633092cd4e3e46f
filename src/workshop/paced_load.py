"""A paced load: threads send at a fixed total rate, each request with a timeout, and count every one,
so "none lost" under a fault or a rollout is a fact, on a laptop as in CI."""

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
    """One request: sent `at` s from the start, its status (0: no answer), the replicas the proxy tried."""

    at: float
    status: int
    tried: tuple[str, ...]
    seconds: float
    answer: str = ""  # what `answer` read from a 2xx response (a model version, ...)
    retry_after: str = ""  # the Retry-After header of a refusal

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def replica(self) -> str:
        """The replica that answered: the last one tried."""
        return self.tried[-1] if self.tried else ""


@dataclass
class Load:
    """What a paced load saw, request by request, and the events marked meanwhile."""

    shots: list[Shot] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return len(self.shots)

    @property
    def failed(self) -> int:
        return sum(not shot.ok for shot in self.shots)

    def answers_per_second(self) -> list[tuple[int, Counter[str]]]:
        """(second, how many 2xx answers said what, "failed": how many failed) for every second."""
        seconds = [Counter[str]() for _ in range(max((int(s.at) + 1 for s in self.shots), default=0))]
        for shot in self.shots:
            seconds[int(shot.at)][shot.answer if shot.ok else "failed"] += 1
        return list(enumerate(seconds))

    def replicas_after(self, at: float) -> Counter[str]:
        return Counter(s.replica for s in self.shots if s.at >= at and s.ok)

    def table(self) -> str:
        marks = {int(at): what for at, what in self.events}
        lines = ["second   2xx  failed"]
        for second, counts in self.answers_per_second():
            ok = counts.total() - counts["failed"]
            lines.append(f"{second:>6} {ok:>5} {counts['failed']:>7}  {marks.get(second, '')}".rstrip())
        return "\n".join([*lines, f"sent {self.sent}, failed {self.failed}"])


@dataclass
class Running:
    began: float  # time.monotonic() when it began: the clock its shots are timed by
    linger: float = 0.0
    load: Load = field(default_factory=Load)
    stopping: threading.Event = field(default_factory=threading.Event)
    pool: list[threading.Thread] = field(default_factory=list)  # the senders
    actions: list[threading.Thread] = field(default_factory=list)  # what runs at its time meanwhile

    def now(self) -> float:
        return time.monotonic() - self.began

    def stop(self) -> Load:
        """End the load `linger` seconds from now, once every action has run; what it saw."""
        time.sleep(self.linger)
        for thread in self.actions:
            thread.join()
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
    answer: Callable[[requests.Response], str] | None = None,
    at: dict[float, Callable[[], str]] | None = None,
    linger: float = 0.0,
) -> Running:
    """POST `body` at `rate` requests/s until `seconds` or `stop()`; no 2xx within `timeout` fails. `answer`
    reads a 2xx; `at` maps a time to an action (its text an event); `linger`: load before and after."""
    running = Running(time.monotonic(), linger)
    interval = threads / rate

    def worker(offset: float) -> None:
        client, n = make_client(), 0
        while (due := offset + n * interval) < seconds and not running.stopping.is_set():
            pause = running.began + due - time.monotonic()
            if pause > 0 and running.stopping.wait(pause):
                break
            sent = time.monotonic()
            status, header, said, retry_after = 0, "", "", ""
            try:
                response = client.session.post(client.url + path, json=body, timeout=timeout, verify=client.verify)
                status, header = response.status_code, response.headers.get(REPLICA_HEADER, "")
                said = answer(response) if answer and response.ok else ""
                retry_after = response.headers.get("Retry-After", "")
            except (requests.RequestException, ValueError):  # no answer, or none `answer` could read
                status = 0
            # "a, b" after a retry; "a, blue : c" when the request started over (nginx.conf's @again)
            tried = tuple(part.strip() for part in header.replace(" : ", ",").split(",") if part.strip())
            shot = Shot(sent - running.began, status, tried, time.monotonic() - sent, said, retry_after)
            running.load.shots.append(shot)
            n += 1
        client.close()

    def act(when: float, action: Callable[[], str]) -> None:
        time.sleep(max(0.0, when - running.now()))
        running.load.events.append((when, action()))

    running.pool = [threading.Thread(target=worker, args=(i * interval / threads,)) for i in range(threads)]
    running.actions = [threading.Thread(target=act, args=item) for item in (at or {}).items()]
    for thread in running.pool + running.actions:
        thread.daemon = True
        thread.start()
    time.sleep(linger)
    return running


def run(
    make_client: Callable[[], PenguinClient], path: str, body: Any, *, seconds: float = 30.0, **options: Any
) -> Load:
    """`start`'s load for `seconds`, waited for."""
    running = start(make_client, path, body, seconds=seconds, **options)
    for thread in running.pool:
        thread.join()
    return running.stop()  # once the actions have run too
