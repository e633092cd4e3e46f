"""The exercise checks: a blank is "not done yet", a wrong answer fails with its hint, a right one passes."""

from __future__ import annotations

import hashlib
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from penguins import artifacts, data, export, mlp, training
from penguins.cleaning import DEFAULT_CLEANER, Cleaner
from penguins.contract import CATEGORICAL_FEATURES, CLASSES, NUMERIC_FEATURES
from penguins.examples import CLEAN_RECORD
from penguins.predictor import PenguinPredictor
from workshop import checks
from workshop.checks import CheckFailed


def fails(message: str) -> pytest.RaisesExc[CheckFailed]:
    return pytest.raises(CheckFailed, match=message)


def test_check_failed_is_an_assertion_shown_in_one_line() -> None:
    error = CheckFailed("not done yet: x")
    assert isinstance(error, AssertionError)
    assert error._render_traceback_() == ["\x1b[31mCheckFailed\x1b[0m: not done yet: x"]


# 01 · a model in a notebook


@pytest.fixture(scope="module")
def train() -> training.Dataset:
    return training.prepare(data.split(data.raw_as_contract(data.load_penguins_raw()))[0])


def unscaled_knn() -> Pipeline:
    """Imputed and encoded, but not scaled: distances in grams drown everything else."""
    categorical = Pipeline([("impute", SimpleImputer(missing_values="", strategy="most_frequent")),
                            ("onehot", OneHotEncoder(handle_unknown="ignore"))])
    preprocess = ColumnTransformer([("numeric", SimpleImputer(strategy="median"), list(NUMERIC_FEATURES)),
                                    ("categorical", categorical, list(CATEGORICAL_FEATURES))])
    return Pipeline([("preprocess", preprocess), ("model", KNeighborsClassifier())])


def scaled_knn() -> Pipeline:
    return Pipeline([("preprocess", training.build_preprocessor()), ("model", KNeighborsClassifier())])


def test_model_check_blank_unfitted_and_lecture_model(train: training.Dataset) -> None:
    with fails("^not done yet: train another kind of model"):
        checks.check_model_beats(...)
    with fails("^the model is not fitted yet: call model.fit"):
        checks.check_model_beats(scaled_knn())
    with fails("^that is the lecture's logistic regression"):
        checks.check_model_beats(training.fit_pipeline(train))
    with fails("^expected a fitted scikit-learn model"):
        checks.check_model_beats("knn")


def test_an_unscaled_knn_is_asked_about_scaling(train: training.Dataset) -> None:
    with fails(r"^held-out accuracy 0\.\d\d < 0\.95: did you scale the numeric columns\?"):
        checks.check_model_beats(unscaled_knn().fit(train.features, train.labels))


@pytest.mark.filterwarnings("ignore:X has feature names")
def test_a_model_that_cannot_read_the_raw_columns_is_told_why(train: training.Dataset) -> None:
    bare = KNeighborsClassifier().fit(np.zeros((3, 6)), ["Adelie", "Gentoo", "Chinstrap"])
    with fails("^model.predict failed on the held-out rows .*training.build_preprocessor"):
        checks.check_model_beats(bare)


def test_a_scaled_knn_passes_with_its_score(train: training.Dataset, capsys: pytest.CaptureFixture[str]) -> None:
    checks.check_model_beats(scaled_knn().fit(train.features, train.labels))
    assert capsys.readouterr().out == "✓ KNeighborsClassifier scores 0.988 on the 86 held-out penguins (at least 0.95)\n"


# 02 · save the model


@pytest.fixture(scope="module")
def model(train: training.Dataset) -> Pipeline:
    return training.fit_pipeline(train)


def save(path: Path, model: Pipeline, **changes: object) -> artifacts.Metadata:
    fields = {
        "format": "pickle", "kind": "sklearn-pipeline", "classes": list(CLASSES),
        "metrics": {"test_accuracy": 1.0}, "model_version": "logreg-test",
        "libraries": artifacts.library_versions("scikit-learn"), **changes,
    }
    return artifacts.write_artifact(path, pickle.dumps(model), **fields)


def test_saved_model_check_passes_only_when_every_claim_is_true(tmp_path: Path, model: Pipeline) -> None:
    path = tmp_path / "m.pkl"
    with fails("^not done yet: save `model` at saved_path"):
        checks.check_saved_with_metadata(path, ...)
    meta = save(path, model, metrics={"test_accuracy": 0.9})
    with fails("^the metadata says test_accuracy 0.9000 but the saved model scores 1.0000"):
        checks.check_saved_with_metadata(path, meta)
    meta = save(path, model, libraries={})
    with fails("^the metadata does not say which scikit-learn made the pickle"):
        checks.check_saved_with_metadata(path, meta)
    meta = save(path, model)
    with fails("^`meta` is not what write_artifact wrote"):
        checks.check_saved_with_metadata(path, save(tmp_path / "other.pkl", model, model_version="other"))
    path.write_bytes(path.read_bytes() + b"\0")
    with fails("^loading m.pkl was refused: .*does not match its sha256"):
        checks.check_saved_with_metadata(path, meta)
    with fails("^no file missing.pkl"):
        checks.check_saved_with_metadata(tmp_path / "missing.pkl", meta)


def test_saved_model_check_passes(tmp_path: Path, model: Pipeline, capsys: pytest.CaptureFixture[str]) -> None:
    meta = save(tmp_path / "m.pkl", model)
    checks.check_saved_with_metadata(tmp_path / "m.pkl", meta)
    assert capsys.readouterr().out.startswith(f"✓ m.pkl: sha256 {meta.sha256[:12]} verified")


def hash_matches(path: Path) -> bool:
    return hashlib.sha256(path.read_bytes()).hexdigest() == artifacts.read_metadata(path).sha256


@pytest.mark.parametrize(
    ("is_intact", "message"),
    [
        (lambda path: ..., "^not done yet: write the body of is_intact"),
        (lambda path: path.exists(), "^is_intact says True for a file with one byte changed, expected False: compare the hash"),
        (lambda path: not hash_matches(path), "^is_intact says False for untouched, expected True: an untouched file must pass"),
        (lambda path: bool(artifacts.read_artifact(path)), "^is_intact raised ArtifactError: .* for a file with one byte changed"),
        (lambda path: "yes", "^is_intact must return True or False, it returned 'yes' for untouched"),
    ],
)
def test_a_tamper_detector_that_misses_damage_fails(is_intact, message: str) -> None:
    with fails(message):
        checks.check_tamper_detected(is_intact)


def test_a_hash_comparison_detects_every_damage(capsys: pytest.CaptureFixture[str]) -> None:
    checks.check_tamper_detected(hash_matches)
    assert capsys.readouterr().out.startswith("✓ is_intact accepts an untouched file")


# 03 · ONNX


@pytest.fixture(scope="module")
def net() -> mlp.PenguinMLP:
    torch.manual_seed(0)
    return mlp.PenguinMLP(9, 3).eval()


def export_to(path: Path, module: torch.nn.Module, *, dynamic: bool = True, names: bool = True) -> Path:
    """Export like a student might, right or wrong: frozen batch, no softmax, default names."""
    options = {"input_names": ["features"], "output_names": ["probabilities"]} if names else {}
    if dynamic:
        options["dynamic_shapes"] = ({0: "batch"},)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(2, 9),), path, dynamo=True, external_data=False,
                          verbose=False, **options)
    return path


def test_onnx_check_blank(tmp_path: Path, net: mlp.PenguinMLP) -> None:
    with fails("^not done yet: export mlp.WithSoftmax"):
        checks.check_onnx_parity(..., net, ...)
    good = tmp_path / "good.onnx"
    good.write_bytes(export.net_to_onnx(net).SerializeToString())
    with fails("^not done yet: run the ONNX file and the network"):
        checks.check_onnx_parity(good, net, ...)


def test_onnx_check_catches_each_export_mistake(tmp_path: Path, net: mlp.PenguinMLP) -> None:
    with fails(r"^the batch axis is frozen at 2 rows: declare it with dynamic_shapes"):
        checks.check_onnx_parity(export_to(tmp_path / "frozen.onnx", mlp.WithSoftmax(net), dynamic=False), net, 0.0)
    with fails(r"^for a batch of 1 the file gives shape \(1, 3\), not 1 row\(s\) of 3 probabilities summing to 1"):
        checks.check_onnx_parity(export_to(tmp_path / "logits.onnx", net), net, 0.0)
    with fails(r"^expected input \['features'\] and output \['probabilities'\], found"):
        checks.check_onnx_parity(export_to(tmp_path / "names.onnx", mlp.WithSoftmax(net), names=False), net, 0.0)
    other = mlp.PenguinMLP(9, 3)
    with fails("^ONNX and torch differ by"):
        checks.check_onnx_parity(export_to(tmp_path / "other.onnx", mlp.WithSoftmax(other)), net, 0.0)
    with fails("^no file nowhere.onnx"):
        checks.check_onnx_parity(tmp_path / "nowhere.onnx", net, 0.0)


def test_onnx_check_wants_a_true_parity_figure(tmp_path: Path, net: mlp.PenguinMLP, capsys: pytest.CaptureFixture[str]) -> None:
    good = export_to(tmp_path / "good.onnx", mlp.WithSoftmax(net))
    with fails(r"^your max_diff is 5\.0e-01, above the tolerance 1e-05"):
        checks.check_onnx_parity(good, net, 0.5)
    with fails("^max_diff must be a number, found str"):
        checks.check_onnx_parity(good, net, "tiny")
    with fails("^max_diff is -1.0"):
        checks.check_onnx_parity(good, net, -1.0)
    checks.check_onnx_parity(good, net, 1e-7)
    assert capsys.readouterr().out.startswith("✓ good.onnx: batch axis 'batch'; 1, 7, 200 rows match torch")


# 04 · the wrapper class


@pytest.fixture(scope="module")
def onnx_backend(artifact_dir: Path) -> Path:
    return artifact_dir / "mlp.onnx"


def kilograms_to_grams(record: dict) -> dict:
    mass = record.get("body_mass_g")
    if isinstance(mass, (int, float)) and not isinstance(mass, bool) and mass < 100:
        record["body_mass_g"] = mass * 1000
    return record


def floats_only(record: dict) -> dict:
    mass = record.get("body_mass_g")
    if isinstance(mass, float) and mass < 100:
        record["body_mass_g"] = mass * 1000
    return record


def careless(record: dict) -> dict:
    if record["body_mass_g"] < 100:
        record["body_mass_g"] *= 1000
    return record


def with_rule(path: Path, rule) -> PenguinPredictor:
    return PenguinPredictor.load("mlp-onnx", path, cleaner=DEFAULT_CLEANER.with_pre_rule(rule))


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (lambda record: ..., "^not done yet: finish <lambda>: it still returns ..."),
        (floats_only, r"^a record with the body mass in kilograms was refused \(record \d+, field 'body_mass_g': .*got \d+\)"),
        (careless, r"^your rule crashed on a body mass of '3750' \(TypeError"),
        (lambda record: {**kilograms_to_grams(record), "island": "Dream"}, r"^island '\w+' cleans to 'Dream', expected '\w+'"),
        (lambda record: {**kilograms_to_grams(record), "sex": "female"}, r"^sex .* cleans to 'female', expected .*: leave the other fields"),
    ],
)
def test_a_wrong_kilogram_rule_fails_with_its_reason(onnx_backend: Path, rule, message: str) -> None:
    with fails(message):
        checks.check_kilograms_rule(with_rule(onnx_backend, rule))


def test_kilogram_check_blank_and_without_a_rule(onnx_backend: Path) -> None:
    with fails("^not done yet: load my_predictor"):
        checks.check_kilograms_rule(...)
    with fails("^the predictor's cleaner has no pre-rule"):
        checks.check_kilograms_rule(PenguinPredictor.load("mlp-onnx", onnx_backend))


def test_a_right_kilogram_rule_passes(onnx_backend: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checks.check_kilograms_rule(with_rule(onnx_backend, kilograms_to_grams))
    assert capsys.readouterr().out.startswith("✓ 22 penguins weighed in kilograms clean to the same grams")


def asserts_nothing_in_kilograms(cleaner: Cleaner) -> None:
    assert cleaner.clean([CLEAN_RECORD])["body_mass_g"][0] == 3750.0


def round_kilograms_only(cleaner: Cleaner) -> None:
    assert cleaner.clean([{**CLEAN_RECORD, "body_mass_g": 4.0}])["body_mass_g"][0] == 4000.0


def expects_the_wrong_grams(cleaner: Cleaner) -> None:
    assert cleaner.clean([{**CLEAN_RECORD, "body_mass_g": 3.75}])["body_mass_g"][0] == 375.0


def exact_grams(cleaner: Cleaner) -> None:
    assert cleaner.clean([{**CLEAN_RECORD, "body_mass_g": 3.75}])["body_mass_g"][0] == 3750.0


@pytest.mark.parametrize(
    ("test", "cleaner", "message"),
    [
        (lambda cleaner: ..., DEFAULT_CLEANER, "^not done yet: write the test's body"),
        (exact_grams, ..., "^not done yet: finish task 1 first"),
        (asserts_nothing_in_kilograms, None, "^your test passes with DEFAULT_CLEANER too"),
        (round_kilograms_only, None, "^your test passes with a wrong rule that rounds 3.75 kg down"),
        (expects_the_wrong_grams, None, r"^your test fails with your own cleaner \(AssertionError"),
    ],
)
def test_a_test_that_cannot_fail_is_not_a_test(test, cleaner, message: str) -> None:
    with fails(message):
        checks.check_rule_test(test, DEFAULT_CLEANER.with_pre_rule(kilograms_to_grams) if cleaner is None else cleaner)


def test_a_test_that_pins_the_grams_passes(capsys: pytest.CaptureFixture[str]) -> None:
    checks.check_rule_test(exact_grams, DEFAULT_CLEANER.with_pre_rule(kilograms_to_grams))
    assert capsys.readouterr().out.startswith("✓ your test passes with your rule and fails without it")
