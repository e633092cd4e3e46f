"""X-Request-ID: a caller's safe id is kept, anything else replaced; every answer carries it,
errors included; the request's log line carries it, in text and in JSON."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from penguins.serving import logs
from penguins.serving.api import create_app
from penguins.serving.api.gate import RequestGate
from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD
from penguins.serving.metrics import NoMetrics
from penguins.serving.predictor import PenguinPredictor
from tests.test_api import MAX_BODY, settings_for

MADE = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def client(artifact_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(artifact_dir))) as test_client:
        yield test_client


@pytest.mark.parametrize("sent", ["a", "station-42.call_7", "A" * 64, "0.1-2_3"])
def test_a_safe_id_is_kept(client: TestClient, sent: str) -> None:
    assert client.post("/predict", json=CLEAN_RECORD, headers={"X-Request-ID": sent}).headers["x-request-id"] == sent


@pytest.mark.parametrize(
    "sent",
    ["A" * 65, "has space", "semi;colon", "slash/es", "quote'", "", "zażółć"],
    ids=["too-long", "space", "semicolon", "slash", "quote", "empty", "not-ascii"],
)
def test_an_unsafe_id_is_replaced(client: TestClient, sent: str) -> None:
    response = client.get("/health", headers={"X-Request-ID": sent.encode()})
    assert response.status_code == 200
    made = response.headers["x-request-id"]
    assert made != sent and MADE.fullmatch(made)


def test_without_an_id_each_request_gets_its_own(client: TestClient) -> None:
    made = {client.get("/health").headers["x-request-id"] for _ in range(5)}
    assert len(made) == 5 and all(MADE.fullmatch(one) for one in made)


@pytest.mark.parametrize(
    "call, status",
    [
        (lambda c, h: c.post("/predict", json=BAD_RECORD, headers=h), 422),
        (lambda c, h: c.get("/no/such/page", headers=h), 404),
        (lambda c, h: c.get("/predict", headers=h), 405),
        (lambda c, h: c.post("/predict", content=b"{}", headers={**h, "content-type": "text/plain"}), 415),
        (lambda c, h: c.post("/predict", content=b"x" * (MAX_BODY + 1), headers=h), 413),
    ],
    ids=["422", "404", "405", "415", "413"],
)
def test_errors_carry_the_id_too(client: TestClient, call, status: int) -> None:
    response = call(client, {"X-Request-ID": "err-1"})
    assert response.status_code == status and response.headers["x-request-id"] == "err-1"


def test_a_crash_carries_the_id(artifact_dir: Path) -> None:
    real = PenguinPredictor.load("mlp-onnx", artifact_dir / "mlp.onnx")

    class Broken:
        metadata = real.metadata

        def predict_proba(self, batch: dict) -> np.ndarray:
            raise RuntimeError("boom")

    app = create_app(settings_for(artifact_dir), PenguinPredictor(Broken(), "broken"))
    with TestClient(app, raise_server_exceptions=False) as broken:
        response = broken.post("/predict", json=CLEAN_RECORD, headers={"X-Request-ID": "crash-1"})
        made = broken.post("/predict", json=CLEAN_RECORD).headers["x-request-id"]
    assert response.status_code == 500 and response.headers["x-request-id"] == "crash-1"
    assert MADE.fullmatch(made)


def test_the_log_line_carries_the_id(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="penguins.serving.api"):
        client.post("/predict", json=CLEAN_RECORD, headers={"X-Request-ID": "kept-1"})
        client.post("/predict", json=CLEAN_RECORD, headers={"X-Request-ID": "not kept"})
    kept, replaced = [r for r in caplog.records if r.name == "penguins.serving.api"]
    assert kept.getMessage().endswith(" kept-1") and kept.request_id == "kept-1"  # type: ignore[attr-defined]
    assert "not kept" not in replaced.getMessage() and MADE.fullmatch(replaced.request_id)  # type: ignore[attr-defined]


def test_json_log_lines_have_the_requests_fields(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="penguins.serving.api"):
        client.post("/predict", json=BAD_RECORD, headers={"X-Request-ID": "json-1"})
    [record] = [r for r in caplog.records if r.name == "penguins.serving.api"]
    line = json.loads(logs.JsonFormatter().format(record))
    assert {key: line[key] for key in ("level", "logger", "method", "path", "status", "request_id")} == {
        "level": "INFO",
        "logger": "penguins.serving.api",
        "method": "POST",
        "path": "/predict",
        "status": 422,
        "request_id": "json-1",
    }
    assert line["ms"] >= 0 and line["message"].startswith("POST /predict 422 ") and line["time"].endswith("Z")


def test_the_log_format_setting_picks_the_formatter(artifact_dir: Path) -> None:
    logger = logging.getLogger("penguins")
    saved = logger.handlers[:]
    logger.handlers.clear()
    try:
        create_app(settings_for(artifact_dir, log_format="json"))
        [ours] = logger.handlers
        assert isinstance(ours.formatter, logs.JsonFormatter)
        create_app(settings_for(artifact_dir))
        assert logger.handlers == [ours] and not isinstance(ours.formatter, logs.JsonFormatter)
    finally:
        logger.handlers[:] = saved


def test_the_line_is_written_before_the_answers_last_part(caplog: pytest.LogCaptureFixture) -> None:
    """Whoever holds an answer finds its log line: the gate writes it before the last part leaves."""

    async def answer_in_two_parts(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"b"})

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "penguins.serving.api"]

    sent: list[tuple[bool, int]] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body":
            sent.append((message.get("more_body", False), len(lines())))

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "method": "GET", "path": "/parts", "headers": [(b"x-request-id", b"order-1")]}
    with caplog.at_level(logging.INFO, logger="penguins.serving.api"):
        asyncio.run(RequestGate(answer_in_two_parts, NoMetrics())(scope, receive, send))
    assert sent == [(True, 0), (False, 1)]
    [line] = lines()
    assert line.startswith("GET /parts 200 ") and line.endswith(" ms order-1")
