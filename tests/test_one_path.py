"""One path: the notebook's wrapper, the command line, the service and its batch endpoint give the
same species, probabilities and warnings for the same record, and refuse the same records with
the same code. (The container runs the same service: `make docker-smoke`, tests/test_container.py,
compares it with the wrapper in the same way, warnings and refusals included.)"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from penguins.client import Answer, InvalidInput, PenguinClient
from penguins.serving.cleaning import CleaningError
from penguins.serving.examples import CLEAN_RECORD, INCOMPLETE_RECORD, MESSY_RECORDS
from penguins.serving.predictor import PenguinPredictor
from penguins.smoke import PROBABILITY_TOLERANCE
from tests.conftest import GOLDEN, ROOT
from tests.live import live_server
from workshop.server import Server

# Incomplete records the wrapper answers, each with warnings: a field left out, null, "NA", ".", an unknown island.
INCOMPLETE_ANSWERED = [
    MESSY_RECORDS[1],
    MESSY_RECORDS[2],
    {"body_mass_g": 4000},
    {"island": "Anvers", "bill_length_mm": 47.5, "flipper_length_mm": "NA", "sex": "."},
]
ANSWERED = [case["record"] for case in GOLDEN if case["expect"] == "answer"] + INCOMPLETE_ANSWERED
# Records it refuses: with no measurement at all (the golden set's row 3 among them), a non-number.
REFUSED = [case["record"] for case in GOLDEN if case["expect"] != "answer"] + [
    INCOMPLETE_RECORD,
    {},
    {"island": "Dream", "sex": "male"},
    {**CLEAN_RECORD, "bill_length_mm": "4_0"},
]


@pytest.fixture(scope="module")
def predictor(artifact_dir: Path) -> PenguinPredictor:
    return PenguinPredictor.load("mlp-onnx", artifact_dir / "mlp.onnx")


@pytest.fixture(scope="module")
def server(artifact_dir: Path) -> Iterator[Server]:
    with live_server("04", "--artifacts", str(artifact_dir)) as live:
        yield live


def as_service_writes(predictor: PenguinPredictor, record: dict) -> dict:
    """The wrapper's answer as JSON, the way the service and the command line write it."""
    return json.loads(json.dumps(asdict(predictor.predict_one(record))))


def same(answer: dict, expected: dict) -> bool:
    gap = max(abs(answer["probabilities"][name] - p) for name, p in expected["probabilities"].items())
    keys = ("species", "model_version", "warnings")
    return gap <= PROBABILITY_TOLERANCE and all(answer[key] == expected[key] for key in keys)


def cli(records: object, artifact_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "penguins", "predict", "--artifacts", str(artifact_dir)],
        input=json.dumps(records),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_the_incomplete_records_really_are_answered_with_warnings(predictor: PenguinPredictor) -> None:
    assert all(predictor.predict_one(record).warnings for record in INCOMPLETE_ANSWERED)


def test_command_line_answers_as_the_wrapper(predictor: PenguinPredictor, artifact_dir: Path) -> None:
    result = cli(ANSWERED, artifact_dir)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(ANSWERED)
    for line, record in zip(lines, ANSWERED, strict=True):
        assert same(line, as_service_writes(predictor, record)), record


def test_command_line_refuses_as_the_wrapper(predictor: PenguinPredictor, artifact_dir: Path) -> None:
    for record in REFUSED:
        with pytest.raises(CleaningError) as err:
            predictor.predict_one(record)
        result = cli(record, artifact_dir)
        assert result.returncode == 1 and result.stdout == ""
        assert all(f"[{problem.code}]" in result.stderr for problem in err.value.problems), result.stderr


def test_service_and_batch_endpoint_answer_as_the_wrapper(predictor: PenguinPredictor, server: Server) -> None:
    with PenguinClient(server.url) as client:
        singles = [client.predict(record) for record in ANSWERED]
        batched = client.predict_batch(ANSWERED)
    for record, single, in_batch in zip(ANSWERED, singles, batched, strict=True):
        expected = as_service_writes(predictor, record)
        assert same(asdict(single), expected) and same(asdict(in_batch), expected), record
    assert all(isinstance(answer, Answer) for answer in singles)


def test_service_refuses_as_the_wrapper_with_the_same_codes(predictor: PenguinPredictor, server: Server) -> None:
    with PenguinClient(server.url) as client:
        for record in REFUSED:
            with pytest.raises(CleaningError) as here:
                predictor.predict_one(record)
            with pytest.raises(InvalidInput) as there:
                client.predict(record)
            assert there.value.codes == [problem.code for problem in here.value.problems], record
