"""A paced load: a few threads send requests at a fixed total rate for a fixed time.

Stage 07's crash is judged under this load: a replica dies while requests keep coming, and
every request must still get its answer. Pacing (not "as fast as possible") keeps the load
the same on a fast laptop and a slow CI machine, and bounded: rate x duration requests, each
with a timeout, to 127.0.0.1 only.
"""

from __future__ import annotations

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
    longer: Callable[[float], bool] | None = None,
) -> Load:
    """POST `body` to `path`, each thread with its own client, at `rate` requests/s in total
    from `threads` threads for `seconds`.

    `at` maps a time (s from the start) to an action run then, in its own thread (a crash,
    a scale); the text it returns is recorded as an event. A request without a 2xx answer
    within `timeout` counts as failed. `answer` reads what each 2xx response said (e.g. which
    model version answered) into its Shot. `longer(t)` keeps the load going past `seconds` while
    it says so (until a switch it waits for has ended, say), at the same rate.
    """
    load = Load()
    lock = threading.Lock()
    start = time.monotonic()
    interval = threads / rate

    def worker(offset: float) -> None:
        client = make_client()
        n = 0
        while (due := offset + n * interval) < seconds or (longer is not None and longer(due)):
            pause = start + due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent = time.monotonic()
            said, header, retry_after = "", "", ""
            try:
                response = client.session.post(client.url + path, json=body, timeout=timeout, verify=client.verify)
                status, header = response.status_code, response.headers.get(replica_header, "")
                said = answer(response) if answer and response.ok else ""
                retry_after = response.headers.get("Retry-After", "")
            except (requests.RequestException, ValueError):
                status = 0
            tried = tuple(part.strip() for part in header.split(",") if part.strip())
            shot = Shot(sent - start, status, tried, time.monotonic() - sent, said, retry_after)
            with lock:
                load.shots.append(shot)
            n += 1
        client.close()

    def act(when: float, action: Callable[[], str]) -> None:
        time.sleep(max(0.0, start + when - time.monotonic()))
        what = action()
        with lock:
            load.events.append((when, what))

    pool = [threading.Thread(target=worker, args=(i * interval / threads,)) for i in range(threads)]
    pool += [threading.Thread(target=act, args=item) for item in (at or {}).items()]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    load.shots.sort(key=lambda shot: shot.at)
    return load
