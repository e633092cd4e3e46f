"""Export both models to ONNX: a file that any ONNX runtime can run, without our training stack.

- The scikit-learn pipeline converts with skl2onnx as a whole.
- The PyTorch MLP exports with `torch.onnx.export`. It needs the pipeline's preprocessing;
  rather than writing it again, we convert the fitted `preprocess` step with skl2onnx and
  join the two graphs with `onnx.compose`, so the MLP file also takes clean feature columns.

Both files have one input per feature (shape [batch, 1]) and an output `probabilities`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import onnx
import torch
from onnx import compose
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from penguins.serving.cleaning import CleanBatch
from penguins.serving.contract import FEATURES, OUTPUT, feature_type
from penguins.training.mlp import PenguinMLP, WithSoftmax

OPSET = 18
ML_OPSET = 3
PRE_OUTPUT = "transformed_column"
NET_INPUT = "features"


def initial_types() -> list[tuple[str, object]]:
    """One ONNX input per contract feature, in contract order."""
    kinds = {"float32": FloatTensorType, "string": StringTensorType}
    return [(name, kinds[feature_type(name)]([None, 1])) for name in FEATURES]


def pipeline_to_onnx(pipeline: Pipeline) -> onnx.ModelProto:
    """The whole pipeline; zipmap off so probabilities come back as a plain matrix."""
    model = convert_sklearn(
        pipeline,
        initial_types=initial_types(),
        options={id(pipeline.steps[-1][1]): {"zipmap": False}},
        target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
        final_types=[("label", StringTensorType([None])), (OUTPUT, FloatTensorType([None, None]))],
    )
    onnx.checker.check_model(model)
    converted: onnx.ModelProto = model
    return converted


def preprocessor_to_onnx(preprocessor: ColumnTransformer) -> onnx.ModelProto:
    """The fitted preprocessing alone: clean columns in, one float matrix out."""
    converted: onnx.ModelProto = convert_sklearn(
        preprocessor,
        initial_types=initial_types(),
        target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
        final_types=[(PRE_OUTPUT, FloatTensorType([None, None]))],
    )
    return converted


def net_to_onnx(net: PenguinMLP) -> onnx.ModelProto:
    """The network with softmax, a dynamic batch axis and the weights inside the file."""
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    example = torch.zeros(2, net.n_features)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=FutureWarning)
        program = torch.onnx.export(
            WithSoftmax(net).eval(),
            (example,),
            input_names=[NET_INPUT],
            output_names=[OUTPUT],
            dynamic_shapes=({0: "batch"},),
            opset_version=OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    if program is None:  # only the legacy exporter (dynamo=False) returns nothing
        raise RuntimeError("torch.onnx.export returned no program")
    return program.model_proto


def mlp_to_onnx(preprocessor: ColumnTransformer, net: PenguinMLP) -> onnx.ModelProto:
    """Preprocessing graph + network graph = one file that takes clean feature columns."""
    pre = compose.add_prefix(preprocessor_to_onnx(preprocessor), "pre_", rename_inputs=False)
    net_model = net_to_onnx(net)
    ir_version = max(pre.ir_version, net_model.ir_version)
    pre.ir_version = net_model.ir_version = ir_version
    merged = compose.merge_models(pre, net_model, io_map=[(f"pre_{PRE_OUTPUT}", NET_INPUT)])
    onnx.checker.check_model(merged)
    return merged


def onnx_inputs(batch: CleanBatch) -> dict[str, np.ndarray]:
    """A clean batch as ONNX Runtime feeds: one [n, 1] array per feature."""
    return {name: batch[name].reshape(-1, 1) for name in FEATURES}


@dataclass(frozen=True)
class Parity:
    """How closely an exported model reproduces its source, on the same rows."""

    labels_equal: bool
    max_abs_diff: float
    rows: int

    def __str__(self) -> str:
        same = "identical labels" if self.labels_equal else "LABELS DIFFER"
        return f"{self.rows} rows: {same}, max |Δp| = {self.max_abs_diff:.1e}"


def parity(expected: np.ndarray, actual: np.ndarray) -> Parity:
    """Compare two probability matrices: the labels they imply and the largest difference."""
    return Parity(
        labels_equal=bool(np.array_equal(expected.argmax(axis=1), actual.argmax(axis=1))),
        max_abs_diff=float(np.max(np.abs(expected - actual))),
        rows=len(expected),
    )


def run_onnx(model: onnx.ModelProto, batch: CleanBatch) -> np.ndarray:
    """Probabilities from ONNX Runtime for a clean batch (used to check parity)."""
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    probabilities: np.ndarray = session.run([OUTPUT], onnx_inputs(batch))[0]
    return probabilities
