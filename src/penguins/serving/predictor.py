"""PenguinPredictor: the wrapper class. Raw records in, species and probabilities out.

The model alone is not enough: clients send raw, messy values. The wrapper cleans them
(`penguins.serving.cleaning`), feeds the model and names the answer, so every user (a notebook,
the service, the container) gets the same behaviour from one class.

Any backend sits behind one interface (`Backend`: probabilities for a clean batch). Serving
opens the ONNX files, which need only numpy and onnxruntime:
- `sklearn-onnx`: the scikit-learn pipeline exported to ONNX;
- `mlp-onnx`: the PyTorch MLP with the pipeline's preprocessing, exported to ONNX.
The pickled pipeline of stage 02 (`sklearn-pickle`) needs scikit-learn, so its backend lives
with training (penguins.training.pickles) and is handed to the wrapper from there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from penguins.serving.artifacts import ArtifactError, Metadata, read_artifact
from penguins.serving.cleaning import DEFAULT_CLEANER, CleanBatch, Cleaner
from penguins.serving.contract import BACKEND_FILES, DEFAULT_BACKEND, FEATURES, ONNX_BACKENDS, OUTPUT, Backend
from penguins.serving.paths import artifacts_dir

Record = Mapping[str, object]


@dataclass(frozen=True)
class Prediction:
    """One answer: the species, every class's probability, and which model said so."""

    species: str
    probabilities: dict[str, float]
    model_version: str


class ModelBackend(Protocol):
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
        probabilities: np.ndarray = self.session.run([OUTPUT], feeds)[0]
        return probabilities


def open_backend(name: str, path: Path) -> ModelBackend:
    """The ONNX backend called `name`, reading the model from `path`."""
    if name in ONNX_BACKENDS:
        return OnnxBackend(path)
    if name in BACKEND_FILES:
        raise ValueError(
            f"backend {name!r} needs scikit-learn, which serving does not carry: "
            "load it with penguins.training.pickles.load_predictor"
        )
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(ONNX_BACKENDS)}")


class PenguinPredictor:
    """Raw records in, predictions out; see the module docstring for the backends."""

    def __init__(self, backend: ModelBackend, name: str, cleaner: Cleaner = DEFAULT_CLEANER) -> None:
        self.backend, self.backend_name, self.cleaner = backend, name, cleaner
        self.metadata = backend.metadata
        self.classes = tuple(self.metadata.classes)

    @classmethod
    def load(
        cls,
        backend: Backend = DEFAULT_BACKEND,
        path: Path | str | None = None,
        cleaner: Cleaner = DEFAULT_CLEANER,
    ) -> PenguinPredictor:
        """Open an ONNX backend's artifact: `path`, or its default file in the artifacts folder."""
        model_path = Path(path) if path else artifacts_dir() / BACKEND_FILES.get(backend, "")
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
