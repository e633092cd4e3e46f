"""The Open Inference Protocol (V2) in process: the same answers as the wrapper, the protocol's
documents and its error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from penguins import __version__
from penguins.serving.api import create_app
from penguins.serving.api.v2 import Feature
from penguins.serving.contract import CLASSES, FEATURES, NUMERIC_FEATURES
from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD, MESSY_RECORDS
from penguins.serving.predictor import PenguinPredictor
from tests.test_api import settings_for
from tests.test_metrics import rise, scrape

INFER = "/v2/models/penguins/infer"


def as_text(value: object) -> str:
    """A raw value as a BYTES element: text as it is, a number as its JSON text, missing as ""."""
    return value if isinstance(value, str) else "" if value is None else json.dumps(value)


def tensors(records: list[dict], numbers: str = "BYTES") -> list[dict]:
    """One input per feature; numeric columns as FP32 when asked (their records must hold numbers)."""
    inputs = []
    for name in FEATURES:
        if numbers == "FP32" and name in NUMERIC_FEATURES:
            inputs.append(
                {"name": name, "shape": [len(records), 1], "datatype": "FP32", "data": [r[name] for r in records]}
            )
        else:
            data = [as_text(r.get(name)) for r in records]
            inputs.append({"name": name, "shape": [len(records)], "datatype": "BYTES", "data": data})
    return inputs


@pytest.fixture(scope="module")
def predictor(artifact_dir: Path) -> PenguinPredictor:
    return PenguinPredictor.load("mlp-onnx", artifact_dir / "mlp.onnx")


@pytest.fixture(scope="module")
def client(artifact_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(artifact_dir))) as test_client:
        yield test_client


def test_the_protocol_documents(client: TestClient, predictor: PenguinPredictor) -> None:
    assert client.get("/v2").json() == {"name": "penguins-to-production", "version": __version__, "extensions": []}
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get("/v2/models/penguins/ready").json() == {"name": "penguins", "ready": True}
    meta = client.get("/v2/models/penguins").json()
    assert meta["name"] == "penguins" and meta["versions"] == [predictor.model_version]
    assert [(i["name"], i["datatype"]) for i in meta["inputs"]] == [
        (name, "FP32" if name in NUMERIC_FEATURES else "BYTES") for name in FEATURES
    ]
    assert meta["outputs"] == [
        {"name": "probabilities", "datatype": "FP32", "shape": [-1, 3]},
        {"name": "species", "datatype": "BYTES", "shape": [-1]},
    ]


def test_the_feature_names_are_the_contract() -> None:
    assert Feature.__args__ == FEATURES  # type: ignore[attr-defined]


def test_raw_text_reaches_cleaning_and_gets_the_wrappers_answers(
    client: TestClient, predictor: PenguinPredictor, golden: list[dict]
) -> None:
    records = [case["record"] for case in golden if case["expect"] == "answer"] + MESSY_RECORDS
    body = client.post(INFER, json={"id": "call-1", "inputs": tensors(records)})
    assert body.status_code == 200, body.text
    answer = body.json()
    expected = predictor.predict([{k: as_text(v) for k, v in r.items()} for r in records])
    probabilities, species = answer["outputs"]
    assert (probabilities["name"], probabilities["shape"]) == ("probabilities", [len(records), len(CLASSES)])
    assert probabilities["data"] == pytest.approx(expected.probabilities.ravel().tolist(), abs=1e-7)
    assert species == {"name": "species", "shape": [len(records)], "datatype": "BYTES", "data": expected.species}
    assert answer["id"] == "call-1" and answer["model_version"] == predictor.model_version
    golden_species = [case["species"] for case in golden if case["expect"] == "answer"]
    assert species["data"][: len(golden_species)] == golden_species
    warned = json.loads(answer["parameters"]["warnings"])
    assert warned == [
        {"record": index, "code": w.code, "field": w.field, "message": w.message}
        for index, notes in enumerate(expected.warnings)
        for w in notes
    ]
    assert any(w["code"] == "imputed" for w in warned)


def test_numbers_as_fp32_give_the_same_answer(client: TestClient, predictor: PenguinPredictor) -> None:
    answer = client.post(INFER, json={"inputs": tensors([CLEAN_RECORD], numbers="FP32")}).json()
    expected = predictor.predict_one(CLEAN_RECORD)
    assert answer["outputs"][1]["data"] == [expected.species]
    assert answer["outputs"][0]["data"] == pytest.approx(list(expected.probabilities.values()), abs=1e-7)


def test_a_decimal_comma_in_bytes_is_read_as_a_number(client: TestClient, predictor: PenguinPredictor) -> None:
    sent = {**CLEAN_RECORD, "bill_length_mm": "39,1"}
    answer = client.post(INFER, json={"inputs": tensors([sent]), "outputs": [{"name": "species"}]}).json()
    assert [o["name"] for o in answer["outputs"]] == ["species"]
    assert answer["outputs"][0]["data"] == [predictor.predict_one(sent).species]


def test_a_left_out_feature_is_missing_in_every_record(client: TestClient) -> None:
    inputs = [t for t in tensors([CLEAN_RECORD, CLEAN_RECORD]) if t["name"] != "sex"]
    warned = json.loads(client.post(INFER, json={"inputs": inputs}).json()["parameters"]["warnings"])
    assert [(w["record"], w["code"], w["field"]) for w in warned] == [(0, "imputed", "sex"), (1, "imputed", "sex")]


def test_refusals_are_the_protocols_400_naming_record_and_field(client: TestClient) -> None:
    records = [CLEAN_RECORD, {k: as_text(v) for k, v in BAD_RECORD.items()}]
    before = scrape(client)
    response = client.post(INFER, json={"inputs": tensors(records)})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (
        error.startswith("record 1, field 'bill_length_mm': must be a number")
        and "record 1, field 'bill_depth_mm'" in error
    )
    assert rise(before, scrape(client), "penguins_refusals_total", code="not_a_number") == 1


@pytest.mark.parametrize(
    "body, says",
    [
        ({"inputs": tensors([CLEAN_RECORD])[:1] * 2}, "input 'island' is given twice"),
        ({"inputs": [{"name": "island", "shape": [2], "datatype": "BYTES", "data": ["Dream"]}]}, "shape [2]"),
        ({"inputs": [{"name": "island", "shape": [1], "datatype": "FP32", "data": [1.0]}]}, "send it as BYTES"),
        ({"inputs": [{"name": "sex", "shape": [1], "datatype": "BYTES", "data": [1]}]}, "BYTES data must be text"),
        ({"inputs": [{"name": "body_mass_g", "shape": [1], "datatype": "FP32", "data": ["9"]}]}, "must be numbers"),
        ({"inputs": [{"name": "colour", "shape": [1], "datatype": "BYTES", "data": ["x"]}]}, "inputs.0.name"),
        ({"inputs": [{"name": "island", "shape": [1], "datatype": "INT64", "data": [1]}]}, "inputs.0.datatype"),
        (
            {"inputs": [*tensors([CLEAN_RECORD])[:1], *tensors([CLEAN_RECORD, CLEAN_RECORD])[1:2]]},
            "the same number of records",
        ),
    ],
    ids=["twice", "shape", "fp32-text", "bytes-number", "fp32-string", "unknown-name", "datatype", "lengths"],
)
def test_malformed_requests_are_400_saying_what(client: TestClient, body: dict, says: str) -> None:
    response = client.post(INFER, json=body)
    assert response.status_code == 400 and says in response.json()["error"], response.text


def test_a_body_that_is_not_json_is_400(client: TestClient) -> None:
    response = client.post(INFER, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "not JSON" in response.json()["error"]


def test_not_ready_is_503_in_the_protocols_shape(artifact_dir: Path) -> None:
    unstarted = TestClient(create_app(settings_for(artifact_dir)))
    assert unstarted.get("/v2/health/live").status_code == 200
    for path in ("/v2/health/ready", "/v2/models/penguins/ready", "/v2/models/penguins"):
        response = unstarted.get(path)
        assert response.status_code == 503 and "not loaded" in response.json()["error"]


def test_the_bare_model_of_stage_03_does_not_speak_v2(artifact_dir: Path) -> None:
    with TestClient(create_app(settings_for(artifact_dir, mode="features"))) as bare:
        assert bare.get("/v2").status_code == 404
