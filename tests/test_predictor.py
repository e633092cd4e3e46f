"""The wrapper class: raw messy records in, the right species out, from every backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from penguins.serving.cleaning import CleaningError, FieldWarning
from penguins.serving.contract import BACKEND_FILES
from penguins.serving.examples import BAD_RECORD, CLEAN_RECORD, INCOMPLETE_RECORD, MESSY_RECORDS
from penguins.serving.predictor import PenguinPredictor, Prediction, Predictions
from penguins.training.pickles import load_predictor

BACKENDS = list(BACKEND_FILES)


def answered(golden: list[dict]) -> list[dict]:
    return [case for case in golden if case["expect"] == "answer"]


@pytest.fixture(scope="module", params=BACKENDS)
def predictor(request: pytest.FixtureRequest, artifact_dir: Path) -> PenguinPredictor:
    return load_predictor(request.param, artifact_dir / BACKEND_FILES[request.param])


def test_golden_set_gets_its_true_species(predictor: PenguinPredictor, golden: list[dict]) -> None:
    cases = answered(golden)
    predictions = predictor.predict([case["record"] for case in cases])
    wrong = [
        (case["source_row"], case["species"], species)
        for case, species in zip(cases, predictions.species, strict=True)
        if species != case["species"]
    ]
    assert not wrong, f"{predictor.backend_name} got these wrong (row, truth, predicted): {wrong}"


def test_golden_refusals_carry_their_code(predictor: PenguinPredictor, golden: list[dict]) -> None:
    refused = [case for case in golden if case["expect"].startswith("refused:")]
    assert refused, "the golden set must hold a record the wrapper refuses"
    for case in refused:
        with pytest.raises(CleaningError) as err:
            predictor.predict_one(case["record"])
        assert [p.code for p in err.value.problems] == [case["expect"].removeprefix("refused:")]
        assert err.value.one_record


def test_every_backend_gives_the_same_labels(artifact_dir: Path, golden: list[dict]) -> None:
    records = [case["record"] for case in answered(golden)] + MESSY_RECORDS
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
    one = predictor.predict_one(MESSY_RECORDS[0])
    many = predictor.predict(MESSY_RECORDS)
    assert isinstance(one, Prediction) and isinstance(many, Predictions) and len(many) == len(MESSY_RECORDS)
    assert one.species == many[0].species == many.species[0]
    assert one.probabilities == pytest.approx(many[0].probabilities, abs=1e-6)
    assert one.warnings == many[0].warnings == many.warnings[0]
    assert len(predictor.predict([])) == 0 and predictor.predict([]).probabilities.shape == (0, 3)
    with pytest.raises(TypeError, match="predict_one"):
        predictor.predict(MESSY_RECORDS[0])  # type: ignore[arg-type]


def test_predictions_hold_arrays_and_build_each_prediction_on_demand(predictor: PenguinPredictor) -> None:
    records = [CLEAN_RECORD, *MESSY_RECORDS]
    predictions = predictor.predict(records)
    assert predictions.probabilities.shape == (len(records), 3)
    assert predictions.species == [p.species for p in predictions]
    assert [p.species for p in predictions[1:3]] == predictions.species[1:3]
    assert predictions[-1] == predictions[len(records) - 1]
    assert predictions.model_version == predictor.model_version
    for index, prediction in enumerate(predictions):
        assert list(prediction.probabilities.values()) == predictions.probabilities[index].tolist()
    with pytest.raises(IndexError):
        predictions[len(records)]


def test_incomplete_records_are_answered_with_warnings_or_refused(predictor: PenguinPredictor) -> None:
    answer = predictor.predict_one(MESSY_RECORDS[2])  # bill length null, depth "", no sex
    assert [(w.code, w.field) for w in answer.warnings] == [
        ("imputed", "bill_length_mm"),
        ("imputed", "bill_depth_mm"),
        ("imputed", "sex"),
    ]
    assert all(isinstance(w, FieldWarning) and w.field in w.message for w in answer.warnings)
    with pytest.raises(CleaningError) as err:
        predictor.predict([CLEAN_RECORD, INCOMPLETE_RECORD, {}])
    assert [(p.record, p.code) for p in err.value.problems] == [(1, "no_measurements"), (2, "no_measurements")]
    assert not err.value.one_record


def test_values_without_finite_odds_are_refused(artifact_dir: Path) -> None:
    """The MLP's logits overflow on float32-sized values (a logistic regression stays finite)."""
    predictor = PenguinPredictor.load("mlp-onnx", artifact_dir / "mlp.onnx")
    absurd = {**CLEAN_RECORD, "bill_length_mm": -3.4e38, "bill_depth_mm": 3.4e38, "body_mass_g": 3.4e38}
    with np.errstate(all="ignore"), pytest.raises(CleaningError) as err:
        predictor.predict_typed([CLEAN_RECORD, absurd])
    [problem] = err.value.problems
    assert (problem.record, problem.code) == (1, "no_finite_odds")
    assert problem.value["body_mass_g"] == pytest.approx(3.4e38, rel=1e-6)


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

    from penguins.serving.artifacts import ArtifactError, read_metadata
    from penguins.training.artifacts import write_artifact

    model = onnx.load(artifact_dir / "pipeline.onnx")
    model.graph.input[0].name = "isle"
    for node in model.graph.node:
        node.input[:] = ["isle" if i == "island" else i for i in node.input]
    meta = read_metadata(artifact_dir / "pipeline.onnx")
    write_artifact(
        tmp_path / "renamed.onnx",
        model.SerializeToString(),
        format="onnx",
        kind=meta.kind,
        model_version=meta.model_version,
        classes=meta.classes,
        metrics=meta.metrics,
    )
    with pytest.raises(ArtifactError, match="takes inputs"):
        PenguinPredictor.load("sklearn-onnx", tmp_path / "renamed.onnx")
