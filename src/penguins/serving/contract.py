"""The feature contract: which columns the model takes, in which order, with which types.

Every artifact records the contract version it was trained with, and loading refuses an
artifact whose contract differs from this one: a model fed columns in another order or of
another meaning gives confident nonsense, not an error. Bump CONTRACT_VERSION whenever a
name, a type or the order below changes.
"""

from __future__ import annotations

from typing import Literal, get_args

CONTRACT_VERSION = "1"

NUMERIC_FEATURES: tuple[str, ...] = (
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("island", "sex")

# The order of the model's inputs, and of every clean batch.
FEATURES: tuple[str, ...] = ("island", *NUMERIC_FEATURES, "sex")

TARGET = "species"
CLASSES: tuple[str, ...] = ("Adelie", "Chinstrap", "Gentoo")

# The model files, by backend. Serving runs the two ONNX ones; the pickled pipeline (stage 02)
# needs scikit-learn, so its backend lives in penguins.training.pickles.
Backend = Literal["sklearn-pickle", "sklearn-onnx", "mlp-onnx"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)
BACKEND_FILES: dict[Backend, str] = {
    "sklearn-pickle": "pipeline.pkl",
    "sklearn-onnx": "pipeline.onnx",
    "mlp-onnx": "mlp.onnx",
}
ONNX_BACKENDS: tuple[Backend, ...] = ("sklearn-onnx", "mlp-onnx")
DEFAULT_BACKEND: Backend = "mlp-onnx"
# Every ONNX file's output: one row of class probabilities per record, in CLASSES order.
OUTPUT = "probabilities"


def feature_type(name: str) -> str:
    """Return "float32" or "string": the type a clean column of `name` has."""
    if name in NUMERIC_FEATURES:
        return "float32"
    if name in CATEGORICAL_FEATURES:
        return "string"
    raise KeyError(f"{name!r} is not a feature; the features are {', '.join(FEATURES)}")


def describe() -> dict[str, object]:
    """The contract as plain data, as it is written into every artifact's metadata."""
    return {
        "version": CONTRACT_VERSION,
        "features": [{"name": name, "type": feature_type(name)} for name in FEATURES],
        "target": TARGET,
        "classes": list(CLASSES),
    }
