"""Issue 21's faults, one test each, on the room tests/test_room.py already started.

Each runs the paced load (bench/faults.py: 100 predictions/s through the proxy at the domain, 4
threads, 3 s timeout, clients that retry a refused or cut connection) with one fault, and asserts
counts only: every request gets an HTTP answer and none is a 5xx, except the proxy's own 503 with
Retry-After under overload. Timings go to `make bench` (ratios to the same run's no-fault row, over
its 10 s windows), never into an assertion here, so the windows here (SECONDS) are only as long as
what each asserts needs.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import time

import pytest
import requests

from bench import faults
from bench.load import ensure_wrk
from penguins.serving.examples import CLEAN_RECORD
from tests.conftest import ROOT
from workshop import rollout, room

# The load's seconds per test: the fault starts at FAULT_AT (1 s), and the load goes on while it
# acts: a restart or a reload takes about a second (three reloads a second apart); a crashed or
# stopped replica is back within 3-4 s (restart policy, model load, health check), under the load;
# a hung or starved one must be out of rotation OUT_WITHIN s after the fault, then get nothing for
# 3 s (nginx would try a replica it benched again 10 s after its failure, ~2 s after the fault).
SECONDS = {
    "none": 4.0,
    "restart": 5.0,
    "reload": 5.0,
    "back": 7.0,
    "out": faults.FAULT_AT + faults.OUT_WITHIN + 3.0,
}
# seconds between nginx's questions to Docker's DNS about the replicas (`resolver ... valid=`)
NGINX_CONF = (ROOT / "docker" / "proxy" / "nginx.conf").read_text(encoding="utf-8")
RESOLVE_EVERY = float(re.findall(r"resolver .* valid=(\d+)s", NGINX_CONF)[0])


def _all_answered(result: faults.Outcome) -> None:
    print(f"\n{result.line()}")
    assert result.sent >= 0.95 * faults.LOAD["rate"] * result.seconds, result.line()
    assert (result.unanswered, result.server_errors, result.refused) == (0, 0, 0), result.line()


def test_no_fault(the_room: room.Secrets, room_images: dict[str, str]) -> None:
    _all_answered(faults.no_fault(room_images, SECONDS["none"]))


def _left_rotation(result: faults.Outcome) -> None:
    """It answered before the fault (so the address is the one the proxy names), and after
    `within` s not one request reached it, not even a retry's."""
    assert result.victim_before, f"the victim never answered: is its address the proxy's? {result.line()}"
    assert result.victim_hits == 0, f"it still got requests {result.within:g} s after the fault: {result.line()}"


def test_a_hung_replica_leaves_rotation(the_room: room.Secrets, room_images: dict[str, str]) -> None:
    """`docker pause`: after one proxy_read_timeout nginx sends it nothing (max_fails), unless
    every replica timed out lately (a busy machine: the `backup` line); the keeper takes it out of
    the room's DNS, so after OUT_WITHIN s it gets nothing, and puts it back once `docker unpause`
    made it healthy."""
    result = faults.hung(room_images, SECONDS["out"])
    _all_answered(result)
    _left_rotation(result)


def test_a_starved_replica_leaves_rotation(the_room: room.Secrets, room_images: dict[str, str]) -> None:
    """`docker update --cpus 0.05`: slow, not failing, so nginx alone keeps sending to it; its
    health checks time out, Docker marks it unhealthy, the keeper takes it out of the room's DNS,
    and puts it back once its CPUs are back and its checks pass. Counted twice: by the proxy
    (X-Replica: no request reached it after OUT_WITHIN s, not even a retry's) and by the
    replicas' own logs (its share of the predictions they began after that is 0)."""
    result = faults.starved(room_images, SECONDS["out"])
    _all_answered(result)
    _left_rotation(result)
    assert result.victim_shares is not None, result.line()
    before, _, after = result.victim_shares
    assert before > 0.1, f"its log shows no share of the predictions before the fault: {result.line()}"
    assert after == 0, f"its own log shows predictions {result.within:g} s after the fault: {result.line()}"
    assert result.rejoined, f"healthy again, it answered no prediction: {result.line()}"


def test_a_proxy_restart_is_latency_for_clients_that_retry(
    the_room: room.Secrets, room_images: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens while nginx restarts; PenguinClient's retries with backoff ride it out."""
    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        result = faults.proxy_restarted(room_images, SECONDS["restart"])
    _all_answered(result)
    retried = [record for record in caplog.records if record.getMessage().startswith("Retrying")]
    assert retried, "no connection was refused or cut: the proxy did not restart under the load"


def test_a_configuration_reload_loses_nothing(the_room: room.Secrets, room_images: dict[str, str]) -> None:
    _all_answered(faults.reloaded(room_images, SECONDS["reload"]))


def test_slow_connections_are_bounded(the_room: room.Secrets, room_images: dict[str, str]) -> None:
    """2,100 TLS connections that never finish a request: the proxy closes every one within its
    header timeout (5 s, plus scheduling), and the load meanwhile loses nothing."""
    result = faults.slow_connections(room_images)
    _all_answered(result)
    opened, closed, latest = faults.slow_counts(result)
    assert opened == closed == faults.SLOW_CONNECTIONS, result.note
    assert latest < 10, result.note


def test_two_of_three_replicas_crashed_at_once(the_room: room.Secrets, room_images: dict[str, str]) -> None:
    """SIGKILL to two uvicorns: retried on the third; Docker's restart policy brings both back."""
    result = faults.two_crashed(room_images, SECONDS["back"])
    _all_answered(result)
    assert result.note == "restarted by Docker: [1, 1]", result.note


def test_a_replica_stopped_with_sigterm_drains(the_room: room.Secrets, room_images: dict[str, str]) -> None:
    _all_answered(faults.drained(room_images, SECONDS["back"]))


def test_a_request_no_replica_answers_gets_the_room_s_503(the_room: room.Secrets, room_images: dict[str, str]) -> None:
    """The room's 503 with Retry-After, which a client may retry, never nginx's own 504 or 502:
    - every replica paused: nginx's tries run out of their 2 s (its 504: `error_page 504 =503 @late`).
      Under overload on a busy machine every replica can be starved at once the same way;
    - every replica stopped, and nginx has asked Docker's DNS again: none to try (its 502), and its
      retry in @again none either. The same second pass runs when the replicas' list changes while
      a request waits (the keeper)."""
    replicas = [replica.name for replica in room.replicas(services=(room.MODEL_SERVICES[0],))]
    replies = {}
    try:
        with room.client(the_room) as client:

            def ask() -> requests.Response:
                return client.session.post(client.url + "/predict", json=CLEAN_RECORD, verify=client.verify, timeout=10)

            faults.docker("pause", *replicas)
            replies["paused"] = ask()
            faults.docker("unpause", *replicas)
            faults.docker("stop", *replicas)
            time.sleep(2 * RESOLVE_EVERY)
            replies["stopped"] = ask()
    finally:
        for undo in ("unpause", "start"):
            subprocess.run(["docker", undo, *replicas], capture_output=True, timeout=60)
        faults.whole_again(room_images)
        # nginx benched each replica for fail_timeout (10 s), and the next test needs them all: a reload's
        # new workers start with no failure counted (measured: all three answer within 0.2 s, not 10 s)
        workers = rollout.proxy_workers()
        room.compose("exec", "-T", "proxy", "nginx", "-s", "reload", env=room_images)
        rollout.wait_workers_replaced(workers)
        room.in_rotation()
    for fault, reply in replies.items():
        assert (reply.status_code, reply.headers.get("Retry-After")) == (503, "1"), (
            fault,
            reply.status_code,
            reply.text,
        )
        assert "no replica answered" in reply.json()["detail"], (fault, reply.text)


def test_overload_gets_a_fast_503_with_retry_after(the_room: room.Secrets, room_images: dict[str, str]) -> None:
    """wrk with 1,000 connections: every request answered (within wrk's 10 s); what the room cannot
    take now is the proxy's own 503 with Retry-After, and nothing else fails."""
    wrk = ensure_wrk(install=os.environ.get("CI") == "true")
    if wrk is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true, but Debian's wrk did not install (apt-get install wrk)")
        pytest.skip("no wrk here (apt-get install wrk): the overload needs 1,000 connections at once")
    result = faults.overloaded(room_images, wrk)
    print(f"\n{result.line()}")
    assert (result.unanswered, result.server_errors) == (0, 0), result.line()
    assert result.refused > 0 and result.per_second > 0, result.line()
