"""Both ONNX files: valid graphs, the contract's inputs, a dynamic batch, parity with the source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from penguins.serving import artifacts
from penguins.serving.contract import FEATURES
from penguins.training import build, data, export, mlp, pickles


@pytest.fixture(scope="module")
def sources(artifact_dir: Path):
    pipeline, _ = pickles.load_pickle(artifact_dir / "pipeline.pkl")
    net = mlp.from_bytes(artifacts.read_artifact(artifact_dir / "mlp.pt", "torch")[0])
    return pipeline, net


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", build.EXPORTED)
def test_onnx_file_is_valid_and_self_contained(artifact_dir: Path, name: str) -> None:
    model = onnx.load(artifact_dir / name)
    onnx.checker.check_model(model, full_check=True)
    assert not list(artifact_dir.glob("*.data")), "weights must live inside the .onnx file"
    assert [i.name for i in model.graph.input] == list(FEATURES)
    assert "probabilities" in [o.name for o in model.graph.output]


@pytest.mark.parametrize("name", build.EXPORTED)
@pytest.mark.parametrize("rows", [1, 2, 344])
def test_batch_axis_is_dynamic(artifact_dir: Path, name: str, rows: int) -> None:
    batch = build.parity_batch()
    feeds = {k: v[:rows] for k, v in export.onnx_inputs(batch).items()}
    (probabilities,) = session(artifact_dir / name).run(["probabilities"], feeds)
    assert probabilities.shape == (rows, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_pipeline_onnx_matches_scikit_learn(artifact_dir: Path, sources) -> None:
    pipeline, _ = sources
    batch = build.parity_batch()
    expected = pipeline.predict_proba(data.batch_to_frame(batch))
    label, probabilities = session(artifact_dir / "pipeline.onnx").run(None, export.onnx_inputs(batch))
    check = export.parity(expected, probabilities)
    assert check.labels_equal and check.max_abs_diff < build.PARITY_TOLERANCE, check
    assert list(label) == list(pipeline.predict(data.batch_to_frame(batch)))


def test_mlp_onnx_matches_pytorch_with_the_pipelines_preprocessing(artifact_dir: Path, sources) -> None:
    pipeline, net = sources
    batch = build.parity_batch()
    features = pipeline.named_steps["preprocess"].transform(data.batch_to_frame(batch))
    expected = mlp.predict_proba(net, features.astype(np.float32))
    (probabilities,) = session(artifact_dir / "mlp.onnx").run(None, export.onnx_inputs(batch))
    check = export.parity(expected, probabilities)
    assert check.labels_equal and check.max_abs_diff < build.PARITY_TOLERANCE, check


def test_parity_notices_a_different_model() -> None:
    a = np.array([[0.9, 0.1], [0.2, 0.8]])
    b = np.array([[0.4, 0.6], [0.2, 0.8]])
    check = export.parity(a, b)
    assert not check.labels_equal and check.max_abs_diff == pytest.approx(0.5)
    assert "LABELS DIFFER" in str(check)


def test_mlp_file_holds_the_preprocessing_graph(artifact_dir: Path) -> None:
    ops = {node.op_type for node in onnx.load(artifact_dir / "mlp.onnx").graph.node}
    assert {"Imputer", "Scaler", "OneHotEncoder"} <= ops, ops
    assert {"Gemm", "Relu", "Softmax"} & ops or {"MatMul", "Relu", "Softmax"} <= ops, ops
