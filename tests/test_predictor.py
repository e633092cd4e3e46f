"""The wrapper class: raw messy records in, the right species out, from every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from penguins.serving.cleaning import CleaningError
from penguins.serving.contract import BACKEND_FILES
from penguins.serving.examples import BAD_RECORD, MESSY_RECORDS
from penguins.serving.predictor import PenguinPredictor
from penguins.training.pickles import load_predictor

BACKENDS = list(BACKEND_FILES)


@pytest.fixture(scope="module", params=BACKENDS)
def predictor(request: pytest.FixtureRequest, artifact_dir: Path) -> PenguinPredictor:
    return load_predictor(request.param, artifact_dir / BACKEND_FILES[request.param])


def test_golden_set_gets_its_true_species(predictor: PenguinPredictor, golden: list[dict]) -> None:
    predictions = predictor.predict([case["record"] for case in golden])
    wrong = [
        (case["source_row"], case["species"], p.species)
        for case, p in zip(golden, predictions)
        if p.species != case["species"]
    ]
    assert not wrong, f"{predictor.backend_name} got these wrong (row, truth, predicted): {wrong}"


def test_every_backend_gives_the_same_labels(artifact_dir: Path, golden: list[dict]) -> None:
    records = [case["record"] for case in golden] + MESSY_RECORDS
    labels = {
        name: [p.species for p in load_predictor(name, artifact_dir / file).predict(records)]
        for name, file in BACKEND_FILES.items()
    }
    assert labels["sklearn-pickle"] == labels["sklearn-onnx"] == labels["mlp-onnx"]


def test_prediction_carries_probabilities_and_model_version(predictor: PenguinPredictor) -> None:
    prediction = predictor.predict_one(MESSY_RECORDS[0])
    assert set(prediction.probabilities) == {"Adelie", "Chinstrap", "Gentoo"}
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert prediction.probabilities[prediction.species] == max(prediction.probabilities.values())
    assert prediction.model_version == predictor.metadata.model_version
    assert prediction.model_version.startswith(("logreg-", "mlp-"))


def test_one_record_or_many(predictor: PenguinPredictor) -> None:
    one = predictor.predict(MESSY_RECORDS[0])
    many = predictor.predict(MESSY_RECORDS)
    assert len(one) == 1 and len(many) == len(MESSY_RECORDS)
    assert one[0].species == many[0].species
    assert one[0].probabilities == pytest.approx(many[0].probabilities, abs=1e-6)
    assert predictor.predict([]) == []


def test_bad_record_is_rejected_naming_every_bad_field(predictor: PenguinPredictor) -> None:
    with pytest.raises(CleaningError) as err:
        predictor.predict([MESSY_RECORDS[0], BAD_RECORD])
    fields = {(p.record, p.field) for p in err.value.problems}
    assert fields == {(1, "bill_length_mm"), (1, "bill_depth_mm"), (1, "sex")}


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="choose one of sklearn-onnx, mlp-onnx"):
        PenguinPredictor.load("tensorflow")  # type: ignore[arg-type]


def test_serving_refuses_the_pickle_and_names_where_it_lives(artifact_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"needs scikit-learn.*penguins\.training\.pickles\.load_predictor"):
        PenguinPredictor.load("sklearn-pickle", artifact_dir / "pipeline.pkl")


def test_onnx_file_with_other_inputs_is_refused(artifact_dir: Path, tmp_path: Path) -> None:
    import onnx

    from penguins.serving.artifacts import ArtifactError, read_metadata, write_artifact

    model = onnx.load(artifact_dir / "pipeline.onnx")
    model.graph.input[0].name = "isle"
    for node in model.graph.node:
        node.input[:] = ["isle" if i == "island" else i for i in node.input]
    meta = read_metadata(artifact_dir / "pipeline.onnx")
    write_artifact(
        tmp_path / "renamed.onnx", model.SerializeToString(), format="onnx", kind=meta.kind,
        model_version=meta.model_version, classes=meta.classes, metrics=meta.metrics,
    )
    with pytest.raises(ArtifactError, match="takes inputs"):
        PenguinPredictor.load("sklearn-onnx", tmp_path / "renamed.onnx")
