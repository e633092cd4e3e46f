"""The service in process (FastAPI's TestClient): every endpoint and every error path."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from penguins import __version__
from penguins.serving.api import create_app
from penguins.serving.artifacts import read_metadata
from penguins.serving.cleaning import CleaningError, clean_records, record_schema
from penguins.serving.contract import BACKEND_FILES, FEATURES
from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD, INCOMPLETE_RECORD, MESSY_RECORDS
from penguins.serving.predictor import PenguinPredictor
from penguins.serving.settings import Settings

BATCH_LIMIT = 50
MAX_BODY = 20_000
JSON = {"content-type": "application/json"}


def settings_for(artifact_dir: Path, backend: str = "mlp-onnx", **overrides: object) -> Settings:
    return Settings(
        model_path=artifact_dir / BACKEND_FILES[backend],
        backend=backend,
        batch_limit=BATCH_LIMIT,
        max_body_bytes=MAX_BODY,
        **overrides,
    )


@pytest.fixture(scope="module")
def predictor(artifact_dir: Path) -> PenguinPredictor:
    return PenguinPredictor.load("mlp-onnx", artifact_dir / "mlp.onnx")


@pytest.fixture(scope="module")
def client(artifact_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(artifact_dir))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def bare(artifact_dir: Path) -> Iterator[TestClient]:
    """Stage 03's service: the bare model, clean typed features only."""
    with TestClient(create_app(settings_for(artifact_dir, mode="features"))) as test_client:
        yield test_client


def strict_json(text: str) -> object:
    """Parse as strict JSON: Infinity or NaN in a response would break most clients."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


# ---------------------------------------------------------------- status endpoints


def test_health_ready_and_model_describe_the_loaded_model(client: TestClient, artifact_dir: Path) -> None:
    meta = read_metadata(artifact_dir / "mlp.onnx")
    assert client.get("/health").json() == {"status": "ok", "model_version": meta.model_version}
    assert client.get("/ready").json() == {"status": "ready", "model_version": meta.model_version}
    info = client.get("/model").json()
    assert info["model_version"] == meta.model_version and info["sha256"] == meta.sha256
    assert info["backend"] == "mlp-onnx" and info["mode"] == "raw" and info["batch_limit"] == BATCH_LIMIT
    assert [f["name"] for f in info["features"]] == list(FEATURES)
    assert info["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert info["metrics"]["test_accuracy"] > 0.9
    assert info["package_version"] == __version__


def test_ready_is_503_until_the_model_is_loaded(artifact_dir: Path) -> None:
    app = create_app(settings_for(artifact_dir))
    unstarted = TestClient(app)  # outside `with`: the lifespan has not loaded the model
    assert unstarted.get("/ready").status_code == 503
    assert unstarted.get("/health").json() == {"status": "ok", "model_version": None}
    assert unstarted.post("/predict", json=CLEAN_RECORD).status_code == 503
    with TestClient(app) as started:
        assert started.get("/ready").status_code == 200


def test_root_sends_people_to_the_docs(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (302, 307) and response.headers["location"] == "/docs"


# ---------------------------------------------------------------- predictions


@pytest.mark.parametrize("record", [CLEAN_RECORD, *MESSY_RECORDS], ids=["clean", "messy", "markers", "left-out"])
def test_raw_record_gets_the_in_process_answer(client: TestClient, predictor: PenguinPredictor, record: dict) -> None:
    response = client.post("/predict", json=record)
    assert response.status_code == 200, response.text
    assert response.json() == asdict(predictor.predict_one(record)) | {
        "warnings": [asdict(warning) for warning in predictor.predict_one(record).warnings]
    }


def test_fields_left_to_the_imputer_are_named_in_warnings(client: TestClient) -> None:
    body = client.post("/predict", json=MESSY_RECORDS[2]).json()
    assert [(w["code"], w["field"]) for w in body["warnings"]] == [
        ("imputed", "bill_length_mm"),
        ("imputed", "bill_depth_mm"),
        ("imputed", "sex"),
    ]
    assert client.post("/predict", json=CLEAN_RECORD).json()["warnings"] == []


def test_golden_batch_gets_the_true_species(client: TestClient, golden: list[dict]) -> None:
    golden = [case for case in golden if case["expect"] == "answer"]
    response = client.post("/predict/batch", json=[case["record"] for case in golden])
    assert response.status_code == 200, response.text
    body = response.json()
    assert [p["species"] for p in body["predictions"]] == [case["species"] for case in golden]
    assert body["model_version"].startswith("mlp-")


def test_unknown_category_answers_with_a_warning(client: TestClient) -> None:
    body = client.post("/predict", json={**CLEAN_RECORD, "island": "Atlantis"}).json()
    assert body["species"] == "Adelie"
    assert body["warnings"] == [
        {
            "code": "unknown_category",
            "field": "island",
            "message": "island 'Atlantis' is not a category the model knows (Biscoe, Dream, "
            "Torgersen); it answered from the other features",
        }
    ]


# ---------------------------------------------------------------- value errors: cleaning's, as 422


def test_bad_values_are_422_naming_field_value_and_reason(client: TestClient) -> None:
    response = client.post("/predict", json=BAD_RECORD)
    assert response.status_code == 422
    with pytest.raises(CleaningError) as expected:
        clean_records([BAD_RECORD])
    assert response.json() == {
        "detail": [
            {"type": p.code, "loc": ["body", p.field], "msg": p.reason, "input": p.value}
            for p in expected.value.problems
        ]
    }
    found = [(error["loc"][-1], error["type"]) for error in response.json()["detail"]]
    assert found == [("bill_length_mm", "not_a_number"), ("bill_depth_mm", "out_of_range"), ("sex", "wrong_type")]


@pytest.mark.parametrize(
    "record",
    [{}, {"island": "Dream", "sex": "male"}, INCOMPLETE_RECORD, dict.fromkeys(FEATURES)],
    ids=["empty", "categories-only", "all-NA", "all-null"],
)
def test_a_record_with_no_measurement_is_refused(client: TestClient, record: dict) -> None:
    response = client.post("/predict", json=record)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "no_measurements" and error["loc"] == ["body"]
    batch = client.post("/predict/batch", json=[CLEAN_RECORD, record])
    assert [(e["type"], e["loc"]) for e in batch.json()["detail"]] == [("no_measurements", ["body", 1])]


def test_bad_record_in_a_batch_is_named_by_its_index(client: TestClient) -> None:
    response = client.post("/predict/batch", json=[CLEAN_RECORD, *MESSY_RECORDS, BAD_RECORD])
    assert response.status_code == 422
    assert {tuple(error["loc"]) for error in response.json()["detail"]} == {
        ("body", 4, "bill_length_mm"),
        ("body", 4, "bill_depth_mm"),
        ("body", 4, "sex"),
    }


@pytest.mark.parametrize(
    "value, code, reason",
    [
        (True, "wrong_type", "wrong type: must be a number, got bool"),
        ([39.1], "wrong_type", "wrong type: must be a number, got list"),
        ({"mm": 39.1}, "wrong_type", "wrong type: must be a number, got dict"),
        ("1e400", "out_of_range", "must be a finite number"),
        (10**400, "out_of_range", "must be a finite number"),
        ("4_0", "not_a_number", "must be a number"),
        ("\uff14\uff10", "not_a_number", "must be a number"),
        ("4" * 101, "too_long", "text of 101 characters"),
    ],
)
def test_values_of_any_json_type_reach_cleaning(client: TestClient, value: object, code: str, reason: str) -> None:
    response = client.post("/predict", json={**CLEAN_RECORD, "bill_length_mm": value})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "bill_length_mm"] and error["msg"].startswith(reason) and error["type"] == code


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_json_tokens_that_are_not_numbers_are_refused_by_name(client: TestClient, token: str) -> None:
    body = json.dumps(CLEAN_RECORD).replace("39.1", token).encode()
    response = client.post("/predict", content=body, headers=JSON)
    assert response.status_code == 422
    [error] = strict_json(response.text)["detail"]
    assert (error["type"], error["loc"], error["input"]) == ("not_json_number", ["body", "bill_length_mm"], token)


def test_a_420_character_island_is_refused(client: TestClient) -> None:
    [error] = client.post("/predict", json={**CLEAN_RECORD, "island": "Biscoe" * 70}).json()["detail"]
    assert (error["type"], error["loc"]) == ("too_long", ["body", "island"])


def test_a_body_that_is_not_utf8_is_a_documented_400(client: TestClient) -> None:
    response = client.post("/predict", content=b'{"island": "\xff"}', headers=JSON)
    assert response.status_code == 400 and "detail" in response.json()
    assert "400" in client.get("/openapi.json").json()["paths"]["/predict"]["post"]["responses"]


# ---------------------------------------------------------------- shape and transport errors: 4xx, never 500


def test_unknown_field_is_refused_by_name(client: TestClient) -> None:
    response = client.post("/predict", json={**CLEAN_RECORD, "colour": "black"})
    assert response.status_code == 422
    assert response.json()["detail"][0] | {"msg": ""} == {
        "type": "unknown_field",
        "loc": ["body", "colour"],
        "msg": "",
        "input": "black",
    }


@pytest.mark.parametrize("body", [[CLEAN_RECORD], "Adelie", 42, None], ids=["list", "text", "number", "null"])
def test_predict_needs_one_object(client: TestClient, body: object) -> None:
    response = client.post("/predict", content=json.dumps(body), headers=JSON)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body"]


def test_empty_batch_and_batch_over_the_limit_are_422(client: TestClient) -> None:
    empty = client.post("/predict/batch", json=[])
    assert empty.status_code == 422 and empty.json()["detail"][0]["type"] == "too_short"
    over = client.post("/predict/batch", json=[CLEAN_RECORD] * (BATCH_LIMIT + 1))
    assert over.status_code == 422
    [error] = over.json()["detail"]
    assert error["type"] == "too_long" and f"at most {BATCH_LIMIT} items" in error["msg"]
    assert error["input"] == f"{BATCH_LIMIT + 1} records"  # not the whole batch echoed back


def test_malformed_json_is_422_with_the_parser_message(client: TestClient) -> None:
    response = client.post("/predict", content=b'{"island": "Dream",', headers=JSON)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "json_invalid" and error["ctx"]["error"]


@pytest.mark.parametrize(
    "headers", [{"content-type": "text/plain"}, {"content-type": "application/x-www-form-urlencoded"}, {}]
)
def test_a_body_that_is_not_declared_json_is_415(client: TestClient, headers: dict) -> None:
    response = client.post("/predict", content=json.dumps(CLEAN_RECORD), headers=headers)
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["detail"]


def test_json_with_a_charset_or_a_json_suffix_is_accepted(client: TestClient) -> None:
    for kind in ("application/json; charset=utf-8", "application/merge-patch+json"):
        assert (
            client.post("/predict", content=json.dumps(CLEAN_RECORD), headers={"content-type": kind}).status_code == 200
        )


def test_a_body_too_large_is_413_declared_or_streamed(client: TestClient) -> None:
    big = json.dumps({**CLEAN_RECORD, "island": "x" * MAX_BODY}).encode()
    declared = client.post("/predict", content=big, headers=JSON)
    assert declared.status_code == 413 and "Too Large" in declared.text
    streamed = client.post("/predict", content=iter([big[:1000], big[1000:]]), headers=JSON)
    assert streamed.status_code == 413 and "Too Large" in streamed.text


def test_unknown_path_and_method_are_json_4xx(client: TestClient) -> None:
    assert client.get("/predictions").json() == {"detail": "Not Found"}
    assert client.get("/predict").status_code == 405


@pytest.mark.parametrize(
    "body",
    [
        b'{"bill_length_mm": Infinity}',
        b'{"bill_length_mm": NaN, "colour": -Infinity}',
        b'{"island": "\\ud800"}',
        b'{"colour": "\\udfff"}',
    ],
    ids=["infinity", "nan-extra", "lone-surrogate-category", "lone-surrogate-extra"],
)
def test_inputs_json_cannot_carry_still_get_a_json_answer(client: TestClient, body: bytes) -> None:
    response = client.post("/predict", content=body, headers=JSON)
    assert response.status_code == 422, response.text
    strict_json(response.text)


@pytest.mark.parametrize("app", ["client", "bare"])
def test_text_that_is_not_unicode_is_422_not_a_crash(app: str, request: pytest.FixtureRequest) -> None:
    response = request.getfixturevalue(app).post(
        "/predict", content=json.dumps({**CLEAN_RECORD, "sex": "\ud800"}), headers=JSON
    )
    assert response.status_code == 422
    [error] = strict_json(response.text)["detail"]
    assert error["loc"] == ["body", "sex"] and "valid Unicode" in error["msg"] and error["input"] == "\ud800"


def test_a_crash_is_a_500_with_one_line_and_no_traceback(artifact_dir: Path, predictor: PenguinPredictor) -> None:
    class Broken:
        metadata = predictor.metadata

        def predict_proba(self, batch: dict) -> np.ndarray:
            raise RuntimeError("secret internals")

    app = create_app(settings_for(artifact_dir), PenguinPredictor(Broken(), "broken"))
    with TestClient(app, raise_server_exceptions=False) as broken:
        response = broken.post("/predict", json=CLEAN_RECORD)
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error: the server's log has the details"}
    assert "secret" not in response.text and "Traceback" not in response.text


def test_one_log_line_per_request(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="penguins.serving.api"):
        ids = [
            client.post("/predict", json=CLEAN_RECORD).headers["x-request-id"],
            client.post("/predict", json=BAD_RECORD).headers["x-request-id"],
            client.get("/health").headers["x-request-id"],
        ]
    lines = [r.getMessage() for r in caplog.records if r.name == "penguins.serving.api"]
    assert [line.rsplit(" ", 3)[0] for line in lines] == ["POST /predict 200", "POST /predict 422", "GET /health 200"]
    assert [line.split()[-1] for line in lines] == ids
    assert all(line.split()[-2] == "ms" and float(line.split()[-3]) >= 0 for line in lines)


# ---------------------------------------------------------------- stage 03: the bare model


def test_bare_model_answers_clean_typed_features(bare: TestClient, artifact_dir: Path) -> None:
    response = bare.post("/predict", json=CLEAN_RECORD)
    assert response.status_code == 200 and response.json()["species"] == "Adelie"
    assert bare.get("/model").json()["mode"] == "features"


def test_bare_model_refuses_a_messy_record(bare: TestClient) -> None:
    response = bare.post("/predict", json=MESSY_RECORDS[0])
    assert response.status_code == 422
    refused = {error["loc"][-1] for error in response.json()["detail"]}
    assert refused == {"bill_length_mm", "bill_depth_mm", "flipper_length_mm"}  # numbers sent as text


@pytest.mark.parametrize(
    "change",
    [
        {"sex": None},
        {"bill_length_mm": True},
        {"body_mass_g": 1e39},
        {"colour": "black"},
    ],
    ids=["missing-value", "bool", "beyond-float32", "extra-field"],
)
def test_bare_model_takes_only_six_typed_values(bare: TestClient, change: dict) -> None:
    assert bare.post("/predict", json={**CLEAN_RECORD, **change}).status_code == 422


def test_bare_model_refuses_values_it_cannot_answer_for(bare: TestClient) -> None:
    """Float32-sized values overflow the network: no finite odds, a 422 rather than NaN."""
    absurd = {**CLEAN_RECORD, "bill_length_mm": -3.4e38, "bill_depth_mm": 3.4e38, "body_mass_g": 3.4e38}
    response = bare.post("/predict/batch", json=[CLEAN_RECORD, absurd])
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", 1] and error["type"] == "no_finite_odds"
    assert "no finite probabilities" in error["msg"]


# ---------------------------------------------------------------- the schema students read in /docs


def test_openapi_shows_raw_fields_and_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    record = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert list(record["properties"]) == list(FEATURES) and record["additionalProperties"] is False
    number, text, null = record["properties"]["bill_length_mm"]["anyOf"]
    assert number == {"type": "number", "minimum": 10, "maximum": 100} and null == {"type": "null"}
    assert text["type"] == "string" and text["maxLength"] == 100 and text["pattern"].startswith("^")
    island = record["properties"]["island"]["anyOf"][0]
    assert island["examples"] == ["Biscoe", "Dream", "Torgersen"] and "enum" not in island
    for status in ("400", "413", "415", "422", "503"):
        assert status in schema["paths"]["/predict"]["post"]["responses"], status
    examples = schema["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert examples["clean"]["value"] == CLEAN_RECORD and examples["messy"]["value"] == MESSY_RECORDS[0]
    batch = schema["paths"]["/predict/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert (batch["minItems"], batch["maxItems"]) == (1, BATCH_LIMIT)


def test_raw_record_fields_are_the_contract() -> None:
    assert tuple(record_schema()["properties"]) == FEATURES


# ---------------------------------------------------------------- settings


def test_settings_come_from_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {
        "PENGUINS_MODEL_PATH": str(tmp_path / "m.onnx"),
        "PENGUINS_BACKEND": "sklearn-onnx",
        "PENGUINS_MODE": "features",
        "PENGUINS_HOST": "0.0.0.0",
        "PENGUINS_PORT": "8123",
        "PENGUINS_BATCH_LIMIT": "7",
        "PENGUINS_MAX_BODY_BYTES": "999",
        "PENGUINS_LOG_LEVEL": "WARNING",
        "PENGUINS_LOG_FORMAT": "JSON",
        "PENGUINS_METRICS": "false",
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.model_path, settings.backend, settings.mode) == (tmp_path / "m.onnx", "sklearn-onnx", "features")
    assert (settings.host, settings.port, settings.batch_limit, settings.max_body_bytes) == ("0.0.0.0", 8123, 7, 999)
    assert (settings.log_level, settings.log_format, settings.metrics) == ("warning", "json", False)


@pytest.mark.parametrize(
    "name, value",
    [
        ("PENGUINS_PORT", "eighty"),
        ("PENGUINS_PORT", "70000"),
        ("PENGUINS_BACKEND", "tensorflow"),
        ("PENGUINS_MODE", "cooked"),
        ("PENGUINS_BATCH_LIMIT", "0"),
        ("PENGUINS_LOG_FORMAT", "xml"),
    ],
)
def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("PENGUINS_").lower()):
        Settings()


@pytest.mark.parametrize("backend", ["sklearn-pickle", "sklearn-onnx", "mlp-onnx"])
def test_settings_accept_each_backend_the_course_serves(
    monkeypatch: pytest.MonkeyPatch, artifact_dir: Path, backend: str
) -> None:
    """The three backends by name (written here, not read from the contract), each with its file."""
    monkeypatch.setenv("PENGUINS_BACKEND", backend)
    assert Settings().backend == backend
    assert (artifact_dir / BACKEND_FILES[backend]).is_file()


def test_a_big_batch_runs_off_the_event_loop_and_a_small_one_on_it(artifact_dir: Path) -> None:
    """Up to INLINE_RECORDS records cost less than a hop to the thread pool; a bigger batch there
    would stall every other request on the loop, so it goes to the pool. Same answers either way."""
    from penguins.serving.api.deps import INLINE_RECORDS

    app = create_app(Settings(model_path=artifact_dir / "mlp.onnx", backend="mlp-onnx", batch_limit=INLINE_RECORDS + 1))
    with TestClient(app) as client:
        predictor = app.state.predictor
        threads: list[str] = []
        original = predictor.predict

        def noting(records: list[dict], one_record: bool = False) -> object:
            threads.append(threading.current_thread().name)
            return original(records, one_record)

        predictor.predict = noting
        for size in (INLINE_RECORDS, INLINE_RECORDS + 1):
            response = client.post("/predict/batch", json=[CLEAN_RECORD] * size)
            assert response.status_code == 200 and len(response.json()["predictions"]) == size
        loop_thread = client.portal.call(lambda: threading.current_thread().name)  # type: ignore[union-attr]
    assert threads[0] == loop_thread and threads[1] != loop_thread
