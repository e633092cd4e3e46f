"""PenguinPredictor: the wrapper class. Raw records in, species and probabilities out.

The model alone is not enough: clients send raw, messy values. The wrapper cleans them
(`penguins.cleaning`), feeds the model and names the answer, so every user (a notebook,
the service, the container) gets the same behaviour from one class.

Three backends sit behind one interface:
- `sklearn-pickle`: the pickled scikit-learn pipeline (imports scikit-learn, lazily);
- `sklearn-onnx`: the same pipeline exported to ONNX;
- `mlp-onnx`: the PyTorch MLP with the pipeline's preprocessing, exported to ONNX.
The ONNX backends need only numpy and onnxruntime: no torch, scikit-learn or pandas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from penguins.artifacts import ArtifactError, Metadata, load_pickle, read_artifact
from penguins.cleaning import DEFAULT_CLEANER, CleanBatch, Cleaner
from penguins.contract import FEATURES
from penguins.paths import artifacts_dir

BACKEND_FILES = {
    "sklearn-pickle": "pipeline.pkl",
    "sklearn-onnx": "pipeline.onnx",
    "mlp-onnx": "mlp.onnx",
}
DEFAULT_BACKEND = "mlp-onnx"

Record = Mapping[str, object]


@dataclass(frozen=True)
class Prediction:
    """One answer: the species, every class's probability, and which model said so."""

    species: str
    probabilities: dict[str, float]
    model_version: str


class Backend(Protocol):
    """What the wrapper needs from a model: probabilities for a clean batch."""

    metadata: Metadata

    def predict_proba(self, batch: CleanBatch) -> np.ndarray: ...


class OnnxBackend:
    """An ONNX file run by ONNX Runtime, from bytes that were checked against their sha256."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        data, self.metadata = read_artifact(path, "onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        inputs = [i.name for i in self.session.get_inputs()]
        if inputs != list(FEATURES):
            raise ArtifactError(f"{path} takes inputs {inputs}, the contract says {list(FEATURES)}")

    def predict_proba(self, batch: CleanBatch) -> np.ndarray:
        feeds = {name: batch[name].reshape(-1, 1) for name in FEATURES}
        return self.session.run(["probabilities"], feeds)[0]


class PickleBackend:
    """The scikit-learn pipeline as it was pickled; it needs scikit-learn and pandas."""

    def __init__(self, path: Path, allow_version_mismatch: bool = False) -> None:
        self.pipeline, self.metadata = load_pickle(path, allow_version_mismatch=allow_version_mismatch)

    def predict_proba(self, batch: CleanBatch) -> np.ndarray:
        from penguins.training import batch_to_frame

        return self.pipeline.predict_proba(batch_to_frame(batch))


def open_backend(name: str, path: Path) -> Backend:
    """The backend called `name`, reading the model from `path`."""
    if name == "sklearn-pickle":
        return PickleBackend(path)
    if name in ("sklearn-onnx", "mlp-onnx"):
        return OnnxBackend(path)
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_FILES)}")


class PenguinPredictor:
    """Raw records in, predictions out; see the module docstring for the backends."""

    def __init__(self, backend: Backend, name: str, cleaner: Cleaner = DEFAULT_CLEANER) -> None:
        self.backend, self.backend_name, self.cleaner = backend, name, cleaner
        self.metadata = backend.metadata
        self.classes = tuple(self.metadata.classes)

    @classmethod
    def load(
        cls,
        backend: str = DEFAULT_BACKEND,
        path: Path | str | None = None,
        cleaner: Cleaner = DEFAULT_CLEANER,
    ) -> PenguinPredictor:
        """Open a backend's artifact: `path`, or its default file in the artifacts folder."""
        if backend not in BACKEND_FILES:
            raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKEND_FILES)}")
        model_path = Path(path) if path else artifacts_dir() / BACKEND_FILES[backend]
        return cls(open_backend(backend, model_path), backend, cleaner)

    @property
    def model_version(self) -> str:
        return self.metadata.model_version

    def predict(self, records: Record | Sequence[Record]) -> list[Prediction]:
        """Predict for one raw record or many; bad values raise CleaningError naming them all."""
        batch = self.cleaner.clean([records] if isinstance(records, Mapping) else records)
        return self.predict_clean(batch)

    def predict_one(self, record: Record) -> Prediction:
        return self.predict([record])[0]

    def predict_clean(self, batch: CleanBatch) -> list[Prediction]:
        """Predict for columns that are already clean and typed (what the bare model takes)."""
        if len(batch[FEATURES[0]]) == 0:
            return []
        probabilities = self.backend.predict_proba(batch)
        best = probabilities.argmax(axis=1).tolist()
        # tolist() turns the whole array into Python floats in one call: far cheaper than
        # converting value by value when a batch holds thousands of rows.
        classes, version = self.classes, self.model_version
        return [
            Prediction(species=classes[index], probabilities=dict(zip(classes, row)), model_version=version)
            for index, row in zip(best, probabilities.tolist())
        ]
