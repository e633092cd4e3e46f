"""The paced load every fault scenario counts with (exercise 07 and 07c's checks, notebook 07a,
bench/faults.py): requests at their pace, actions at their times, and a 2xx it could not read
counted as failed, against a small HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from penguins.client import PenguinClient
from workshop import paced_load


class _Answers(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps({"version": "v1"}).encode() if self.path == "/ok" else b"<html>not json</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _version(response: requests.Response) -> str:
    return str(response.json()["version"])


def test_the_load_keeps_its_pace_and_runs_its_action_on_time(url: str) -> None:
    load = paced_load.run(
        lambda: PenguinClient(url, retries=0),
        "/ok",
        {"island": "Biscoe"},
        rate=40,
        seconds=1.0,
        threads=2,
        answer=_version,
        at={0.5: lambda: "acted"},
    )
    assert load.sent == 40, load.table()  # 2 threads, one request every 0.05 s each, due before 1.0 s
    assert load.failed == 0
    assert {shot.answer for shot in load.shots} == {"v1"}
    assert load.events == [(0.5, "acted")]
    # Paced: never ahead of its schedule (the k-th request sent no sooner than the k-th due). How late
    # a busy machine lets a thread send is the machine's business, so nothing here bounds it.
    due = sorted(thread * 0.025 + n * 0.05 for thread in range(2) for n in range(20))
    assert all(shot.at >= when - 0.001 for shot, when in zip(load.shots, due, strict=True)), load.shots


def test_a_2xx_whose_answer_cannot_be_read_counts_as_failed(url: str) -> None:
    load = paced_load.run(lambda: PenguinClient(url, retries=0), "/garbled", {}, rate=20, seconds=0.5, answer=_version)
    assert load.sent > 0 and load.failed == load.sent
