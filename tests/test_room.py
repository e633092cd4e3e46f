"""Stage 07 for real: the server room of docker/compose.room.yaml, up once for all these tests.

Three replicas of the stage 06 image behind nginx (TLS at www.mojadomena.zmodelami.pl, an API
key), and the station calling the model through the proxy's inside door. The faults of issue 21
run on the same room in tests/test_room_faults.py (the fixtures are in tests/conftest.py).
The client resolves the domain to 127.0.0.1 itself and checks the certificate against the
room's own CA; nothing touches the hosts file.
Without an engine or Compose v2 these tests skip and say why; under CI=true they must run
(the CI scripts in .ci/ install Compose v2 and make the nginx image without a registry).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from penguins import smoke
from penguins.client import RequestRejected
from tests.conftest import ROOT
from workshop import room


def _nginx_t(conf: Path, secrets: room.Secrets) -> subprocess.CompletedProcess:
    """`nginx -t` of one file as nginx.conf in the room's nginx image, with what else compose.room.yaml
    mounts for the proxy (the files nginx.conf includes) and the room's secrets, on no network."""
    mounts = ["-v", f"{conf}:/etc/nginx/nginx.conf:ro", "-v", f"{secrets.folder}:/etc/nginx/room:ro"]
    for volume in yaml.safe_load((ROOT / room.COMPOSE_FILE).read_text())["services"]["proxy"]["volumes"]:
        source, target = volume.split(":")[:2]
        if target not in ("/etc/nginx/nginx.conf", "/etc/nginx/room"):
            mounts += ["-v", f"{((ROOT / room.COMPOSE_FILE).parent / source).resolve()}:{target}:ro"]
    command = ["docker", "run", "--rm", "--network", "none", *mounts, room.facts().nginx_image, "nginx", "-t"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_every_shipped_nginx_config_passes_nginx_t(room_images: dict[str, str], tmp_path: Path) -> None:
    """`nginx -t` of every nginx config under docker/, in the room's nginx image (1.30); and a
    broken copy (`resolve` without the `zone` it needs) fails it, so the check can fail."""
    secrets = room.make_secrets(say=lambda line: None)
    shipped = sorted((ROOT / "docker").rglob("nginx*.conf"))
    assert shipped, "no nginx config under docker/"
    for conf in shipped:
        result = _nginx_t(conf, secrets)
        assert result.returncode == 0 and "test is successful" in result.stderr, f"{conf.name}: {result.stderr}"
    broken = tmp_path / "nginx.conf"
    broken.write_text(shipped[0].read_text().replace("zone blue 64k;", ""))
    failed = _nginx_t(broken, secrets)
    assert failed.returncode != 0 and "resolving names at run time requires" in failed.stderr, failed.stderr


def test_golden_set_through_the_domain_gives_the_in_process_answers(the_room: room.Secrets, artifact_dir: Path) -> None:
    from penguins.training.pickles import load_predictor

    cases = [case for case in smoke.load_cases(ROOT / "tests" / "golden.json") if case.refusal is None]
    with room.client(the_room) as client:
        assert client.url == "https://www.mojadomena.zmodelami.pl:8443"
        answers = [client.predict(case.record) for case in cases]
        batched = client.predict_batch([case.record for case in cases])
    expected = load_predictor("mlp-onnx", artifact_dir / "mlp.onnx").predict([case.record for case in cases])
    for case, want, got, again in zip(cases, expected, answers, batched, strict=True):
        assert got.species == case.species
        assert smoke.differences(want, got) == [] and smoke.differences(got, again) == []


def test_the_certificate_verifies_only_against_the_room_ca(the_room: room.Secrets) -> None:
    url = f"{room.facts().url}/ready"
    with room.client(the_room) as ok:
        assert ok.session.get(url, verify=ok.verify, timeout=5).status_code == 200
    with room.client(the_room) as other, pytest.raises(requests.exceptions.SSLError):
        other.session.get(url, verify=True, timeout=5)  # the system's CAs do not know the room's CA


def test_predict_without_the_key_is_401_and_docs_are_not_exposed(the_room: room.Secrets) -> None:
    with room.client(the_room, key=None) as client:
        with pytest.raises(RequestRejected) as refused:
            client.predict(json.loads((ROOT / "tests" / "golden.json").read_text())["cases"][0]["record"])
        assert refused.value.status == 401
        assert client.health()["status"] == "ok"  # health needs no key
        for path in ("/docs", "/openapi.json", "/metrics"):
            assert client.session.get(client.url + path, verify=client.verify, timeout=5).status_code == 404
    with room.client(the_room, key="wrong") as client, pytest.raises(RequestRejected) as refused:
        client.predict_batch([])
    assert refused.value.status == 401


def test_plain_http_is_redirected_to_https_with_308(the_room: room.Secrets) -> None:
    facts = room.facts()
    reply = requests.post(
        f"http://127.0.0.1:{facts.http_port}/predict?x=1",
        headers={"Host": facts.domain},
        allow_redirects=False,
        timeout=5,
    )
    assert reply.status_code == 308
    assert reply.headers["Location"] == f"{facts.url}/predict?x=1"


def test_station_answers_equal_the_in_process_ones(the_room: room.Secrets, artifact_dir: Path) -> None:
    from penguins.training.pickles import load_predictor

    answered = [case for case in smoke.load_cases(ROOT / "tests" / "golden.json") if case.refusal is None]
    records = [case.record for case in answered]
    reply = requests.post(
        f"http://127.0.0.1:{room.facts().station_port}/observations", json={"records": records}, timeout=10
    )
    assert reply.status_code == 200, reply.text
    expected = load_predictor("mlp-onnx", artifact_dir / "mlp.onnx").predict(records)
    with room.client(the_room) as client:  # the warnings, as the model service itself gives them
        direct = client.predict_batch(records)
    assert reply.json()["observations"] == [
        {"species": p.species, "model_version": p.model_version, "warnings": a.warnings}
        for p, a in zip(expected, direct, strict=True)
    ]


def _logged(request_id: str, services: tuple[str, ...], within: float = 15.0) -> dict[str, list[str]]:
    """Each service's log lines (`docker compose logs`) that carry `request_id`, once every service
    has one (polled: a log line reaches Docker a moment after the answer)."""
    deadline = time.monotonic() + within
    while True:
        found = {
            service: [
                line for line in room.compose("logs", "--no-color", service).output.splitlines() if request_id in line
            ]
            for service in services
        }
        if all(found.values()):
            return found
        assert time.monotonic() < deadline, f"{request_id} not in the logs of every one of {services}: {found}"
        time.sleep(0.5)


def test_one_id_sent_to_the_station_is_in_the_station_and_model_logs_and_its_records(the_room: room.Secrets) -> None:
    request_id = f"trace-{uuid.uuid4().hex[:12]}"
    record = smoke.load_cases(ROOT / "tests" / "golden.json")[0].record
    reply = requests.post(
        f"http://127.0.0.1:{room.facts().station_port}/observations",
        json={"records": [record]},
        headers={"X-Request-ID": request_id},
        timeout=10,
    )
    assert reply.status_code == 200 and reply.headers["X-Request-ID"] == request_id
    found = _logged(request_id, ("station", room.MODEL_SERVICES[0]))
    assert [" POST /observations 200 " in line for line in found["station"]] == [True]
    assert [" POST /predict/batch 200 " in line for line in found[room.MODEL_SERVICES[0]]] == [True]
    kept = [
        json.loads(line)
        for line in (the_room.folder / room.RECORDS / "recent.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert [line["record"] for line in kept if line["request_id"] == request_id] == [record]


def test_one_id_made_by_the_proxy_is_in_the_proxy_and_model_logs(the_room: room.Secrets) -> None:
    record = smoke.load_cases(ROOT / "tests" / "golden.json")[0].record
    with room.client(the_room) as client:
        reply = client.session.post(client.url + "/predict", json=record, verify=client.verify, timeout=5)
        unsafe = client.session.get(
            client.url + "/ready", headers={"X-Request-ID": "two words"}, verify=client.verify, timeout=5
        )
        refused = client.session.get(client.url + "/metrics", verify=client.verify, timeout=5)
    made = reply.headers["X-Request-ID"]
    assert reply.status_code == 200 and re.fullmatch(r"[0-9a-f]{32}", made)
    found = _logged(made, ("proxy", room.MODEL_SERVICES[0]))
    assert ['"POST /predict HTTP/1.1" 200 ' in line and line.endswith(f"id={made}") for line in found["proxy"]] == [
        True
    ]
    assert [" POST /predict 200 " in line for line in found[room.MODEL_SERVICES[0]]] == [True]
    assert re.fullmatch(r"[0-9a-f]{32}", unsafe.headers["X-Request-ID"])  # an unsafe id is replaced
    assert refused.status_code == 404 and re.fullmatch(r"[0-9a-f]{32}", refused.headers["X-Request-ID"])


def _prometheus(query: str) -> list[dict]:
    """One instant query to the room's Prometheus over its HTTP API: the result's series."""
    reply = requests.get(
        f"http://127.0.0.1:{room.facts().prometheus_port}/api/v1/query", params={"query": query}, timeout=5
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


PREDICTS = 'sum(penguins_requests_total{job="penguins", route="/predict", method="POST", status="200"})'


def _scraped_after(moment: float, replicas: int, within: float = 30.0) -> float:
    """Wait (bounded) until Prometheus has scraped every replica after `moment` (time.time());
    then the number of /predict answers it holds, summed over the replicas."""
    deadline = time.monotonic() + within
    while True:
        scrapes = _prometheus('timestamp(up{job="penguins"})')  # when each replica was last scraped
        healthy = _prometheus('up{job="penguins"} == 1')  # ... and answered
        if len(scrapes) == len(healthy) == replicas and min(float(s["value"][1]) for s in scrapes) > moment:
            counted = _prometheus(PREDICTS)
            return float(counted[0]["value"][1]) if counted else 0.0
        assert time.monotonic() < deadline, f"not {replicas} replicas scraped within {within:g} s: {scrapes}"
        time.sleep(0.25)


def test_prometheus_scrapes_every_replica_and_counts_every_request(the_room: room.Secrets) -> None:
    """N predictions through the proxy; Prometheus' sum over the replicas rises by exactly N."""
    replicas = room.replicas()
    before = _scraped_after(time.time(), len(replicas))
    record = smoke.load_cases(ROOT / "tests" / "golden.json")[0].record
    sent = 30
    with room.client(the_room) as client:
        for _ in range(sent):
            client.predict(record)
    after = _scraped_after(time.time(), len(replicas))
    assert after - before == sent
    targets = {series["metric"]["instance"] for series in _prometheus('up{job="penguins"} == 1')}
    assert targets == {f"{r.address}:8000" for r in replicas}  # found by Docker's DNS, every replica
    rules = requests.get(f"http://127.0.0.1:{room.facts().prometheus_port}/api/v1/rules", timeout=5).json()["data"][
        "groups"
    ]
    assert [rule["name"] for group in rules for rule in group["rules"]] == ["PenguinsErrorRatioHigh"]


def _answered_by(client: object, count: int) -> set[str]:
    seen = set()
    for _ in range(count):
        reply = client.session.get(client.url + "/ready", verify=client.verify, timeout=5)  # type: ignore[attr-defined]
        seen.add(reply.headers[room.REPLICA_HEADER].rpartition(",")[2].strip().rpartition(":")[0])
    return seen


def test_answers_come_from_every_replica(the_room: room.Secrets) -> None:
    replicas = room.replicas()
    assert len(replicas) == room.facts().replicas == 3
    with room.client(the_room) as client:
        assert _answered_by(client, 60) == {r.address for r in replicas}


def test_the_bench_section_measures_direct_and_through_the_proxy(
    the_room: room.Secrets, room_images: dict[str, str]
) -> None:
    """`make bench`'s server room section on the quick budget: it runs, on this room, error-free.
    With the Python load generator, as tests/test_bench.py runs the other sections: wrk's runs last
    whole seconds (ten here, not 0.1-0.3 s each), and its summary is read in test_bench.py."""
    from bench import http_load
    from bench import room as bench_room
    from bench.budget import QUICK

    rows, note = bench_room.measure(QUICK, None, say=lambda line: None, image=room_images["PENGUINS_IMAGE"])
    assert note.startswith("server room measured on "), note
    assert {(row.name, row.case) for row in rows} == {
        (name, http_load.case(n))
        for name in (bench_room.DIRECT, bench_room.PROXY_1, bench_room.PROXY_3)
        for n in http_load.CONNECTIONS
    }
    assert all(row.value > 0 and row.details["errors"] == 0 for row in rows), rows
    assert len(room.replicas()) == room.facts().replicas  # the room is left as it was found


def test_scaled_down_and_up_the_new_replica_gets_traffic(the_room: room.Secrets, room_images: dict[str, str]) -> None:
    flags = ("--no-build", "--pull", "never", "--no-recreate")
    room.compose("up", "--wait", *flags, "--scale", "penguins-blue=2", env=room_images)
    two = {r.address for r in room.replicas()}
    assert len(two) == 2
    room.compose("up", "--wait", *flags, "--scale", "penguins-blue=3", env=room_images)
    new = {r.address for r in room.replicas()} - two
    assert len(new) == 1
    # nginx may have tried the new replica while its model was loading: then it is left out for
    # fail_timeout (10 s, nginx.conf) before it is tried again.
    seen = room.in_rotation(within=15)
    assert new <= seen, f"the new replica {new} got no request within 15 s (answered: {seen})"


def _colour_of(client: object, colour: str) -> bool:
    """Whether 20 answers in a row came from the colour's replicas (by the proxy's header)."""
    addresses = {r.address for r in room.replicas(services=(colour,))}
    return _answered_by(client, 20) <= addresses


def test_python_m_rollout_and_rollback_switch_the_proxy(the_room: room.Secrets, room_images: dict[str, str]) -> None:
    """What `make room-rollout` / `room-rollback` run: green starts beside blue, the proxy switches
    to it by a reload, and back. (Notebook 07b does both strategies under load with their counts.)"""
    image = room_images["PENGUINS_IMAGE"]
    command = [sys.executable, "-m", "workshop", "room"]
    try:
        there = subprocess.run([*command, "rollout", image], capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert there.returncode == 0 and "the proxy sends to penguins-green" in there.stdout, there.stdout
        with room.client(the_room) as client:
            assert _colour_of(client, "penguins-green")
        back = subprocess.run([*command, "rollback"], capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert back.returncode == 0 and "the proxy sends to penguins-blue again" in back.stdout, back.stdout
        with room.client(the_room) as client:
            assert _colour_of(client, "penguins-blue")
    finally:
        room.write_colour(room.MODEL_SERVICES[0])
        room.compose("exec", "-T", "proxy", "nginx", "-s", "reload", env=room_images)
        room.compose("rm", "--stop", "--force", "penguins-green", env=room_images)
