"""The service's own API key (PENGUINS_API_KEY): off by default, and when on, every prediction
route asks for it with a 401 that names the header, while probes and /model stay open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from penguins.serve import StartupError, read_settings
from penguins.serving.api import create_app
from penguins.serving.examples import CLEAN_RECORD
from penguins.serving.predictor import PenguinPredictor
from penguins.serving.settings import Settings

KEY = "s3cret-key-for-tests"
PREDICTIONS = ("/predict", "/predict/batch", "/v2/models/penguins/infer")  # the /v2 routes all ask
V2_BODY = {
    "inputs": [
        {"name": name, "datatype": "BYTES" if isinstance(value, str) else "FP32", "shape": [1, 1], "data": [value]}
        for name, value in CLEAN_RECORD.items()
    ]
}


def _body(path: str) -> object:
    return {"/predict": CLEAN_RECORD, "/predict/batch": [CLEAN_RECORD]}.get(path, V2_BODY)


@pytest.fixture(scope="module")
def predictor(artifact_dir: Path) -> PenguinPredictor:
    return PenguinPredictor.load("mlp-onnx", artifact_dir / "mlp.onnx")


@pytest.fixture(scope="module")
def keyed(predictor: PenguinPredictor) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(api_key=KEY), predictor)) as client:
        yield client


def test_without_a_key_setting_nothing_is_asked(predictor: PenguinPredictor) -> None:
    assert Settings().api_key is None
    with TestClient(create_app(Settings(), predictor)) as client:
        for path in PREDICTIONS:
            assert client.post(path, json=_body(path)).status_code == 200, path


@pytest.mark.parametrize("path", PREDICTIONS)
@pytest.mark.parametrize("sent", [None, "wrong", KEY + "x", ""])
def test_a_missing_or_wrong_key_is_401_naming_the_header(keyed: TestClient, path: str, sent: str | None) -> None:
    headers = {} if sent is None else {"X-API-Key": sent}
    response = keyed.post(path, json=_body(path), headers=headers)
    assert response.status_code == 401, response.text
    assert "missing or wrong X-API-Key" in response.text


@pytest.mark.parametrize("path", PREDICTIONS)
def test_the_right_key_gets_the_answer(keyed: TestClient, path: str) -> None:
    response = keyed.post(path, json=_body(path), headers={"x-api-key": KEY})
    assert response.status_code == 200, response.text


def test_the_key_is_checked_before_the_body(keyed: TestClient) -> None:
    """A caller without the key learns nothing about what a valid record looks like."""
    response = keyed.post("/predict", content=b"not json", headers={"content-type": "text/plain"})
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/health", "/ready", "/model"])
def test_probes_and_the_model_stay_open(keyed: TestClient, path: str) -> None:
    assert keyed.get(path).status_code == 200


def test_the_protocols_routes_all_ask_for_the_key(keyed: TestClient) -> None:
    """Its clients send their headers on every call, health included."""
    assert keyed.get("/v2/health/ready").status_code == 401
    assert keyed.get("/v2/health/ready", headers={"X-API-Key": KEY}).status_code == 200


def _guarded(schema: dict) -> set[str]:
    return {path for path, operations in schema["paths"].items() for op in operations.values() if op.get("security")}


def test_the_docs_show_the_key_exactly_when_it_is_asked_for(keyed: TestClient, predictor: PenguinPredictor) -> None:
    schema = keyed.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "the key the service was given (PENGUINS_API_KEY)",
    }
    assert {"/predict", "/predict/batch", "/v2/models/penguins/infer"} <= _guarded(schema)
    assert not _guarded(schema) & {"/health", "/ready", "/model"}
    assert "401" in schema["paths"]["/predict"]["post"]["responses"]
    with TestClient(create_app(Settings(), predictor)) as open_service:
        plain = open_service.get("/openapi.json").json()
    assert _guarded(plain) == set() and "401" not in plain["paths"]["/predict"]["post"]["responses"]


def test_a_key_from_a_file_loses_its_newline_and_a_blank_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENGUINS_API_KEY", KEY + "\n")
    key = Settings().api_key
    assert key is not None and key.get_secret_value() == KEY
    assert KEY not in repr(Settings())  # a SecretStr: not in logs or tracebacks
    monkeypatch.setenv("PENGUINS_API_KEY", " \n")
    with pytest.raises(ValidationError, match="PENGUINS_API_KEY"):
        Settings()


def test_a_blank_key_stops_the_server_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENGUINS_API_KEY", "")
    with pytest.raises(StartupError, match=r"PENGUINS_API_KEY='': .*is blank") as stopped:
        read_settings()
    assert "\n" not in str(stopped.value)
