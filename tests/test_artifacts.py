"""Artifacts: metadata content, round trips in a fresh process, and refusing bad files."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from penguins.serving import artifacts
from penguins.serving.artifacts import ArtifactError, read_artifact, sidecar
from penguins.serving.contract import CLASSES, FEATURES
from penguins.training import pickles
from penguins.training.artifacts import model_version
from tests.conftest import run_python

ALL = ("pipeline.pkl", "pipeline.skops", "mlp.pt", "pipeline.onnx", "mlp.onnx")


@pytest.fixture
def copy(artifact_dir: Path, tmp_path: Path):
    """A private copy of one artifact and its sidecar, free to damage."""

    def make(name: str) -> Path:
        for path in (artifact_dir / name, sidecar(artifact_dir / name)):
            shutil.copy(path, tmp_path / path.name)
        return tmp_path / name

    return make


@pytest.mark.parametrize("name", ALL)
def test_metadata_describes_the_file(artifact_dir: Path, name: str) -> None:
    meta = json.loads(sidecar(artifact_dir / name).read_text())
    assert meta["sha256"] == hashlib.sha256((artifact_dir / name).read_bytes()).hexdigest()
    assert meta["file"] == name
    assert meta["classes"] == list(CLASSES)
    assert [f["name"] for f in meta["contract"]["features"]] == list(FEATURES)
    assert meta["contract"]["version"] == "1"
    assert meta["model_version"].startswith(("logreg-", "mlp-"))
    assert meta["package_version"] == "0.1.0"
    assert meta["git_commit"]
    assert meta["libraries"]["python"].startswith("3.11")
    assert 0.9 <= meta["metrics"]["test_accuracy"] <= 1.0
    assert meta["created_at"].endswith("+00:00")


def test_onnx_metadata_names_onnx_and_source_versions(artifact_dir: Path) -> None:
    meta = json.loads(sidecar(artifact_dir / "mlp.onnx").read_text())
    assert {"onnx", "onnxruntime", "torch", "skl2onnx"} <= set(meta["libraries"])
    pkl = json.loads(sidecar(artifact_dir / "pipeline.pkl").read_text())
    assert pkl["libraries"]["scikit-learn"] == "1.9.1"
    onnx_meta = json.loads(sidecar(artifact_dir / "pipeline.onnx").read_text())
    assert onnx_meta["model_version"] == pkl["model_version"]


@pytest.mark.parametrize("loader", ["load_pickle", "load_skops"])
def test_round_trip_in_a_fresh_process(artifact_dir: Path, loader: str) -> None:
    name = {"load_pickle": "pipeline.pkl", "load_skops": "pipeline.skops"}[loader]
    code = (
        "from pathlib import Path; from penguins.training import pickles; "
        f"model, meta = pickles.{loader}(Path({str(artifact_dir / name)!r})); "
        "print(type(model).__name__, list(model.classes_), meta.model_version)"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    expected = artifacts.read_metadata(artifact_dir / name).model_version
    assert result.stdout.split() == ["Pipeline", "['Adelie',", "'Chinstrap',", "'Gentoo']", expected]


def test_pickled_pipeline_predicts_in_a_fresh_process(artifact_dir: Path, golden: list[dict]) -> None:
    record = golden[0]["record"]
    code = (
        "from pathlib import Path; from penguins.training import pickles; "
        "from penguins.serving.cleaning import clean_record; from penguins.training.data import batch_to_frame; "
        f"model, _ = pickles.load_pickle(Path({str(artifact_dir / 'pipeline.pkl')!r})); "
        f"print(model.predict(batch_to_frame(clean_record({record!r})))[0])"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == golden[0]["species"]


@pytest.mark.parametrize("name", ALL)
def test_tampered_file_is_refused_with_one_line(copy, name: str) -> None:
    path = copy(name)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactError) as err:
        read_artifact(path)
    message = str(err.value)
    assert "sha256" in message and "make export" in message and "\n" not in message


def test_truncated_file_is_refused(copy) -> None:
    path = copy("mlp.onnx")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ArtifactError, match="tampered or truncated"):
        read_artifact(path)


def test_missing_file_and_missing_sidecar_say_what_to_do(copy, tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"missing: run `make export`"):
        read_artifact(tmp_path / "nothing.onnx")
    path = copy("pipeline.onnx")
    sidecar(path).unlink()
    with pytest.raises(ArtifactError, match=r"metadata file .* is missing"):
        read_artifact(path)


def _rewrite(path: Path, **changes) -> None:
    meta = replace(artifacts.read_metadata(path), **changes)
    sidecar(path).write_text(json.dumps(asdict(meta)))


def test_other_feature_contract_is_refused(copy) -> None:
    path = copy("pipeline.onnx")
    _rewrite(path, contract={"version": "0", "features": []})
    with pytest.raises(ArtifactError, match="feature contract v0"):
        read_artifact(path)


def test_wrong_format_is_refused(copy) -> None:
    path = copy("pipeline.pkl")
    with pytest.raises(ArtifactError, match="is a pickle file, expected onnx"):
        read_artifact(path, "onnx")


def test_pickle_from_another_sklearn_version_is_refused_or_warned(copy) -> None:
    path = copy("pipeline.pkl")
    meta = artifacts.read_metadata(path)
    _rewrite(path, libraries={**meta.libraries, "scikit-learn": "0.24.2"})
    with pytest.raises(ArtifactError, match=r"saved with scikit-learn 0\.24\.2 but 1\.9\.1 is installed"):
        pickles.load_pickle(path)
    with pytest.warns(RuntimeWarning, match="scikit-learn 0.24.2"):
        model, _ = pickles.load_pickle(path, allow_version_mismatch=True)
    assert hasattr(model, "predict_proba")


def test_skops_refuses_untrusted_types(copy) -> None:
    path = copy("pipeline.skops")
    with pytest.raises(ArtifactError, match="not trusted"):
        pickles.load_skops(path, trusted=[])
    model, meta = pickles.load_skops(path)
    assert list(model.classes_) == list(CLASSES) and meta.format == "skops"


def test_model_version_is_a_hash_of_the_recipe() -> None:
    one = model_version("mlp", {"seed": 1})
    assert one == model_version("mlp", {"seed": 1})
    assert one != model_version("mlp", {"seed": 2})
    assert one.startswith("mlp-") and len(one) == len("mlp-") + 12
