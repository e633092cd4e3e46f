"""/metrics: known requests in, each counter risen by exactly what was sent (in process)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from penguins.serving.api import create_app
from penguins.serving.artifacts import read_metadata
from penguins.serving.cleaning import REFUSALS, WARNINGS
from penguins.serving.contract import CLASSES
from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD, MESSY_RECORDS
from tests.test_api import settings_for

Sample = tuple[str, tuple[tuple[str, str], ...]]


def scrape(client: TestClient) -> dict[Sample, float]:
    """Every sample of /metrics by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def rise(before: dict[Sample, float], after: dict[Sample, float], name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.fixture
def client(artifact_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(artifact_dir))) as test_client:
        yield test_client


def test_every_counter_rises_by_exactly_what_was_sent(client: TestClient, golden: list[dict]) -> None:
    answers = [case for case in golden if case["expect"] == "answer"]
    before = scrape(client)
    told: Counter[str] = Counter()
    for record in (CLEAN_RECORD, CLEAN_RECORD, MESSY_RECORDS[2], {**CLEAN_RECORD, "island": "Atlantis"}):
        response = client.post("/predict", json=record)
        assert response.status_code == 200
        told[response.json()["species"]] += 1
    batch = client.post("/predict/batch", json=[case["record"] for case in answers])
    told.update(p["species"] for p in batch.json()["predictions"])
    assert client.post("/predict", json=BAD_RECORD).status_code == 422  # not_a_number, out_of_range, wrong_type
    assert client.post("/predict/batch", json=[CLEAN_RECORD, {**CLEAN_RECORD, "colour": "black"}]).status_code == 422
    assert client.get("/health").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    after = scrape(client)

    requests = {
        ("/predict", "POST", "200"): 4,
        ("/predict/batch", "POST", "200"): 1,
        ("/predict", "POST", "422"): 1,
        ("/predict/batch", "POST", "422"): 1,
        ("/health", "GET", "200"): 1,
        ("(unmatched)", "GET", "404"): 1,
        ("/metrics", "GET", "200"): 1,  # the first scrape, counted once it was answered
    }
    for (route, method, status), count in requests.items():
        assert rise(before, after, "penguins_requests_total", route=route, method=method, status=status) == count
    total = sum(v for (name, _), v in after.items() if name == "penguins_requests_total")
    assert total - sum(v for (name, _), v in before.items() if name == "penguins_requests_total") == sum(
        requests.values()
    )
    assert rise(before, after, "penguins_request_seconds_count", route="/predict") == 5
    assert rise(before, after, "penguins_request_seconds_bucket", route="/predict", le="+Inf") == 5

    assert Counter([case["species"] for case in answers]) <= told  # the batch's true species
    for species in CLASSES:
        assert rise(before, after, "penguins_predictions_total", species=species) == told[species]
    refused = {"not_a_number": 1, "out_of_range": 1, "wrong_type": 1, "unknown_field": 1}
    for code in REFUSALS:
        assert rise(before, after, "penguins_refusals_total", code=code) == refused.get(code, 0), code
    batch_warnings = Counter(w["code"] for p in batch.json()["predictions"] for w in p["warnings"])
    warned = Counter({"imputed": 3, "unknown_category": 1}) + batch_warnings
    for code in WARNINGS:
        assert rise(before, after, "penguins_warnings_total", code=code) == warned[code], code


def test_the_model_is_named_and_every_code_starts_at_zero(client: TestClient, artifact_dir: Path) -> None:
    meta = read_metadata(artifact_dir / "mlp.onnx")
    samples = scrape(client)
    info = {labels: value for (name, labels), value in samples.items() if name == "penguins_model_info"}
    assert info == {(("backend", "mlp-onnx"), ("model_version", meta.model_version), ("sha256", meta.sha256)): 1.0}
    for code in REFUSALS:
        assert samples[("penguins_refusals_total", (("code", code),))] == 0
    for species in CLASSES:
        assert samples[("penguins_predictions_total", (("species", species),))] == 0


def test_each_app_counts_in_its_own_registry(artifact_dir: Path) -> None:
    with (
        TestClient(create_app(settings_for(artifact_dir))) as one,
        TestClient(create_app(settings_for(artifact_dir))) as other,
    ):
        before, before_one = scrape(other), scrape(one)
        for _ in range(3):
            one.post("/predict", json=CLEAN_RECORD)
        after, after_one = scrape(other), scrape(one)
    assert rise(before_one, after_one, "penguins_predictions_total", species="Adelie") == 3
    assert rise(before, after, "penguins_requests_total", route="/predict", method="POST", status="200") == 0
    assert rise(before, after, "penguins_predictions_total", species="Adelie") == 0


def test_metrics_can_be_turned_off(artifact_dir: Path) -> None:
    with TestClient(create_app(settings_for(artifact_dir, metrics=False))) as quiet:
        assert quiet.post("/predict", json=CLEAN_RECORD).status_code == 200
        assert quiet.post("/predict", json=BAD_RECORD).status_code == 422
        assert quiet.get("/metrics").status_code == 404
        assert "/metrics" not in quiet.get("/openapi.json").json()["paths"]
