"""The wrapper class: raw messy records in, the right species out, from every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from penguins.cleaning import CleaningError
from penguins.examples import BAD_RECORD, MESSY_RECORDS
from penguins.predictor import BACKEND_FILES, PenguinPredictor
from tests.conftest import run_python

BACKENDS = list(BACKEND_FILES)


@pytest.fixture(scope="module", params=BACKENDS)
def predictor(request: pytest.FixtureRequest, artifact_dir: Path) -> PenguinPredictor:
    return PenguinPredictor.load(request.param, artifact_dir / BACKEND_FILES[request.param])


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
        name: [p.species for p in PenguinPredictor.load(name, artifact_dir / file).predict(records)]
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
    with pytest.raises(ValueError, match="choose one of sklearn-pickle, sklearn-onnx, mlp-onnx"):
        PenguinPredictor.load("tensorflow")


@pytest.mark.parametrize("backend", ["sklearn-onnx", "mlp-onnx"])
def test_onnx_backends_never_import_torch_sklearn_or_pandas(artifact_dir: Path, backend: str) -> None:
    code = (
        "import sys; from penguins.predictor import PenguinPredictor; "
        f"p = PenguinPredictor.load({backend!r}, {str(artifact_dir / BACKEND_FILES[backend])!r}); "
        "from penguins.examples import MESSY_RECORDS; print(p.predict(MESSY_RECORDS)[0].species); "
        "print(sorted(m for m in ('torch', 'sklearn', 'pandas', 'skl2onnx', 'onnx') if m in sys.modules))"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    species, heavy = result.stdout.strip().splitlines()
    assert species == "Chinstrap"
    assert heavy == "[]"


def test_pickle_backend_imports_scikit_learn_only_when_chosen(artifact_dir: Path) -> None:
    code = (
        "import sys; import penguins.predictor as m; before = 'sklearn' in sys.modules; "
        f"m.PenguinPredictor.load('sklearn-pickle', {str(artifact_dir / 'pipeline.pkl')!r}); "
        "print(before, 'sklearn' in sys.modules, 'torch' in sys.modules)"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "False"]


def test_onnx_file_with_other_inputs_is_refused(artifact_dir: Path, tmp_path: Path) -> None:
    import onnx

    from penguins.artifacts import ArtifactError, read_metadata, write_artifact

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
