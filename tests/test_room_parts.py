"""Stage 07's parts that need no engine: the client's resolve=, the station's 502/504, the facts."""

from __future__ import annotations

import importlib.util
import json
import logging
import re
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from fastapi.testclient import TestClient

from penguins.client import PenguinClient
from tests.conftest import ROOT
from workshop import rollout, room, stages


def _station(model_url: str, monkeypatch: pytest.MonkeyPatch, records_file: Path | None = None) -> ModuleType:
    monkeypatch.setenv("MODEL_URL", model_url)
    monkeypatch.setenv("MODEL_TIMEOUT", "0.5")
    monkeypatch.setenv("RECORDS_FILE", str(records_file or ""))
    spec = importlib.util.spec_from_file_location("station", ROOT / "docker" / "station" / "station.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "station", module)  # pydantic resolves the annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def stub_model() -> Iterator[tuple[str, list[str | None]]]:
    """A stand-in for the model's /predict/batch: one Adelie per record; it notes each call's X-Request-ID."""
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.headers["X-Request-ID"])
            records = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            answer = {"species": "Adelie", "probabilities": {"Adelie": 1.0}, "model_version": "stub", "warnings": []}
            body = json.dumps({"predictions": [answer] * len(records)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()


def test_station_passes_the_callers_id_on_and_keeps_the_records_with_it(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    stub_model: tuple[str, list[str | None]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, seen = stub_model
    station = _station(url, monkeypatch, tmp_path / "recent.jsonl")
    records = [{"island": "Biscoe", "bill_length_mm": "46,5"}, {"island": "Dream"}]
    with caplog.at_level(logging.INFO, logger="penguins.station"):
        reply = TestClient(station.app).post(
            "/observations", json={"records": records}, headers={"X-Request-ID": "field-7.a_1"}
        )
    assert reply.status_code == 200 and reply.headers["X-Request-ID"] == "field-7.a_1"
    assert seen == ["field-7.a_1"]  # passed on to the model
    assert [r.getMessage() for r in caplog.records if r.name == "penguins.station"][-1].endswith(" field-7.a_1")
    kept = [json.loads(line) for line in (tmp_path / "recent.jsonl").read_text().splitlines()]
    assert [(line["request_id"], line["record"]) for line in kept] == [("field-7.a_1", r) for r in records]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", line["time"]) for line in kept)


@pytest.mark.parametrize("sent", [None, "two words", "x" * 65])
def test_station_makes_an_id_when_the_caller_sent_none_or_an_unsafe_one(
    monkeypatch: pytest.MonkeyPatch, stub_model: tuple[str, list[str | None]], sent: str | None
) -> None:
    url, seen = stub_model
    station = _station(url, monkeypatch)
    headers = {} if sent is None else {"X-Request-ID": sent}
    reply = TestClient(station.app).post("/observations", json={"records": [{"island": "Dream"}]}, headers=headers)
    made = reply.headers["X-Request-ID"]
    assert reply.status_code == 200 and re.fullmatch(r"[0-9a-f]{32}", made) and seen == [made]


def test_the_proxys_id_rule_is_the_models() -> None:
    from penguins.serving.api import REQUEST_ID

    conf = (ROOT / room.NGINX_CONF).read_text()
    assert f'"~^{REQUEST_ID.pattern}$" $http_x_request_id;' in conf


def test_the_station_writes_its_records_where_the_room_reads_them() -> None:
    station = yaml.safe_load((ROOT / room.COMPOSE_FILE).read_text())["services"]["station"]
    inside = Path(station["environment"]["RECORDS_FILE"])
    mount = next(v for v in station["volumes"] if v.endswith(f":{inside.parent}"))
    outside = (ROOT / "docker" / mount.rpartition(":")[0]).resolve() / inside.name
    assert outside == (ROOT / room.SECRETS / room.RECORDS / "recent.jsonl").resolve()


def test_station_says_502_when_the_model_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    station = _station(f"http://127.0.0.1:{_closed_port()}", monkeypatch)
    reply = TestClient(station.app).post("/observations", json={"records": [{"island": "Biscoe"}]})
    assert reply.status_code == 502 and "cannot be reached" in reply.json()["detail"]


def test_station_says_504_when_the_model_is_too_slow(monkeypatch: pytest.MonkeyPatch, silent_port: int) -> None:
    station = _station(f"http://127.0.0.1:{silent_port}", monkeypatch)
    reply = TestClient(station.app).post("/observations", json={"records": [{"island": "Biscoe"}]})
    assert reply.status_code == 504 and "in time" in reply.json()["detail"]


def test_resolve_connects_to_the_ip_and_keeps_the_host_name() -> None:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers["Host"])
            body = b'{"status": "ok", "model_version": "x"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        name = "www.mojadomena.zmodelami.pl"
        with PenguinClient(f"http://{name}:{port}", resolve={name: "127.0.0.1"}) as client:
            assert client.health()["status"] == "ok"
    finally:
        server.shutdown()
    assert seen == [f"www.mojadomena.zmodelami.pl:{port}"]


def test_stage_map_port_is_the_proxys_published_https_port() -> None:
    facts = room.facts()
    assert {s.port for s in stages.STAGES if s.number == 7} == {facts.https_port}
    assert facts.replicas == 3 and facts.domain == "www.mojadomena.zmodelami.pl"
    conf = (ROOT / room.NGINX_CONF).read_text()
    assert f"https://{facts.domain}:{facts.https_port}$request_uri" in conf


def test_every_published_port_is_on_loopback_and_prometheus_scrapes_the_model_by_dns() -> None:
    compose = yaml.safe_load((ROOT / room.COMPOSE_FILE).read_text())
    published = [str(port) for service in compose["services"].values() for port in service.get("ports", [])]
    assert published and all(port.startswith("127.0.0.1:") for port in published), published
    assert room.facts().prometheus_port == 9090
    config = yaml.safe_load((ROOT / "docker" / "prometheus" / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["dns_sd_configs"] == [{"names": ["penguins"], "type": "A", "port": 8000, "refresh_interval": "5s"}]
    assert config["rule_files"] == ["alerts.yml"]


# A rolling update is not blue/green: no text of the room's stages calls one the other.
CALLS_ONE_THE_OTHER = re.compile(
    r"rolling update\W{0,4}(is|=|↔|\(|aka|called|as|becomes)\W{0,4}(\w+'s?\s)?blue.?green"
    r"|blue.?green\W{0,4}(is|=|↔|\(|aka|called|as|becomes)\W{0,4}(a\s|the\s)?(\w+'s?\s)?rolling"
    r"|\w+'s? blue.?green"
    r"|blue.?green[^|\n]*\|\s*(a\s)?rolling update",
    re.IGNORECASE,
)


def _room_texts() -> dict[str, str]:
    """What a student reads about new versions: notebooks 07, 07b, 08 (sources and outputs),
    docker/, the README and the guide's 07b section (07c's wording belongs to the Kubernetes notebook)."""
    texts = {
        path.name: path.read_text(encoding="utf-8")
        for path in [*(ROOT / "docker").rglob("*"), ROOT / "README.md"]
        if path.is_file() and path.suffix in {".md", ".yaml", ".yml", ".conf", ".py", ""}
    }
    for name in ("07_server_room", "07b_new_versions", "08_running_it"):
        texts[name] = json.dumps(json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")))
    guide = (ROOT / "notebooks" / "INSTRUCTOR.md").read_text(encoding="utf-8")
    texts["INSTRUCTOR.md 07b"] = guide.partition("## 07b_new_versions")[2].partition("\n## ")[0]
    return texts


def test_no_text_calls_a_rolling_update_blue_green_or_the_other_way() -> None:
    found = {
        name: match.group(0) for name, text in _room_texts().items() if (match := CALLS_ONE_THE_OTHER.search(text))
    }
    assert not found, f"a rolling update is not blue/green: {found}"


@pytest.mark.parametrize(
    "wrong",
    [
        "The rolling update is Kubernetes' blue/green: one new pod at a time",
        "| blue/green with `make room-rollout` | a rolling update (`maxUnavailable: 0`) |",
        "blue/green ↔ a rolling update",
        "A new version goes in beside the old one (blue/green is a rolling update)",
    ],
)
def test_the_wording_check_catches_a_rolling_update_called_blue_green(wrong: str) -> None:
    assert CALLS_ONE_THE_OTHER.search(wrong)


def _outputs(name: str) -> str:
    notebook = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    return "".join("".join(out.get("text", "")) for cell in notebook["cells"] for out in cell.get("outputs", []))


def test_notebook_07b_saved_run_proves_each_strategy_with_its_counts() -> None:
    """The committed run of 07b (re-executed under CI by nbval, whose cells assert the same):
    blue/green answered only green after the old workers exited and only blue after the
    rollback; the rolling update had seconds where both versions answered; nothing failed."""
    text = _outputs("07b_new_versions")
    station = re.search(r"the station's answer comes from (\S+)", text)
    green = re.search(r"sent once the old workers exited: +\{'([^']+)': (\d+)\}\n", text)
    blue = re.search(r"sent after the rollback's workers: \{'([^']+)': (\d+)\}\n", text)
    before = re.search(r"sent before the reload: +\{'([^']+)': (\d+)\}\n", text)
    assert station and green and blue and before, text[-3000:]
    assert green.group(1) == station.group(1) != blue.group(1) == before.group(1)
    assert int(green.group(2)) > 0 and int(blue.group(2)) > 0
    fails = re.findall(r"^sent (\d+), failed (\d+)", text, re.M)
    assert len(fails) == 2 and all(int(sent) > 0 and failed == "0" for sent, failed in fails), fails
    both = re.search(r"both versions answered in (\d+) seconds", text)
    assert both and int(both.group(1)) > 0


def _keeper() -> ModuleType:
    spec = importlib.util.spec_from_file_location("keeper", ROOT / "docker" / "keeper" / "keeper.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replica(
    name: str,
    health: str,
    on: bool = True,
    checks: tuple[int, ...] = (0, 0, 0),
    service: str = "blue",
    took: str = "0.1",
) -> dict:
    """A container as the Engine API's inspect shows it, with only what the keeper reads (each
    check's exit code, and when it began and ended, in Docker's format: nanoseconds, an offset)."""
    log = [
        {"ExitCode": code, "Start": "2026-12-06T12:46:00.000000000Z", "End": f"2026-12-06T12:46:0{took}00000000+00:00"}
        for code in checks
    ]
    return {
        "Name": f"/{name}",
        "Config": {"Labels": {"com.docker.compose.service": service}},
        "State": {"Health": {"Status": health, "Log": log}},
        "NetworkSettings": {"Networks": {"room": {"Aliases": [service]}} if on else {}},
    }


def test_the_keeper_never_takes_out_the_last_healthy_replica_and_waits_for_passed_checks() -> None:
    keeper = _keeper()

    def names(found: list[dict]) -> tuple[list[str], list[str]]:
        out, back = keeper.out_and_back(found, "room")
        return [r["Name"][1:] for r in out], [r["Name"][1:] for r in back]

    sick, fine = _replica("a", "unhealthy", checks=(0, -1, -1)), _replica("b", "healthy")
    assert names([sick, fine]) == (["a"], [])
    assert names([sick, _replica("b", "unhealthy")]) == ([], [])  # no healthy replica would be left
    assert names([sick, _replica("b", "healthy", took="0.9")]) == ([], [])  # all slow: overload, not a sick one
    assert names([sick, _replica("b", "healthy", on=False)]) == ([], ["b"])  # b is not serving yet
    assert names([sick, _replica("g", "healthy", service="green")]) == ([], [])  # another service's
    almost, passed = (-1,) + (0,) * (keeper.RISE - 1), (-1,) + (0,) * keeper.RISE
    assert names([_replica("a", "healthy", on=False, checks=almost), fine]) == ([], [])
    assert names([_replica("a", "healthy", on=False, checks=passed), fine]) == ([], ["a"])
    assert names([_replica("a", "unhealthy", on=False, checks=(0, 0, 0)), fine]) == ([], [])  # paused


def test_a_missing_model_image_is_built_labelled_before_the_room_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """compose.room.yaml builds nothing (an image compose built would carry no version label, and
    rollouts read it): room.up() builds the missing image as make docker-build does."""
    built: list[tuple[str, tuple[str, ...]]] = []
    monkeypatch.setattr(room.docker, "has_image", lambda image: image == "here:1")
    monkeypatch.setattr(room.docker, "build", lambda image, say, options: built.append((image, tuple(options))))
    monkeypatch.setattr(rollout, "label_args", lambda: ["--label", "penguins.model_version=v9"])
    monkeypatch.delenv("BLUE_IMAGE", raising=False)
    assert room.model_image({"PENGUINS_IMAGE": "here:1"}) == "here:1" and built == []
    assert room.model_image({"PENGUINS_IMAGE": "gone:2"}) == "gone:2"
    assert built == [("gone:2", ("--label", "penguins.model_version=v9"))]
    compose = yaml.safe_load((ROOT / "docker" / "compose.room.yaml").read_text(encoding="utf-8"))
    assert all("build" not in service for service in compose["services"].values())


def test_the_second_version_appears_whole_or_keeps_the_one_that_got_there_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two kernels or test workers may ask for artifacts-v2/ at once: each trains aside, and the
    folder a reader finds is never half written, nor replaced under it."""
    from penguins.training import build

    monkeypatch.setattr(room, "root", lambda: tmp_path)
    arrivals: list[str] = []

    def train(folder: Path, seed: int, say: object) -> None:
        assert not (tmp_path / "artifacts-v2").exists(), "nothing is written where readers look"
        (folder / rollout.MODEL_FILE).write_text(f"mine {seed}", encoding="utf-8")
        if arrivals:  # the second caller: another process finishes first, while this one trains
            (tmp_path / "artifacts-v2").mkdir()
            (tmp_path / "artifacts-v2" / rollout.MODEL_FILE).write_text("theirs", encoding="utf-8")
        arrivals.append(folder.name)

    monkeypatch.setattr(build, "train", train)
    monkeypatch.setattr(build, "export", lambda folder, say: None)
    made = rollout.second_version()
    assert (made / rollout.MODEL_FILE).read_text(encoding="utf-8") == f"mine {rollout.SECOND_SEED}"
    assert rollout.second_version() == made and len(arrivals) == 1, "trained once"

    (made / rollout.MODEL_FILE).unlink()
    made.rmdir()
    assert (rollout.second_version() / rollout.MODEL_FILE).read_text(encoding="utf-8") == "theirs"
    assert [path.name for path in tmp_path.iterdir()] == ["artifacts-v2"], "no half-made folder left behind"
